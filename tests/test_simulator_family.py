"""The simulator speaks every model of the PixVerse family (DESIGN §1c) like the real API.

Each body is built as the app builds it (GenerationRequest.to_body over inputs prepared by pixdesk.api), sent by
the real ApiClient to a real Simulator on loopback, and the MP4 it renders is downloaded by the real downloader
and probed with PyAV: what a user would notice (length, frame shape, sound, a transition that goes from one
picture to the other, cuts) is what is asserted. Bad bodies are refused with a 400 that names the field.
"""

from __future__ import annotations

import base64
import io
import wave
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest
from PIL import Image, ImageDraw

from pixdesk.api.client import ApiClient
from pixdesk.api.download import download_video
from pixdesk.api.errors import BadRequestError
from pixdesk.api.images import prepare_image
from pixdesk.api.media_inputs import prepare_media
from pixdesk.api.pricing import estimate, find_model
from pixdesk.api.request import GenerationRequest
from pixdesk.simulator import Simulator
from pixdesk.simulator.render import RenderSpec, render_video

I2V, TRANSITION, T2V = "pixverse/v5/image-to-video", "pixverse/v5/transition", "pixverse/v5/text-to-video"
I2V55, T2V55, LIP_SYNC = "pixverse/v5.5/image-to-video", "pixverse/v5.5/text-to-video", "pixverse/lip-sync"
FAMILY = (I2V, TRANSITION, T2V, I2V55, T2V55, LIP_SYNC)
RED, BLUE = (220, 40, 30), (30, 60, 220)


@pytest.fixture
def sim() -> Iterator[Simulator]:
    """Answers `completed` as soon as the render is done (rendered while the create is answered)."""
    with Simulator(queue_seconds=0, generate_seconds=0, render_sync=True) as server:
        yield server


