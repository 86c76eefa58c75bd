"""What tells clips apart: for each request of a set, a short label naming only what differs from the others.

The compare grid puts this label over each clip: "seed 42 · +sunset −rain" says at a glance why two clips differ,
where the full settings would bury it. A setting is named on every label as soon as it differs anywhere in the
set (so each clip shows its own value); prompts are compared word by word. Qt-free: the CLI or a report can use it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from pathlib import PurePosixPath, PureWindowsPath
from urllib.parse import unquote, urlsplit

from pixdesk.api.catalogue import STYLE_LABELS, get_model
from pixdesk.api.request import GenerationRequest

PROMPT_WORDS_MAX = 60  # characters of "+word −word" shown; a longer list ends with an ellipsis
QUOTE_MAX = 24  # characters of a lip-sync line or a reworded prompt quoted in a label
ELLIPSIS = "…"
SEPARATOR = " · "
SAME = "same settings"

_WORD = re.compile(r"[^\W_]+(?:['’-][^\W_]+)*")
# Words too common to tell prompts apart: "+a −the" would be noise on a label.
STOP_WORDS = frozenset(
    {"a", "an", "the", "and", "or", "but", "of", "in", "on", "at", "to", "into", "onto", "from", "by", "for"}
    | {"with", "without", "as", "is", "are", "be", "its", "it", "this", "that"}
)


def differences(requests: Sequence[GenerationRequest]) -> list[str]:
    """One label per request (same order) naming what sets it apart from the others.

    Identical requests are numbered ("#1 · same settings"); two labels that would read the same while other
    clips differ get "#n" too, so every clip of the grid can be told apart by its label.
    """
    count = len(requests)
    if count == 0:
        return []
    columns = [
        _image_labels([r.image for r in requests]),
        _setting(requests, _seed),
        _prompt_differences([r.prompt for r in requests]),
        _negative_differences([r.negative_prompt for r in requests]),
        *(_setting(requests, describe) for describe in _SETTINGS),
    ]
    parts = [[column[i] for column in columns if column[i]] for i in range(count)]
    labels = [SEPARATOR.join(p) for p in parts]
    if all(not label for label in labels):
        return [f"#{i + 1}{SEPARATOR}{SAME}" for i in range(count)]
    seen: dict[str, list[int]] = {}
    for i, label in enumerate(labels):
        seen.setdefault(label, []).append(i)
    for label, where in seen.items():
        if len(where) > 1 or not label:
            for i in where:
                labels[i] = f"{label}{SEPARATOR}#{i + 1}" if label else f"#{i + 1}"
    return labels


def words(text: str | None) -> list[str]:
    """The words of a prompt, lower case, in order, without repeats (punctuation and spacing do not count)."""
    found: dict[str, None] = {}
    for match in _WORD.finditer((text or "").lower()):
        found.setdefault(match.group(0).replace("’", "'"), None)
    return list(found)


def trim(text: str, limit: int) -> str:
    """`text` cut at a word boundary to at most `limit` characters, with an ellipsis when cut."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    if " " in cut and not text[limit - 1].isspace():
        cut = cut.rsplit(" ", 1)[0]
    return cut.rstrip() + ELLIPSIS


# -- the settings, each as it reads on a label ------------------------------------------------------------
def _effective(request: GenerationRequest, name: str) -> object:
    """The value the server uses (the catalogue's default when unset); an unknown model keeps the raw value."""
    value = getattr(request, name, None)
    if value is None:
        try:
            spec = get_model(request.model)
        except KeyError:
            return None
        if spec.has(name):
            return spec.param(name).default
    return value


def _seed(r: GenerationRequest) -> str:
    return "random seed" if r.seed is None else f"seed {r.seed}"


def _style(r: GenerationRequest) -> str:
    return STYLE_LABELS.get(r.style, r.style) if r.style else "no style"


def _resolution(r: GenerationRequest) -> str:
    return str(_effective(r, "resolution") or "default resolution")


def _duration(r: GenerationRequest) -> str:
    value = _effective(r, "duration")
    return f"{value} s" if value is not None else "default duration"


def _lip_sync_line(r: GenerationRequest) -> str:
    text = " ".join((r.lip_sync_tts_content or "").split())
    return f"says “{trim(text, QUOTE_MAX)}”" if text else "no speech"


def _voice(r: GenerationRequest) -> str:
    if not (r.lip_sync_tts_content or "").strip():
        return ""  # "no speech" says it; the server ignores a voice without a line (to_body drops it)
    return f"voice {_effective(r, 'lip_sync_tts_speaker') or 'Auto'}"


