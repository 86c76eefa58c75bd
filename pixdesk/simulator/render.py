"""Render a real MP4 from the request's image: a camera move, a look per style, and a voice track.

H.264 (yuv420p, 24 fps, faststart) through PyAV; with lip-sync text an AAC track whose length
follows the text, synthesized as a voice-like buzz of harmonics, one syllable per vowel group.
"""

from __future__ import annotations

import base64
import hashlib
import io
import math
import random
import re
import uuid
from array import array
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
from PIL import Image, ImageDraw, ImageEnhance, ImageFilter, ImageFont, ImageOps

FPS = 24
SAMPLE_RATE = 44100
SHORT_SIDES = {"360p": 360, "540p": 540, "720p": 720, "1080p": 1080}
FEMALE = {"Harper", "Ava", "Isabella", "Sophia", "Emily", "Chloe", "Julia"}


@dataclass(frozen=True)
class RenderSpec:
    image_url: str
    resolution: str = "720p"
    duration: int = 5
    style: str | None = None
    seed: int | None = None
    lip_sync_text: str | None = None
    speaker: str | None = None
    prompt: str = ""

    def cache_key(self) -> str:
        h = hashlib.sha256()
        for part in (
            self.image_url,
            self.resolution,
            str(self.duration),
            self.style or "",
            str(self.seed),
            self.lip_sync_text or "",
            self.speaker or "",
        ):
            h.update(part.encode("utf-8", "replace"))
            h.update(b"\0")
        return h.hexdigest()[:24]


