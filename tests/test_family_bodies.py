"""Each model of the PixVerse family: the catalogue states what its official schema says, and the exact JSON
body PixDesk builds for its options passes that schema (copies in ../shared/api-schemas; skipped without)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from pixdesk.api.catalogue import MODELS, get_model
from pixdesk.api.request import GenerationRequest

SCHEMAS = Path(__file__).resolve().parents[2] / "shared" / "api-schemas"
FILES = {
    "pixverse/v5/image-to-video": "pixverse-v5-image-to-video.json",
    "pixverse/v5/transition": "pixverse-v5-transition.json",
    "pixverse/v5/text-to-video": "pixverse-v5-text-to-video.json",
    "pixverse/v5.5/image-to-video": "pixverse-v5.5-image-to-video.json",
    "pixverse/v5.5/text-to-video": "pixverse-v5.5-text-to-video.json",
    "pixverse/lip-sync": "pixverse-lip-sync.json",
}
IMAGE = "data:image/png;base64,iVBORw0KGgo="
TAIL = "data:image/jpeg;base64,/9j/4AAQ"
VIDEO = "data:video/mp4;base64,AAAAIGZ0eXBpc29t"
AUDIO = "data:audio/wav;base64,UklGRiQAAABXQVZF"


def official(model: str) -> dict[str, Any]:
    path = SCHEMAS / FILES[model]
    if not path.is_file():
        pytest.skip(f"the official schema copy {path} is absent (it sits beside the project in development and CI)")
    document = json.loads(path.read_text(encoding="utf-8"))
    body = document["paths"]["/v2/video/generations"]["post"]["requestBody"]["content"]["application/json"]
    return dict(body["schema"])


# Every option each model takes, set, and the exact body expected for it.
CASES: dict[str, tuple[GenerationRequest, dict[str, str], dict[str, Any]]] = {
    "pixverse/v5/image-to-video": (
        GenerationRequest(
            image="cat.png",
            prompt=" a cat waves ",
            negative_prompt="blur",
            resolution="1080p",
            duration=5,
            style="clay",
            seed=42,
            lip_sync_tts_content="Hello!",
            lip_sync_tts_speaker="Emily",
        ),
        {"image_url": IMAGE},
        {
            "model": "pixverse/v5/image-to-video",
            "image_url": IMAGE,
            "prompt": "a cat waves",
            "negative_prompt": "blur",
            "resolution": "1080p",
            "duration": 5,
            "style": "clay",
            "seed": 42,
            "lip_sync_tts_content": "Hello!",
            "lip_sync_tts_speaker": "Emily",
        },
    ),
    "pixverse/v5/transition": (
        GenerationRequest(
            model="pixverse/v5/transition",
            image="day.png",
            last_frame="night.jpg",
            prompt="day turns to night",
            resolution="540p",
            duration=8,
            style="anime",
            seed=0,
        ),
        {"image_url": IMAGE, "tail_image_url": TAIL},
        {
            "model": "pixverse/v5/transition",
            "image_url": IMAGE,
            "tail_image_url": TAIL,
            "prompt": "day turns to night",
            "resolution": "540p",
            "duration": 8,
            "style": "anime",
            "seed": 0,
        },
    ),
    "pixverse/v5/text-to-video": (
        GenerationRequest(
            model="pixverse/v5/text-to-video",
            prompt="a lighthouse in a storm",
            aspect_ratio="9:16",
            resolution="720p",
            negative_prompt="people",
            lip_sync_tts_content="Stay away!",
            lip_sync_tts_speaker="Mason",
        ),
        {},
        {
            "model": "pixverse/v5/text-to-video",
            "prompt": "a lighthouse in a storm",
            "aspect_ratio": "9:16",
            "negative_prompt": "people",
            "resolution": "720p",
            "lip_sync_tts_content": "Stay away!",
            "lip_sync_tts_speaker": "Mason",
        },
    ),
    "pixverse/v5.5/image-to-video": (
        GenerationRequest(
            model="pixverse/v5.5/image-to-video",
            image="https://example.com/cat.jpg",
            prompt="the cat sings",
            duration=10,
            resolution="720p",
            generate_audio_switch=True,
            generate_multi_clip_switch=True,
            thinking_type="auto",
        ),
        {"image_url": "https://example.com/cat.jpg"},
        {
            "model": "pixverse/v5.5/image-to-video",
            "image_url": "https://example.com/cat.jpg",
            "prompt": "the cat sings",
            "resolution": "720p",
            "duration": 10,
            "generate_audio_switch": True,
            "generate_multi_clip_switch": True,
            "thinking_type": "auto",
        },
    ),
    "pixverse/v5.5/text-to-video": (
        GenerationRequest(
            model="pixverse/v5.5/text-to-video",
            prompt="neon city at night",
            aspect_ratio="1:1",
            style="cyberpunk",
            thinking_type="disabled",
        ),
        {},
        {
            "model": "pixverse/v5.5/text-to-video",
            "prompt": "neon city at night",
            "aspect_ratio": "1:1",
            "style": "cyberpunk",
            "thinking_type": "disabled",
        },
    ),
    "pixverse/lip-sync": (
        GenerationRequest(model="pixverse/lip-sync", video="clip.mp4", lip_sync_tts_content="Good morning"),
        {"video_url": VIDEO},
        {
            "model": "pixverse/lip-sync",
            "video_url": VIDEO,
            "lip_sync_tts_content": "Good morning",
            "lip_sync_tts_speaker": "Auto",
        },
    ),
}


def test_every_model_of_the_family_has_a_case():
    assert set(CASES) == set(MODELS) == set(FILES)


@pytest.mark.parametrize("model", sorted(MODELS))
def test_the_catalogue_states_what_the_official_schema_says(model: str):
    schema = official(model)
    spec = get_model(model)
    properties = schema["properties"]
    assert {p.name for p in spec.params} | {"model"} == set(properties)
    assert {p.name for p in spec.params if p.required} | {"model"} == set(schema["required"])
    for param in spec.params:
        wire = properties[param.name]
        if "enum" in wire:
            assert set(param.choices) == set(wire["enum"]), param.name
        expected_kind = {"boolean": "bool", "integer": "int"}.get(wire["type"])
        if expected_kind == "bool":
            assert param.kind == "bool"
        if "default" in wire and param.default is not None:
            assert str(param.default) == str(wire["default"]), param.name


@pytest.mark.parametrize("model", sorted(MODELS))
def test_the_exact_body_for_every_option_passes_the_official_schema(model: str):
    request, inputs, expected = CASES[model]
    assert request.validate() == []
    body = request.to_body(inputs)
    assert body == expected
    jsonschema.validate(body, official(model))


def test_lip_sync_with_an_audio_file_sends_no_voice_and_passes_the_schema():
    request = GenerationRequest(model="pixverse/lip-sync", video="clip.mp4", audio="line.wav")
    body = request.validated().to_body({"video_url": VIDEO, "audio_url": AUDIO})
    assert body == {"model": "pixverse/lip-sync", "video_url": VIDEO, "audio_url": AUDIO}
    jsonschema.validate(body, official("pixverse/lip-sync"))


@pytest.mark.parametrize(
    ("request_", "field", "words"),
    [
        (GenerationRequest(image="a.png", prompt="p", last_frame="b.png"), "tail_image_url", "not an option"),
        (GenerationRequest(image="a.png", prompt="p", generate_audio_switch=True), "generate_audio_switch", "not an"),
        (GenerationRequest(image="a.png", prompt="p", aspect_ratio="1:1"), "aspect_ratio", "not an option"),
        (GenerationRequest(model="pixverse/v5/transition", image="a.png", prompt="p"), "tail_image_url", "end on"),
        (GenerationRequest(model="pixverse/v5/text-to-video", image="a.png", prompt="p"), "image_url", "no image"),
        (
            GenerationRequest(
                model="pixverse/v5.5/image-to-video", image="a.png", prompt="p", duration=10, resolution="1080p"
            ),
            "duration",
            "5 seconds",
        ),
        (
            GenerationRequest(
                model="pixverse/v5.5/image-to-video", image="a.png", prompt="p", lip_sync_tts_content="hi"
            ),
            "lip_sync_tts_content",
            "not an option",
        ),
        (
            GenerationRequest(model="pixverse/v5/image-to-video", image="a.png", prompt="p", duration=10),
            "duration",
            "choose one of: 5, 8",
        ),
        (GenerationRequest(model="pixverse/lip-sync", video="c.mp4"), "lip_sync_tts_content", "line to speak"),
        (
            GenerationRequest(model="pixverse/lip-sync", video="c.mp4", audio="a.wav", lip_sync_tts_content="hi"),
            "audio_url",
            "not both",
        ),
        (GenerationRequest(model="pixverse/lip-sync", audio="a.wav"), "video_url", "clip"),
        (GenerationRequest(model="pixverse/lip-sync", video="c.mp4", audio="a.wav", prompt="p"), "prompt", "no prompt"),
    ],
)
def test_impossible_combinations_are_refused_on_the_field_with_the_reason(
    request_: GenerationRequest, field: str, words: str
):
    errors = {e.field: e.message for e in request_.validate()}
    assert field in errors and words in errors[field], errors
