"""How long a generation takes, as a distribution: the simulator draws each job's time from one, publishes
its percentiles on `/models/metrics`, and the polling benchmark uses the same ones to measure notice lag.

The docs say a clip takes "about 1–1.5 minutes"; `TYPICAL` is that, `WIDE` a busy day, `BIMODAL` a service with
a fast path (a warm worker) and a slow one (a cold start or a long queue).
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import Protocol

from pixdesk.jobs.forecast import quantile  # the same bisection the poll plan uses

__all__ = [
    "BIMODAL",
    "DEMO",
    "TYPICAL",
    "WIDE",
    "Durations",
    "Fixed",
    "LogNormal",
    "Mixture",
    "parse_durations",
    "quantile",
]


class Durations(Protocol):
    """Seconds from the create being accepted to the clip being ready."""

    def cdf(self, seconds: float) -> float: ...

    def sample(self, rng: random.Random) -> float: ...


@dataclass(frozen=True)
class LogNormal:
    median: float
    sigma: float

    def cdf(self, seconds: float) -> float:
        if seconds <= 0:
            return 0.0
        z = (math.log(seconds) - math.log(self.median)) / self.sigma
        return 0.5 * (1.0 + math.erf(z / math.sqrt(2.0)))

    def sample(self, rng: random.Random) -> float:
        return self.median * math.exp(self.sigma * rng.gauss(0.0, 1.0))

    def __str__(self) -> str:
        return f"lognormal:{self.median:g}:{self.sigma:g}"


@dataclass(frozen=True)
class Mixture:
    """`parts`: (weight, distribution); the weights need not sum to one."""

    parts: tuple[tuple[float, LogNormal], ...]

    @property
    def _total(self) -> float:
        return sum(w for w, _ in self.parts)

    def cdf(self, seconds: float) -> float:
        return sum(w * d.cdf(seconds) for w, d in self.parts) / self._total

    def sample(self, rng: random.Random) -> float:
        pick = rng.uniform(0.0, self._total)
        for weight, part in self.parts:
            pick -= weight
            if pick <= 0:
                return part.sample(rng)
        return self.parts[-1][1].sample(rng)

    def __str__(self) -> str:
        return "+".join(f"{w:g}*{d}" for w, d in self.parts)


@dataclass(frozen=True)
class Fixed:
    """Every job takes exactly `seconds` (the simulator's old behaviour; tests that need a known time)."""

    seconds: float

    def cdf(self, seconds: float) -> float:
        return 1.0 if seconds >= self.seconds else 0.0

    def sample(self, rng: random.Random) -> float:
        return self.seconds

    def __str__(self) -> str:
        return f"fixed:{self.seconds:g}"


TYPICAL = LogNormal(75.0, 0.18)
WIDE = LogNormal(80.0, 0.5)
BIMODAL = Mixture(((0.55, LogNormal(45.0, 0.12)), (0.45, LogNormal(120.0, 0.15))))
# Demo mode: the typical shape, ten times quicker, so a demo clip arrives in seconds.
DEMO = LogNormal(7.5, 0.18)
PRESETS: dict[str, Durations] = {"typical": TYPICAL, "wide": WIDE, "bimodal": BIMODAL, "demo": DEMO}


def parse_durations(spec: str) -> Durations:
    """`typical`, `wide`, `bimodal`, `demo`, `fixed:SECONDS`, `lognormal:MEDIAN:SIGMA`, or a `W*lognormal:M:S+…`
    mixture. Raises ValueError with a sentence a person can act on."""
    text = spec.strip().lower()
    if text in PRESETS:
        return PRESETS[text]
    try:
        if "+" in text or "*" in text:
            parts = []
            for piece in text.split("+"):
                weight, _, rest = piece.partition("*")
                part = parse_durations(rest)
                if not isinstance(part, LogNormal):
                    raise ValueError
                parts.append((float(weight), part))
            if not parts or any(w <= 0 or not math.isfinite(w) for w, _ in parts):
                raise ValueError
            return Mixture(tuple(parts))
        kind, *numbers = text.split(":")
        values = [float(n) for n in numbers]
        if not all(math.isfinite(v) and v > 0 for v in values):
            raise ValueError
        if kind == "fixed" and len(values) == 1:
            return Fixed(values[0])
        if kind == "lognormal" and len(values) == 2:
            return LogNormal(values[0], values[1])
    except ValueError:
        pass
    raise ValueError(
        f"unknown durations {spec!r}: use typical, wide, bimodal, demo, fixed:SECONDS, lognormal:MEDIAN:SIGMA "
        "or a mixture like 0.5*lognormal:45:0.1+0.5*lognormal:120:0.15"
    )