def picture(path: Path, colour: tuple[int, int, int], size: tuple[int, int] = (640, 480)) -> Path:
    """A photo-like picture dominated by `colour`: a gradient of it with a lighter disc."""
    img = Image.new("RGB", size, colour)
    draw = ImageDraw.Draw(img)
    for y in range(0, size[1], 4):
        shade = tuple(max(0, c - y // 12) for c in colour)
        draw.rectangle((0, y, size[0], y + 4), fill=shade)
    draw.ellipse(
        (size[0] // 3, size[1] // 3, size[0] * 2 // 3, size[1] * 2 // 3), fill=tuple(min(255, c + 30) for c in colour)
    )
    img.save(path)
    return path


def mean_colour(img: np.ndarray) -> np.ndarray:
    return img.reshape(-1, 3).mean(axis=0)


@dataclass
class Probe:
    seconds: float
    width: int
    height: int
    audio_seconds: float | None  # None: no audio stream
    first: np.ndarray  # the first, middle and last frames (RGB, int)
    middle: np.ndarray
    last: np.ndarray


def probe(path: Path) -> Probe:
    with av.open(str(path)) as container:
        video = container.streams.video[0]
        assert video.duration is not None
        seconds = float(video.duration * video.time_base)
        width, height = video.codec_context.width, video.codec_context.height
        audio_seconds = None
        if container.streams.audio:
            audio = container.streams.audio[0]
            audio_seconds = float(audio.duration * audio.time_base) if audio.duration else 0.0
        frames = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
    first, middle, last = (frames[i].astype(int) for i in (0, len(frames) // 2, -1))
    return Probe(seconds, width, height, audio_seconds, first, middle, last)


def steps(path: Path) -> list[float]:
    """How much each frame differs from the one before (mean absolute difference of RGB values)."""
    out, previous = [], None
    with av.open(str(path)) as container:
        for frame in container.decode(video=0):
            current = frame.to_ndarray(format="rgb24").astype(np.int16)
            if previous is not None:
                out.append(float(np.abs(current - previous).mean()))
            previous = current
    return out


def generate(client: ApiClient, body: dict[str, Any], dest: Path) -> Path:
    """Create, poll once (the simulator renders while answering the create), download: the app's path."""
    created = client.create(body)
    assert created.status == "queued" and created.credits_used
    status = client.status(created.id)
    assert status.status == "completed", status
    assert status.video is not None
    return download_video(status.video.url, dest, expected_size=status.video.file_size)


# -- every model: accepted, completed, downloaded, the right clip ------------------------------------------
@pytest.mark.parametrize(
    ("resolution", "duration", "size"),
    [("360p", 5, (480, 360)), ("540p", 8, (720, 540))],
)
def test_image_to_video_follows_the_pictures_shape_and_length(
    client: ApiClient, tmp_path: Path, resolution: str, duration: int, size: tuple[int, int]
) -> None:
    image = prepare_image(picture(tmp_path / "cat.png", RED)).image_url
    request = GenerationRequest(image="cat.png", prompt="A cat waves", resolution=resolution, duration=duration)
    clip = probe(generate(client, request.to_body(image), tmp_path / "out.mp4"))
    assert clip.seconds == pytest.approx(duration, abs=0.2)
    assert (clip.width, clip.height) == size and clip.audio_seconds is None


def test_a_transition_goes_from_the_first_frame_to_the_last(client: ApiClient, tmp_path: Path) -> None:
    first = prepare_image(picture(tmp_path / "first.png", RED)).image_url
    last = prepare_image(picture(tmp_path / "last.png", BLUE, (800, 600))).image_url
    request = GenerationRequest(
        model=TRANSITION, image="first.png", last_frame="last.png", prompt="Day turns to night", resolution="360p"
    )
    clip = probe(generate(client, request.to_body({"image_url": first, "tail_image_url": last}), tmp_path / "t.mp4"))
    assert clip.seconds == pytest.approx(5, abs=0.2) and (clip.width, clip.height) == (480, 360)
    assert clip.audio_seconds is None
    red = mean_colour(np.asarray(Image.open(tmp_path / "first.png").convert("RGB"), dtype=float))
    blue = mean_colour(np.asarray(Image.open(tmp_path / "last.png").convert("RGB"), dtype=float))
    start, end = mean_colour(clip.first), mean_colour(clip.last)
    assert np.abs(start - red).max() < 25 and np.abs(end - blue).max() < 25
    middle = mean_colour(clip.middle)
    assert np.abs(middle - red).max() > 40 and np.abs(middle - blue).max() > 40  # a blend of both, halfway


@pytest.mark.parametrize(
    ("aspect_ratio", "size"),
    [(None, (640, 360)), ("16:9", (640, 360)), ("4:3", (480, 360)), ("1:1", (360, 360)), ("3:4", (360, 480)),
     ("9:16", (360, 640))],
)  # fmt: skip
def test_text_to_video_frames_the_scene_by_aspect_ratio(
    client: ApiClient, tmp_path: Path, aspect_ratio: str | None, size: tuple[int, int]
) -> None:
    request = GenerationRequest(
        model=T2V, prompt="A dragon over snowy mountains", aspect_ratio=aspect_ratio, resolution="360p", seed=3
    )
    clip = probe(generate(client, request.to_body({}), tmp_path / "t2v.mp4"))
    assert (clip.width, clip.height) == size
    assert clip.seconds == pytest.approx(5, abs=0.2) and clip.audio_seconds is None


def test_text_to_video_draws_the_prompt_the_same_way_for_the_same_seed(tmp_path: Path) -> None:
    def first(prompt: str, seed: int, name: str) -> np.ndarray:
        spec = RenderSpec(model=T2V, prompt=prompt, seed=seed, resolution="360p", aspect_ratio="16:9")
        with av.open(str(render_video(spec, tmp_path / name))) as container:
            return next(container.decode(video=0)).to_ndarray(format="rgb24").astype(int)

    night = first("An owl at night under the stars", 1, "a.mp4")
    assert np.abs(night - first("An owl at night under the stars", 1, "b.mp4")).mean() < 1  # repeatable
    assert np.abs(night - first("An owl at night under the stars", 2, "c.mp4")).mean() > 5  # the seed lays it out
    desert = first("A caravan crosses the desert dunes", 1, "d.mp4")
    assert np.abs(mean_colour(night) - mean_colour(desert)).max() > 40  # the words pick the colours


def test_v5_text_to_video_speaks_its_line(client: ApiClient, tmp_path: Path) -> None:
    request = GenerationRequest(
        model=T2V, prompt="A robot on stage", resolution="360p", duration=8, lip_sync_tts_content="Hello, humans!",
        lip_sync_tts_speaker="James",
    )  # fmt: skip
    clip = probe(generate(client, request.to_body({}), tmp_path / "talk.mp4"))
    assert clip.seconds == pytest.approx(8, abs=0.2) and clip.audio_seconds is not None and clip.audio_seconds > 0.5


@pytest.mark.parametrize(
    ("model", "duration", "sound", "multi_clip"),
    [
        (I2V55, 5, None, None),
        (I2V55, 10, True, False),
        (I2V55, 8, False, True),
        (T2V55, 10, True, True),
        (T2V55, 5, False, None),
    ],
)
def test_v5_5_lasts_up_to_ten_seconds_and_has_sound_only_when_asked(
    client: ApiClient, tmp_path: Path, model: str, duration: int, sound: bool | None, multi_clip: bool | None
) -> None:
    image = prepare_image(picture(tmp_path / "cat.png", RED)).image_url
    request = GenerationRequest(
        model=model, image="cat.png" if model == I2V55 else "", prompt="Waves on a beach at sunset",
        resolution="360p", duration=duration, generate_audio_switch=sound, generate_multi_clip_switch=multi_clip,
        thinking_type="auto",
    )  # fmt: skip
    clip = probe(generate(client, request.to_body({"image_url": image} if model == I2V55 else {}), tmp_path / "o.mp4"))
    assert clip.seconds == pytest.approx(duration, abs=0.2)
    assert clip.width / clip.height == pytest.approx(4 / 3 if model == I2V55 else 16 / 9, abs=0.02)
    if sound:
        assert clip.audio_seconds == pytest.approx(duration, abs=0.2)
    else:
        assert clip.audio_seconds is None


@pytest.mark.parametrize(("model", "duration"), [(I2V55, 5), (T2V55, 10)])
def test_multi_clip_cuts_between_shots(client: ApiClient, tmp_path: Path, model: str, duration: int) -> None:
    image = prepare_image(picture(tmp_path / "cat.png", RED)).image_url
    inputs = {"image_url": image} if model == I2V55 else {}

    def cuts(multi_clip: bool) -> int:
        request = GenerationRequest(
            model=model, image="cat.png" if inputs else "", prompt="A fox runs through a forest", resolution="360p",
            duration=duration, generate_multi_clip_switch=multi_clip, seed=11,
        )  # fmt: skip
        changes = steps(generate(client, request.to_body(inputs), tmp_path / f"{multi_clip}.mp4"))
        return sum(1 for change in changes if change > 10)  # a camera move changes a frame by ~1; a cut by tens

    assert cuts(False) == 0
    assert cuts(True) == {5: 2, 10: 4}[duration]  # three shots in 5 s, five in 10 s


# -- lip-sync over a clip ---------------------------------------------------------------------------------
def finished_clip(client: ApiClient, tmp_path: Path, duration: int = 5) -> tuple[str, Path]:
    """A clip the simulator rendered: its download URL (valid while the simulator runs) and the downloaded file."""
    image = prepare_image(picture(tmp_path / "face.png", RED)).image_url
    request = GenerationRequest(image="face.png", prompt="A face", resolution="360p", duration=duration)
    created = client.create(request.to_body(image))
    status = client.status(created.id)
    assert status.video is not None
    path = download_video(status.video.url, tmp_path / "clip.mp4", expected_size=status.video.file_size)
    return status.video.url, path


def wav_file(path: Path, seconds: float, rate: int = 22050) -> Path:
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        tone = np.sin(2 * np.pi * 440 * np.arange(int(seconds * rate)) / rate) * 8000
        out.writeframes(tone.astype("<i2").tobytes())
    return path


@pytest.mark.parametrize("duration", [5, 8])
def test_lip_sync_on_the_url_of_a_finished_clip_keeps_its_length_and_speaks(
    client: ApiClient, tmp_path: Path, duration: int
) -> None:
    url, source = finished_clip(client, tmp_path, duration)
    request = GenerationRequest(
        model=LIP_SYNC, video=url, lip_sync_tts_content="Hello there, friend!", lip_sync_tts_speaker="Ava"
    )
    assert request.validate() == []
    spoken = probe(generate(client, request.to_body({"video_url": url}), tmp_path / "spoken.mp4"))
    original = probe(source)
    assert spoken.seconds == pytest.approx(original.seconds, abs=0.2)
    assert (spoken.width, spoken.height) == (original.width, original.height)
    assert original.audio_seconds is None and spoken.audio_seconds is not None and spoken.audio_seconds > 0.5
    # The clip itself is what is shown, with the line drawn over its lower part.
    top = slice(0, original.height // 2)
    assert np.abs(spoken.first[top] - original.first[top]).mean() < 4
    assert np.abs(spoken.first - original.first).mean() > 0.2


def test_lip_sync_of_an_uploaded_clip_with_a_recording(client: ApiClient, tmp_path: Path) -> None:
    _, source = finished_clip(client, tmp_path)
    video = prepare_media(source, "video").url
    audio = prepare_media(wav_file(tmp_path / "line.wav", 3.0), "audio").url
    request = GenerationRequest(model=LIP_SYNC, video=str(source), audio=str(tmp_path / "line.wav"))
    assert request.validate() == []
    clip = probe(generate(client, request.to_body({"video_url": video, "audio_url": audio}), tmp_path / "o.mp4"))
    assert clip.seconds == pytest.approx(5, abs=0.2)
    assert clip.audio_seconds == pytest.approx(3, abs=0.2)  # the recording, as long as it is


def test_lip_sync_of_a_web_clip_it_cannot_fetch_renders_a_stand_in(client: ApiClient, tmp_path: Path) -> None:
    url = "https://cdn.example.invalid/clip.mp4"
    request = GenerationRequest(model=LIP_SYNC, video=url, lip_sync_tts_content="Hi!", lip_sync_tts_speaker="Auto")
    clip = probe(generate(client, request.to_body({"video_url": url}), tmp_path / "o.mp4"))
    assert clip.seconds == pytest.approx(5, abs=0.2) and clip.audio_seconds is not None


# -- refused bodies ----------------------------------------------------------------------------------------
def data_uri(mime: str, payload: bytes = b"\x89PNG\r\n\x1a\nsome bytes") -> str:
    return f"data:{mime};base64," + base64.b64encode(payload).decode()


def png_uri(colour: tuple[int, int, int] = RED) -> str:
    buf = io.BytesIO()
    Image.new("RGB", (64, 48), colour).save(buf, "PNG")
    return data_uri("image/png", buf.getvalue())


IMAGE, VIDEO, AUDIO = png_uri(), data_uri("video/mp4", b"\0\0\0\x18ftypisom"), data_uri("audio/wav", b"RIFF....WAVE")


def valid(model: str) -> dict[str, Any]:
    """A valid body of `model`, as the app builds it."""
    inputs = {"image_url": IMAGE, "tail_image_url": png_uri(BLUE), "video_url": VIDEO}
    request = {
        I2V: GenerationRequest(image="a.png", prompt="A cat", resolution="360p"),
        TRANSITION: GenerationRequest(
            model=TRANSITION, image="a.png", last_frame="b.png", prompt="A cat", resolution="360p"
        ),
        T2V: GenerationRequest(model=T2V, prompt="A cat", aspect_ratio="1:1", resolution="360p"),
        I2V55: GenerationRequest(
            model=I2V55, image="a.png", prompt="A cat", generate_audio_switch=True, resolution="360p"
        ),
        T2V55: GenerationRequest(model=T2V55, prompt="A cat", duration=10, thinking_type="disabled", resolution="360p"),
        LIP_SYNC: GenerationRequest(
            model=LIP_SYNC, video="c.mp4", lip_sync_tts_content="Hi", lip_sync_tts_speaker="Ava"
        ),
    }[model]
    return request.to_body(inputs)


Change = Callable[[dict[str, Any], Simulator], None]


def setting(**fields: Any) -> Change:
    def change(body: dict[str, Any], sim: Simulator) -> None:
        body.update(fields)

    return change


def dropping(*names: str) -> Change:
    def change(body: dict[str, Any], sim: Simulator) -> None:
        for name in names:
            del body[name]

    return change


def own(field: str, path: str) -> Change:
    """Set `field` to a URL on the simulator itself (known once it listens)."""

    def change(body: dict[str, Any], sim: Simulator) -> None:
        body[field] = f"{sim.url}{path}"

    return change


def recording(url: str) -> Change:
    """Lip-sync with the recording `url` instead of a line."""

    def change(body: dict[str, Any], sim: Simulator) -> None:
        _use_audio(body, url)

    return change


BAD: list[tuple[str, str, Change, str]] = [
    # (model, what is wrong, how, the field the answer names)
    (I2V, "unknown key", setting(tail_image_url=IMAGE), "tail_image_url"),
    (T2V, "unknown key", setting(image_url=IMAGE), "image_url"),
    (I2V, "unknown key", setting(generate_audio_switch=True), "generate_audio_switch"),
    (LIP_SYNC, "unknown key", setting(prompt="speak"), "prompt"),
    (I2V55, "unknown key", setting(lip_sync_tts_content="Hi", lip_sync_tts_speaker="Ava"), "lip_sync_tts_content"),
    (I2V, "required", dropping("image_url"), "image_url"),
    (TRANSITION, "required", dropping("tail_image_url"), "tail_image_url"),
    (T2V55, "required", dropping("prompt"), "prompt"),
    (LIP_SYNC, "required", dropping("video_url"), "video_url"),
    (I2V, "empty required text", setting(prompt="  "), "prompt"),
    (I2V, "string for integer", setting(duration="5"), "duration"),
    (I2V, "boolean for integer", setting(duration=True), "duration"),
    (T2V, "boolean for integer", setting(seed=False), "seed"),
    (T2V, "float for integer", setting(seed=1.5), "seed"),
    (I2V55, "integer for boolean", setting(generate_audio_switch=1), "generate_audio_switch"),
    (T2V55, "string for boolean", setting(generate_multi_clip_switch="true"), "generate_multi_clip_switch"),
    (TRANSITION, "number for string", setting(prompt=42), "prompt"),
    (I2V, "null", setting(negative_prompt=None), "negative_prompt"),
    (I2V, "enum", setting(resolution="4k"), "resolution"),
    (I2V, "enum: 10 s is v5.5's", setting(duration=10), "duration"),
    (T2V, "enum", setting(aspect_ratio="21:9"), "aspect_ratio"),
    (T2V55, "enum", setting(thinking_type="on"), "thinking_type"),
    (TRANSITION, "enum", setting(style="noir"), "style"),
    (LIP_SYNC, "enum", setting(lip_sync_tts_speaker="Bob"), "lip_sync_tts_speaker"),
    (I2V, "seed out of range", setting(seed=-1), "seed"),
    (I2V, "max length", setting(prompt="x" * 2049), "prompt"),
    (T2V, "max length", setting(negative_prompt="x" * 2049), "negative_prompt"),
    (LIP_SYNC, "max length", setting(lip_sync_tts_content="x" * 141), "lip_sync_tts_content"),
    (I2V, "1080p with 8 s", setting(resolution="1080p", duration=8), "duration"),
    (T2V, "1080p with 8 s", setting(resolution="1080p", duration=8), "duration"),
    (I2V55, "1080p with 10 s", setting(resolution="1080p", duration=10), "duration"),
    (T2V55, "1080p with 10 s", setting(resolution="1080p"), "duration"),
    (LIP_SYNC, "both an audio file and a line", setting(audio_url=AUDIO), "audio_url"),
    (LIP_SYNC, "an audio file and a voice", lambda b, s: _use_audio(b, AUDIO, voice="Ava"), "audio_url"),
    (LIP_SYNC, "neither", dropping("lip_sync_tts_content", "lip_sync_tts_speaker"), "audio_url"),
    (LIP_SYNC, "a line without a voice", dropping("lip_sync_tts_speaker"), "lip_sync_tts_speaker"),
    (LIP_SYNC, "a voice without a line", dropping("lip_sync_tts_content"), "lip_sync_tts_content"),
    (LIP_SYNC, "an empty line", setting(lip_sync_tts_content=""), "lip_sync_tts_content"),
    (I2V, "plain http image", setting(image_url="http://example.com/cat.png"), "image_url"),
    (I2V, "GIF data URI", setting(image_url=data_uri("image/gif")), "image_url"),
    (I2V, "invalid base64", setting(image_url="data:image/png;base64,@@not base64@@"), "image_url"),
    (I2V, "empty data URI", setting(image_url="data:image/png;base64,"), "image_url"),
    (TRANSITION, "WebP last frame", setting(tail_image_url=data_uri("image/webp")), "tail_image_url"),
    (I2V, "another server's loopback URL", setting(image_url="http://127.0.0.1:9/cat.png"), "image_url"),
    (LIP_SYNC, "an image as the clip", setting(video_url=IMAGE), "video_url"),
    (LIP_SYNC, "a clip without base64", setting(video_url="data:video/mp4,raw"), "video_url"),
    (LIP_SYNC, "invalid base64 clip", setting(video_url="data:video/webm;base64,AAA*"), "video_url"),
    (LIP_SYNC, "plain http clip", setting(video_url="http://example.com/a.mp4"), "video_url"),
    (LIP_SYNC, "own URL that is not a download", own("video_url", "/v2/billing"), "video_url"),
    (LIP_SYNC, "another server's download", setting(video_url="http://127.0.0.1:9/files/a.mp4"), "video_url"),
    (LIP_SYNC, "OGG recording", recording(data_uri("audio/ogg")), "audio_url"),
    (LIP_SYNC, "invalid base64 recording", recording("data:audio/wav;base64,%%%"), "audio_url"),
    (LIP_SYNC, "ftp recording", recording("ftp://example.com/a.wav"), "audio_url"),
]  # fmt: skip


def _use_audio(body: dict[str, Any], url: str, voice: str | None = None) -> None:
    """A recording instead of the line (and, to be refused, with a voice still set)."""
    body.pop("lip_sync_tts_content")
    body.pop("lip_sync_tts_speaker")
    body["audio_url"] = url
    if voice is not None:
        body["lip_sync_tts_speaker"] = voice


@pytest.mark.parametrize(
    ("model", "change", "field"), [pytest.param(m, c, f, id=f"{m.split('/', 1)[1]}: {what}") for m, what, c, f in BAD]
)
def test_a_bad_body_is_refused_naming_the_field(
    sim: Simulator, client: ApiClient, model: str, change: Change, field: str
) -> None:
    body = valid(model)
    change(body, sim)
    before = client.balance().amount
    with pytest.raises(BadRequestError) as info:
        client.create(body)
    assert info.value.status == 400 and info.value.request_id
    assert info.value.message.startswith("Body validation error! ")
    assert info.value.message.removeprefix("Body validation error! ").startswith(f"{field}: ")  # named first
    assert client.balance().amount == before  # nothing made, nothing charged


@pytest.mark.parametrize("model", FAMILY)
def test_the_valid_body_of_each_model_is_accepted(client: ApiClient, model: str) -> None:
    assert client.create(valid(model)).status == "queued"


@pytest.mark.parametrize(
    ("model", "field", "url"),
    [
        (I2V, "image_url", "https://example.com/cat.png"),
        (I2V, "image_url", data_uri("image/jpeg")),
        (LIP_SYNC, "video_url", data_uri("video/quicktime")),
        (LIP_SYNC, "video_url", data_uri("video/webm")),
    ],
)
def test_inputs_of_each_kind_are_accepted(client: ApiClient, model: str, field: str, url: str) -> None:
    body = valid(model)
    body[field] = url
    assert client.create(body).status == "queued"


@pytest.mark.parametrize("mime", ["audio/wav", "audio/x-wav", "audio/mpeg", "audio/mp3", "audio/mp4", "audio/x-m4a"])
def test_recordings_of_each_type_are_accepted(client: ApiClient, mime: str) -> None:
    body = valid(LIP_SYNC)
    _use_audio(body, data_uri(mime))
    assert client.create(body).status == "queued"


def test_the_simulators_own_urls_are_accepted_as_inputs(sim: Simulator, client: ApiClient, tmp_path: Path) -> None:
    url, _ = finished_clip(client, tmp_path)
    body = valid(LIP_SYNC)
    body["video_url"] = url
    assert client.create(body).status == "queued"
    body = valid(I2V)
    body["image_url"] = f"{sim.url}/pictures/cat.png"
    assert client.create(body).status == "queued"


# -- what changes the picture makes another video ----------------------------------------------------------
@pytest.mark.parametrize(
    ("model", "field", "other"),
    [
        (T2V, "prompt", "A dog"),
        (T2V, "aspect_ratio", "9:16"),
        (TRANSITION, "tail_image_url", png_uri((0, 200, 0))),
        (I2V55, "generate_audio_switch", False),
        (I2V55, "generate_multi_clip_switch", True),
        (I2V, "style", "comic"),
        (LIP_SYNC, "lip_sync_tts_content", "Goodbye"),
    ],
)
def test_each_field_that_changes_the_picture_makes_another_video(
    client: ApiClient, model: str, field: str, other: Any
) -> None:
    def file_name(body: dict[str, Any]) -> str | None:
        video = client.status(client.create(body).id).video
        assert video is not None
        return video.file_name

    body = valid(model)
    if model == LIP_SYNC:
        body["video_url"] = _own_clip(client)
    first = file_name(body)
    assert file_name(dict(body)) == first  # the same request: the same video
    assert file_name({**body, field: other}) != first


def _own_clip(client: ApiClient) -> str:
    body = valid(I2V)
    video = client.status(client.create(body).id).video
    assert video is not None
    return video.url


# -- prices ------------------------------------------------------------------------------------------------
def test_each_model_has_its_own_price_that_pricing_quotes_and_create_charges(client: ApiClient) -> None:
    quotes: dict[str, float] = {}
    for model in FAMILY:
        pricing = find_model(client.model_pricing(model).answer, model)
        assert pricing is not None, model
        body = valid(model)
        duration = float(body.get("duration", 5))
        quote = estimate(pricing, resolution=str(body.get("resolution", "720p")), duration_seconds=duration)
        assert quote is not None, f"{model}: the published price cannot be quoted"
        assert client.create(body).credits_used == quote.credits  # what is quoted is what is charged
        quotes[model] = estimate(pricing, resolution="720p", duration_seconds=5).usd  # type: ignore[union-attr]
    assert len(set(quotes.values())) == len(FAMILY)  # each model its own price
    assert quotes[I2V55] > quotes[I2V] and quotes[T2V55] > quotes[T2V]  # v5.5 is dearer
    lip_sync = find_model(client.model_pricing(LIP_SYNC).answer, LIP_SYNC)
    short, long = (estimate(lip_sync, resolution="", duration_seconds=s) for s in (3, 9))
    assert short is not None and short == long  # one price per lip-sync, whatever the clip's length
