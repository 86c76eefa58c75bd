"""Body validation as the API does it, for every model of the family: each field of the model's schema (the
catalogue states the same facts as the official copies), answered in the service's zod-like words.

A client bug that only the real service would catch costs the user a refused job (or worse, a paid one
made without what they asked for), so the simulator refuses exactly what the service refuses: unknown keys,
missing required fields, wrong JSON types (a boolean is not an integer), values outside an enum, over-long
text, impossible combinations (1080p only lasts 5 s), lip-sync's either/or, and inputs that are neither an
https URL nor a well-formed data URI of the right media type.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from pixdesk.api.catalogue import MODELS, ModelSpec, Param

FILES_PREFIX = "/files/"
LOOPBACK_HOSTS = ("127.0.0.1", "localhost")
# The data URI types each kind of input accepts (the API's own list for images; what PixVerse reads for the rest).
DATA_TYPES: dict[str, tuple[str, ...]] = {
    "image": ("image/jpeg", "image/png"),
    "video": ("video/mp4", "video/quicktime", "video/webm"),
    "audio": ("audio/wav", "audio/mpeg", "audio/mp4", "audio/x-wav", "audio/mp3", "audio/x-m4a"),
}
_TYPE_WORDS = {"image": "JPEG and PNG", "video": "MP4, QuickTime and WebM", "audio": "WAV, MP3 and M4A"}


def json_type(value: Any) -> str:
    """The JSON type of a decoded value, in zod's words (`True` is a boolean, never an integer)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def expected_type(param: Param) -> str:
    if param.kind == "bool":
        return "boolean"
    if param.kind == "int" or (param.kind == "enum" and param.choices and isinstance(param.choices[0], int)):
        return "integer"
    return "string"


