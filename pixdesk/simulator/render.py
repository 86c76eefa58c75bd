"""Render a real MP4 for each model of the family, recognisably, so demo mode shows what each one does.

- image-to-video (v5, v5.5): a camera move over the request's image, a look per style;
- transition: a cross-fade with a push from the first frame (`image_url`) to the last (`tail_image_url`);
- text-to-video (v5, v5.5): a scene drawn from the prompt (palette from its words, layout from the seed, its key
  words written in), framed by `aspect_ratio` at the resolution's short side;
- v5.5: `generate_multi_clip_switch` cuts between shots (a wide shot, then close-ups in other grades),
  `generate_audio_switch` adds a chord-pad sound track; without it there is no audio stream;
- v5 lip-sync fields: the line as a caption and a voice-like track;
- lip-sync: the given clip (a data URI, or a clip this simulator rendered) with the speaker's line (or
  "♪ audio") drawn over it and a voice or the recording as its sound; as long as the clip (bounded).

H.264 (yuv420p, 24 fps, faststart) and AAC through PyAV.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import io
import json
import random
import uuid
from array import array
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, fields
from fractions import Fraction
from pathlib import Path
from typing import Any, Literal

import av
from PIL import Image, ImageDraw, ImageEnhance, ImageFilter, ImageFont, ImageOps

from pixdesk.simulator.scene import draw_scene
from pixdesk.simulator.sound import SAMPLE_RATE, decode_audio, sound_track, speech_seconds, synth_voice

FPS = 24
SHORT_SIDES = {"360p": 360, "540p": 540, "720p": 720, "1080p": 1080}
ASPECTS: dict[str, tuple[int, int]] = {"16:9": (16, 9), "4:3": (4, 3), "1:1": (1, 1), "3:4": (3, 4), "9:16": (9, 16)}
SHOTS_BY_DURATION = {5: 3, 8: 4, 10: 5}  # how many shots a multi-clip video cuts between
CLIP_MIN_SECONDS = 1.0
CLIP_MAX_SECONDS = 30.0  # a lip-sync of a longer clip keeps its first 30 s
CLIP_MAX_SIZE = (1920, 1080)  # long side, short side of a lip-sync's frame
STAND_IN_SECONDS = 5  # a lip-sync of a clip the simulator cannot fetch (a web URL, offline)
DEFAULT_MODEL = "pixverse/v5/image-to-video"
Kind = Literal["image", "transition", "text", "lip-sync"]


def kind_of(model: str) -> Kind:
    """What a model does, as the renderer draws it."""
    if model.endswith("/transition"):
        return "transition"
    if model.endswith("/text-to-video"):
        return "text"
    if model.endswith("/lip-sync"):
        return "lip-sync"
    return "image"


@dataclass(frozen=True)
class RenderSpec:
    """Everything that changes the picture or the sound, and nothing else: the cache key is all of it.

    `video_file` is where `video_url`'s clip lies on disk when it is one of the simulator's own downloads (the
    URL is then given as its path, `/files/<name>`, so a restart on another port finds the same render)."""

    image_url: str = ""
    resolution: str = "720p"
    duration: int = 5
    style: str | None = None
    seed: int | None = None
    lip_sync_text: str | None = None
    speaker: str | None = None
    prompt: str = ""
    model: str = DEFAULT_MODEL
    tail_image_url: str | None = None
    aspect_ratio: str | None = None
    sound: bool = False
    multi_clip: bool = False
    video_url: str | None = None
    audio_url: str | None = None
    video_file: str | None = field(default=None, compare=False)

    @property
    def kind(self) -> Kind:
        return kind_of(self.model)

    def cache_key(self) -> str:
        parts = {f.name: getattr(self, f.name) for f in fields(self) if f.compare}
        digest = hashlib.sha256(json.dumps(parts, sort_keys=True, ensure_ascii=False).encode("utf-8", "replace"))
        return digest.hexdigest()[:24]

    @classmethod
    def from_body(
        cls, body: Mapping[str, Any], video_file: str | None = None, video_url: str | None = None
    ) -> RenderSpec:
        """The render of a valid create body; fields that do not change this model's picture are left out, so
        two requests that differ only by them share one render. `video_url` overrides the body's (own files)."""
        model = str(body.get("model", DEFAULT_MODEL))
        kind = kind_of(model)
        if kind == "lip-sync":
            line = body.get("lip_sync_tts_content")
            return cls(
                model=model,
                resolution="",
                duration=0,
                video_url=video_url or body.get("video_url"),
                video_file=video_file,
                audio_url=body.get("audio_url"),
                lip_sync_text=line,
                speaker=body.get("lip_sync_tts_speaker") if line else None,
            )
        line = body.get("lip_sync_tts_content")
        return cls(
            image_url=str(body.get("image_url", "")),
            resolution=str(body.get("resolution", "720p")),
            duration=int(body.get("duration", 5)),
            style=body.get("style"),
            seed=body.get("seed"),
            lip_sync_text=line,
            speaker=body.get("lip_sync_tts_speaker") if line else None,
            prompt=str(body.get("prompt", "")) if kind == "text" else "",
            model=model,
            tail_image_url=body.get("tail_image_url"),
            aspect_ratio=str(body.get("aspect_ratio", "16:9")) if kind == "text" else None,
            sound=body.get("generate_audio_switch") is True,
            multi_clip=body.get("generate_multi_clip_switch") is True,
        )


