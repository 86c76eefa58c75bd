"""A small factory of real test MP4s, encoded with PyAV the way the simulator and PixVerse deliver clips.

H.264 yuv420p through libx264 (veryfast: B-frames, so decode order differs from display order), `faststart`,
optionally an AAC track (mono or stereo, possibly shorter than the video, as a lip-synced line is). Each clip
is a run of solid-colour segments with a small white square sliding along the top strip, so consecutive frames
differ (a GIF keeps them) while the frame's lower part keeps the segment's colour for checks.
Independent of pixdesk/simulator/render.py on purpose: these tests pin the media tools, not the renderer.
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path

import av
from PIL import Image, ImageDraw

Color = tuple[int, int, int]
RED: Color = (220, 30, 30)
GREEN: Color = (30, 200, 40)
BLUE: Color = (30, 60, 220)
YELLOW: Color = (235, 220, 30)
MAGENTA: Color = (210, 40, 200)


def make_clip(
    path: Path,
    *,
    seconds: float = 1.0,
    size: tuple[int, int] = (160, 120),
    fps: int = 24,
    colors: Sequence[tuple[Color, float]] | None = None,
    color: Color = BLUE,
    audio: bool = False,
    audio_seconds: float | None = None,
    sample_rate: int = 44100,
    layout: str = "mono",
    faststart: bool = True,
) -> Path:
    """Encode a test MP4 at `path`.

    `colors` is a list of (colour, seconds) segments (their sum is the clip's length); without it the whole clip
    is `color` for `seconds`. With `audio`, a 440 Hz tone lasting `audio_seconds` (default: the whole clip).
    """
    segments = list(colors) if colors else [(color, seconds)]
    total = sum(s for _, s in segments)
    frames = round(total * fps)
    width, height = size
    options = {"movflags": "+faststart"} if faststart else {}
    with av.open(str(path), "w", format="mp4", options=options) as container:
        video = container.add_stream("libx264", rate=fps)
        video.width, video.height, video.pix_fmt = width, height, "yuv420p"
        video.options = {"preset": "veryfast", "crf": "20"}
        sound = container.add_stream("aac", rate=sample_rate, layout=layout) if audio else None
        for i in range(frames):
            t = i / fps
            elapsed, fill = 0.0, segments[-1][0]
            for seg_color, seg_seconds in segments:
                if t < elapsed + seg_seconds - 1e-9:
                    fill = seg_color
                    break
                elapsed += seg_seconds
            img = Image.new("RGB", (width, height), fill)
            side = max(4, height // 10)
            x = int((width - side) * (i / max(1, frames - 1)))
            ImageDraw.Draw(img).rectangle((x, 0, x + side - 1, side - 1), fill=(255, 255, 255))
            for packet in video.encode(av.VideoFrame.from_image(img)):
                container.mux(packet)
        for packet in video.encode():
            container.mux(packet)
        if sound is not None:
            _write_tone(container, sound, audio_seconds if audio_seconds is not None else total, sample_rate, layout)
    return path


def _write_tone(
    container: av.container.OutputContainer, stream: av.AudioStream, seconds: float, rate: int, layout: str
) -> None:
    channels = 2 if layout == "stereo" else 1
    n = int(seconds * rate)
    pts = 0
    for start in range(0, n, 1024):
        count = min(1024, n - start)
        chunk = array("f", (0.2 * math.sin(2 * math.pi * 440 * (start + k) / rate) for k in range(count)))
        frame = av.AudioFrame(format="fltp", layout=layout, samples=count)
        for c in range(channels):
            frame.planes[c].update(chunk.tobytes())
        frame.sample_rate = rate
        frame.pts = pts
        frame.time_base = Fraction(1, rate)
        pts += count
        for packet in stream.encode(frame):
            container.mux(packet)
    for packet in stream.encode():
        container.mux(packet)


def make_audio(path: Path, fmt: str, *, seconds: float = 0.5, rate: int = 44100) -> Path:
    """A recording in `fmt` ("wav", "mp3" or "m4a"), a 440 Hz tone, whatever `path`'s name says."""
    container_format, codec, sample_format = {
        "wav": ("wav", "pcm_s16le", "s16"),
        "mp3": ("mp3", "libmp3lame", "fltp"),
        "m4a": ("ipod", "aac", "fltp"),
    }[fmt]
    with av.open(str(path), "w", format=container_format) as container:
        stream = container.add_stream(codec, rate=rate, layout="mono")
        assert isinstance(stream, av.AudioStream)
        n = int(seconds * rate)
        pts = 0
        for start in range(0, n, 1152):
            count = min(1152, n - start)
            wave = [0.2 * math.sin(2 * math.pi * 440 * (start + k) / rate) for k in range(count)]
            data = array("h", (int(v * 32767) for v in wave)) if sample_format == "s16" else array("f", wave)
            frame = av.AudioFrame(format=sample_format, layout="mono", samples=count)
            frame.planes[0].update(data.tobytes())
            frame.sample_rate, frame.pts, frame.time_base = rate, pts, Fraction(1, rate)
            pts += count
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return path


def make_webm(path: Path, *, seconds: float = 0.5, size: tuple[int, int] = (64, 48), fps: int = 12) -> Path:
    """A small VP8 WebM clip (a format lip-sync takes besides MP4)."""
    with av.open(str(path), "w", format="webm") as container:
        stream = container.add_stream("libvpx", rate=fps)
        stream.width, stream.height, stream.pix_fmt = size[0], size[1], "yuv420p"
        for i in range(round(seconds * fps)):
            img = Image.new("RGB", size, (20 * i % 255, 80, 160))
            container.mux(stream.encode(av.VideoFrame.from_image(img)))
        container.mux(stream.encode(None))
    return path


def sound_levels(path: Path, block: float = 0.1) -> str:
    """The film's sound as a strip, one character per `block` seconds: '#' a tone, '.' silence, '-' between."""
    import numpy as np  # test-only dependency

    with av.open(str(path)) as container:
        rate = container.streams.audio[0].rate
        samples = np.concatenate([f.to_ndarray()[0] for f in container.decode(audio=0)])
    step = int(rate * block)
    levels = [float(np.sqrt(np.mean(samples[i : i + step] ** 2))) for i in range(0, len(samples), step)]
    return "".join("#" if v > 0.05 else "." if v < 0.005 else "-" for v in levels)


def frame_times(path: Path) -> list[float]:
    """Display times (seconds) of every decoded frame of the first video track."""
    with av.open(str(path)) as container:
        return [float(f.time) for f in container.decode(video=0) if f.time is not None]


def pixel(img: Image.Image, xy: tuple[int, int]) -> Color:
    """The RGB colour at `xy` of any image (palette GIF frames included)."""
    value = img.convert("RGB").getpixel(xy)
    assert isinstance(value, tuple)
    return int(value[0]), int(value[1]), int(value[2])


def frame_colors(path: Path) -> list[Color]:
    """The colour at the lower middle of every decoded frame, in display order (decodes the whole clip)."""
    out: list[Color] = []
    with av.open(str(path)) as container:
        for frame in container.decode(video=0):
            img = frame.to_image()
            out.append(pixel(img, (img.width // 2, img.height * 3 // 4)))
    return out


def near(a: Sequence[int], b: Sequence[int], tolerance: int = 40) -> bool:
    """Two colours are the same to the eye after lossy coding (each channel within `tolerance`)."""
    return all(abs(int(x) - int(y)) <= tolerance for x, y in zip(a, b, strict=True))
