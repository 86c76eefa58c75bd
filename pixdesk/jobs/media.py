"""Media tools for finished clips: probe, join a storyboard's parts, export the last frame and a GIF preview.

Qt-free and blocking (PyAV + Pillow): callers run them on a worker thread. Every output is written to a temporary
file beside the target and moved into place with `os.replace`, so a crash, a cancel or a bad input never leaves a
half-written file under the name the user chose. Memory stays bounded: joins stream packets or frames part by
part; only the GIF keeps its few small frames.
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
from PIL import Image, ImageOps

StopCheck = Callable[[], bool] | None
PathLike = str | os.PathLike[str]

#: Video codecs whose packets an MP4 can carry as they are (the remux path); anything else is re-encoded.
_COPYABLE_VIDEO = {"h264", "hevc"}
_COPYABLE_AUDIO = {"aac"}
_AAC_FRAME = 1024  # samples per AAC-LC packet
_MP4_OPTIONS = {"movflags": "+faststart"}  # the index first: a player can start before reading the whole file


class MediaError(Exception):
    """A clip cannot be read or written; the message says why in plain words (and which part, for a join)."""

    def __init__(self, message: str, *, path: Path | None = None) -> None:
        super().__init__(message)
        self.path = path


class MediaCancelled(MediaError):
    """`should_stop` asked the operation to stop; nothing was left behind."""


@dataclass(frozen=True)
class ClipInfo:
    duration: float
    width: int
    height: int
    fps: float
    video_codec: str
    has_audio: bool


@dataclass(frozen=True)
class JoinResult:
    path: Path
    reencoded: bool
    duration: float


@dataclass(frozen=True)
class _Part:
    """What a join needs to know about one input before touching its packets."""

    path: Path
    info: ClipInfo
    rate: Fraction  # frames per second
    video_span: Fraction  # seconds of pictures (from the track's own length)
    video_key: tuple[object, ...]  # equal keys: packets can follow each other in one track
    audio_key: tuple[object, ...] | None
    audio_rate: int
    audio_layout: str
    audio_start: Fraction  # seconds, relative to the first picture
    audio_end: Fraction


def _tb(value: Fraction | None) -> Fraction:
    """A stream's or frame's time base (PyAV types it optional; files always have one)."""
    return value if value else Fraction(1, 90000)


def _reason(exc: BaseException) -> str:
    text = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
    return str(text).rstrip(".")


def _check_stop(should_stop: StopCheck) -> None:
    if should_stop is not None and should_stop():
        raise MediaCancelled("Stopped before it finished; nothing was written.")


def _inspect(path: PathLike) -> _Part:
    p = Path(path)
    try:
        if p.is_dir():
            raise MediaError(f"{p.name} is a folder, not a clip.", path=p)
        size = p.stat().st_size
    except FileNotFoundError:
        raise MediaError(f"{p.name}: file not found.", path=p) from None
    except OSError as exc:
        raise MediaError(f"{p.name} cannot be read ({_reason(exc)}).", path=p) from None
    if size == 0:
        raise MediaError(f"{p.name} is empty (0 bytes).", path=p)
    try:
        with av.open(str(p)) as container:
            if not container.streams.video:
                raise MediaError(f"{p.name} has no pictures (it is not a video clip).", path=p)
            v = container.streams.video[0]
            vctx = v.codec_context
            v_tb = v.time_base or Fraction(1, 90000)
            v_start = Fraction(v.start_time or 0) * v_tb
            rate = Fraction(v.average_rate or v.guessed_rate or 24).limit_denominator(1001)
            if v.duration:
                span = Fraction(v.duration) * v_tb
            elif container.duration:
                span = Fraction(container.duration, 1_000_000)
            elif v.frames:
                span = v.frames / rate
            else:
                raise MediaError(f"{p.name} does not say how long it is (damaged or unfinished?).", path=p)
            if span <= 0 or not vctx.width or not vctx.height:
                raise MediaError(f"{p.name} has no pictures to show (damaged?).", path=p)
            a = container.streams.audio[0] if container.streams.audio else None
            audio_key: tuple[object, ...] | None = None
            a_rate, a_layout, a_start, a_end = 0, "", Fraction(0), Fraction(0)
            if a is not None:
                actx = a.codec_context
                a_rate, a_layout = actx.sample_rate, actx.layout.name
                a_tb = a.time_base or Fraction(1, a_rate or 1)
                a_start = Fraction(a.start_time or 0) * a_tb - v_start
                a_end = a_start + Fraction(a.duration or 0) * a_tb
                audio_key = (actx.name, a_rate, a_layout, bytes(actx.extradata or b""))
            duration = Fraction(container.duration, 1_000_000) if container.duration else span
            info = ClipInfo(
                duration=float(duration),
                width=vctx.width,
                height=vctx.height,
                fps=float(rate),
                video_codec=vctx.name,
                has_audio=a is not None,
            )
            video_key = (vctx.name, vctx.width, vctx.height, vctx.pix_fmt, bytes(vctx.extradata or b""))
            return _Part(p, info, rate, span, video_key, audio_key, a_rate, a_layout, a_start, a_end)
    except MediaError:
        raise
    except (av.FFmpegError, OSError, ValueError, IndexError, TypeError) as exc:
        raise MediaError(f"{p.name} is not a video PixDesk can read ({_reason(exc)}).", path=p) from None


def probe(path: PathLike) -> ClipInfo:
    """Length, size, frame rate, codec and whether there is sound; MediaError (plain words) when it is no clip."""
    return _inspect(path).info


# -- writing atomically -------------------------------------------------------------------------------------
@contextlib.contextmanager
def _atomic(out: PathLike) -> Iterator[str]:
    """A temporary path beside `out`, moved over it only when the body succeeds (removed otherwise)."""
    target = Path(out)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
        os.close(fd)
    except OSError as exc:
        raise MediaError(f"Cannot write in {target.parent} ({_reason(exc)}).", path=target) from None
    try:
        yield tmp
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp's file is private; an exported file is like any other
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _umask() -> int:
    """The process's umask, read without setting it (os.umask would change it for every thread meanwhile)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    return 0o022


