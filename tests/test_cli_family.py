"""`pixdesk generate --model ...`, `pixdesk price --model ...` and `pixdesk lipsync`, in-process against the simulator.

What a person using the rest of the PixVerse family from a terminal relies on: each model's options reach the server
as exactly the body that model's schema describes, and the clip is written; an option the model does not take, or a
combination it cannot make, is refused with exit 2 and one line naming the option, before any request; each model
is priced by its own price; a finished clip (a file, a URL or a job of `pixdesk jobs`) can be made to speak with a
line or a recording; --timeout leaves what the server has to `pixdesk resume`, never sent twice.
"""

from __future__ import annotations

import base64
import json
import math
import struct
import wave
from pathlib import Path
from typing import Any

import av
import pytest

from pixdesk.api.catalogue import FORM_MODELS, MODELS
from pixdesk.api.images import prepare_image
from pixdesk.cli import main
from pixdesk.jobs import JobState
from pixdesk.simulator import Simulator
from pixdesk.simulator.billing import LIP_SYNC_USD, fixed_pricing, variants_pricing
from tests.conftest import SAMPLES
from tests.helpers import stored_jobs

PORTRAIT = SAMPLES / "portrait.png"
SUNSET = SAMPLES / "sunset-mountains.jpg"
SCHEMAS = Path(__file__).resolve().parents[2] / "shared" / "api-schemas"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def bodies(sim: Simulator) -> list[dict[str, Any]]:
    """The create bodies the server accepted, oldest first."""
    return [g.body for g in sorted(sim.generations.values(), key=lambda g: g.created)]


def data_uri(path: Path, mime: str) -> str:
    return f"data:{mime};base64," + base64.b64encode(path.read_bytes()).decode("ascii")


def probe(path: Path) -> dict[str, Any]:
    with av.open(str(path)) as container:
        video = container.streams.video[0]
        return {
            "size": (video.width, video.height),
            "duration": (container.duration or 0) / 1e6,
            "audio": len(container.streams.audio),
        }


def official_schema(model: str) -> dict[str, Any]:
    """The request body schema of `model`, from the official copy (the test skips when it is absent)."""
    path = SCHEMAS / f"{model.replace('/', '-')}.json"
    if not path.is_file():
        pytest.skip(f"no official schema for {model} at {path}")
    spec = json.loads(path.read_text())
    post = spec["paths"]["/v2/video/generations"]["post"]
    return dict(post["requestBody"]["content"]["application/json"]["schema"])


def check_against_schema(body: dict[str, Any]) -> None:
    import jsonschema

    schema = official_schema(str(body["model"]))
    jsonschema.validate(body, schema)
    assert set(body) <= set(schema["properties"]), "a field the official schema does not have"


def write_wav(path: Path, seconds: float = 1.0, rate: int = 16000) -> Path:
    """A short spoken-like tone, written with the standard library."""
    frames = b"".join(
        struct.pack("<h", int(8000 * math.sin(2 * math.pi * 220 * i / rate))) for i in range(int(seconds * rate))
    )
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(frames)
    return path


# -- every model of the family, end to end ----------------------------------------------------------------------
PORTRAIT_URI = prepare_image(PORTRAIT).image_url
SUNSET_URI = prepare_image(SUNSET).image_url
FAMILY_RUNS: list[tuple[str, list[str], dict[str, Any]]] = [
    (
        "pixverse/v5/image-to-video",
        [str(PORTRAIT), "--resolution", "360p", "--duration", "5", "--style", "clay", "--seed", "11"],
        {"image_url": PORTRAIT_URI, "resolution": "360p", "duration": 5, "style": "clay", "seed": 11},
    ),
    (
        "pixverse/v5/transition",
        [
            str(PORTRAIT),
            "--last-frame",
            str(SUNSET),
            "--resolution",
            "360p",
            "--lip-sync-text",
            "Hi",
            "--speaker",
            "Ava",
        ],
        {
            "image_url": PORTRAIT_URI,
            "tail_image_url": SUNSET_URI,
            "resolution": "360p",
            "lip_sync_tts_content": "Hi",
            "lip_sync_tts_speaker": "Ava",
        },
    ),
    (
        "pixverse/v5/text-to-video",
        ["--aspect-ratio", "9:16", "--resolution", "360p", "--duration", "8", "--negative-prompt", "blur"],
        {"aspect_ratio": "9:16", "resolution": "360p", "duration": 8, "negative_prompt": "blur"},
    ),
    (
        "pixverse/v5.5/image-to-video",
        [str(SUNSET), "--resolution", "360p", "--duration", "10", "--audio", "--multi-clip", "--thinking", "auto"],
        {
            "image_url": SUNSET_URI,
            "resolution": "360p",
            "duration": 10,
            "generate_audio_switch": True,
            "generate_multi_clip_switch": True,
            "thinking_type": "auto",
        },
    ),
    (
        "pixverse/v5.5/text-to-video",
        ["--aspect-ratio", "1:1", "--resolution", "360p", "--duration", "10", "--thinking", "disabled", "--seed", "5"],
        {"aspect_ratio": "1:1", "resolution": "360p", "duration": 10, "thinking_type": "disabled", "seed": 5},
    ),
]


