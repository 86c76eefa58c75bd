"""The exact JSON bodies we send, and validation messages a person understands."""

from __future__ import annotations

import itertools
import json

import pytest

from pixdesk.api.catalogue import PIXVERSE_V5_I2V, SPEAKERS, STYLES
from pixdesk.api.request import GenerationRequest, ValidationError

IMG = "data:image/png;base64,AAAA"


@pytest.mark.parametrize(
    ("resolution", "duration", "style", "seed", "lip", "speaker", "negative"),
    list(
        itertools.product(
            [None, "360p", "1080p"],
            [None, 5, 8],
            [None, "comic"],
            [None, 0, 42],
            [None, "Hi there"],
            [None, "Chloe"],
            [None, "blurry"],
        )
    ),
)
def test_body_has_exactly_the_fields_the_user_set(resolution, duration, style, seed, lip, speaker, negative):
    req = GenerationRequest(
        image="/x.png",
        prompt="  A cat waves  ",
        negative_prompt=negative,
        resolution=resolution,
        duration=duration,
        style=style,
        seed=seed,
        lip_sync_tts_content=lip,
        lip_sync_tts_speaker=speaker,
    )
    expected = {"model": "pixverse/v5/image-to-video", "prompt": "A cat waves", "image_url": IMG}
    for key, value in (
        ("negative_prompt", negative),
        ("resolution", resolution),
        ("duration", duration),
        ("style", style),
        ("seed", seed),
        ("lip_sync_tts_content", lip),
    ):
        if value is not None:
            expected[key] = value
    if lip is not None and speaker is not None:
        expected["lip_sync_tts_speaker"] = speaker
    body = req.to_body(IMG)
    assert body == expected
    assert "null" not in json.dumps(body) and '""' not in json.dumps(body)
    expected_errors = []
    if speaker is not None and lip is None:
        expected_errors.append("lip_sync_tts_content")
    if resolution == "1080p" and duration == 8:
        expected_errors.append("duration")
    assert [e.field for e in req.validate()] == expected_errors


def test_blank_optional_strings_are_omitted_not_sent_empty():
    body = GenerationRequest(image="x", prompt="p", negative_prompt="   ", lip_sync_tts_content="").to_body(IMG)
    assert set(body) == {"model", "prompt", "image_url"}


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"prompt": "   "}, "prompt", "empty"),
        ({"prompt": "x" * 2049}, "prompt", "2049 characters long; the limit is 2048"),
        ({"negative_prompt": "y" * 2049}, "negative_prompt", "limit is 2048"),
        ({"lip_sync_tts_content": "z" * 141}, "lip_sync_tts_content", "limit is 140"),
        ({"seed": -1}, "seed", "at least 0"),
        ({"seed": 2_147_483_648}, "seed", "at most 2,147,483,647"),
        ({"resolution": "4k"}, "resolution", "choose one of: 360p, 540p, 720p, 1080p"),
        ({"duration": 10}, "duration", "choose one of: 5, 8"),
        ({"style": "pixar"}, "style", "anime"),
        ({"lip_sync_tts_content": "hi", "lip_sync_tts_speaker": "Bob"}, "lip_sync_tts_speaker", "Harper"),
        ({"resolution": "1080p", "duration": 8}, "duration", "1080p videos can only be 5 seconds"),
        ({"image": ""}, "image_url", "Choose an image"),
    ],
)
def test_validation_names_the_field_and_says_why(changes, field, words):
    req = GenerationRequest(**{"image": "/x.png", "prompt": "ok", **changes})
    with pytest.raises(ValidationError) as info:
        req.validated()
    assert info.value.for_field(field) is not None
    assert words in info.value.for_field(field)


def test_limits_are_inclusive():
    req = GenerationRequest(image="/x.png", prompt="x" * 2048, lip_sync_tts_content="y" * 140, seed=2_147_483_647)
    assert req.validate() == []


def test_catalogue_offers_every_documented_choice():
    assert PIXVERSE_V5_I2V.param("resolution").choices == ("360p", "540p", "720p", "1080p")
    assert PIXVERSE_V5_I2V.param("duration").choices == (5, 8)
    assert len(SPEAKERS) == 15 and SPEAKERS[0] == "Auto"
    assert set(STYLES) == {"anime", "3d_animation", "clay", "comic", "cyberpunk"}
    assert PIXVERSE_V5_I2V.forbidden("duration", 8, {"resolution": "1080p"})
    assert PIXVERSE_V5_I2V.forbidden("duration", 8, {"resolution": "720p"}) is None
    assert PIXVERSE_V5_I2V.forbidden("resolution", "1080p", {"duration": 8})


def test_round_trip_through_dict():
    req = GenerationRequest(image="/x.png", prompt="p", seed=3, style="clay")
    assert GenerationRequest.from_dict({**req.to_dict(), "unknown_future_field": 1}) == req
