"""The catalogue of models and their parameters.

Every choice the CLI and the GUI offer is built from here, so a change in what the service
accepts is a data change in one place (users of other clients were bitten by hard-coded lists).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

ParamKind = Literal["text", "enum", "int", "bool", "image", "video", "audio"]
INPUT_KINDS: frozenset[str] = frozenset({"image", "video", "audio"})


@dataclass(frozen=True)
class Param:
    """One request field: its type, allowed values, default and limits.

    `attr` names the GenerationRequest field that holds it when that differs from the wire name: the named
    inputs (`image_url` is `image`, `tail_image_url` is `last_frame`, ...) hold a local path or URL until the
    job is prepared."""

    name: str
    kind: ParamKind
    label: str
    required: bool = False
    choices: tuple[str | int, ...] = ()
    default: str | int | bool | None = None
    max_length: int | None = None
    minimum: int | None = None
    maximum: int | None = None
    help: str = ""
    attr: str = ""
    missing: str = ""  # what a required input's absence says (beside its drop zone)

    @property
    def field(self) -> str:
        return self.attr or self.name

    @property
    def is_input(self) -> bool:
        return self.kind in INPUT_KINDS


@dataclass(frozen=True)
class Exclusion:
    """Two values that cannot be combined, with the reason shown to the user."""

    when_param: str
    when_value: str | int
    forbid_param: str
    forbid_value: str | int
    reason: str


@dataclass(frozen=True)
class OneOf:
    """Exactly one of two ways must be used (lip-sync: an audio file, or a line and a voice), never both."""

    first: str
    second: str
    missing: str
    both: str


@dataclass(frozen=True)
class ModelSpec:
    model_id: str
    title: str
    params: tuple[Param, ...]
    exclusions: tuple[Exclusion, ...] = ()
    create_path: str = "/v2/video/generations"
    poll_path: str = "/v2/video/generations"
    legacy_path: str | None = None
    summary: str = ""  # one line under the model picker
    tag: str = ""  # a word or two on a list row ("transition", "v5.5"); empty for the default model
    one_of: OneOf | None = None
    speaker_needs_line: bool = True  # a voice without a line is dropped (v5); lip-sync sends them as a pair

    def param(self, name: str) -> Param:
        for p in self.params:
            if p.name == name:
                return p
        raise KeyError(name)

    def has(self, name: str) -> bool:
        return any(p.name == name for p in self.params)

    @property
    def inputs(self) -> tuple[Param, ...]:
        """The named files the model takes (first/last frame, video, audio), in the order a form shows them."""
        return tuple(p for p in self.params if p.is_input)

    @property
    def takes_prompt(self) -> bool:
        return self.has("prompt")

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
_IMAGE = Param(
    "image_url",
    "image",
    "Image",
    required=True,
    attr="image",
    help="The first frame of the video.",
    missing="Choose an image to animate.",
)
_FIRST_FRAME = Param(
    "image_url",
    "image",
    "First frame",
    required=True,
    attr="image",
    help="The picture the clip starts from.",
    missing="Choose an image to animate.",
)
_LAST_FRAME = Param(
    "tail_image_url",
    "image",
    "Last frame",
    required=True,
    attr="last_frame",
    help="The picture the clip ends on.",
    missing="Choose the picture the clip should end on.",
)
_RESOLUTION = Param(
    "resolution",
    "enum",
    "Resolution",
    choices=("360p", "540p", "720p", "1080p"),
    default="720p",
    help="The short side of the frame.",
)
_DURATION = Param("duration", "enum", "Duration", choices=(5, 8), default=5, help="Seconds.")
_DURATION_55 = Param("duration", "enum", "Duration", choices=(5, 8, 10), default=5, help="Seconds.")
ASPECT_RATIOS: tuple[str, ...] = ("16:9", "4:3", "1:1", "3:4", "9:16")
_ASPECT = Param(
    "aspect_ratio",
    "enum",
    "Aspect ratio",
    choices=ASPECT_RATIOS,
    default="16:9",
    help="The shape of the frame: there is no picture to take it from.",
)
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
_SOUND = Param(
    "generate_audio_switch",
    "bool",
    "Generate sound",
    default=False,
    help="Adds a sound track made for the scene (music, ambience, effects).",
)
_MULTI_CLIP = Param(
    "generate_multi_clip_switch",
    "bool",
    "Multi-clip",
    default=False,
    help="Cuts between several shots with camera changes instead of one continuous shot.",
)
THINKING_TYPES: tuple[str, ...] = ("enabled", "disabled", "auto")
THINKING_LABELS: dict[str, str] = {"enabled": "On", "disabled": "Off", "auto": "Let the model decide"}
_THINKING = Param(
    "thinking_type",
    "enum",
    "Prompt optimisation",
    choices=THINKING_TYPES,
    default="enabled",
    help="Lets the model rewrite your prompt into a richer one before generating.",
)
_VIDEO = Param(
    "video_url",
    "video",
    "Clip",
    required=True,
    attr="video",
    help="The clip whose character speaks.",
    missing="Choose the clip whose character should speak.",
)
_AUDIO = Param("audio_url", "audio", "Audio file", attr="audio", help="A recording to lip-sync to (WAV, MP3 or M4A).")
_NO_1080P_8S = Exclusion("resolution", "1080p", "duration", 8, "1080p videos can only be 5 seconds long.")
_NO_1080P_10S = Exclusion("resolution", "1080p", "duration", 10, "1080p videos can only be 5 seconds long.")
_V5_OPTIONS = (_NEGATIVE, _RESOLUTION, _DURATION, _STYLE, _SEED, _LIP_TEXT, _LIP_SPEAKER)
_V55_OPTIONS = (_NEGATIVE, _RESOLUTION, _DURATION_55, _STYLE, _SEED, _SOUND, _MULTI_CLIP, _THINKING)

PIXVERSE_V5_I2V = ModelSpec(
    model_id="pixverse/v5/image-to-video",
    title="PixVerse v5 · image to video",
    params=(_IMAGE, _PROMPT, *_V5_OPTIONS),
    exclusions=(_NO_1080P_8S,),
    legacy_path="/v2/generate/video/pixverse/generation",
    summary="Brings one picture to life.",
)
PIXVERSE_V5_TRANSITION = ModelSpec(
    model_id="pixverse/v5/transition",
    title="PixVerse v5 · transition",
    params=(_FIRST_FRAME, _LAST_FRAME, _PROMPT, *_V5_OPTIONS),
    exclusions=(_NO_1080P_8S,),
    tag="transition",
    summary="Moves from a first picture to a last one.",
)
PIXVERSE_V5_T2V = ModelSpec(
    model_id="pixverse/v5/text-to-video",
    title="PixVerse v5 · text to video",
    params=(_PROMPT, _ASPECT, *_V5_OPTIONS),
    exclusions=(_NO_1080P_8S,),
    tag="text to video",
    summary="A clip from words alone.",
)
PIXVERSE_V55_I2V = ModelSpec(
    model_id="pixverse/v5.5/image-to-video",
    title="PixVerse v5.5 · image to video",
    params=(_IMAGE, _PROMPT, *_V55_OPTIONS),
    exclusions=(_NO_1080P_8S, _NO_1080P_10S),
    tag="v5.5",
    summary="Newer: up to 10 s, with generated sound and multi-clip.",
)
PIXVERSE_V55_T2V = ModelSpec(
    model_id="pixverse/v5.5/text-to-video",
    title="PixVerse v5.5 · text to video",
    params=(_PROMPT, _ASPECT, *_V55_OPTIONS),
    exclusions=(_NO_1080P_8S, _NO_1080P_10S),
    tag="v5.5 text to video",
    summary="Newer, from words alone: up to 10 s, with generated sound and multi-clip.",
)
PIXVERSE_LIP_SYNC = ModelSpec(
    model_id="pixverse/lip-sync",
    title="PixVerse · lip-sync",
    params=(_VIDEO, _AUDIO, _LIP_TEXT, _LIP_SPEAKER),
    tag="lip-sync",
    summary="Makes the character in a finished clip speak.",
    one_of=OneOf(
        "audio_url",
        "lip_sync_tts_content",
        missing="Give a line to speak, or choose an audio file.",
        both="Use either an audio file or a line to speak, not both.",
    ),
    speaker_needs_line=False,
)

MODELS: dict[str, ModelSpec] = {
    m.model_id: m
    for m in (
        PIXVERSE_V5_I2V,
        PIXVERSE_V5_TRANSITION,
        PIXVERSE_V5_T2V,
        PIXVERSE_V55_I2V,
        PIXVERSE_V55_T2V,
        PIXVERSE_LIP_SYNC,
    )
}
DEFAULT_MODEL = PIXVERSE_V5_I2V
# What the form's model picker offers; lip-sync is reached from a finished clip ("Make them speak…").
FORM_MODELS: tuple[str, ...] = tuple(m for m in MODELS if m != PIXVERSE_LIP_SYNC.model_id)


def get_model(model_id: str) -> ModelSpec:
    try:
        return MODELS[model_id]
    except KeyError:
        raise KeyError(f"unknown model {model_id!r}; known: {', '.join(MODELS)}") from None


__all__ = [
    "ASPECT_RATIOS",
    "DEFAULT_MODEL",
    "FORM_MODELS",
    "INPUT_KINDS",
    "LIP_SYNC_MAX",
    "MODELS",
    "PIXVERSE_LIP_SYNC",
    "PIXVERSE_V5_I2V",
    "PIXVERSE_V5_T2V",
    "PIXVERSE_V5_TRANSITION",
    "PIXVERSE_V55_I2V",
    "PIXVERSE_V55_T2V",
    "PROMPT_MAX",
    "SEED_MAX",
    "SPEAKERS",
    "STYLES",
    "STYLE_LABELS",
    "THINKING_LABELS",
    "THINKING_TYPES",
    "Exclusion",
    "ModelSpec",
    "OneOf",
    "Param",
    "get_model",
]
