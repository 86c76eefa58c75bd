"""The generation request: typed fields, validation a person understands, and the JSON body."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace
from typing import Any

from pixdesk.api.catalogue import DEFAULT_MODEL, ModelSpec, Param, get_model
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
    """What the user asked for. `image` is a local path or an http(s) URL, prepared before sending."""

    image: str
    prompt: str
    negative_prompt: str | None = None
    resolution: str | None = None
    duration: int | None = None
    style: str | None = None
    seed: int | None = None
    lip_sync_tts_content: str | None = None
    lip_sync_tts_speaker: str | None = None
    model: str = DEFAULT_MODEL.model_id

    @property
    def spec(self) -> ModelSpec:
        return get_model(self.model)

    def effective(self, name: str) -> Any:
        """The value the server will use: the user's, or the catalogue default."""
        value = getattr(self, name, None)
        if value is None and self.spec.has(name):
            return self.spec.param(name).default
        return value

    def validate(self) -> list[FieldError]:
        try:
            spec = self.spec
        except KeyError as exc:
            return [FieldError("model", str(exc.args[0]))]
        errors: list[FieldError] = []
        if spec.has("image_url") and not (self.image or "").strip():
            errors.append(FieldError("image_url", "Choose an image to animate."))
        for param in spec.params:
            if param.kind == "image":
                continue
            value = getattr(self, param.name, None)
            message = _check_param(param, value)
            if message:
                errors.append(FieldError(param.name, message))
        speaker_ok = not any(e.field == "lip_sync_tts_speaker" for e in errors)
        if self.lip_sync_tts_speaker is not None and not (self.lip_sync_tts_content or "").strip() and speaker_ok:
            errors.append(FieldError("lip_sync_tts_content", "A voice was chosen but there is no line to speak."))
        chosen = {p.name: self.effective(p.name) for p in spec.params}
        for ex in spec.exclusions:
            if chosen.get(ex.when_param) == ex.when_value and chosen.get(ex.forbid_param) == ex.forbid_value:
                errors.append(FieldError(ex.forbid_param, ex.reason))
        return errors

    def validated(self) -> GenerationRequest:
        errors = self.validate()
        if errors:
            raise ValidationError(errors)
        return self

    def to_body(self, image_url: str) -> dict[str, Any]:
        """The JSON body; optional fields the user did not set are omitted, never null or ''."""
        body: dict[str, Any] = {"model": self.model, "prompt": self.prompt.strip(), "image_url": image_url}
        for name in (
            "negative_prompt",
            "resolution",
            "duration",
            "style",
            "seed",
            "lip_sync_tts_content",
            "lip_sync_tts_speaker",
        ):
            value = getattr(self, name)
            if isinstance(value, str):
                value = value.strip()
                if not value:
                    continue
            if value is None:
                continue
            body[name] = value
        if "lip_sync_tts_content" not in body:
            body.pop("lip_sync_tts_speaker", None)
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
