"""The simulator's sound: a voice-like buzz for a spoken line, a chord pad for v5.5's generated sound, and a
recording decoded from a lip-sync request. All mono float32 at SAMPLE_RATE, plain `array`s (no numpy at run time).
"""

from __future__ import annotations

import io
import itertools
import math
import random
import re
from array import array

import av

SAMPLE_RATE = 44100
FEMALE = {"Harper", "Ava", "Isabella", "Sophia", "Emily", "Chloe", "Julia"}
LEVELS = 24  # loudness steps of the pad's envelope (one precomputed period per step)
BLOCKS_PER_BEAT = 22  # about 0.5 s of pad periods between two soft pulses
# Chords as frequency ratios over a low root: major, minor, sus4, major with the sixth.
CHORDS: tuple[tuple[int, ...], ...] = ((4, 5, 6), (10, 12, 15), (6, 8, 9), (12, 15, 18, 20))


def speech_seconds(text: str, video_seconds: float) -> float:
    return max(0.1, min(video_seconds - 0.2, 0.4 + 0.065 * len(text.strip())))


def _voice_wavetable(size: int = 2048) -> list[float]:
    """One period of a buzzy, voice-like wave: eight harmonics with the 3rd and 4th lifted (a formant)."""
    table = []
    for i in range(size):
        x = 2 * math.pi * i / size
        table.append(sum(math.sin(k * x) / k * (1.6 if k in (3, 4) else 1.0) for k in range(1, 9)))
    return table


_WAVETABLE = _voice_wavetable()


def synth_voice(text: str, speaker: str | None, seconds: float) -> array:
    """A voice-like mono signal (float32): pitched harmonic syllables with gaps between words."""
    n = int(seconds * SAMPLE_RATE)
    out = array("f", bytes(4 * n))
    syllables = [len(re.findall(r"[aeiouy]+", w, re.I)) or 1 for w in re.findall(r"\w+", text)] or [1]
    total = sum(syllables) + 0.5 * len(syllables)
    unit = n / total
    base = 215.0 if speaker in FEMALE else 120.0 if speaker and speaker != "Auto" else 170.0
    rng = random.Random(len(text))
    table, size = _WAVETABLE, len(_WAVETABLE)
    pos = 0.0
    for count in syllables:
        for _ in range(count):
            start, length = int(pos), int(unit * 0.9)
            f0 = base * (1 + 0.12 * rng.gauss(0, 1))
            phase = 0.0
            for i in range(min(length, n - start)):
                glide = 1 - 0.1 * i / length  # the pitch falls a little through the syllable
                phase = (phase + size * f0 * glide / SAMPLE_RATE) % size
                envelope = math.sin(math.pi * i / length) ** 0.6
                out[start + i] = max(-1.0, min(1.0, 0.18 * table[int(phase)] * envelope))
            pos += unit
        pos += unit * 0.5
    return out


def _chord_levels(ratios: tuple[int, ...], period: int) -> list[array]:
    """One period of the chord (its notes are whole multiples of SAMPLE_RATE / period, so it repeats exactly)
    at each loudness step: the pad is then built by concatenating periods, at C speed."""
    wave = [
        sum(math.sin(2 * math.pi * r * i / period) for r in (1, 2, *ratios)) / (len(ratios) + 2) for i in range(period)
    ]
    return [array("f", (0.3 * v * step / (LEVELS - 1) for v in wave)) for step in range(LEVELS)]


def sound_track(seconds: float, key: str, changes: list[float] | None = None) -> array:
    """A generated sound track of `seconds`: a soft pulsing chord pad, deterministic from `key`, whose chord
    changes at each time in `changes` (the cuts of a multi-clip video), else every 2.5 s."""
    n = max(0, int(seconds * SAMPLE_RATE))
    rng = random.Random(key)
    bounds = sorted(t for t in (changes or [2.5 * k for k in range(1, int(seconds / 2.5) + 1)]) if 0 < t < seconds)
    edges = [0.0, *bounds, seconds]
    out = array("f")
    for start, end in itertools.pairwise(edges):
        period = rng.randrange(560, 760)  # a root of 58-79 Hz: the chord sits around C4-G4
        levels = _chord_levels(rng.choice(CHORDS), period)
        blocks = max(1, round((end - start) * SAMPLE_RATE / period))
        fade = min(8, blocks // 2)
        for b in range(blocks):
            envelope = min(1.0, (b + 1) / (fade + 1), (blocks - b) / (fade + 1))
            pulse = 0.75 + 0.25 * math.cos(2 * math.pi * (b % BLOCKS_PER_BEAT) / BLOCKS_PER_BEAT)
            out.extend(levels[round(envelope * pulse * (LEVELS - 1))])
    del out[n:]
    if len(out) < n:
        out.extend(array("f", bytes(4 * (n - len(out)))))
    return out


def decode_audio(data: bytes, seconds: float) -> array:
    """The first `seconds` of a recording (WAV, MP3, M4A...) as mono float32 at SAMPLE_RATE.

    Raises ValueError when the bytes are not audio PyAV can decode."""
    n = int(seconds * SAMPLE_RATE)
    out = array("f")
    try:
        with av.open(io.BytesIO(data), "r") as container:
            if not container.streams.audio:
                raise ValueError("the recording has no audio stream")
            resampler = av.AudioResampler(format="flt", layout="mono", rate=SAMPLE_RATE)
            for frame in container.decode(audio=0):
                for part in resampler.resample(frame):
                    out.frombytes(bytes(part.planes[0])[: 4 * part.samples])
                if len(out) >= n:
                    break
            else:
                for part in resampler.resample(None):
                    out.frombytes(bytes(part.planes[0])[: 4 * part.samples])
    except av.FFmpegError as exc:
        raise ValueError(f"the recording could not be decoded ({exc})") from None
    del out[n:]
    return out


__all__ = ["FEMALE", "SAMPLE_RATE", "decode_audio", "sound_track", "speech_seconds", "synth_voice"]
