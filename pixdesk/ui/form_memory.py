"""The form as it was left (the model, images, prompt, options, variations) and the recent prompts, kept in a small
JSON file.

Qt-free, so saving can run on a worker thread: the window takes a `FormState` snapshot on the UI thread and hands
it to `save_form_state`. Reading trusts nothing: the file may be missing, cut short, hand-edited or written by
something hostile, so each value is kept only when it is of the right type, length and range, unknown keys are
ignored, and images no longer on disk are dropped; whatever is valid is restored. A file written before the form had
a model picker (version 1) is read as the default model's form.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import tempfile
import threading
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pixdesk.api.catalogue import DEFAULT_MODEL, FORM_MODELS, MODELS, SEED_MAX, ModelSpec
from pixdesk.config import data_dir
from pixdesk.jobs.batch import MAX_VARIATIONS

log = logging.getLogger(__name__)

FORM_FILE = "form.json"
FORM_VERSION = 2  # 2: the model and its fields (last frame, aspect ratio, v5.5's switches)
MAX_FILE_BYTES = 1_000_000  # a real form file is a few KB: anything larger is not ours
MAX_TEXT = 10_000  # longer than any field allows with room to spare (a person may have typed past a limit)
MAX_PATH = 4096
MAX_IMAGES = 50  # the drop zone's own limit
MAX_RECENT = 50

_save_lock = threading.Lock()


@dataclass(frozen=True)
class FormState:
    """What the form held. Empty/None values mean "the form's default"."""

    images: tuple[str, ...] = ()
    prompt: str = ""
    negative_prompt: str = ""
    resolution: str | None = None
    duration: int | None = None
    style: str | None = None
    seed: int | None = None
    lip_sync: bool = False
    lip_sync_text: str = ""
    lip_sync_voice: str | None = None
    variations: int = 1
    recent_prompts: tuple[str, ...] = field(default=())
    model: str | None = None  # one of the picker's (catalogue.FORM_MODELS); None: the default
    last_frame: str | None = None  # a transition's last frame (kept while another model is chosen)
    aspect_ratio: str | None = None
    generate_audio_switch: bool = False
    generate_multi_clip_switch: bool = False
    thinking_type: str | None = None

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["images"] = list(self.images)
        data["recent_prompts"] = list(self.recent_prompts)
        return {"version": FORM_VERSION, **data}

    @classmethod
    def from_dict(cls, raw: object, spec: ModelSpec = DEFAULT_MODEL) -> FormState:
        """Keep each value that is valid; everything else falls back to the default. A choice is kept when the
        saved model offers it, or (the form keeps every model's fields) when another model of the picker does;
        `spec` is the model a file without one was written for."""
        if not isinstance(raw, dict):
            return cls()
        model = raw.get("model")
        model = model if isinstance(model, str) and model in FORM_MODELS else None
        saved = MODELS[model] if model else spec

        def text(key: str) -> str:
            value = raw.get(key)
            return value if isinstance(value, str) and _clean_text(value) else ""

        def choice(key: str, param: str) -> Any:
            value = raw.get(key)
            if isinstance(value, bool) or not isinstance(value, str | int):
                return None
            if saved.has(param) and value in saved.param(param).choices:
                return value
            return value if value in _form_choices(param) else None

        seed = raw.get("seed")
        variations = raw.get("variations")
        last = _clean_list([raw.get("last_frame")], 1, MAX_PATH, _plausible_image)
        return cls(
            images=tuple(_clean_list(raw.get("images"), MAX_IMAGES, MAX_PATH, _plausible_image)),
            prompt=text("prompt"),
            negative_prompt=text("negative_prompt"),
            resolution=choice("resolution", "resolution"),
            duration=choice("duration", "duration"),
            style=choice("style", "style"),
            seed=_int_in(seed, 0, SEED_MAX),
            lip_sync=raw.get("lip_sync") is True,
            lip_sync_text=text("lip_sync_text"),
            lip_sync_voice=choice("lip_sync_voice", "lip_sync_tts_speaker"),
            variations=_int_in(variations, 1, MAX_VARIATIONS) or 1,
            recent_prompts=tuple(
                _clean_list(raw.get("recent_prompts"), MAX_RECENT, MAX_TEXT, lambda s: bool(s.strip()))
            ),
            model=model,
            last_frame=last[0] if last else None,
            aspect_ratio=choice("aspect_ratio", "aspect_ratio"),
            generate_audio_switch=raw.get("generate_audio_switch") is True,
            generate_multi_clip_switch=raw.get("generate_multi_clip_switch") is True,
            thinking_type=choice("thinking_type", "thinking_type"),
        )


def _form_choices(param: str) -> frozenset[object]:
    """The values any model of the picker offers for `param`."""
    return frozenset(c for m in FORM_MODELS if MODELS[m].has(param) for c in MODELS[m].param(param).choices)


def _int_in(value: object, low: int, high: int) -> int | None:
    """`value` when it is a whole number (not a bool) within [low, high], else None."""
    if isinstance(value, int) and not isinstance(value, bool) and low <= value <= high:
        return value
    return None


def _clean_text(value: object, limit: int = MAX_TEXT) -> bool:
    """A string we can hold and write back: not too long, no NUL, valid UTF-8 (no lone surrogates)."""
    if not isinstance(value, str) or len(value) > limit or "\x00" in value:
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _clean_list(value: object, count: int, length: int, keep: Any) -> list[str]:
    if not isinstance(value, list):
        return []
    out: list[str] = []
    for item in value[: count * 4]:
        if _clean_text(item, length) and keep(item) and item not in out:
            out.append(item)
        if len(out) == count:
            break
    return out


def _is_web_url(value: str) -> bool:
    """As `pixdesk.api.images.is_web_url`, without importing Pillow at start-up."""
    parts = urlsplit(value.strip())
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def _plausible_image(value: str) -> bool:
    return _is_web_url(value) or Path(value).is_absolute()


def form_path() -> Path:
    return data_dir() / FORM_FILE


def load_form_state(path: Path | None = None, spec: ModelSpec = DEFAULT_MODEL) -> FormState:
    """The saved form, or the defaults when there is none or it cannot be read; never raises. Local images that
    are no longer on disk are dropped (this touches the disk: call it off the UI thread when that matters)."""
    target = path or form_path()
    try:
        with open(target, "rb") as handle:
            data = handle.read(MAX_FILE_BYTES + 1)
    except FileNotFoundError:
        return FormState()
    except OSError as exc:
        log.info("form memory not read (%s): starting with an empty form", exc.strerror or exc)
        return FormState()
    if len(data) > MAX_FILE_BYTES:
        log.info("form memory ignored: %s is larger than %d bytes", target, MAX_FILE_BYTES)
        return FormState()
    try:
        raw = json.loads(data.decode("utf-8"))
    except (ValueError, RecursionError) as exc:
        log.info("form memory ignored: %s is not valid JSON (%s)", target, type(exc).__name__)
        return FormState()
    state = FormState.from_dict(raw, spec)
    images = tuple(i for i in state.images if _still_there(i))
    last = state.last_frame if state.last_frame and _still_there(state.last_frame) else None
    return replace(state, images=images, last_frame=last)


def _still_there(source: str) -> bool:
    if _is_web_url(source):
        return True
    try:
        return Path(source).is_file()
    except OSError:
        return False


def save_form_state(state: FormState, path: Path | None = None) -> None:
    """Write the form atomically (a temporary file renamed over the old one): a crash leaves the old file or the
    new one, never half of one. Safe to call from any thread; raises OSError when the disk refuses."""
    target = path or form_path()
    payload = json.dumps(state.to_dict(), indent=1).encode("utf-8")
    with _save_lock:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(payload)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, target)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise


def remember_prompt(prompts: Sequence[str], prompt: str, limit: int = MAX_RECENT) -> list[str]:
    """The recent prompts with `prompt` first (said once, newest first, at most `limit`)."""
    prompt = prompt.strip()
    rest = [p for p in prompts if p != prompt]
    if not prompt or not _clean_text(prompt):
        return rest[:limit]
    return [prompt, *rest][:limit]


__all__ = [
    "FORM_FILE",
    "FormState",
    "form_path",
    "load_form_state",
    "remember_prompt",
    "save_form_state",
]