def load_source(image_url: str) -> Image.Image:
    """The picture to animate: the data URI's image, or a placeholder for a web URL we cannot fetch."""
    if image_url.startswith("data:"):
        payload = image_url.split(",", 1)[1]
        with Image.open(io.BytesIO(base64.b64decode(payload))) as decoded:
            return decoded.convert("RGB")
    img = Image.new("RGB", (1280, 720))
    draw = ImageDraw.Draw(img)
    for y in range(720):
        draw.line([(0, y), (1280, y)], fill=(30 + y // 8, 60 + y // 10, 120 + y // 12))
    draw.text((40, 340), image_url[:90], fill=(255, 255, 255), font=ImageFont.load_default(24))
    return img


def frame_size(src: Image.Image, resolution: str) -> tuple[int, int]:
    short = SHORT_SIDES.get(resolution, 720)
    aspect = min(2.0, max(0.5, src.width / src.height))
    w: float
    h: float
    if aspect >= 1:
        w, h = short * aspect, short
    else:
        w, h = short, short / aspect
    return round(w / 2) * 2, round(h / 2) * 2


def apply_style(img: Image.Image, style: str | None) -> Image.Image:
    if style == "anime":
        img = img.filter(ImageFilter.SMOOTH_MORE).filter(ImageFilter.SMOOTH_MORE)
        img = ImageOps.posterize(ImageEnhance.Color(img).enhance(1.7), 4)
    elif style == "3d_animation":
        img = ImageEnhance.Contrast(ImageEnhance.Color(img).enhance(1.4)).enhance(1.25)
        img = img.filter(ImageFilter.SHARPEN)
    elif style == "clay":
        img = img.filter(ImageFilter.ModeFilter(5)).filter(ImageFilter.SMOOTH_MORE)
        r, g, b = img.split()
        img = Image.merge("RGB", (r.point(lambda v: min(255, v + 25)), g, b.point(lambda v: max(0, v - 20))))
    elif style == "comic":
        edges = ImageOps.invert(img.convert("L").filter(ImageFilter.FIND_EDGES)).point(lambda v: 0 if v < 200 else 255)
        img = ImageOps.posterize(ImageEnhance.Color(img).enhance(1.5), 3)
        img = Image.composite(img, Image.new("RGB", img.size, (0, 0, 0)), edges)
    elif style == "cyberpunk":
        img = ImageOps.colorize(
            ImageOps.autocontrast(img.convert("L")), black=(20, 0, 60), mid=(220, 0, 180), white=(0, 255, 255)
        )
    return img


def _caption(text: str, speaker: str, width: int, height: int) -> Image.Image:
    size = max(14, height // 22)
    font = ImageFont.load_default(size)
    label = f"{speaker}: “{text}”"
    while font.getlength(label) > width * 0.9 and len(label) > 8:
        label = label[: len(label) - 4] + "…”"
    tw = int(font.getlength(label))
    pad = size // 2
    box = Image.new("RGBA", (tw + 2 * pad, size + 2 * pad), (0, 0, 0, 150))
    ImageDraw.Draw(box).text((pad, pad - size // 8), label, font=font, fill=(255, 255, 255, 255))
    return box


def speech_seconds(text: str, video_seconds: float) -> float:
    return min(video_seconds - 0.2, 0.4 + 0.065 * len(text.strip()))


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


def render_video(spec: RenderSpec, dest: Path) -> Path:
    src = load_source(spec.image_url)
    width, height = frame_size(src, spec.resolution)
    # Work from a copy a little larger than the frame so the zoom stays sharp and each frame is cheap.
    scale = 1.25 * max(width / src.width, height / src.height)
    work = src.resize(
        (max(width, int(src.width * scale)), max(height, int(src.height * scale))), Image.Resampling.LANCZOS
    )
    work = apply_style(work, spec.style)
    frames = spec.duration * FPS
    rng = random.Random(spec.seed if spec.seed is not None else 7)
    pan_x, pan_y = rng.uniform(-0.35, 0.35), rng.uniform(-0.35, 0.35)
    aspect = width / height
    caption = _caption(spec.lip_sync_text, spec.speaker or "Auto", width, height) if spec.lip_sync_text else None
    # A name of its own: a simulator restarted while its predecessor's render still runs renders the same clip,
    # and two writers of one temporary file leave one of them renaming a file that is gone.
    tmp = dest.with_name(f"{dest.name}.{uuid.uuid4().hex[:12]}.tmp")
    with av.open(str(tmp), "w", format="mp4", options={"movflags": "+faststart"}) as container:
        vstream = container.add_stream("libx264", rate=FPS)
        vstream.width, vstream.height, vstream.pix_fmt = width, height, "yuv420p"
        vstream.options = {"preset": "veryfast", "crf": "24"}
        astream = None
        audio = None
        if spec.lip_sync_text:
            astream = container.add_stream("aac", rate=SAMPLE_RATE, layout="mono")
            audio = synth_voice(spec.lip_sync_text, spec.speaker, speech_seconds(spec.lip_sync_text, spec.duration))
        for i in range(frames):
            t = i / max(1, frames - 1)
            ease = t * t * (3 - 2 * t)
            zoom = 1.0 + 0.18 * ease
            crop_h = work.height / zoom
            crop_w = min(work.width / zoom, crop_h * aspect)
            crop_h = crop_w / aspect
            cx = work.width / 2 + pan_x * (work.width - crop_w) * ease
            cy = work.height / 2 + pan_y * (work.height - crop_h) * ease
            box = (cx - crop_w / 2, cy - crop_h / 2, cx + crop_w / 2, cy + crop_h / 2)
            frame = work.resize((width, height), Image.Resampling.BILINEAR, box=box)
            if caption is not None:
                frame.paste(caption, ((width - caption.width) // 2, height - caption.height - height // 14), caption)
            for packet in vstream.encode(av.VideoFrame.from_image(frame)):
                container.mux(packet)
        for packet in vstream.encode():
            container.mux(packet)
        if astream is not None and audio is not None:
            pts = 0
            for start in range(0, len(audio), 1024):
                chunk = audio[start : start + 1024]
                aframe = av.AudioFrame(format="fltp", layout="mono", samples=len(chunk))
                aframe.planes[0].update(chunk.tobytes())
                aframe.sample_rate = SAMPLE_RATE
                aframe.pts = pts
                aframe.time_base = Fraction(1, SAMPLE_RATE)
                pts += len(chunk)
                for packet in astream.encode(aframe):
                    container.mux(packet)
            for packet in astream.encode():
                container.mux(packet)
    tmp.replace(dest)
    return dest
