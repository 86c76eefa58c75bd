"""Where PixDesk keeps its data and settings, and what the user configured.

Platform folders (XDG on Linux, honoured so tests can isolate themselves); the environment
(`AIMLAPI_KEY`, `AIMLAPI_BASE_URL`) overrides saved settings. The key itself lives in `keystore`.
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

APP_DIR = "pixdesk"
# `pixdesk.api.client.DEFAULT_BASE_URL`, named here so that reading the settings does not import the HTTP client
# (tests/test_startup.py checks that the two agree).
DEFAULT_BASE_URL = "https://api.aimlapi.com"


def _home() -> Path:
    return Path(os.path.expanduser("~"))


def data_dir() -> Path:
    if sys.platform == "win32":
        return Path(os.environ.get("LOCALAPPDATA", _home() / "AppData" / "Local")) / "PixDesk"
    if sys.platform == "darwin":
        return _home() / "Library" / "Application Support" / "PixDesk"
    return Path(os.environ.get("XDG_DATA_HOME") or _home() / ".local" / "share") / APP_DIR


def config_dir() -> Path:
    if sys.platform == "win32":
        return Path(os.environ.get("APPDATA", _home() / "AppData" / "Roaming")) / "PixDesk"
    if sys.platform == "darwin":
        return _home() / "Library" / "Preferences" / "PixDesk"
    return Path(os.environ.get("XDG_CONFIG_HOME") or _home() / ".config") / APP_DIR


def database_path() -> Path:
    return data_dir() / "jobs.sqlite3"


@dataclass
class Settings:
    base_url: str = DEFAULT_BASE_URL
    library_folder: str = ""
    save_folder: str = ""
    max_in_flight: int = 4
    demo_mode: bool = False
    # The spending guard (on by default): ask before a submission over `confirm_over_usd` in total, and
    # block new jobs once today's spend (charged + in flight) reaches `daily_budget_usd`.
    spending_guard: bool = True
    confirm_over_usd: float = 2.0
    daily_budget_usd: float = 20.0
    # A desktop notification when a job finishes or fails while the window is not the active one.
    notify_when_inactive: bool = True
    ui: dict[str, Any] = field(default_factory=dict)

    @property
    def library(self) -> Path:
        return Path(self.library_folder) if self.library_folder else data_dir() / "videos"

    def effective_base_url(self) -> str:
        return os.environ.get("AIMLAPI_BASE_URL") or self.base_url or DEFAULT_BASE_URL


def settings_path() -> Path:
    return config_dir() / "settings.json"


def load_settings() -> Settings:
    try:
        raw = json.loads(settings_path().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return Settings()
    names = {f.name for f in fields(Settings)}
    settings = Settings(**{k: v for k, v in raw.items() if k in names}) if isinstance(raw, dict) else Settings()
    settings.max_in_flight = max(1, min(20, int(settings.max_in_flight or 4)))
    for name, default in (("confirm_over_usd", 2.0), ("daily_budget_usd", 20.0)):
        value = getattr(settings, name)
        ok = isinstance(value, int | float) and not isinstance(value, bool) and 0 <= value < 1e6
        setattr(settings, name, float(value) if ok else default)
    settings.spending_guard = bool(settings.spending_guard)
    settings.notify_when_inactive = bool(settings.notify_when_inactive)
    return settings


def save_settings(settings: Settings) -> None:
    path = settings_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(asdict(settings), indent=2), encoding="utf-8")
    os.replace(tmp, path)
