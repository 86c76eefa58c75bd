"""`pixdesk price`, `generate --max-usd` and what a finished job says it cost, against the simulator."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pixdesk.cli import main
from pixdesk.simulator import Simulator
from pixdesk.simulator.billing import variable_pricing
from tests.conftest import SAMPLES

MODEL = "pixverse/v5/image-to-video"


def price(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, object]]:
    code = main(["price", "--json", *args])
    return code, json.loads(capsys.readouterr().out)


def test_price_is_live_then_revalidated_then_cached_offline(live: Simulator, capsys: pytest.CaptureFixture[str]):
    code, first = price(capsys, "--resolution", "720p", "--duration", "5")
    assert code == 0 and first["source"] == "live"
    assert first["usd"] == pytest.approx(first["credits"] / 2_000_000) and first["usd"] > 0
    code, again = price(capsys, "--resolution", "720p", "--duration", "5")
    assert code == 0 and again == first and live.stats.not_modified == 1  # the ETag saved a download
    code, three = price(capsys, "--resolution", "720p", "--duration", "5", "--variations", "3")
    assert three["usd"] == pytest.approx(3 * first["usd"])  # type: ignore[operator]
    code, longer = price(capsys, "--resolution", "720p", "--duration", "8")
    assert longer["usd"] > first["usd"]  # type: ignore[operator]
    live.stop()  # the network is gone: the cached price still answers, and says so
    code, offline = price(capsys, "--resolution", "720p", "--duration", "5")
    assert code == 0 and offline["source"] == "cached" and offline["usd"] == first["usd"]
    assert main(["price", "--resolution", "720p"]) == 0
    assert "cached price" in capsys.readouterr().out


def test_price_unknown_when_offline_with_nothing_cached(live: Simulator, capsys: pytest.CaptureFixture[str]):
    live.stop()
    code, answer = price(capsys)
    assert code == 4 and answer == {"usd": None, "credits": None, "source": "unknown"}


def test_a_variable_price_cannot_be_quoted(live: Simulator, capsys: pytest.CaptureFixture[str]):
    live.set_pricing(MODEL, variable_pricing())
    code, answer = price(capsys)
    assert code == 4 and answer["source"] == "unknown"


def test_max_usd_refuses_before_any_create_when_over(
    live: Simulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    args = ["generate", str(SAMPLES / "portrait.png"), "--prompt", "x", "--out", str(tmp_path / "a.mp4")]
    assert main([*args, "--resolution", "1080p", "--max-usd", "0.05"]) == 2
    assert "over --max-usd" in capsys.readouterr().err and live.create_requests == 0
    live.set_pricing(MODEL, variable_pricing())
    assert main([*args, "--max-usd", "100"]) == 2
    assert "no price is known" in capsys.readouterr().err and live.create_requests == 0


def test_a_finished_job_reports_its_estimate_and_its_cost(
    live: Simulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    code, quote = price(capsys, "--resolution", "360p", "--duration", "5")
    assert code == 0
    args = ["generate", str(SAMPLES / "portrait.png"), "--prompt", "x", "--resolution", "360p"]
    assert main([*args, "--out", str(tmp_path / "a.mp4"), "--max-usd", "10", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["estimated_usd"] == pytest.approx(quote["usd"])
    assert summary["usd_spent"] == pytest.approx(quote["usd"])  # the simulator charges what it quotes
    assert summary["credits_used"] == quote["credits"] and summary["client_request_id"]
    assert main(["jobs", "--json"]) == 0
    (row,) = json.loads(capsys.readouterr().out)
    assert row["usd_spent"] == pytest.approx(quote["usd"]) and row["demo"] is False
