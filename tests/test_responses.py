"""The response parser against generated and hostile answers: typed results or typed errors, never a crash."""

from __future__ import annotations

import contextlib

from hypothesis import given, settings
from hypothesis import strategies as st

from pixdesk.api.errors import MalformedResponseError
from pixdesk.api.responses import Outcome, check_video_url, classify, parse_balance, parse_created, parse_status

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
    if result.video is not None:
        assert isinstance(result.video.url, str)
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