def _model(r: GenerationRequest) -> str:
    return r.model.removeprefix("pixverse/")


_SETTINGS: tuple[Callable[[GenerationRequest], str], ...] = (
    _style,
    _resolution,
    _duration,
    _lip_sync_line,
    _voice,
    _model,
)


def _setting(requests: Sequence[GenerationRequest], describe: Callable[[GenerationRequest], str]) -> list[str]:
    """Every request's value of one setting when it differs anywhere in the set; empty strings when not."""
    values = [describe(r) for r in requests]
    return values if len(set(values)) > 1 else ["" for _ in values]


def _image_name(image: str) -> str:
    """How a picture reads on a label: its file name (a web address: its last path part; pasted: "pasted")."""
    image = image.strip()
    if image.startswith("data:"):
        return "pasted image"
    if image.startswith(("http://", "https://")):
        name = PurePosixPath(unquote(urlsplit(image).path)).name
        return name or urlsplit(image).netloc
    return PureWindowsPath(image).name if "\\" in image else PurePosixPath(image).name


def _image_labels(images: Sequence[str]) -> list[str]:
    """Each image's name when the pictures differ (names shared by different pictures get their folder, then a
    number); empty strings when every request animates the same picture."""
    distinct = list(dict.fromkeys(i.strip() for i in images))
    if len(distinct) <= 1:
        return ["" for _ in images]
    base = {i: _image_name(i) for i in distinct}
    names = dict(base)
    for image in distinct:
        path = PureWindowsPath(image) if "\\" in image else PurePosixPath(image)
        shared = sum(1 for other in distinct if base[other] == base[image]) > 1
        if shared and not image.startswith(("data:", "http://", "https://")) and path.parent.name:
            names[image] = f"{path.parent.name}/{path.name}"
    groups: dict[str, list[str]] = {}
    for image in distinct:
        groups.setdefault(names[image], []).append(image)
    for name, group in groups.items():
        if len(group) > 1:
            for n, image in enumerate(group):
                names[image] = f"{name} {n + 1}"
    return [names[i.strip()] for i in images]


def _prompt_differences(prompts: Sequence[str]) -> list[str]:
    """Per prompt: "+word" for its words missing from some other prompt, "−word" for words another prompt has
    and it lacks (common words left out). Prompts that differ otherwise (word order, "a" for "the", spelling
    of spaces aside) get their text quoted instead."""
    sets = [_telling_words(p) for p in prompts]
    if len({frozenset(s) for s in sets}) > 1:
        return [_word_diff(i, sets) for i in range(len(sets))]
    texts = [" ".join(p.split()) for p in prompts]
    if len(set(texts)) > 1:
        return [f"“{trim(t, QUOTE_MAX)}”" for t in texts]
    return ["" for _ in prompts]


def _negative_differences(negatives: Sequence[str | None]) -> list[str]:
    """Per negative prompt: "no negative prompt", or what it avoids that the others' do not ("avoid +blurry")."""
    texts = [" ".join((n or "").split()) for n in negatives]
    if len(set(texts)) <= 1:
        return ["" for _ in texts]
    given = [i for i, t in enumerate(texts) if t]
    diffs = _prompt_differences([texts[i] for i in given]) if len(given) > 1 else []
    labels = ["no negative prompt" for _ in texts]
    for n, i in enumerate(given):
        diff = diffs[n] if diffs and diffs[n] else f"“{trim(texts[i], QUOTE_MAX)}”"
        labels[i] = f"avoid {diff}"
    return labels


def _telling_words(text: str) -> list[str]:
    return [w for w in words(text) if w not in STOP_WORDS]


def _word_diff(i: int, sets: Sequence[Sequence[str]]) -> str:
    """ "+a +b −c" for prompt i against the others, cut after whole words to PROMPT_WORDS_MAX characters."""
    others = [set(s) for j, s in enumerate(sets) if j != i]
    mine = set(sets[i])
    added = [w for w in sets[i] if not all(w in o for o in others)]
    missing: dict[str, None] = {}
    for j, s in enumerate(sets):
        if j != i:
            for w in s:
                if w not in mine:
                    missing.setdefault(w, None)
    shown = ""
    for token in [f"+{w}" for w in added] + [f"−{w}" for w in missing]:
        candidate = f"{shown} {token}" if shown else token
        if len(candidate) > PROMPT_WORDS_MAX - 2:
            return f"{shown} {ELLIPSIS}" if shown else trim(token, PROMPT_WORDS_MAX)
        shown = candidate
    return shown
