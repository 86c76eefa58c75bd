"""Qt-free local simulator of the AI/ML API video endpoints (the app's demo mode and the tests' server)."""

from pixdesk.simulator.durations import Durations, parse_durations
from pixdesk.simulator.server import Fault, Simulator

DEMO_KEY = "demo-key-not-a-secret"

__all__ = ["DEMO_KEY", "Durations", "Fault", "Simulator", "parse_durations"]
