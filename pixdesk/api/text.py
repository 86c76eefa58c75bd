"""Text that came from a server, made safe to show: one line, no terminal tricks, no secrets.

A server (or a proxy in front of it) decides what its error messages say. Shown raw, a message could
move the cursor or recolour a terminal (ANSI escapes), reorder what the user reads (bidi overrides),
hide characters (zero-width), or repeat the API key the request carried. `clean_text` removes all of
that; the secret registry here is also what the log filter (`pixdesk.logs`) redacts with.
"""

from __future__ import annotations

import re
import threading

MIN_SECRET = 6
ELLIPSIS = "…"

# "Bearer <token>" anywhere (a header echoed in a message, a traceback...): the token goes.
BEARER = re.compile(r"(Bearer\s+)[^\s'\"]+", re.IGNORECASE)

# Terminal escape sequences, 7-bit (ESC ...) and 8-bit (C1 introducers) forms:
# CSI (ESC [ ... final), OSC (ESC ] ... BEL/ST), DCS/SOS/PM/APC (ESC P|X|^|_ ... ST), then any other
# two-character escape. An unterminated string sequence runs to the end of the text.
_ESCAPES = re.compile(
    r"""
    (?:\x1b\[|\x9b) [\x30-\x3f]* [\x20-\x2f]* [\x40-\x7e]?       # CSI
  | (?:\x1b\]|\x9d) .*? (?:\x07|\x1b\\|\x9c|$)                  # OSC
  | (?:\x1b[PX^_]|[\x90\x98\x9e\x9f]) .*? (?:\x1b\\|\x9c|$)     # DCS, SOS, PM, APC
  | \x1b [\x20-\x2f]* [\x30-\x7e]?                              # other escapes (and a lone ESC)
    """,
    re.VERBOSE | re.DOTALL,
)
# Whitespace-like controls become a space; every other C0/C1 control and DEL goes.
_SPACES = re.compile(r"[\t\n\v\f\r\x85\u2028\u2029]")
_CONTROLS = re.compile(r"[\x00-\x1f\x7f-\x9f]")
# Every format character (Unicode category Cf, as of Unicode 15): bidi embeddings/overrides/isolates
# (U+202A-202E, U+2066-2069) and marks, zero-width ones (U+200B-200D, U+2060, U+FEFF), the soft hyphen,
# invisible "tag" characters (U+E0000 block, used to smuggle hidden text)... and lone surrogates, which
# JSON can carry but no display or log file can encode.
_INVISIBLE = re.compile(
    "[\u00ad\u0600-\u0605\u061c\u06dd\u070f\u0890-\u0891\u08e2\u180e\u200b-\u200f\u202a-\u202e"
    "\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb\U000110bd\U000110cd\U00013430-\U0001343f"
    "\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0001\U000e0020-\U000e007f\ud800-\udfff]"
)

_lock = threading.Lock()
_extra_secrets: list[str] = []


def register_secret(value: str | None) -> None:
    """Remember `value` (an API key) so that `redact` and `clean_text` never let it through.

    Values shorter than MIN_SECRET are ignored: redacting "abc" everywhere would mangle ordinary text.
    """
    if not value:
        return
    value = value.strip()
    if len(value) < MIN_SECRET:
        return
    with _lock:
        if value not in _extra_secrets:
            _extra_secrets.append(value)
            _extra_secrets.sort(key=len, reverse=True)  # a longer secret containing a shorter one goes first


def redact(text: str) -> str:
    """`text` with every registered secret and any `Bearer <token>` replaced by `***`."""
    with _lock:
        secrets = tuple(_extra_secrets)
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, "***")
    return BEARER.sub(r"\1***", text)


def strip_controls(text: str) -> str:
    """Remove escape sequences, controls and invisible characters; newlines and tabs become spaces."""
    text = _ESCAPES.sub("", text)
    text = _SPACES.sub(" ", text)
    text = _CONTROLS.sub("", text)
    return _INVISIBLE.sub("", text)


def has_controls(text: str) -> bool:
    """True when `text` holds a control, escape or invisible character (an id must not)."""
    return bool(_CONTROLS.search(text) or _INVISIBLE.search(text) or _SPACES.search(text))


def clean_text(text: str, limit: int = 500) -> str:
    """One clean line of at most `limit` characters, safe to show in a label, a terminal or a log.

    Secrets are redacted both on the raw text and on the cleaned one (a key split by invisible
    characters shows up only once they are gone), and before truncation (so half a key is never shown).
    """
    if limit <= 0:
        return ""
    text = redact(str(text))
    text = strip_controls(text)
    text = redact(" ".join(text.split()))
    if len(text) > limit:
        text = text[: limit - 1].rstrip() + ELLIPSIS
    return text
