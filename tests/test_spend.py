"""What jobs cost, from the store: charged when the ledger agrees, reported, estimated; demo never counts."""

from __future__ import annotations

import json
import time

import pytest

from pixdesk.api.request import GenerationRequest
from pixdesk.cli import main
from pixdesk.config import database_path
from pixdesk.jobs.models import Job, JobState
from pixdesk.jobs.spend import CostSource, cost_of, spend_of, start_of_day
from pixdesk.jobs.store import JobStore

REQUEST = GenerationRequest(image="/tmp/x.png", prompt="a clip")


def job(**changes: object) -> Job:
    base: dict[str, object] = {"request": REQUEST, "backend": "https://api", "server_id": "gen-1"}
    base.update(changes)
    return Job(**base)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("made", "usd", "source", "label"),
    [
        (job(state=JobState.COMPLETED, usd_spent=0.4, charged_usd=0.45), 0.45, CostSource.CHARGED, "charged $0.45"),
        (job(state=JobState.COMPLETED, usd_spent=0.4), 0.4, CostSource.REPORTED, "awaiting ledger"),
        (job(state=JobState.COMPLETED, credits=1_000_000), 0.5, CostSource.REPORTED, "$0.50"),
        (job(state=JobState.GENERATING, estimated_usd=0.3), 0.3, CostSource.ESTIMATED, "estimated $0.30"),
        (job(state=JobState.FAILED, estimated_usd=0.3), 0.0, CostSource.NONE, ""),  # failures are not charged
        (job(state=JobState.WAITING, server_id=None, estimated_usd=0.3), 0.0, CostSource.NONE, ""),  # never sent
        (job(state=JobState.COMPLETED, backend="demo", usd_spent=0.4), 0.0, CostSource.NONE, ""),  # demo is free
    ],
)
def test_what_a_job_cost(made: Job, usd: float, source: CostSource, label: str):
    cost = cost_of(made)
    assert cost.usd == pytest.approx(usd) and cost.source is source and label in cost.label


def test_todays_spend_counts_charges_and_what_is_in_flight_but_not_demo_or_yesterday():
    now = time.time()
    jobs = [
        job(state=JobState.COMPLETED, charged_usd=0.5, created_at=now),
        job(state=JobState.QUEUED, estimated_usd=0.25, created_at=now),
        job(state=JobState.COMPLETED, usd_spent=9.0, backend="demo", created_at=now),
        job(state=JobState.COMPLETED, charged_usd=7.0, created_at=start_of_day(now) - 60),
    ]
    today = spend_of(jobs, start_of_day(now))
    assert today.usd == pytest.approx(0.5) and today.in_flight_usd == pytest.approx(0.25)
    assert today.total_usd == pytest.approx(0.75) and today.jobs == 2


def test_spend_command_prints_today_month_and_jobs(capsys: pytest.CaptureFixture[str]):
    store = JobStore(database_path())
    store.save(job(state=JobState.COMPLETED, charged_usd=0.55))
    store.save(job(state=JobState.COMPLETED, usd_spent=3.0, backend="demo"))
    store.close()
    assert main(["spend", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["today"]["usd"] == pytest.approx(0.55) and data["month"]["jobs"] == 1
    assert [(r["usd"], r["source"]) for r in data["jobs"]] == [(0.55, "charged")]
    assert main(["spend"]) == 0
    out = capsys.readouterr().out
    assert "Today" in out and "$0.55" in out and "charged" in out


def test_a_row_says_charged_only_once_the_ledger_agrees(
    sim, tmp_path, png, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
):
    """The charge posts after completion: before the ledger has it the job is "awaiting ledger"; `pixdesk
    spend` asks the ledger and then says "charged"."""
    from tests.conftest import TEST_KEY

    sim.ledger_lag_seconds = 3600.0  # not posted yet
    monkeypatch.setenv("AIMLAPI_KEY", TEST_KEY)
    monkeypatch.setenv("AIMLAPI_BASE_URL", sim.url)
    assert main(["generate", str(png), "--prompt", "x", "--resolution", "360p", "--out", str(tmp_path)]) == 0
    capsys.readouterr()
    assert main(["spend", "--json"]) == 0
    (row,) = json.loads(capsys.readouterr().out)["jobs"]
    assert row["source"] == "reported"
    sim.ledger_lag_seconds = 0.0  # the charge has posted now
    assert main(["spend", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    (row,) = data["jobs"]
    assert row["source"] == "charged" and row["usd"] > 0 and data["today"]["usd"] == pytest.approx(row["usd"])