def poster(path: PathLike, side: int = 128) -> bytes:
    """A small PNG of the clip's first frame: the list's picture for a clip made without one (text-to-video)."""
    with _translate("Cannot read", Path(path)), av.open(str(path)) as container:
        for frame in container.decode(video=0):
            image = frame.to_image()
            image.thumbnail((side, side))
            buffer = io.BytesIO()
            image.save(buffer, "PNG")
            return buffer.getvalue()
    raise MediaError(f"{Path(path).name} has no picture.", path=Path(path))


def _write_errors(out: PathLike) -> contextlib.AbstractContextManager[None]:
    return _translate(f"Cannot write {Path(out).name}", Path(out))


@contextlib.contextmanager
def _translate(what: str, path: Path) -> Iterator[None]:
    """PyAV's and the OS's exceptions become one MediaError that starts with `what`."""
    try:
        yield
    except MediaError:
        raise
    except (av.FFmpegError, OSError, ValueError, IndexError, TypeError, RuntimeError) as exc:
        raise MediaError(f"{what} ({_reason(exc)}).", path=path) from None


# -- join -----------------------------------------------------------------------------------------------------
def join_clips(parts: Sequence[PathLike], out: PathLike, *, should_stop: StopCheck = None) -> JoinResult:
    """Join `parts` in order into one MP4 at `out` (a storyboard's transitions become one film).

    Parts that match (same video codec, size, pixel format and codec set-up, and the same sound layout) are
    remuxed: their packets are copied with timestamps moved along, so nothing is re-encoded and nothing lost;
    gaps in a part's sound (a line shorter than its clip) are filled with silent AAC packets. Otherwise there is
    exactly one re-encode: H.264 yuv420p at the FIRST part's size and frame rate (the film keeps the look of its
    opening shot; the others are letterboxed to fit), AAC if any part has sound (silence for the others).
    Either way the film lasts as long as its parts together. One part is copied as it is.
    Raises MediaError naming the part that cannot be read, MediaCancelled when `should_stop()` turns true;
    neither leaves a file behind.
    """
    paths = [Path(p) for p in parts]
    if not paths:
        raise MediaError("Nothing to join: no clips were given.")
    infos: list[_Part] = []
    for index, path in enumerate(paths, 1):
        _check_stop(should_stop)
        try:
            infos.append(_inspect(path))
        except MediaError as exc:
            raise MediaError(f"Part {index} of {len(paths)}: {exc}", path=path) from None
    target = Path(out)
    with _atomic(target) as tmp:
        if len(infos) == 1:
            with _write_errors(target):
                shutil.copyfile(infos[0].path, tmp)
            reencoded = False
        elif _can_remux(infos):
            with _write_errors(target):
                _remux(infos, tmp, should_stop)
            reencoded = False
        else:
            with _write_errors(target):
                _reencode(infos, tmp, should_stop)
            reencoded = True
        duration = _inspect(tmp).info.duration
    return JoinResult(target, reencoded, duration)


