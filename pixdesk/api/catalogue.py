"""The catalogue of models and their parameters.

Every choice the CLI and the GUI offer is built from here, so a change in what the service
accepts is a data change in one place (users of other clients were bitten by hard-coded lists).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

ParamKind = Literal["text", "enum", "int", "image"]


@dataclass(frozen=True)
class Param:
    """One request field: its type, allowed values, default and limits."""

    name: str
    kind: ParamKind
    label: str
    required: bool = False
    choices: tuple[str | int, ...] = ()
    default: str | int | None = None
    max_length: int | None = None
    minimum: int | None = None
    maximum: int | None = None
    help: str = ""


@dataclass(frozen=True)
class Exclusion:
    """Two values that cannot be combined, with the reason shown to the user."""

    when_param: str
    when_value: str | int
    forbid_param: str
    forbid_value: str | int
    reason: str


@dataclass(frozen=True)
class ModelSpec:
    model_id: str
    title: str
    params: tuple[Param, ...]
    exclusions: tuple[Exclusion, ...] = ()
    create_path: str = "/v2/video/generations"
    poll_path: str = "/v2/video/generations"
    legacy_path: str | None = None

    def param(self, name: str) -> Param:
        for p in self.params:
            if p.name == name:
                return p
        raise KeyError(name)

    def has(self, name: str) -> bool:
        return any(p.name == name for p in self.params)

    def forbidden(self, param: str, value: str | int, chosen: Mapping[str, object]) -> str | None:
        """Why `param=value` is impossible given the other chosen values, or None if allowed."""
        for ex in self.exclusions:
            if ex.forbid_param == param and ex.forbid_value == value and chosen.get(ex.when_param) == ex.when_value:
                return ex.reason
            if ex.when_param == param and ex.when_value == value and chosen.get(ex.forbid_param) == ex.forbid_value:
                return ex.reason
        return None


SPEAKERS: tuple[str, ...] = (
    "Auto",
    "Harper",
    "Ava",
    "Isabella",
    "Sophia",
    "Emily",
    "Chloe",
    "Julia",
    "Mason",
    "Jack",
    "Liam",
    "James",
    "Oliver",
    "Adrian",
    "Ethan",
)
STYLES: tuple[str, ...] = ("anime", "3d_animation", "clay", "comic", "cyberpunk")
STYLE_LABELS: dict[str, str] = {
    "anime": "Anime",
    "3d_animation": "3D animation",
    "clay": "Clay",
    "comic": "Comic",
    "cyberpunk": "Cyberpunk",
}
PROMPT_MAX = 2048
LIP_SYNC_MAX = 140
SEED_MAX = 2_147_483_647

_PROMPT = Param(
    "prompt", "text", "Prompt", required=True, max_length=PROMPT_MAX, help="What should happen in the video."
)
_NEGATIVE = Param(
    "negative_prompt", "text", "Negative prompt", max_length=PROMPT_MAX, help="What the video should avoid."
)
_IMAGE = Param("image_url", "image", "Image", required=True)
_RESOLUTION = Param(
    "resolution",
    "enum",
    "Resolution",
    choices=("360p", "540p", "720p", "1080p"),
    default="720p",
    help="The short side of the frame.",
)
_DURATION = Param("duration", "enum", "Duration", choices=(5, 8), default=5, help="Seconds.")
_STYLE = Param("style", "enum", "Style", choices=STYLES, help="A visual style; none keeps the photo's look.")
_SEED = Param(
    "seed",
    "int",
    "Seed",
    minimum=0,
    maximum=SEED_MAX,
    help="Same seed and inputs give about the same result. Empty = random.",
)
_LIP_TEXT = Param("lip_sync_tts_content", "text", "Line to speak", max_length=LIP_SYNC_MAX)
_LIP_SPEAKER = Param("lip_sync_tts_speaker", "enum", "Voice", choices=SPEAKERS, default="Auto")
_NO_1080P_8S = Exclusion("resolution", "1080p", "duration", 8, "1080p videos can only be 5 seconds long.")

PIXVERSE_V5_I2V = ModelSpec(
    model_id="pixverse/v5/image-to-video",
    title="PixVerse v5 · image to video",
    params=(_IMAGE, _PROMPT, _NEGATIVE, _RESOLUTION, _DURATION, _STYLE, _SEED, _LIP_TEXT, _LIP_SPEAKER),
    exclusions=(_NO_1080P_8S,),
    legacy_path="/v2/generate/video/pixverse/generation",
)

MODELS: dict[str, ModelSpec] = {m.model_id: m for m in (PIXVERSE_V5_I2V,)}
DEFAULT_MODEL = PIXVERSE_V5_I2V


def get_model(model_id: str) -> ModelSpec:
    try:
        return MODELS[model_id]
    except KeyError:
        raise KeyError(f"unknown model {model_id!r}; known: {', '.join(MODELS)}") from None


__all__ = [
    "DEFAULT_MODEL",
    "LIP_SYNC_MAX",
    "MODELS",
    "PIXVERSE_V5_I2V",
    "PROMPT_MAX",
    "SEED_MAX",
    "SPEAKERS",
    "STYLES",
    "STYLE_LABELS",
    "Exclusion",
    "ModelSpec",
    "Param",
    "get_model",
]
