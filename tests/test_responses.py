"""The response parser against generated and hostile answers: typed results or typed errors, never a crash."""

from __future__ import annotations

import contextlib
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pixdesk.api.errors import MalformedResponseError
from pixdesk.api.responses import Outcome, check_video_url, classify, parse_balance, parse_created, parse_status
from pixdesk.api.text import clean_text, redact, register_secret


def visible_only(text: str | None) -> bool:
    """No control (Cc) or format (Cf: bidi, zero-width) character: nothing that acts instead of showing."""
    return text is None or all(unicodedata.category(ch) not in ("Cc", "Cf") for ch in text)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=50),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=20,
)
status_like = st.fixed_dictionaries(
    {},
    optional={
        "id": st.one_of(st.text(max_size=80), st.integers(), st.none(), json_values),
        "status": st.one_of(
            st.sampled_from(
                [
                    "queued",
                    "generating",
                    "completed",
                    "succeeded",
                    "error",
                    "failed",
                    "waiting",
                    "active",
                    "rendering",
                    "",
                ]
            ),
            st.text(max_size=60),
            json_values,
        ),
        "video": st.one_of(
            st.none(),
            json_values,
            st.fixed_dictionaries(
                {},
                optional={
                    "url": st.one_of(st.text(max_size=80), json_values),
                    "file_name": st.one_of(st.text(), json_values),
                    "file_size": st.one_of(st.integers(), json_values),
                    "content_type": json_values,
                },
            ),
        ),
        "error": st.one_of(st.none(), st.text(max_size=50), json_values),
        "meta": json_values,
    },
)


@settings(max_examples=400, deadline=None)
@given(st.one_of(status_like, json_values))
def test_parse_status_never_crashes(data):
    try:
        result = parse_status(data)
    except MalformedResponseError:
        return
    assert isinstance(result.id, str) and result.id.strip()
    assert isinstance(result.status, str) and 0 < len(result.status) <= 40
    assert result.outcome in Outcome
    assert not any(unicodedata.category(ch) == "Cc" for ch in result.id)
    for shown in (result.status, result.error_name, result.error_message):
        assert visible_only(shown)
    if result.video is not None:
        assert isinstance(result.video.url, str)
        assert visible_only(result.video.file_name) and visible_only(result.video.content_type)
        assert result.video.file_size is None or result.video.file_size > 0
    assert result.credits_used is None or result.credits_used >= 0


@settings(max_examples=200, deadline=None)
@given(st.one_of(status_like, json_values))
def test_parse_created_and_balance_never_crash(data):
    for parser in (parse_created, parse_balance):
        with contextlib.suppress(MalformedResponseError):
            parser(data)


@given(st.text(max_size=100))
def test_only_http_urls_pass(url):
    with contextlib.suppress(MalformedResponseError):
        assert check_video_url(url).split(":", 1)[0] in ("http", "https")


def test_status_words():
    assert classify("completed") is Outcome.DONE and classify("succeeded") is Outcome.DONE
    assert classify("error") is Outcome.FAILED and classify("failed") is Outcome.FAILED
    for word in ("queued", "generating", "waiting", "active", "rendering", "something-new"):
        assert classify(word) is Outcome.WORKING  # unknown words mean: still working


def test_error_object_and_credits_are_read():
    result = parse_status(
        {
            "id": "a:b/c",
            "status": "error",
            "error": {"name": "X", "message": "Blocked"},
            "meta": {"usage": {"credits_used": 0}},
        }
    )
    assert result.outcome is Outcome.FAILED and result.error_message == "Blocked" and result.credits_used == 0


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("\x1b[1;31mRed\x1b[0m alert", "Red alert"),
        ("title\x1b]0;pwned\x07 here \x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\", "title here link"),
        ("a\tb\nc\r\nd", "a b c d"),
        ("nul\x00bell\x07del\x7f c1\x85\x9b31mC1", "nulbelldel c1 C1"),
        ("\u202egnp.exe\u202c and \u2066iso\u2069", "gnp.exe and iso"),
        ("zero\u200bwidth\ufeff\u2060", "zerowidth"),
        ("   many     spaces   ", "many spaces"),
        ("lone escape \x1b", "lone escape"),
    ],
)
def test_clean_text_leaves_only_what_shows(raw: str, shown: str):
    assert clean_text(raw) == shown


def test_clean_text_truncates_with_an_ellipsis():
    assert clean_text("x" * 600) == "x" * 499 + "…"
    assert clean_text("abcdef", 4) == "abc…" and clean_text("abc", 4) == "abc"


def test_registered_secrets_and_bearer_tokens_are_redacted():
    register_secret("sk-responses-test-123456")
    register_secret("short")  # too short to redact safely: ignored
    assert redact("key sk-responses-test-123456 and Bearer abc.def") == "key *** and Bearer ***"
    assert clean_text("k=sk-responses\u200b-test-123456") == "k=***"  # hidden by an invisible char
    assert clean_text("x" * 490 + " sk-responses-test-123456", 500) == "x" * 490 + " ***"  # never half a key
    assert redact("short") == "short"


def test_the_log_module_shares_the_registry():
    from pixdesk.logs import add_secret

    add_secret("log-secret-abcdef")
    assert redact("log-secret-abcdef") == "***"


@pytest.mark.parametrize("bad_id", ["a\x1bb", "id\nwith-newline", "rtl\u202eid", "nul\x00"])
def test_an_id_with_control_characters_is_malformed(bad_id: str):
    with pytest.raises(MalformedResponseError, match="control"):
        parse_status({"id": bad_id, "status": "queued"})


def test_shown_fields_are_cleaned_and_the_id_is_kept_exact():
    result = parse_status(
        {
            "id": "8ac1:pixverse/v5/image-to-video",
            "status": "\x1b[5mgenerating\x1b[0m",
            "video": {"url": "https://cdn/x.mp4", "file_name": "clip\u202e4pm.exe\n"},
            "error": {"name": "\x9b2JName", "message": "line one\nline two\x07"},
        }
    )
    assert result.id == "8ac1:pixverse/v5/image-to-video"
    assert result.status == "generating" and result.outcome is Outcome.WORKING
    assert result.video is not None and result.video.file_name == "clip4pm.exe"
    assert result.error_name == "Name" and result.error_message == "line one line two"
    assert parse_balance({"current_balance": 1, "currency": "\x1b[31mEUR"}).currency == "EUR"


def test_a_video_link_with_controls_is_refused():
    with pytest.raises(MalformedResponseError):
        check_video_url("https://cdn.example/x.mp4\r\nX-Evil: 1")
