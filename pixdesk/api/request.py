"""The generation request: typed fields, validation a person understands, and the JSON body."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any

from pixdesk.api.catalogue import DEFAULT_MODEL, MODELS, ModelSpec, Param, get_model
from pixdesk.api.errors import InputError


@dataclass(frozen=True)
class FieldError:
    """A problem with one field; `field` is the request field name so a UI can show it beside it."""

    field: str
    message: str

    def __str__(self) -> str:
        return self.message


class ValidationError(InputError, ValueError):
    """Raised when a request cannot be sent as it is; carries one entry per bad field."""

    def __init__(self, errors: list[FieldError]) -> None:
        super().__init__("; ".join(e.message for e in errors))
        self.errors = errors

    def for_field(self, name: str) -> str | None:
        return next((e.message for e in self.errors if e.field == name), None)


@dataclass(frozen=True)
class GenerationRequest:
    """What the user asked for. The named inputs (`image`, `last_frame`, `video`, `audio`) are local paths or
    http(s) URLs, prepared into what the API accepts just before sending; `model`'s catalogue entry says
    which of the fields it takes."""

    image: str = ""
    prompt: str = ""
    negative_prompt: str | None = None
    resolution: str | None = None
    duration: int | None = None
    style: str | None = None
    seed: int | None = None
    lip_sync_tts_content: str | None = None
    lip_sync_tts_speaker: str | None = None
    model: str = DEFAULT_MODEL.model_id
    last_frame: str | None = None
    video: str | None = None
    audio: str | None = None
    aspect_ratio: str | None = None
    generate_audio_switch: bool | None = None
    generate_multi_clip_switch: bool | None = None
    thinking_type: str | None = None

    @property
    def spec(self) -> ModelSpec:
        return get_model(self.model)

    def effective(self, name: str) -> Any:
        """The value the server will use: the user's, or the catalogue default."""
        spec = self.spec
        if not spec.has(name):
            return getattr(self, name, None)
        param = spec.param(name)
        value = getattr(self, param.field, None)
        return param.default if value is None else value

    @property
    def headline(self) -> str:
        """What a list shows as the job's title: the prompt, or for lip-sync what is said."""
        if self.prompt.strip():
            return self.prompt
        line = (self.lip_sync_tts_content or "").strip()
        if line:
            return f"Says “{line}”"
        if self.audio:
            name = self.audio.rsplit("/", 1)[-1] if "://" in self.audio else Path(self.audio).name
            return f"Lip-sync to {name}"
        return ""

    def inputs(self) -> dict[str, str]:
        """The named inputs that were given, by wire name (`image_url`: the path or URL the user picked)."""
        out: dict[str, str] = {}
        for param in self.spec.inputs:
            value = getattr(self, param.field, None)
            if isinstance(value, str) and value.strip():
                out[param.name] = value.strip()
        return out

    def validate(self) -> list[FieldError]:
        try:
            spec = self.spec
        except KeyError as exc:
            return [FieldError("model", str(exc.args[0]))]
        errors: list[FieldError] = []
        for param in spec.params:
            value = getattr(self, param.field, None)
            if param.is_input:
                if param.required and not (value or "").strip():
                    errors.append(FieldError(param.name, param.missing or f"Choose the {param.label.lower()}."))
                continue
            message = _check_param(param, value)
            if message:
                errors.append(FieldError(param.name, message))
        errors += self._foreign_fields(spec)
        speaker_ok = not any(e.field == "lip_sync_tts_speaker" for e in errors)
        has_line = bool((self.lip_sync_tts_content or "").strip())
        if spec.speaker_needs_line and self.lip_sync_tts_speaker is not None and not has_line and speaker_ok:
            errors.append(FieldError("lip_sync_tts_content", "A voice was chosen but there is no line to speak."))
        if spec.one_of is not None:
            given = [self._given(spec.param(name)) for name in (spec.one_of.first, spec.one_of.second)]
            if all(given):
                errors.append(FieldError(spec.one_of.first, spec.one_of.both))
            elif not any(given) and not any(e.field == spec.one_of.second for e in errors):
                errors.append(FieldError(spec.one_of.second, spec.one_of.missing))
        chosen = {p.name: self.effective(p.name) for p in spec.params}
        for ex in spec.exclusions:
            if chosen.get(ex.when_param) == ex.when_value and chosen.get(ex.forbid_param) == ex.forbid_value:
                errors.append(FieldError(ex.forbid_param, ex.reason))
        return errors

    def _given(self, param: Param) -> bool:
        value = getattr(self, param.field, None)
        return bool(value.strip()) if isinstance(value, str) else value is not None

    def _foreign_fields(self, spec: ModelSpec) -> list[FieldError]:
        """Options set that this model does not take (`--last-frame` with image-to-video): refused, not dropped,
        so nobody pays for a clip made without what they asked for."""
        taken = {p.field for p in spec.params}
        errors = []
        for name, param in _ALL_PARAMS.items():
            if name in taken or name in ("image", "prompt"):
                continue
            value = getattr(self, name, None)
            if value is None or (isinstance(value, str) and not value.strip()):
                continue
            errors.append(FieldError(param.name, f"{param.label} is not an option of {spec.title}."))
        if "image" not in taken and (self.image or "").strip():
            errors.append(FieldError("image_url", f"{spec.title} takes no image."))
        if "prompt" not in taken and (self.prompt or "").strip():
            errors.append(FieldError("prompt", f"{spec.title} takes no prompt."))
        return errors

    def validated(self) -> GenerationRequest:
        errors = self.validate()
        if errors:
            raise ValidationError(errors)
        return self

    def to_body(self, inputs: str | Mapping[str, str]) -> dict[str, Any]:
        """The JSON body, in the catalogue's order; `inputs` are the prepared named inputs by wire name (a
        plain string is the `image_url`). Optional fields the user did not set are omitted, never null or ''."""
        spec = self.spec
        urls = {"image_url": inputs} if isinstance(inputs, str) else inputs
        body: dict[str, Any] = {"model": self.model}
        for param in spec.params:
            if param.is_input:
                url = urls.get(param.name)
                if url:
                    body[param.name] = url
                continue
            value = getattr(self, param.field, None)
            if isinstance(value, str):
                value = value.strip()
                if not value:
                    continue
            if value is None:
                continue
            body[param.name] = value
        if "lip_sync_tts_content" not in body:
            body.pop("lip_sync_tts_speaker", None)
        elif not spec.speaker_needs_line:  # lip-sync takes the line and the voice as a pair
            body.setdefault("lip_sync_tts_speaker", "Auto")
        return body

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> GenerationRequest:
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})

    def with_image(self, image: str) -> GenerationRequest:
        return replace(self, image=image)