def _can_remux(parts: list[_Part]) -> bool:
    """Whether the parts' packets can follow one another in one MP4 track each (see join_clips)."""
    first = parts[0]
    if first.info.video_codec not in _COPYABLE_VIDEO:
        return False
    if any(p.video_key != first.video_key or p.audio_key != first.audio_key for p in parts):
        return False
    if first.audio_key is None:
        return True
    if first.audio_key[0] not in _COPYABLE_AUDIO:
        return False
    # A part whose sound stops early (or starts late) leaves a gap that only silent packets of the same set-up fill.
    half = Fraction(_AAC_FRAME, 2 * first.audio_rate)
    gaps = any(p.audio_start > half or p.audio_end < p.video_span - half for p in parts[:-1]) or any(
        p.audio_start > half for p in parts[1:]
    )
    return not gaps or _silent_aac(first.audio_rate, first.audio_layout, first.audio_key[3]) is not None


_SILENCE: dict[tuple[int, str], tuple[bytes, bytes]] = {}


def _silent_aac(rate: int, layout: str, extradata: object) -> bytes | None:
    """One AAC packet of silence in the same set-up as the parts' sound, or None when our encoder's differs."""
    key = (rate, layout)
    if key not in _SILENCE:
        ctx = av.CodecContext.create("aac", "w")
        assert isinstance(ctx, av.AudioCodecContext)
        ctx.sample_rate, ctx.layout, ctx.format = rate, layout, "fltp"
        ctx.open()
        packets: list[bytes] = []
        for i in range(4):
            frame = _silence(rate, layout, _AAC_FRAME)
            frame.pts = i * _AAC_FRAME
            packets += [bytes(p) for p in ctx.encode(frame)]
        packets += [bytes(p) for p in ctx.encode(None)]
        _SILENCE[key] = (bytes(ctx.extradata or b""), packets[2])
    setup, packet = _SILENCE[key]
    return packet if setup == extradata else None


def _silence(rate: int, layout: str, samples: int) -> av.AudioFrame:
    frame = av.AudioFrame(format="fltp", layout=layout, samples=samples)
    for plane in frame.planes:
        plane.update(bytes(plane.buffer_size))
    frame.sample_rate = rate
    return frame


@contextlib.contextmanager
def _open_part(part: _Part, index: int, count: int) -> Iterator[av.container.InputContainer]:
    with _translate(f"Part {index} of {count} ({part.path.name}) cannot be read", part.path):
        container = av.open(str(part.path))
    try:
        yield container
    finally:
        container.close()


def _packets(container: av.container.InputContainer, streams: list[Any], what: str, path: Path) -> Iterator[Any]:
    """The part's packets, in file order; a read error names the part (a write error must not)."""
    it = container.demux(*streams)
    while True:
        with _translate(what, path):
            packet = next(it, None)
        if packet is None:
            return
        if packet.dts is None or packet.size == 0:
            continue  # the demuxer's end-of-stream marker
        yield packet


def _damaged(part: _Part, index: int, count: int, reached: Fraction) -> MediaError | None:
    """A part whose pictures stop well before its own stated length is cut short: refuse rather than join it."""
    if reached < part.video_span - Fraction(1, 2):
        return MediaError(
            f"Part {index} of {count} ({part.path.name}) is damaged: its pictures stop at {float(reached):.1f} s "
            f"of {float(part.video_span):.1f} s.",
            path=part.path,
        )
    return None