@pytest.mark.timeout(120)
@pytest.mark.parametrize(("model", "options", "fields"), FAMILY_RUNS, ids=[m for m, _, _ in FAMILY_RUNS])
def test_each_model_sends_exactly_its_body_and_writes_the_clip(
    live: Simulator,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    model: str,
    options: list[str],
    fields: dict[str, Any],
):
    out = tmp_path / "clip.mp4"
    prompt = "Gulls circle over the bay"
    code, stdout, err = run(
        capsys, "generate", "--model", model, *options, "--prompt", prompt, "--out", str(out), "--json"
    )
    assert code == 0, err
    (body,) = bodies(live)
    assert body == {"model": model, "prompt": prompt, **fields}
    check_against_schema(body)
    row = json.loads(stdout)
    assert row["model"] == model and row["status"] == "completed" and row["path"] == str(out)
    assert {"id", "client_request_id", "seed", "estimated_usd", "usd_spent", "credits_used"} <= set(row)
    info = probe(out)
    assert min(info["size"]) == 360
    assert abs(info["duration"] - body.get("duration", 5)) <= 0.2


def test_the_default_model_is_v5_image_to_video_and_json_rows_name_it(
    live: Simulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    code, stdout, err = run(
        capsys, "generate", str(PORTRAIT), "--prompt", "Hello", "--resolution", "360p", "--out", str(tmp_path), "--json"
    )
    assert code == 0, err
    assert json.loads(stdout)["model"] == "pixverse/v5/image-to-video"
    assert bodies(live)[0]["model"] == "pixverse/v5/image-to-video"
    code, stdout, _ = run(capsys, "jobs", "--json")
    assert [r["model"] for r in json.loads(stdout)] == ["pixverse/v5/image-to-video"]


@pytest.mark.timeout(120)
def test_text_to_video_variations_make_one_clip_per_seed_without_any_image(
    live: Simulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    code, stdout, err = run(
        capsys,
        *("generate", "--model", "pixverse/v5/text-to-video", "--prompt", "Rain on a tin roof"),
        *("--resolution", "360p", "--seed", "20", "--variations", "2", "--out", str(tmp_path), "--json"),
    )
    assert code == 0, err
    jobs = json.loads(stdout)["jobs"]
    assert sorted(j["seed"] for j in jobs) == [20, 21] and {j["model"] for j in jobs} == {"pixverse/v5/text-to-video"}
    assert sorted(Path(j["path"]).name for j in jobs) == [
        "rain-on-a-tin-roof_text_seed20.mp4",
        "rain-on-a-tin-roof_text_seed21.mp4",
    ]
    assert all("image_url" not in b for b in bodies(live)) and len(bodies(live)) == 2


# -- refused before any request ----------------------------------------------------------------------------------
I2V, TRANSITION, T2V = "pixverse/v5/image-to-video", "pixverse/v5/transition", "pixverse/v5/text-to-video"
I2V55, T2V55 = "pixverse/v5.5/image-to-video", "pixverse/v5.5/text-to-video"
NOT_AN_IMAGE = str(Path(__file__))
BAD_COMBINATIONS: list[tuple[str, list[str], list[str]]] = [
    ("audio on v5", [I2V, str(PORTRAIT), "--audio"], ["--audio", "not an option"]),
    ("multi-clip on v5 text", [T2V, "--multi-clip"], ["--multi-clip", "not an option"]),
    ("thinking on v5", [I2V, str(PORTRAIT), "--thinking", "auto"], ["--thinking", "not an option"]),
    ("last frame on image-to-video", [I2V, str(PORTRAIT), "--last-frame", str(SUNSET)], ["--last-frame"]),
    ("aspect ratio on image-to-video", [I2V55, str(PORTRAIT), "--aspect-ratio", "16:9"], ["--aspect-ratio"]),
    ("line on v5.5", [I2V55, str(PORTRAIT), "--lip-sync-text", "Hi"], ["--lip-sync-text", "not an option"]),
    ("10 s on v5", [I2V, str(PORTRAIT), "--duration", "10"], ["--duration", "10"]),
    ("10 s on v5 text", [T2V, "--duration", "10"], ["--duration", "10"]),
    (
        "1080p 8 s",
        [TRANSITION, str(PORTRAIT), "--last-frame", str(SUNSET), "--resolution", "1080p", "--duration", "8"],
        ["--duration", "1080p"],
    ),
    ("1080p 10 s", [T2V55, "--resolution", "1080p", "--duration", "10"], ["--duration", "1080p"]),
    ("transition without last frame", [TRANSITION, str(PORTRAIT)], ["--last-frame"]),
    ("transition without first frame", [TRANSITION, "--last-frame", str(SUNSET)], ["IMAGE"]),
    ("text-to-video with an image", [T2V, str(PORTRAIT)], ["IMAGE", "takes no image"]),
    ("v5.5 text-to-video with images", [T2V55, str(PORTRAIT), str(SUNSET)], ["IMAGE", "takes no image"]),
    ("image-to-video without image", [I2V55], ["IMAGE"]),
    (
        "last frame missing",
        [TRANSITION, str(PORTRAIT), "--last-frame", "/no/such/end.png"],
        ["--last-frame", "not found"],
    ),
    (
        "last frame not an image",
        [TRANSITION, str(PORTRAIT), "--last-frame", NOT_AN_IMAGE],
        ["--last-frame", "not an image"],
    ),
    ("unknown thinking", [I2V55, str(PORTRAIT), "--thinking", "deep"], ["--thinking", "invalid choice"]),
    ("unknown aspect ratio", [T2V, "--aspect-ratio", "2:1"], ["--aspect-ratio", "invalid choice"]),
    ("lip-sync is its own command", ["pixverse/lip-sync", str(PORTRAIT)], ["--model", "invalid choice"]),
]


@pytest.mark.parametrize(("args", "words"), [c[1:] for c in BAD_COMBINATIONS], ids=[c[0] for c in BAD_COMBINATIONS])
def test_a_bad_combination_exits_2_naming_the_option_before_any_request(
    live: Simulator, tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], words: list[str]
):
    """`args` starts with the model."""
    code, stdout, err = run(capsys, "generate", "--model", *args, "--prompt", "x", "--out", str(tmp_path))
    assert code == 2
    assert len(err.strip().splitlines()) == 1, err
    assert all(w in err for w in words), err
    assert live.stats.requests == [] and live.create_requests == 0 and stdout == ""


def test_a_bad_combination_in_a_set_sends_nothing(live: Simulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    code, _, err = run(
        capsys,
        *("generate", "--model", TRANSITION, str(PORTRAIT), str(SUNSET), "--last-frame", NOT_AN_IMAGE),
        *("--prompt", "x", "--variations", "2", "--out", str(tmp_path)),
    )
    assert code == 2 and "--last-frame" in err and live.create_requests == 0


def test_help_lists_the_family_options_and_the_lipsync_command(capsys: pytest.CaptureFixture[str]):
    assert main(["generate", "--help"]) == 0
    text = capsys.readouterr().out
    for option in ("--model", "--last-frame", "--aspect-ratio", "--audio", "--multi-clip", "--thinking", "--timeout"):
        assert f"  {option}" in text, option
    for model in FORM_MODELS:
        assert model in text
    assert "{5,8,10}" in text
    assert main(["--help"]) == 0
    assert "lipsync" in capsys.readouterr().out
    assert main(["lipsync", "--help"]) == 0
    text = capsys.readouterr().out
    assert all(o in text for o in ("CLIP", "--line", "--voice", "--audio-file", "--out", "--max-usd", "--timeout"))


# -- prices, per model --------------------------------------------------------------------------------------------
def quote(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, Any]]:
    code = main(["price", "--json", *args])
    return code, json.loads(capsys.readouterr().out)


def test_each_model_is_priced_by_its_own_price(live: Simulator, capsys: pytest.CaptureFixture[str]):
    live.set_pricing(TRANSITION, fixed_pricing(0.5, measure="second"))  # a transition costs more per second
    quotes = {}
    for model in FORM_MODELS:
        code, answer = quote(capsys, "--model", model, "--resolution", "720p", "--duration", "5")
        assert code == 0 and answer["source"] == "live", model
        assert answer["credits"] == round(answer["usd"] * 2_000_000)
        quotes[model] = answer["usd"]
    assert quotes[TRANSITION] == pytest.approx(2.5)
    assert quotes[TRANSITION] > quotes[I2V] > 0
    code, ten = quote(capsys, "--model", I2V55, "--resolution", "720p", "--duration", "10")
    assert code == 0 and ten["usd"] == pytest.approx(2 * quotes[I2V55])
    assert live.create_requests == 0


def test_a_price_per_job_is_quoted_without_a_length(live: Simulator, capsys: pytest.CaptureFixture[str]):
    code, answer = quote(capsys, "--model", "pixverse/lip-sync")  # the simulator prices lip-sync per job
    assert code == 0 and answer["usd"] == pytest.approx(LIP_SYNC_USD) and answer["source"] == "live"


def test_a_price_per_second_without_a_length_says_unknown(live: Simulator, capsys: pytest.CaptureFixture[str]):
    live.set_pricing("pixverse/lip-sync", variants_pricing({"720p": 0.1}))  # now by the clip's seconds
    code, answer = quote(capsys, "--model", "pixverse/lip-sync")
    assert code == 4 and answer == {"usd": None, "credits": None, "source": "unknown"}


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--model", T2V, "--duration", "10"], "--duration"),
        (["--model", "pixverse/lip-sync", "--resolution", "720p"], "--resolution"),
        (["--model", I2V55, "--resolution", "1080p", "--duration", "10"], "1080p"),
    ],
)
def test_price_refuses_settings_the_model_does_not_take(
    live: Simulator, capsys: pytest.CaptureFixture[str], args: list[str], words: str
):
    assert main(["price", *args]) == 2
    err = capsys.readouterr().err
    assert words in err and len(err.strip().splitlines()) == 1
    assert live.stats.requests == []