# -- pictures ---------------------------------------------------------------------------------------
def _decode_data_uri(url: str) -> bytes:
    return base64.b64decode(url.split(",", 1)[1])


def _placeholder(text: str, size: tuple[int, int] = (1280, 720)) -> Image.Image:
    """What stands in for a web URL the simulator cannot fetch: a gradient with the URL written on it."""
    width, height = size
    img = Image.new("RGB", size)
    draw = ImageDraw.Draw(img)
    for y in range(height):
        draw.line([(0, y), (width, y)], fill=(30 + y // 8, 60 + y // 10, 120 + y // 12))
    draw.text((40, height // 2 - 20), text[:90], fill=(255, 255, 255), font=ImageFont.load_default(24))
    return img


def load_source(image_url: str) -> Image.Image:
    """The picture to animate: the data URI's image, or a placeholder for a web URL we cannot fetch."""
    if image_url.startswith("data:"):
        with Image.open(io.BytesIO(_decode_data_uri(image_url))) as decoded:
            return decoded.convert("RGB")
    return _placeholder(image_url)


def _even(value: float) -> int:
    return max(2, round(value / 2) * 2)


def frame_size(src: Image.Image, resolution: str) -> tuple[int, int]:
    short = SHORT_SIDES.get(resolution, 720)
    aspect = min(2.0, max(0.5, src.width / src.height))
    w: float
    h: float
    if aspect >= 1:
        w, h = short * aspect, short
    else:
        w, h = short, short / aspect
    return _even(w), _even(h)


def aspect_size(aspect_ratio: str | None, resolution: str) -> tuple[int, int]:
    """The frame of a text-to-video clip: `aspect_ratio` (16:9 by default) with the resolution's short side."""
    short = SHORT_SIDES.get(resolution, 720)
    aw, ah = ASPECTS.get(aspect_ratio or "16:9", (16, 9))
    return (_even(short * aw / ah), short) if aw >= ah else (short, _even(short * ah / aw))


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


def _grade(img: Image.Image, grade: int) -> Image.Image:
    """Another shot's look (multi-clip): warmer and brighter, cooler and harder, or darker, greener and richer."""
    if grade == 0:
        return img
    if grade % 3 == 1:
        r, g, b = ImageEnhance.Brightness(img).enhance(1.15).split()
        return Image.merge("RGB", (r.point(lambda v: min(255, v + 30)), g, b.point(lambda v: max(0, v - 30))))
    if grade % 3 == 2:
        r, g, b = ImageEnhance.Contrast(img).enhance(1.3).split()
        return Image.merge("RGB", (r.point(lambda v: max(0, v - 30)), g, b.point(lambda v: min(255, v + 35))))
    r, g, b = ImageEnhance.Color(ImageEnhance.Brightness(img).enhance(0.7)).enhance(1.6).split()
    return Image.merge("RGB", (r, g.point(lambda v: min(255, v + 25)), b.point(lambda v: min(255, v + 10))))


def _caption_box(label: str, width: int, height: int, mark: bool = False) -> Image.Image:
    size = max(14, height // 22)
    font = ImageFont.load_default(size)
    while font.getlength(label) > width * 0.85 and len(label) > 8:
        label = label[: len(label) - 4] + "…”"
    note = size if mark else 0  # room for a drawn note: the default font has no ♪
    tw = int(font.getlength(label)) + note
    pad = size // 2
    box = Image.new("RGBA", (tw + 2 * pad, size + 2 * pad), (0, 0, 0, 150))
    draw = ImageDraw.Draw(box)
    if mark:
        x, y = pad, pad
        draw.ellipse((x, y + size * 0.62, x + size * 0.42, y + size * 0.95), fill=(255, 255, 255, 255))
        draw.line(
            (x + size * 0.4, y + size * 0.78, x + size * 0.4, y + size * 0.08), fill=(255, 255, 255, 255), width=2
        )
        draw.line(
            (x + size * 0.4, y + size * 0.08, x + size * 0.75, y + size * 0.3), fill=(255, 255, 255, 255), width=2
        )
    draw.text((pad + note, pad - size // 8), label, font=font, fill=(255, 255, 255, 255))
    return box


def _caption(text: str, speaker: str, width: int, height: int) -> Image.Image:
    return _caption_box(f"{speaker}: “{text}”", width, height)


@dataclass(frozen=True)
class Move:
    """A camera move over a work image: zoom and pan (fractions of the free space, -0.5..0.5), eased."""

    zoom0: float
    zoom1: float
    pan0: tuple[float, float] = (0.0, 0.0)
    pan1: tuple[float, float] = (0.0, 0.0)


def _camera(work: Image.Image, size: tuple[int, int], move: Move, t: float) -> Image.Image:
    width, height = size
    ease = t * t * (3 - 2 * t)
    zoom = move.zoom0 + (move.zoom1 - move.zoom0) * ease
    aspect = width / height
    crop_h = work.height / zoom
    crop_w = min(work.width / zoom, crop_h * aspect)
    crop_h = crop_w / aspect
    px = move.pan0[0] + (move.pan1[0] - move.pan0[0]) * ease
    py = move.pan0[1] + (move.pan1[1] - move.pan0[1]) * ease
    cx = work.width / 2 + px * (work.width - crop_w)
    cy = work.height / 2 + py * (work.height - crop_h)
    box = (cx - crop_w / 2, cy - crop_h / 2, cx + crop_w / 2, cy + crop_h / 2)
    return work.resize((width, height), Image.Resampling.BILINEAR, box=box)


@dataclass(frozen=True)
class Shot:
    start: int  # first frame
    end: int  # one past the last frame
    move: Move
    grade: int = 0


def plan_shots(spec: RenderSpec, frames: int, rng: random.Random) -> list[Shot]:
    """One slow move, or with multi-clip a wide shot then close-ups, each in its own grade: visible cuts."""
    pan = (rng.uniform(-0.35, 0.35), rng.uniform(-0.35, 0.35))
    wide = Move(1.0, 1.18, (0.0, 0.0), pan)
    if not spec.multi_clip:
        return [Shot(0, frames, wide)]
    count = SHOTS_BY_DURATION.get(spec.duration, max(2, spec.duration // 2))
    bounds = [round(frames * k / count) for k in range(count + 1)]
    shots = [Shot(bounds[0], bounds[1], wide)]
    for k in range(1, count):
        zoom = rng.uniform(1.6, 2.1)
        start = (rng.uniform(-0.45, 0.45), rng.uniform(-0.45, 0.45))
        end = (max(-0.5, min(0.5, start[0] + rng.uniform(-0.1, 0.1))), start[1])
        shots.append(Shot(bounds[k], bounds[k + 1], Move(zoom, zoom + rng.choice((-0.15, 0.15)), start, end), k))
    return shots


def cut_times(spec: RenderSpec) -> list[float]:
    """When (seconds) a multi-clip video cuts: where its sound track changes chord."""
    if not spec.multi_clip:
        return []
    frames = spec.duration * FPS
    return [s.start / FPS for s in plan_shots(spec, frames, random.Random(0))[1:]]


def _shot_frames(work: Image.Image, size: tuple[int, int], shots: list[Shot]) -> Iterator[Image.Image]:
    graded: dict[int, Image.Image] = {}
    for shot in shots:
        image = graded.setdefault(shot.grade, _grade(work, shot.grade))
        length = shot.end - shot.start
        for i in range(length):
            yield _camera(image, size, shot.move, i / max(1, length - 1))


def _particles(frames: Iterator[Image.Image], size: tuple[int, int], rng: random.Random) -> Iterator[Image.Image]:
    """Small lights drifting across a drawn scene, so a text-to-video clip lives."""
    width, height = size
    motes = [(rng.random(), rng.random(), rng.uniform(-0.08, 0.08), rng.uniform(-0.05, 0.02)) for _ in range(12)]
    r = max(2, height // 120)
    for i, frame in enumerate(frames):
        t = i / FPS
        draw = ImageDraw.Draw(frame)
        for x0, y0, vx, vy in motes:
            x, y = (x0 + vx * t) % 1.0 * width, (y0 + vy * t) % 1.0 * height
            draw.ellipse((x - r, y - r, x + r, y + r), fill=(255, 250, 230))
        yield frame


def _overlay(frames: Iterator[Image.Image], caption: Image.Image | None) -> Iterator[Image.Image]:
    for frame in frames:
        if caption is not None:
            width, height = frame.size
            frame.paste(caption, ((width - caption.width) // 2, height - caption.height - height // 14), caption)
        yield frame


# -- plans: what each model shows and sounds like ----------------------------------------------------
@dataclass
class Plan:
    width: int
    height: int
    frames: Iterator[Image.Image]
    audio: array | None = None


def _sound_key(spec: RenderSpec) -> str:
    return f"{spec.model}\0{spec.prompt}\0{spec.image_url[:4096]}\0{spec.seed}"


def _soundtrack(spec: RenderSpec, seconds: float) -> array | None:
    """The line's voice (v5 lip-sync fields), or v5.5's generated sound, or none."""
    if spec.lip_sync_text:
        return synth_voice(spec.lip_sync_text, spec.speaker, speech_seconds(spec.lip_sync_text, seconds))
    if spec.sound:
        return sound_track(seconds, _sound_key(spec), cut_times(spec) or None)
    return None


def _caption_for(spec: RenderSpec, width: int, height: int) -> Image.Image | None:
    return _caption(spec.lip_sync_text, spec.speaker or "Auto", width, height) if spec.lip_sync_text else None


def _moving_plan(spec: RenderSpec, work: Image.Image, size: tuple[int, int], rng: random.Random) -> Plan:
    frames = spec.duration * FPS
    shots = plan_shots(spec, frames, rng)
    pictures = _shot_frames(apply_style(work, spec.style), size, shots)
    if spec.kind == "text":
        pictures = _particles(pictures, size, rng)
    pictures = _overlay(pictures, _caption_for(spec, *size))
    return Plan(size[0], size[1], pictures, _soundtrack(spec, spec.duration))


def _image_plan(spec: RenderSpec) -> Plan:
    src = load_source(spec.image_url)
    width, height = frame_size(src, spec.resolution)
    # Work from a copy a little larger than the frame so the zoom stays sharp and each frame is cheap.
    scale = 1.25 * max(width / src.width, height / src.height)
    work = src.resize(
        (max(width, int(src.width * scale)), max(height, int(src.height * scale))), Image.Resampling.LANCZOS
    )
    return _moving_plan(spec, work, (width, height), random.Random(spec.seed if spec.seed is not None else 7))


def _text_plan(spec: RenderSpec) -> Plan:
    width, height = aspect_size(spec.aspect_ratio, spec.resolution)
    scene = draw_scene(spec.prompt, spec.seed, (round(width * 1.25), round(height * 1.25)))
    return _moving_plan(spec, scene, (width, height), random.Random(f"{spec.prompt}\0{spec.seed}"))


def _transition_plan(spec: RenderSpec) -> Plan:
    first, last = load_source(spec.image_url), load_source(spec.tail_image_url or "")
    size = frame_size(first, spec.resolution)
    work_size = (round(size[0] * 1.15), round(size[1] * 1.15))
    a = apply_style(ImageOps.fit(first, work_size, Image.Resampling.LANCZOS), spec.style)
    b = apply_style(ImageOps.fit(last, work_size, Image.Resampling.LANCZOS), spec.style)
    frames = spec.duration * FPS
    push_in, settle = Move(1.0, 1.15), Move(1.15, 1.0)

    def pictures() -> Iterator[Image.Image]:
        for i in range(frames):
            t = i / max(1, frames - 1)
            blend = t * t * (3 - 2 * t)
            yield Image.blend(_camera(a, size, push_in, t), _camera(b, size, settle, t), blend)

    caption = _caption_for(spec, *size)
    return Plan(size[0], size[1], _overlay(pictures(), caption), _soundtrack(spec, spec.duration))


def _clip_seconds(container: av.container.InputContainer, stream: av.VideoStream) -> float:
    if stream.duration and stream.time_base:
        seconds = float(stream.duration * stream.time_base)
    elif container.duration:
        seconds = container.duration / av.time_base
    elif stream.frames and stream.average_rate:
        seconds = float(stream.frames / stream.average_rate)
    else:
        seconds = STAND_IN_SECONDS
    return min(CLIP_MAX_SECONDS, max(CLIP_MIN_SECONDS, seconds))


def _clip_size(width: int, height: int) -> tuple[int, int]:
    long_max, short_max = CLIP_MAX_SIZE
    scale = min(1.0, long_max / max(width, height), short_max / max(1, min(width, height)))
    return _even(width * scale), _even(height * scale)


def _clip_frames(
    container: av.container.InputContainer, stream: av.VideoStream, size: tuple[int, int], count: int
) -> Iterator[Image.Image]:
    """`count` frames at FPS from the clip: each output time shows the source frame on screen at that time."""
    emitted, current, origin = 0, None, None
    rate = float(stream.average_rate or FPS)
    for index, frame in enumerate(container.decode(stream)):
        at = float(frame.time) if frame.time is not None else index / rate
        origin = at if origin is None else origin
        while current is not None and emitted < count and emitted / FPS < at - origin:
            yield current.copy()
            emitted += 1
        if emitted >= count:
            return
        current = frame.to_image(width=size[0], height=size[1])
    if current is None:
        raise ValueError("the clip has no frames")
    while emitted < count:
        yield current.copy()
        emitted += 1


def _lip_sync_plan(spec: RenderSpec, stack: contextlib.ExitStack) -> Plan:
    url = spec.video_url or ""
    source: str | io.BytesIO | None = spec.video_file
    if source is None and url.startswith("data:"):
        source = io.BytesIO(_decode_data_uri(url))
    if source is None:  # a web URL the simulator cannot fetch: a stand-in clip, never a crash
        stand_in = RenderSpec(image_url=url, resolution="540p", duration=STAND_IN_SECONDS)
        plan = _image_plan(stand_in)
        width, height, seconds, pictures = plan.width, plan.height, float(STAND_IN_SECONDS), plan.frames
    else:
        try:
            container = stack.enter_context(av.open(source, "r"))
        except (av.FFmpegError, OSError) as exc:
            raise ValueError(f"the clip could not be opened ({exc})") from None
        if not container.streams.video:
            raise ValueError("the clip has no video stream")
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        width, height = _clip_size(stream.codec_context.width, stream.codec_context.height)
        seconds = _clip_seconds(container, stream)
        pictures = _clip_frames(container, stream, (width, height), max(1, round(seconds * FPS)))
    audio: array
    if spec.lip_sync_text:
        caption = _caption(spec.lip_sync_text, spec.speaker or "Auto", width, height)
        audio = synth_voice(spec.lip_sync_text, spec.speaker, speech_seconds(spec.lip_sync_text, seconds))
    else:
        caption = _caption_box("audio", width, height, mark=True)
        sound = spec.audio_url or ""
        audio = decode_audio(_decode_data_uri(sound), seconds) if sound.startswith("data:") else array("f")
        if not audio:  # a recording on the web (not fetched offline), or a silent one: a stand-in sound
            audio = sound_track(seconds, sound[:4096])
    return Plan(width, height, _overlay(pictures, caption), audio)


def plan_for(spec: RenderSpec, stack: contextlib.ExitStack) -> Plan:
    kind = spec.kind
    if kind == "transition":
        return _transition_plan(spec)
    if kind == "text":
        return _text_plan(spec)
    if kind == "lip-sync":
        return _lip_sync_plan(spec, stack)
    return _image_plan(spec)


# -- writing -------------------------------------------------------------------------------------------
def _write(plan: Plan, path: Path) -> None:
    with av.open(str(path), "w", format="mp4", options={"movflags": "+faststart"}) as container:
        vstream = container.add_stream("libx264", rate=FPS)
        vstream.width, vstream.height, vstream.pix_fmt = plan.width, plan.height, "yuv420p"
        vstream.options = {"preset": "veryfast", "crf": "24"}
        astream = container.add_stream("aac", rate=SAMPLE_RATE, layout="mono") if plan.audio is not None else None
        for frame in plan.frames:
            for packet in vstream.encode(av.VideoFrame.from_image(frame)):
                container.mux(packet)
        for packet in vstream.encode():
            container.mux(packet)
        if astream is not None and plan.audio is not None:
            pts = 0
            for start in range(0, len(plan.audio), 1024):
                chunk = plan.audio[start : start + 1024]
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


def render_video(spec: RenderSpec, dest: Path) -> Path:
    """Render `spec` to `dest` atomically (a temporary file renamed over it). Raises on an unusable input."""
    # A name of its own: a simulator restarted while its predecessor's render still runs renders the same clip,
    # and two writers of one temporary file leave one of them renaming a file that is gone.
    tmp = dest.with_name(f"{dest.name}.{uuid.uuid4().hex[:12]}.tmp")
    try:
        with contextlib.ExitStack() as stack:
            _write(plan_for(spec, stack), tmp)
        tmp.replace(dest)
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink()
    return dest


__all__ = [
    "FPS",
    "RenderSpec",
    "aspect_size",
    "cut_times",
    "frame_size",
    "kind_of",
    "load_source",
    "render_video",
    "speech_seconds",
]