def _remux(parts: list[_Part], tmp: str, should_stop: StopCheck) -> None:
    """Copy every part's packets into one MP4, each part's timestamps moved to start where the previous ended."""
    count = len(parts)
    first = parts[0]
    with contextlib.ExitStack() as stack:
        template = stack.enter_context(av.open(str(first.path)))
        out = stack.enter_context(av.open(tmp, "w", format="mp4", options=_MP4_OPTIONS))
        vout = out.add_stream_from_template(template.streams.video[0])
        aout = out.add_stream_from_template(template.streams.audio[0]) if first.audio_key else None
        offset = Fraction(0)  # seconds: where this part starts in the film
        last_dts: dict[str, Fraction] = {}  # seconds: the last decoding time written, per kind
        audio_next: Fraction | None = None  # seconds: where the film's sound has got to
        for index, part in enumerate(parts, 1):
            what = f"Part {index} of {count} ({part.path.name}) cannot be read"
            with _open_part(part, index, count) as container:
                v = container.streams.video[0]
                a = container.streams.audio[0] if aout is not None and container.streams.audio else None
                v_tb = _tb(v.time_base)
                v_start = Fraction(v.start_time or 0) * v_tb
                frame_ticks = max(1, round(1 / (part.rate * v_tb)))
                reached = Fraction(0)  # seconds of pictures read so far in this part
                audio_shift: int | None = None  # ticks this part's sound moves by, fixed at its first packet
                stop_sound_at = offset + part.video_span if index < count else None
                for packet in _packets(container, [s for s in (v, a) if s is not None], what, part.path):
                    _check_stop(should_stop)
                    tb = _tb(packet.time_base)
                    base = round((offset - v_start) / tb)  # ticks: part time -> film time
                    if packet.stream is v:
                        pts, dts = packet.pts + base, packet.dts + base
                        end = Fraction(packet.pts + (packet.duration or frame_ticks)) * tb - v_start
                        reached = max(reached, end)
                        dts = _after(dts, last_dts.get("v"), tb)
                        last_dts["v"] = dts * tb
                        packet.pts, packet.dts = max(pts, dts), dts
                        packet.stream = vout
                        out.mux(packet)
                        continue
                    assert aout is not None
                    if index > 1 and a is not None and packet.pts < (a.start_time or 0):
                        continue  # the next part's encoder priming: the sound runs on from the previous part
                    at = Fraction(packet.pts + base) * tb  # seconds in the film
                    if stop_sound_at is not None and at >= stop_sound_at:
                        continue  # sound beyond this part's pictures would push the next part's sound late
                    if audio_shift is None:
                        audio_shift = 0
                        if audio_next is not None:
                            audio_next = _fill_silence(out, aout, part, audio_next, at, tb)
                            audio_shift = round((audio_next - at) / tb)
                    pts = packet.pts + base + audio_shift
                    dts = _after(packet.dts + base + audio_shift, last_dts.get("a"), tb)
                    last_dts["a"] = dts * tb
                    packet.pts, packet.dts = max(pts, dts), dts
                    audio_next = Fraction(dts + (packet.duration or 0)) * tb
                    packet.stream = aout
                    out.mux(packet)
                damage = _damaged(part, index, count, reached)
                if damage is not None:
                    raise damage
                offset += reached


def _after(dts: int, previous: Fraction | None, tb: Fraction) -> int:
    """`dts`, moved just past `previous` (seconds) if needed: a track's decoding times must keep increasing."""
    if previous is None or dts * tb > previous:
        return dts
    return int(previous / tb) + 1