# -- lip-sync on a finished clip ----------------------------------------------------------------------------------
@pytest.fixture
def clip(live: Simulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    """A finished clip, made by `pixdesk generate` (its job is in `pixdesk jobs`)."""
    out = tmp_path / "speaker.mp4"
    code, _, err = run(
        capsys, "generate", str(PORTRAIT), "--prompt", "She looks up", "--resolution", "360p", "--out", str(out)
    )
    assert code == 0, err
    return out


@pytest.mark.timeout(120)
def test_lipsync_with_a_line_sends_the_clip_and_the_line(
    live: Simulator, clip: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    out = tmp_path / "spoken.mp4"
    code, stdout, err = run(
        capsys, "lipsync", str(clip), "--line", "Good morning", "--voice", "Ava", "--out", str(out), "--json"
    )
    assert code == 0, err
    body = bodies(live)[-1]
    assert body == {
        "model": "pixverse/lip-sync",
        "video_url": data_uri(clip, "video/mp4"),
        "lip_sync_tts_content": "Good morning",
        "lip_sync_tts_speaker": "Ava",
    }
    check_against_schema(body)
    row = json.loads(stdout)
    assert row["model"] == "pixverse/lip-sync" and row["status"] == "completed" and row["path"] == str(out)
    assert {"id", "client_request_id", "seed", "estimated_usd", "usd_spent", "credits_used"} <= set(row)
    assert probe(out)["duration"] > 0 and live.create_requests == 2


@pytest.mark.timeout(120)
def test_lipsync_with_an_audio_file_sends_the_recording(
    live: Simulator, clip: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    wav = write_wav(tmp_path / "line.wav")
    out = tmp_path / "spoken.mp4"
    code, stdout, err = run(capsys, "lipsync", str(clip), "--audio-file", str(wav), "--out", str(out))
    assert code == 0, err
    assert stdout.strip() == str(out) and out.stat().st_size > 1000
    body = bodies(live)[-1]
    assert body == {
        "model": "pixverse/lip-sync",
        "video_url": data_uri(clip, "video/mp4"),
        "audio_url": data_uri(wav, "audio/wav"),
    }
    check_against_schema(body)


@pytest.mark.timeout(120)
def test_lipsync_of_a_finished_job_sends_its_saved_clip(
    live: Simulator, clip: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    (job,) = stored_jobs()
    assert job.file_path is not None
    code, stdout, _ = run(capsys, "jobs", "--json")
    (row,) = json.loads(stdout)
    out = tmp_path / "spoken.mp4"
    code, stdout, err = run(capsys, "lipsync", row["id"], "--line", "It works", "--out", str(out))
    assert code == 0, err
    assert out.stat().st_size > 1000
    body = bodies(live)[-1]
    assert body["video_url"] == data_uri(Path(job.file_path), "video/mp4")
    assert body["lip_sync_tts_content"] == "It works" and body["lip_sync_tts_speaker"] == "Auto"


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--line", "Hi", "--audio-file", "{wav}"], "not allowed with"),
        ([], "one of the arguments --line --audio-file is required"),
        (["--audio-file", "{wav}", "--voice", "Ava"], "--voice"),
        (["--audio-file", "{not_audio}"], "--audio-file"),
        (["--line", "x" * 141], "--line"),
        (["--line", "Hi", "--clip", "{not_video}"], "CLIP"),
        (["--line", "Hi", "--clip", "no-such-job-id"], "CLIP"),
        (["--line", "Hi", "--timeout", "0"], "--timeout"),
    ],
)
def test_lipsync_bad_input_exits_2_before_any_request(
    live: Simulator, tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], words: str
):
    wav = write_wav(tmp_path / "line.wav")
    clip = tmp_path / "clip.mp4"
    clip.write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(2000))  # a file that is an MP4 by its bytes
    files = {"{wav}": str(wav), "{not_audio}": NOT_AN_IMAGE, "{not_video}": str(PORTRAIT)}
    argv = [files.get(a, a) for a in args]
    source = str(clip)
    if "--clip" in argv:  # which CLIP this case gives
        at = argv.index("--clip")
        source = argv[at + 1]
        del argv[at : at + 2]
    code, stdout, err = run(capsys, "lipsync", source, *argv, "--out", str(tmp_path / "out.mp4"))
    assert code == 2, err
    assert words in err and len(err.strip().splitlines()) == 1, err
    assert live.stats.requests == [] and stdout == ""