def _check_param(param: Param, value: Any) -> str | None:
    if param.kind == "text":
        text = value if isinstance(value, str) else ("" if value is None else None)
        if text is None:
            return f"{param.label} must be text."
        if param.required and not text.strip():
            return f"{param.label} is empty: describe what should happen."
        if param.max_length is not None and len(text) > param.max_length:
            return f"{param.label} is {len(text)} characters long; the limit is {param.max_length}."
        return None
    if value is None:
        return None
    if param.kind == "bool":
        return None if isinstance(value, bool) else f"{param.label} must be on or off."
    if param.kind == "enum":
        if value not in param.choices:
            allowed = ", ".join(str(c) for c in param.choices)
            return f"{param.label} {value!r} is not available; choose one of: {allowed}."
        return None
    if param.kind == "int":
        if isinstance(value, bool) or not isinstance(value, int):
            return f"{param.label} must be a whole number."
        if param.minimum is not None and value < param.minimum:
            return f"{param.label} must be at least {param.minimum}."
        if param.maximum is not None and value > param.maximum:
            return f"{param.label} must be at most {param.maximum:,}."
    return None


# Every field any model takes, by request attribute: how an option the chosen model lacks is named.
_ALL_PARAMS: dict[str, Param] = {p.field: p for m in MODELS.values() for p in m.params}