def _fill_silence(
    out: av.container.OutputContainer, stream: Any, part: _Part, start: Fraction, until: Fraction, tb: Fraction
) -> Fraction:
    """Silent packets from `start` to about `until` (whole packets); returns where the sound has got to."""
    if part.audio_key is None:
        return start
    step = Fraction(_AAC_FRAME, part.audio_rate)
    missing = round((until - start) / step)
    if missing <= 0:
        return start
    payload = _silent_aac(part.audio_rate, part.audio_layout, part.audio_key[3])
    assert payload is not None  # _can_remux checked that silence can be made
    for _ in range(missing):
        packet = av.Packet(payload)
        packet.pts = packet.dts = round(start / tb)
        packet.duration = round(step / tb)
        packet.time_base = tb
        packet.is_keyframe = True
        packet.stream = stream
        out.mux(packet)
        start += step
    return start


class _SoundOut:
    """The re-encoded film's sound: samples placed at their time, gaps filled with silence, AAC-sized frames out."""

    def __init__(self, out: av.container.OutputContainer, rate: int, layout: str) -> None:
        self.out = out
        self.rate = rate
        self.layout = layout
        self.stream = out.add_stream("aac", rate=rate, layout=layout)
        self.fifo = av.AudioFifo()
        self.written = 0  # samples placed so far (the film's sound position)
        self.encoded = 0

    def resampler(self) -> av.AudioResampler:
        return av.AudioResampler(format="fltp", layout=self.layout, rate=self.rate)

    def place(self, frame: av.AudioFrame, pos: int, limit: int) -> None:
        """Put `frame` (already resampled) at sample `pos`; what lies before `written` or from `limit` is cut."""
        self.fill_to(min(pos, limit))
        skip = self.written - pos
        take = min(frame.samples, limit - pos)
        if take <= skip:
            return
        if skip > 0 or take < frame.samples:
            frame = self._slice(frame, max(0, skip), take)
        frame.pts = None
        self.fifo.write(frame)
        self.written += frame.samples
        self._drain()

    def fill_to(self, pos: int) -> None:
        while self.written < pos:
            n = min(pos - self.written, 8 * _AAC_FRAME)
            self.fifo.write(_silence(self.rate, self.layout, n))
            self.written += n
            self._drain()

    def _slice(self, frame: av.AudioFrame, start: int, stop: int) -> av.AudioFrame:
        part = av.AudioFrame(format="fltp", layout=self.layout, samples=stop - start)
        for src, dst in zip(frame.planes, part.planes, strict=True):
            dst.update(bytes(src)[start * 4 : stop * 4])
        part.sample_rate = self.rate
        return part

    def _drain(self, final: bool = False) -> None:
        while self.fifo.samples >= _AAC_FRAME or (final and self.fifo.samples):
            frame = self.fifo.read(_AAC_FRAME, partial=final)
            if frame is None:
                return
            frame.pts = self.encoded
            frame.time_base = Fraction(1, self.rate)
            self.encoded += frame.samples
            self.out.mux(self.stream.encode(frame))

    def close(self) -> None:
        self._drain(final=True)
        self.out.mux(self.stream.encode(None))


def _fit(frame: av.VideoFrame, width: int, height: int) -> av.VideoFrame:
    """The frame at the film's size: as it is when it matches, otherwise scaled to fit with black bars."""
    if (frame.width, frame.height) == (width, height):
        return frame.reformat(format="yuv420p")
    img = ImageOps.pad(frame.to_image(), (width, height), method=Image.Resampling.BILINEAR, color=(0, 0, 0))
    return av.VideoFrame.from_image(img).reformat(format="yuv420p")