# -- --timeout: the run stops waiting, the money stays safe --------------------------------------------------------
@pytest.mark.timeout(120)
def test_timeout_leaves_the_job_to_resume_which_never_sends_it_again(
    live: Simulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    live.queue_seconds = 600  # the server is slow today
    out = tmp_path / "slow.mp4"
    args = ["generate", "--model", T2V55, "--prompt", "Slow", "--resolution", "360p", "--out", str(out)]
    code, stdout, err = run(capsys, *args, "--timeout", "1", "--json")
    assert code == 4
    row = json.loads(stdout)
    assert row["id"] and row["path"] is None and "pixdesk resume" in row["error"]
    assert "--timeout" in err and "pixdesk resume" in err and not out.exists()
    (job,) = stored_jobs()
    assert job.server_id == row["id"] and not job.is_final
    live.queue_seconds = 0
    for gen in live.generations.values():
        gen.queue_seconds = 0
    assert main(["resume"]) == 0
    assert [j.state for j in stored_jobs()] == [JobState.COMPLETED]
    assert live.create_requests == 1 and len(live.generations) == 1


@pytest.mark.timeout(120)
def test_timeout_in_a_set_sends_nothing_more_and_leaves_the_rest_at_the_server(
    live: Simulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    live.queue_seconds = 600
    code, _, err = run(
        capsys,
        *("generate", str(PORTRAIT), "--prompt", "Slow set", "--resolution", "360p", "--variations", "3"),
        *("--max-in-flight", "1", "--timeout", "1", "--out", str(tmp_path)),
    )
    assert code == 4, err
    assert "1 left at the server" in err and "2 not sent" in err
    assert live.create_requests == 1
    jobs = stored_jobs()
    sent = [j for j in jobs if j.server_id]
    assert len(sent) == 1 and not sent[0].is_final  # left to the server, saved
    assert all(j.state is JobState.CANCELLED for j in jobs if not j.server_id)  # the others: never sent
    live.queue_seconds = 0
    for gen in live.generations.values():
        gen.queue_seconds = 0
    assert main(["resume"]) == 0
    assert [j.state for j in stored_jobs() if j.server_id] == [JobState.COMPLETED]
    assert live.create_requests == 1  # the two never sent stay unsent


def test_every_model_in_the_catalogue_is_offered_somewhere():
    """`generate --model` offers the form's models; lip-sync has its own command; `price` knows them all."""
    from pixdesk.cli import build_parser

    parser = build_parser()
    assert set(FORM_MODELS) | {"pixverse/lip-sync"} == set(MODELS)
    assert "lipsync" in parser.commands