def own_file_name(url: str) -> str | None:
    """The file name of a simulator download URL (`http://127.0.0.1:<port>/files/<name>.mp4`, any port: a
    restarted demo simulator still has the file), or None for any other URL."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme != "http" or parts.hostname not in LOOPBACK_HOSTS or not parts.path.startswith(FILES_PREFIX):
        return None
    name = parts.path[len(FILES_PREFIX) :]
    if not name.endswith(".mp4") or "/" in name or name.startswith(".") or parts.query or parts.fragment:
        return None
    return name


def _is_own(url: str, own_url: str | None) -> bool:
    """Whether `url` points at this simulator (`own_url` is its base URL, or None before it listens)."""
    if own_url is None:
        return False
    try:
        own, parts = urlsplit(own_url), urlsplit(url)
        return parts.scheme == own.scheme and parts.hostname in LOOPBACK_HOSTS and parts.port == own.port
    except ValueError:  # a malformed host or a port out of range
        return False


def _https(url: str) -> bool:
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return parts.scheme == "https" and bool(parts.hostname) and not any(c.isspace() for c in url)


def check_input(param: Param, url: str, own_url: str | None) -> str | None:
    """Why `url` is not acceptable for the named input `param` (an image, a clip, a recording), or None."""
    name, kind = param.name, param.kind
    if url.startswith("data:"):
        head, comma, payload = url.partition(",")
        mime, _, encoding = head[5:].partition(";")
        if mime.lower() not in DATA_TYPES[kind] or encoding.lower() != "base64" or not comma:
            return f"{name}: Only {_TYPE_WORDS[kind]} data URIs (base64) are accepted"
        try:
            if not base64.b64decode(payload, validate=True):
                return f"{name}: Invalid base64 data: empty"
        except (binascii.Error, ValueError):
            return f"{name}: Invalid base64 data"
        return None
    if _https(url):
        return None
    if _is_own(url, own_url):
        if kind == "image":
            return None
        if kind == "video" and own_file_name(url) is not None:
            return None
    what = {"image": "an image", "video": "a video", "audio": "an audio file"}[kind]
    return f"{name}: Invalid url: expected an https URL or a data URI of {what}"


def _check_value(param: Param, value: Any, own_url: str | None) -> str | None:
    name = param.name
    got, want = json_type(value), expected_type(param)
    if got != want:
        return f"{name}: Expected {want}, received {got}"
    if param.kind == "enum":
        if value not in param.choices:
            allowed = " | ".join(repr(c) for c in param.choices)
            return f"{name}: Invalid enum value. Expected {allowed}, received {value!r}"
        return None
    if param.kind == "int":
        low = param.minimum if param.minimum is not None else -(2**31)
        high = param.maximum if param.maximum is not None else 2**31 - 1
        if not low <= value <= high:
            return f"{name}: Number must be an integer between {low} and {high}"
        return None
    if param.kind == "bool":
        return None
    if param.required and not value.strip():
        return f"{name}: String must contain at least 1 character(s)"
    if param.max_length is not None and len(value) > param.max_length:
        return f"{name}: String must contain at most {param.max_length} character(s)"
    if param.is_input:
        return check_input(param, value, own_url)
    return None


def _one_of(spec: ModelSpec, body: Mapping[str, Any], bad: set[str]) -> list[str]:
    """Lip-sync: `audio_url`, or `lip_sync_tts_content` with `lip_sync_tts_speaker`; never both, never neither."""
    assert spec.one_of is not None
    audio, line = spec.one_of.first, spec.one_of.second
    speaker = "lip_sync_tts_speaker"
    has = {k: k in body for k in (audio, line, speaker)}
    if has[audio] and (has[line] or has[speaker]):
        return [f"{audio}: Use either {audio} or {line} with {speaker}, not both"]
    if not any(has.values()):
        return [f"{audio}: Required: give {audio}, or {line} with {speaker}"]
    problems = []
    if has[line] and line not in bad and isinstance(body[line], str) and not body[line].strip():
        problems.append(f"{line}: String must contain at least 1 character(s)")
    if has[line] and not has[speaker]:
        problems.append(f"{speaker}: Required with {line}")
    if has[speaker] and not has[line]:
        problems.append(f"{line}: Required with {speaker}")
    return problems


def validate_body(body: Any, own_url: str | None = None) -> list[str]:
    """Every problem with a create body, each naming its field ("duration: ..."); empty when it is valid.

    `own_url` is the simulator's base URL: its own URLs are accepted as images and its download URLs as clips."""
    if not isinstance(body, dict):
        return [f"body: Expected object, received {json_type(body)}"]
    spec = MODELS.get(body["model"]) if isinstance(body.get("model"), str) else None
    if spec is None:
        if "model" not in body:
            return ["model: Required"]
        return [
            f"model: Invalid enum value. Expected {' | '.join(repr(m) for m in MODELS)}, received {body['model']!r}"
        ]
    problems: list[str] = []
    known = {p.name for p in spec.params} | {"model"}
    problems += [f"{key}: Unrecognized key" for key in body if key not in known]
    bad: set[str] = set()
    for param in spec.params:
        if param.name not in body:
            if param.required:
                problems.append(f"{param.name}: Required")
                bad.add(param.name)
            continue
        problem = _check_value(param, body[param.name], own_url)
        if problem:
            problems.append(problem)
            bad.add(param.name)
    if spec.one_of is not None:
        problems += _one_of(spec, body, bad)
    for ex in spec.exclusions:
        if ex.when_param in bad or ex.forbid_param in bad:
            continue
        when = body.get(ex.when_param, spec.param(ex.when_param).default)
        forbid = body.get(ex.forbid_param, spec.param(ex.forbid_param).default)
        if when == ex.when_value and forbid == ex.forbid_value and json_type(forbid) == json_type(ex.forbid_value):
            problems.append(f"{ex.forbid_param}: {ex.reason}")
    return problems


__all__ = ["DATA_TYPES", "check_input", "json_type", "own_file_name", "validate_body"]