class _Film:
    """The re-encoded film being written: pictures at a constant rate, sound kept in step with them."""

    def __init__(self, out: av.container.OutputContainer, first: _Part, sound_from: _Part | None) -> None:
        self.out = out
        self.width, self.height = max(2, first.info.width // 2 * 2), max(2, first.info.height // 2 * 2)
        self.fps = first.rate if first.rate > 0 else Fraction(24)
        self.video = out.add_stream("libx264", rate=self.fps)
        self.video.width, self.video.height, self.video.pix_fmt = self.width, self.height, "yuv420p"
        self.video.options = {"preset": "veryfast", "crf": "20"}
        self.sound = _SoundOut(out, sound_from.audio_rate, sound_from.audio_layout) if sound_from else None
        self.frames = 0  # pictures written

    def emit(self, picture: av.VideoFrame, silence_until: int | None) -> None:
        """Write `picture` as the next frame; for a part without sound, silence up to that frame's end."""
        picture.pts = self.frames
        picture.time_base = 1 / self.fps
        self.out.mux(self.video.encode(picture))
        self.frames += 1
        if self.sound is not None and silence_until is not None:
            self.sound.fill_to(min(silence_until, round(Fraction(self.frames) / self.fps * self.sound.rate)))

    def add_part(self, part: _Part, offset: Fraction, index: int, count: int, should_stop: StopCheck) -> None:
        """Decode one part into the film, starting at `offset` seconds and lasting its own length."""
        what = f"Part {index} of {count} ({part.path.name}) cannot be read"
        fps, sound = self.fps, self.sound
        end_frame = round((offset + part.video_span) * fps)
        half = 1 / (2 * fps)
        with _open_part(part, index, count) as container:
            v = container.streams.video[0]
            a = container.streams.audio[0] if sound is not None and container.streams.audio else None
            v_start = Fraction(v.start_time or 0) * _tb(v.time_base)
            s0 = round(offset * sound.rate) if sound else 0
            s_end = round((offset + part.video_span) * sound.rate) if sound else 0
            silence_until = s_end if a is None else None
            resampler = sound.resampler() if sound is not None and a is not None else None
            sound_pos: int | None = None  # samples into the part where the next resampled sound goes
            current: av.VideoFrame | None = None  # the picture showing now, at the film's size
            reached = Fraction(0)
            for packet in _packets(container, [s for s in (v, a) if s is not None], what, part.path):
                _check_stop(should_stop)
                with _translate(what, part.path):
                    frames = packet.decode()
                for frame in frames:
                    if frame.pts is None:
                        continue
                    t = Fraction(frame.pts) * _tb(frame.time_base) - v_start
                    if isinstance(frame, av.VideoFrame):
                        _check_stop(should_stop)
                        picture = _fit(frame, self.width, self.height)
                        while self.frames < end_frame and Fraction(self.frames) / fps - offset + half < t:
                            self.emit(current if current is not None else picture, silence_until)
                        current = picture
                        reached = max(reached, t + 1 / part.rate)
                    elif sound is not None and resampler is not None and isinstance(frame, av.AudioFrame):
                        if sound_pos is None:
                            sound_pos = round(t * sound.rate)
                        for chunk in resampler.resample(frame):
                            sound.place(chunk, s0 + sound_pos, s_end)
                            sound_pos += chunk.samples
            if sound is not None and resampler is not None and sound_pos is not None:
                for chunk in resampler.resample(None):
                    sound.place(chunk, s0 + sound_pos, s_end)
                    sound_pos += chunk.samples
            if current is None:
                raise MediaError(f"Part {index} of {count} ({part.path.name}) has no pictures.", path=part.path)
            damage = _damaged(part, index, count, reached)
            if damage is not None:
                raise damage
            while self.frames < end_frame:
                self.emit(current, silence_until)
            if sound is not None:
                sound.fill_to(s_end)

    def close(self) -> None:
        self.out.mux(self.video.encode(None))
        if self.sound is not None:
            self.sound.close()


def _reencode(parts: list[_Part], tmp: str, should_stop: StopCheck) -> None:
    """Decode every part and encode one film (see join_clips): constant frame rate, sound kept in step."""
    sound_from = next((p for p in parts if p.audio_key is not None), None)
    with av.open(tmp, "w", format="mp4", options=_MP4_OPTIONS) as out:
        film = _Film(out, parts[0], sound_from)
        offset = Fraction(0)
        for index, part in enumerate(parts, 1):
            film.add_part(part, offset, index, len(parts), should_stop)
            offset += part.video_span
        film.close()


# -- exports --------------------------------------------------------------------------------------------------
def last_frame(path: PathLike) -> bytes:
    """PNG bytes of the clip's last picture ("Continue from last frame", "Export last frame").

    Seeks to about a second before the end and decodes from there, so a long clip costs no more than a short one;
    a clip too short or too odd to seek in is decoded from the start.
    """
    part = _inspect(path)
    p = part.path
    with _translate(f"{p.name} cannot be read", p), av.open(str(p)) as container:
        v = container.streams.video[0]
        last: av.VideoFrame | None = None
        if part.video_span > 2:
            target = (Fraction(v.start_time or 0) * _tb(v.time_base)) + part.video_span - 1
            container.seek(round(target / _tb(v.time_base)), stream=v, backward=True, any_frame=False)
            for frame in container.decode(v):
                last = frame
        if last is None:
            container.seek(0)
            for frame in container.decode(v):
                last = frame
        if last is None:
            raise MediaError(f"{p.name} has no picture that can be decoded.", path=p)
        buf = io.BytesIO()
        last.to_image().save(buf, "PNG")
        return buf.getvalue()


def save_last_frame(path: PathLike, out: PathLike) -> Path:
    """Write the clip's last picture as a PNG at `out` (atomically); returns `out`."""
    data = last_frame(path)
    target = Path(out)
    with _atomic(target) as tmp, _write_errors(target):
        Path(tmp).write_bytes(data)
    return target


def gif_preview(
    path: PathLike,
    out: PathLike,
    *,
    seconds: float = 4.0,
    width: int = 360,
    fps: int = 10,
    should_stop: StopCheck = None,
) -> Path:
    """A short looping GIF of the clip's first `seconds`, to share or drop into a chat; written atomically.

    Width is capped at `width` (never enlarged), both sides even; one 256-colour palette is built from all the
    frames so colours do not flicker. With the defaults (4 s, 360 px, 10 fps) a 720p clip gives 40 frames:
    360×202 for 16:9, about 0.5 MB; a portrait clip (360×480) about 1 MB; flat or still scenes far less.
    Bounds: 0.1-15 s, 1-30 fps, 16-1280 px.
    """
    seconds = min(15.0, max(0.1, float(seconds)))
    rate = min(30, max(1, int(fps)))
    width = min(1280, max(16, int(width)))
    part = _inspect(path)
    p = part.path
    w = min(width, part.info.width) // 2 * 2
    h = max(2, round(w * part.info.height / part.info.width) // 2 * 2)
    wanted = max(1, min(round(seconds * rate), round(float(part.video_span) * rate)))
    frames: list[Image.Image] = []
    with _translate(f"{p.name} cannot be read", p), av.open(str(p)) as container:
        v = container.streams.video[0]
        v_start = Fraction(v.start_time or 0) * _tb(v.time_base)
        half = Fraction(1, 2 * rate)
        current: Image.Image | None = None
        for frame in container.decode(v):
            _check_stop(should_stop)
            if frame.pts is None:
                continue
            t = Fraction(frame.pts) * _tb(frame.time_base) - v_start
            while len(frames) < wanted and Fraction(len(frames), rate) + half < t and current is not None:
                frames.append(current)
            if len(frames) >= wanted:
                break
            current = frame.to_image().resize((w, h), Image.Resampling.LANCZOS)
        while current is not None and len(frames) < wanted:
            frames.append(current)
    if not frames:
        raise MediaError(f"{p.name} has no picture that can be decoded.", path=p)
    _check_stop(should_stop)
    palette = _shared_palette(frames)
    coded = [f.quantize(palette=palette, dither=Image.Dither.FLOYDSTEINBERG) for f in frames]
    target = Path(out)
    with _atomic(target) as tmp, _write_errors(target):
        coded[0].save(
            tmp,
            format="GIF",
            save_all=True,
            append_images=coded[1:],
            duration=round(1000 / rate),
            loop=0,
            optimize=True,
        )
    return target


def _shared_palette(frames: list[Image.Image]) -> Image.Image:
    """One palette for every frame, from a contact sheet of (at most 16) frames spread over the clip."""
    step = max(1, len(frames) // 16)
    picks = frames[::step][:16]
    tw, th = max(1, frames[0].width // 2), max(1, frames[0].height // 2)
    sheet = Image.new("RGB", (tw * len(picks), th))
    for i, f in enumerate(picks):
        sheet.paste(f.resize((tw, th), Image.Resampling.BILINEAR), (i * tw, 0))
    return sheet.quantize(colors=256, method=Image.Quantize.MEDIANCUT)
