"""The media tools a storyboard and the exports use (pixdesk/jobs/media.py), on real MP4s encoded for each test,
and the checks on a clip or recording sent to lip-sync (pixdesk/api/media_inputs.py)."""

from __future__ import annotations

import base64
import io
import itertools
from collections.abc import Callable
from pathlib import Path

import av
import pytest
from PIL import Image

from pixdesk.api.media_inputs import MediaRejected, inspect_media, prepare_media
from pixdesk.jobs.media import (
    MediaCancelled,
    MediaError,
    gif_preview,
    join_clips,
    last_frame,
    probe,
    save_last_frame,
)
from tests.media_clips import (
    BLUE,
    GREEN,
    MAGENTA,
    RED,
    YELLOW,
    frame_colors,
    frame_times,
    make_audio,
    make_clip,
    make_webm,
    near,
    pixel,
    sound_levels,
)


def _names(folder: Path) -> set[str]:
    return {p.name for p in folder.iterdir()}


def _stop_after(calls: int) -> tuple[list[int], Callable[[], bool]]:
    """A should_stop that says "stop" on its `calls`-th question, and the count of questions asked."""
    asked = [0]

    def should_stop() -> bool:
        asked[0] += 1
        return asked[0] >= calls

    return asked, should_stop


# -- join -------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("audio", [False, True], ids=["silent", "with-voice"])
def test_join_of_matching_parts_copies_them_and_plays_straight_through(tmp_path: Path, audio: bool) -> None:
    # Like a storyboard of simulator transitions: same size and codec; a spoken line shorter than each clip.
    parts = [
        make_clip(tmp_path / "p1.mp4", seconds=1.0, color=RED, audio=audio, audio_seconds=0.6),
        make_clip(tmp_path / "p2.mp4", seconds=1.5, color=GREEN, audio=audio, audio_seconds=0.6),
        make_clip(tmp_path / "p3.mp4", seconds=1.0, color=BLUE, audio=audio, audio_seconds=0.6),
    ]
    total = sum(probe(p).duration for p in parts)

    result = join_clips(parts, tmp_path / "film.mp4")

    assert result.path == tmp_path / "film.mp4" and result.path.is_file()
    assert result.reencoded is False
    assert result.duration == pytest.approx(total, abs=0.2)
    info = probe(result.path)
    assert info.duration == pytest.approx(total, abs=0.2)
    assert (info.width, info.height, info.video_codec, info.has_audio) == (160, 120, "h264", audio)
    colors = frame_colors(result.path)
    assert len(colors) == 24 + 36 + 24  # every frame of every part decodes
    assert near(colors[0], RED) and near(colors[len(colors) // 2], GREEN) and near(colors[-1], BLUE)
    times = frame_times(result.path)
    assert all(0 < b - a < 1.5 / 24 for a, b in itertools.pairwise(times))  # no jump, no stall
    if audio:
        # Each part's line starts with its part (1.0 s and 2.5 s), with silence between: the voices stay in sync.
        strip = sound_levels(result.path)
        assert strip[0:5] == "#####" and strip[7:9] == ".."
        assert strip[10:15] == "#####" and strip[17:24] == "......."
        assert strip[25:30] == "#####"
    assert _names(tmp_path) == {"p1.mp4", "p2.mp4", "p3.mp4", "film.mp4"}  # no temporary file left


def test_join_of_mismatched_parts_reencodes_once_letterboxed_with_sound(tmp_path: Path) -> None:
    first = make_clip(tmp_path / "small.mp4", seconds=1.0, size=(160, 120), fps=24, color=RED)
    second = make_clip(
        tmp_path / "wide.mp4", seconds=1.5, size=(320, 180), fps=30, color=GREEN, audio=True, sample_rate=48000
    )

    result = join_clips([first, second], tmp_path / "film.mp4")

    assert result.reencoded is True
    assert result.duration == pytest.approx(2.5, abs=0.2)
    info = probe(result.path)
    assert (info.width, info.height, info.fps, info.has_audio) == (160, 120, 24.0, True)  # the first part's shape
    colors = frame_colors(result.path)
    assert len(colors) == 24 + 36  # one constant frame rate all through
    assert near(colors[10], RED) and near(colors[40], GREEN)
    with av.open(str(result.path)) as container:
        frames = list(container.decode(video=0))
        wide = frames[40].to_image()
    assert near(pixel(wide, (80, 3)), (0, 0, 0), 25)  # 16:9 in 4:3: black bars above and below
    assert near(pixel(wide, (80, 60)), GREEN)
    strip = sound_levels(result.path)
    assert set(strip[0:9]) == {"."}  # the silent part is silent...
    assert set(strip[11:24]) == {"#"}  # ...and the second part's sound plays under its pictures
    assert _names(tmp_path) == {"small.mp4", "wide.mp4", "film.mp4"}


def test_join_of_one_part_is_a_copy(tmp_path: Path) -> None:
    only = make_clip(tmp_path / "only.mp4", seconds=1.0, color=MAGENTA, audio=True)

    result = join_clips([only], tmp_path / "film.mp4")

    assert result.reencoded is False
    assert result.path.read_bytes() == only.read_bytes()
    assert result.duration == pytest.approx(1.0, abs=0.1)


@pytest.mark.parametrize("damage", ["garbled", "cut-short", "unfinished"])
@pytest.mark.parametrize("matching", [True, False], ids=["remux", "reencode"])
def test_a_damaged_part_is_named_and_leaves_no_output(tmp_path: Path, damage: str, matching: bool) -> None:
    good = make_clip(tmp_path / "one.mp4", seconds=1.0, color=RED)
    # "unfinished": a download cut off before the index at its end; "cut-short": the index is there, pictures aren't.
    bad = make_clip(tmp_path / "two.mp4", seconds=2.0, color=GREEN, faststart=damage != "unfinished")
    data = bad.read_bytes()
    if damage == "garbled":
        bad.write_bytes(data[:24] + bytes(range(256)) * 8 + data[24 + 2048 :])
    else:
        bad.write_bytes(data[: len(data) // 2])
    last = make_clip(tmp_path / "three.mp4", seconds=1.0, color=BLUE, size=(160, 120) if matching else (96, 64))
    before = _names(tmp_path)

    with pytest.raises(MediaError) as caught:
        join_clips([good, bad, last], tmp_path / "film.mp4")

    assert "Part 2 of 3" in str(caught.value) and "two.mp4" in str(caught.value)
    assert caught.value.path == bad
    assert _names(tmp_path) == before  # no film, no temporary file


def test_an_existing_film_survives_a_failed_join(tmp_path: Path) -> None:
    good = make_clip(tmp_path / "one.mp4", seconds=1.0)
    (tmp_path / "notes.mp4").write_text("not a clip")
    film = tmp_path / "film.mp4"
    film.write_bytes(b"the previous film")

    with pytest.raises(MediaError, match=r"notes\.mp4"):
        join_clips([good, tmp_path / "notes.mp4"], film)

    assert film.read_bytes() == b"the previous film"


def test_nothing_to_join_is_refused(tmp_path: Path) -> None:
    with pytest.raises(MediaError, match="Nothing to join"):
        join_clips([], tmp_path / "film.mp4")
    assert not (tmp_path / "film.mp4").exists()


@pytest.mark.parametrize("matching", [True, False], ids=["remux", "reencode"])
def test_should_stop_cancels_a_join_and_leaves_nothing(tmp_path: Path, matching: bool) -> None:
    parts = [
        make_clip(tmp_path / "a.mp4", seconds=1.0, color=RED),
        make_clip(tmp_path / "b.mp4", seconds=1.0, color=GREEN, size=(160, 120) if matching else (96, 64)),
    ]
    before = _names(tmp_path)
    asked, should_stop = _stop_after(30)  # well into the first part's packets

    with pytest.raises(MediaCancelled):
        join_clips(parts, tmp_path / "film.mp4", should_stop=should_stop)

    assert asked[0] == 30
    assert _names(tmp_path) == before


# -- last frame and GIF -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("seconds", [0.5, 3.0], ids=["short", "long"])
def test_last_frame_is_a_png_of_the_final_picture(tmp_path: Path, seconds: float) -> None:
    clip = make_clip(tmp_path / "clip.mp4", colors=[(BLUE, seconds - 0.25), (YELLOW, 0.25)], size=(200, 150))

    data = last_frame(clip)

    img = Image.open(io.BytesIO(data))
    assert img.format == "PNG" and img.size == (200, 150)
    assert near(pixel(img, (100, 110)), YELLOW)

    saved = save_last_frame(clip, tmp_path / "exports" / "last.png")
    assert saved == tmp_path / "exports" / "last.png"
    assert Image.open(saved).size == (200, 150)
    assert _names(tmp_path / "exports") == {"last.png"}


def test_last_frame_of_a_text_file_says_why(tmp_path: Path) -> None:
    (tmp_path / "clip.mp4").write_text("hello")
    with pytest.raises(MediaError, match=r"clip\.mp4 is not a video"):
        last_frame(tmp_path / "clip.mp4")
    with pytest.raises(MediaError):
        save_last_frame(tmp_path / "clip.mp4", tmp_path / "last.png")
    assert not (tmp_path / "last.png").exists()


def test_gif_preview_is_a_small_looping_animation(tmp_path: Path) -> None:
    clip = make_clip(tmp_path / "clip.mp4", seconds=3.0, size=(640, 360), colors=[(RED, 1.0), (GREEN, 2.0)])

    out = gif_preview(clip, tmp_path / "preview.gif", seconds=2.0, width=240, fps=10)

    with Image.open(out) as gif:
        assert gif.format == "GIF" and gif.is_animated
        assert 10 < gif.n_frames <= 20
        assert gif.width <= 240 and gif.width % 2 == 0 and gif.height % 2 == 0
        assert gif.size == (240, 134)  # the clip's shape, even sides
        assert gif.info.get("loop") == 0  # loops forever
        assert near(pixel(gif, (120, 100)), RED)
        gif.seek(gif.n_frames - 1)
        assert near(pixel(gif, (120, 100)), GREEN)
    assert out.stat().st_size < 400_000
    assert _names(tmp_path) == {"clip.mp4", "preview.gif"}


def test_gif_preview_never_enlarges_a_small_clip(tmp_path: Path) -> None:
    clip = make_clip(tmp_path / "tiny.mp4", seconds=1.0, size=(96, 64))
    with Image.open(gif_preview(clip, tmp_path / "tiny.gif")) as gif:
        assert gif.size == (96, 64) and gif.n_frames > 1


def test_should_stop_cancels_a_gif_and_leaves_nothing(tmp_path: Path) -> None:
    clip = make_clip(tmp_path / "clip.mp4", seconds=2.0)
    _, should_stop = _stop_after(5)
    with pytest.raises(MediaCancelled):
        gif_preview(clip, tmp_path / "preview.gif", should_stop=should_stop)
    assert _names(tmp_path) == {"clip.mp4"}


# -- probe ------------------------------------------------------------------------------------------------------
def test_probe_describes_a_clip(tmp_path: Path) -> None:
    info = probe(make_clip(tmp_path / "c.mp4", seconds=1.5, size=(320, 240), fps=30, audio=True))
    assert info.duration == pytest.approx(1.5, abs=0.05)
    assert (info.width, info.height, info.fps, info.video_codec, info.has_audio) == (320, 240, 30.0, "h264", True)


def test_probe_refuses_what_is_not_a_clip_in_plain_words(tmp_path: Path) -> None:
    (tmp_path / "notes.mp4").write_text("these are my notes, not a video")
    (tmp_path / "empty.mp4").write_bytes(b"")
    voice = make_audio(tmp_path / "voice.wav", "wav")

    with pytest.raises(MediaError, match=r"^notes\.mp4 is not a video PixDesk can read"):
        probe(tmp_path / "notes.mp4")
    with pytest.raises(MediaError, match=r"^empty\.mp4 is empty \(0 bytes\)"):
        probe(tmp_path / "empty.mp4")
    with pytest.raises(MediaError, match=r"^missing\.mp4: file not found"):
        probe(tmp_path / "missing.mp4")
    with pytest.raises(MediaError, match=r"^voice\.wav has no pictures"):
        probe(voice)
    with pytest.raises(MediaError, match="is a folder"):
        probe(tmp_path)


# -- media_inputs: the clip or recording sent to lip-sync --------------------------------------------------------
@pytest.mark.parametrize(("fmt", "mime"), [("wav", "audio/wav"), ("mp3", "audio/mpeg"), ("m4a", "audio/mp4")])
def test_recordings_are_recognised_by_their_bytes(tmp_path: Path, fmt: str, mime: str) -> None:
    recording = make_audio(tmp_path / "voice.recording", fmt)  # the name says nothing
    assert inspect_media(recording, "audio") == (mime, recording.stat().st_size)

    prepared = prepare_media(recording, "audio")

    assert prepared.mime == mime and prepared.payload_bytes == recording.stat().st_size
    head, payload = prepared.url.split(",", 1)
    assert head == f"data:{mime};base64"
    assert base64.b64decode(payload) == recording.read_bytes()


def test_clips_are_recognised_by_their_bytes(tmp_path: Path) -> None:
    mp4 = make_clip(tmp_path / "clip.bin", seconds=0.5)
    webm = make_webm(tmp_path / "clip.video")
    assert inspect_media(mp4, "video")[0] == "video/mp4"
    assert inspect_media(webm, "video")[0] == "video/webm"
    assert prepare_media(webm, "video").url.startswith("data:video/webm;base64,")


def test_a_renamed_text_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "song.mp3").write_text("la la la, these are lyrics")
    (tmp_path / "clip.mp4").write_text("a shot list")
    with pytest.raises(MediaRejected, match=r"song\.mp3 is not a recording PixDesk can send \(use WAV, MP3 or M4A\)"):
        prepare_media(tmp_path / "song.mp3", "audio")
    with pytest.raises(MediaRejected, match=r"clip\.mp4 is not a clip PixDesk can send \(use MP4, MOV or WebM\)"):
        prepare_media(tmp_path / "clip.mp4", "video")


def test_a_clip_used_as_a_recording_and_an_empty_file_are_refused(tmp_path: Path) -> None:
    (tmp_path / "empty.wav").write_bytes(b"")
    with pytest.raises(MediaRejected, match=r"empty\.wav is empty"):
        inspect_media(tmp_path / "empty.wav", "audio")
    with pytest.raises(MediaRejected, match=r"c\.webm is not a recording"):
        inspect_media(make_webm(tmp_path / "c.webm"), "audio")  # WebM is no recording PixDesk sends
    with pytest.raises(MediaRejected, match="file not found"):
        inspect_media(tmp_path / "gone.wav", "audio")


def test_an_oversize_file_is_refused_before_it_is_read_whole(tmp_path: Path) -> None:
    recording = make_audio(tmp_path / "voice.wav", "wav", seconds=0.5)  # about 44 kB
    with pytest.raises(MediaRejected, match=r"voice\.wav is 0\.0 MB; a recording can be at most 20,000 bytes"):
        prepare_media(recording, "audio", limit=20_000)
    assert prepare_media(recording, "audio", limit=100_000).payload_bytes == recording.stat().st_size


def test_a_clip_too_long_is_refused_when_a_length_is_set(tmp_path: Path) -> None:
    clip = make_clip(tmp_path / "clip.mp4", seconds=2.0)
    with pytest.raises(MediaRejected, match=r"clip\.mp4 lasts 2\.0 s; a clip can last at most 1 s"):
        prepare_media(clip, "video", max_seconds=1)
    assert prepare_media(clip, "video", max_seconds=5).mime == "video/mp4"
    fake = tmp_path / "fake.mp4"
    fake.write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 200)  # the right first bytes, nothing behind them
    with pytest.raises(MediaRejected, match=r"fake\.mp4 cannot be read as a clip|fake\.mp4 does not say"):
        prepare_media(fake, "video", max_seconds=5)


def test_a_web_address_passes_through() -> None:
    url = "https://cdn.example.com/clips/hello.mp4?sig=abc"
    prepared = prepare_media(f"  {url} ", "video")
    assert (prepared.url, prepared.mime, prepared.payload_bytes) == (url, "", 0)
    assert prepare_media("https://cdn.example.com/voice.wav", "audio").url == "https://cdn.example.com/voice.wav"
