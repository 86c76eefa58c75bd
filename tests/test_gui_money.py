"""Money in the real window against the real simulator: the estimate next to Generate, the spending guard,
each row's cost and the status bar's spend (issue 9)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QCheckBox, QComboBox, QDoubleSpinBox, QLabel, QPushButton

from pixdesk import cli
from pixdesk.api.pricing import CREDITS_PER_USD
from pixdesk.jobs.models import JobState
from pixdesk.simulator import Simulator
from pixdesk.simulator.billing import variable_pricing
from pixdesk.ui.main_window import MainWindow
from pixdesk.ui.queue_model import JobRole
from tests.conftest import SAMPLES, ScriptedPrompter
from tests.gui_helpers import find
from tests.test_gui import fill, rows

MODEL = "pixverse/v5/image-to-video"
IMAGE = SAMPLES / "portrait.png"


def estimate_label(win: MainWindow) -> QLabel:
    label = find(win, "estimateLabel")
    assert isinstance(label, QLabel)
    return label


def combo(win: MainWindow, name: str) -> QComboBox:
    widget = find(win, name)
    assert isinstance(widget, QComboBox)
    return widget


def cli_price(capsys: pytest.CaptureFixture[str], resolution: str, duration: int) -> dict[str, Any]:
    """What `pixdesk price --json` says for these settings (same server, same environment as the window)."""
    capsys.readouterr()
    assert cli.main(["price", "--resolution", resolution, "--duration", str(duration), "--json"]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert isinstance(answer, dict)
    return answer


def prompter_of(win: MainWindow) -> ScriptedPrompter:
    prompter = win.controller.prompter
    assert isinstance(prompter, ScriptedPrompter)
    return prompter


def click_generate(qtbot: Any, win: MainWindow) -> None:
    button = find(win, "generateButton")
    assert isinstance(button, QPushButton) and button.isEnabled()
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def status_text(win: MainWindow) -> str:
    return win.statusBar().currentMessage()


# -- 1. the estimate -----------------------------------------------------------------------------------------
def test_the_estimate_shows_dollars_matching_pixdesk_price_and_follows_the_form(
    qtbot: Any, window: MainWindow, capsys: pytest.CaptureFixture[str]
) -> None:
    resolution, duration = combo(window, "resolutionCombo"), combo(window, "durationCombo")
    resolution.setCurrentIndex(resolution.findData("540p"))
    duration.setCurrentIndex(duration.findData(5))
    quote = cli_price(capsys, "540p", 5)
    assert quote["source"] == "live" and quote["usd"] > 0
    qtbot.waitUntil(lambda: estimate_label(window).text() == f"≈ ${quote['usd']:,.2f}")
    tip = estimate_label(window).toolTip()
    assert f"{quote['credits']:,} credits" in tip and f"$1 = {CREDITS_PER_USD:,} credits" in tip

    before = estimate_label(window).text()
    resolution.setCurrentIndex(resolution.findData("1080p"))
    higher = cli_price(capsys, "1080p", 5)
    assert higher["usd"] > quote["usd"]
    assert estimate_label(window).text() == f"≈ ${higher['usd']:,.2f}" != before

    resolution.setCurrentIndex(resolution.findData("720p"))
    duration.setCurrentIndex(duration.findData(8))
    longer = cli_price(capsys, "720p", 8)
    assert estimate_label(window).text() == f"≈ ${longer['usd']:,.2f}"
    assert window.inputs.count == 1


def test_a_variable_price_says_price_unknown(qtbot: Any, window: MainWindow, sim: Simulator) -> None:
    qtbot.waitUntil(lambda: estimate_label(window).text().startswith("≈ $"))
    sim.set_pricing(MODEL, variable_pricing())
    window.refresh_prices()  # what a settings change does
    qtbot.waitUntil(lambda: estimate_label(window).text() == "price unknown")
    assert window.prices_settled()


# -- 2. the spending guard -----------------------------------------------------------------------------------
def test_the_guard_asks_over_the_amount_and_declining_sends_nothing(
    qtbot: Any, window: MainWindow, sim: Simulator
) -> None:
    window.settings.confirm_over_usd = 0.01
    fill(qtbot, window, IMAGE, "A slow pan over the hills")
    qtbot.waitUntil(lambda: estimate_label(window).text().startswith("≈ $"))
    prompter = prompter_of(window)
    prompter.answers.append(False)
    click_generate(qtbot, window)
    qtbot.waitUntil(lambda: len(prompter.asked) == 1)
    title, text = prompter.asked[0]
    assert estimate_label(window).text()[2:] in title and "$0.01" in text
    assert window.model.rowCount() == 0 and sim.create_requests == 0

    prompter.answers.append(True)  # a declined click is not remembered as a double click: this one is asked again
    click_generate(qtbot, window)
    qtbot.waitUntil(lambda: bool(rows(window)) and rows(window)[0].startswith("completed"), timeout=30000)
    assert len(prompter.asked) == 2 and sim.create_requests == 1


def test_an_unknown_price_is_asked_about_first(qtbot: Any, window: MainWindow, sim: Simulator) -> None:
    sim.set_pricing(MODEL, variable_pricing())
    window.refresh_prices()
    qtbot.waitUntil(lambda: estimate_label(window).text() == "price unknown")
    fill(qtbot, window, IMAGE, "A slow pan over the hills")
    prompter = prompter_of(window)
    prompter.answers.append(False)
    click_generate(qtbot, window)
    qtbot.waitUntil(lambda: len(prompter.asked) == 1)
    assert "unknown" in prompter.asked[0][0].lower()
    assert sim.create_requests == 0 and window.model.rowCount() == 0


def test_the_daily_budget_blocks_with_a_message_and_sends_nothing(
    qtbot: Any, window: MainWindow, sim: Simulator
) -> None:
    window.settings.daily_budget_usd = 0.05
    fill(qtbot, window, IMAGE, "A slow pan over the hills")
    qtbot.waitUntil(lambda: estimate_label(window).text().startswith("≈ $"))
    click_generate(qtbot, window)
    hint = find(window, "generateHint")
    assert isinstance(hint, QLabel)
    qtbot.waitUntil(lambda: "daily budget" in hint.text())
    assert hint.isVisible() and "Not sent" in hint.text() and "$0.05" in hint.text()
    assert "daily budget" in status_text(window)
    assert prompter_of(window).asked == []
    assert sim.create_requests == 0 and window.model.rowCount() == 0


def test_the_budget_counts_todays_jobs_in_flight(qtbot: Any, window: MainWindow, sim: Simulator) -> None:
    """One job fits the budget, the second would not: charged + in flight + this one is over."""
    fill(qtbot, window, IMAGE, "A slow pan over the hills")
    qtbot.waitUntil(lambda: estimate_label(window).text().startswith("≈ $"))
    one = window.quote(window.inputs.request())
    assert one is not None
    window.settings.daily_budget_usd = one.usd * 1.5
    click_generate(qtbot, window)
    qtbot.waitUntil(lambda: window.model.rowCount() == 1)
    qtbot.keyClicks(find(window, "promptEdit"), ", then back")  # another job, not a double click
    click_generate(qtbot, window)
    qtbot.waitUntil(lambda: "daily budget" in window.inputs.hint.text())
    assert window.model.rowCount() == 1


def test_with_the_guard_off_nothing_is_asked_or_blocked(qtbot: Any, window: MainWindow, sim: Simulator) -> None:
    window.settings.spending_guard = False
    window.settings.daily_budget_usd = 0.0
    window.settings.confirm_over_usd = 0.0
    fill(qtbot, window, IMAGE, "A slow pan over the hills")
    click_generate(qtbot, window)
    qtbot.waitUntil(lambda: bool(rows(window)) and rows(window)[0].startswith("completed"), timeout=30000)
    assert prompter_of(window).asked == [] and sim.create_requests == 1


def test_the_settings_dialog_edits_and_saves_the_guard(qtbot: Any, window: MainWindow) -> None:
    from pixdesk.config import load_settings
    from pixdesk.ui.settings_dialog import SettingsDialog

    dialog = SettingsDialog(window.settings, window.runtime.keystore, window)
    qtbot.addWidget(dialog)
    check, over, budget = (
        dialog.findChild(QCheckBox, "spendingGuardCheck"),
        dialog.findChild(QDoubleSpinBox, "confirmOverSpin"),
        dialog.findChild(QDoubleSpinBox, "dailyBudgetSpin"),
    )
    assert check is not None and over is not None and budget is not None
    assert check.isChecked() and over.value() == window.settings.confirm_over_usd
    assert budget.value() == window.settings.daily_budget_usd
    over.setValue(3.5)
    budget.setValue(12.25)
    check.setChecked(False)
    assert not over.isEnabled() and not budget.isEnabled()
    dialog.apply()
    assert window.settings.spending_guard is False
    assert (window.settings.confirm_over_usd, window.settings.daily_budget_usd) == (3.5, 12.25)
    from pixdesk.config import save_settings

    save_settings(window.settings)
    saved = load_settings()
    assert (saved.spending_guard, saved.confirm_over_usd, saved.daily_budget_usd) == (False, 3.5, 12.25)


# -- 3. each row's cost --------------------------------------------------------------------------------------
COST = r"(charged \$\d+\.\d\d|\$\d+\.\d\d \(awaiting ledger\))"


def test_a_completed_jobs_row_shows_its_cost_in_dollars(qtbot: Any, window: MainWindow, sim: Simulator) -> None:
    import re

    from pixdesk.ui.queue_model import JobDelegate

    fill(qtbot, window, IMAGE, "A slow pan over the hills")
    qtbot.waitUntil(lambda: estimate_label(window).text().startswith("≈ $"))
    quoted = estimate_label(window).text().removeprefix("≈ ")
    click_generate(qtbot, window)
    qtbot.waitUntil(lambda: window.model.rowCount() == 1)
    job = window.model.index(0).data(JobRole)
    assert job.estimated_usd is not None and f"${job.estimated_usd:,.2f}" == quoted  # stored at submit
    qtbot.waitUntil(lambda: rows(window)[0].startswith("completed"), timeout=30000)
    job = window.model.index(0).data(JobRole)
    text = rows(window)[0]
    match = re.search(COST, text)
    assert match is not None, text
    assert quoted in match.group(0)  # the simulator charges what it quoted
    assert match.group(0) in JobDelegate._details(job)
    tip = window.model.index(0).data(Qt.ItemDataRole.ToolTipRole)
    assert f"Cost: {match.group(0)}" in tip


def test_a_failed_job_costs_nothing_and_shows_no_credits(qtbot: Any, window: MainWindow) -> None:
    from pixdesk.api.request import GenerationRequest
    from pixdesk.jobs.models import Job
    from pixdesk.ui.queue_model import JobDelegate, accessible_text, tooltip_text

    failed = Job(
        request=GenerationRequest(image=str(IMAGE), prompt="refused"),
        state=JobState.FAILED,
        backend=window.runtime.backend,
        server_id="gen-1",
        estimated_usd=0.4,
        credits=0,
        error="content policy",
    )
    assert "$" not in accessible_text(failed) and "$" not in JobDelegate._details(failed)
    assert "Credits" not in tooltip_text(failed) and "Cost" not in tooltip_text(failed)


# -- 4. the status bar, and demo mode ------------------------------------------------------------------------
def test_the_status_bar_shows_session_and_todays_live_spend(qtbot: Any, window: MainWindow) -> None:
    label = find(window, "spendLabel")
    assert label is window.credits_label
    assert isinstance(label, QLabel) and label.text() == "Session: $0.00 · Today: $0.00"
    fill(qtbot, window, IMAGE, "A slow pan over the hills")
    qtbot.waitUntil(lambda: estimate_label(window).text().startswith("≈ $"))
    quoted = estimate_label(window).text().removeprefix("≈ ")
    click_generate(qtbot, window)
    qtbot.waitUntil(lambda: bool(rows(window)) and rows(window)[0].startswith("completed"), timeout=30000)
    assert label.text() == f"Session: {quoted} · Today: {quoted}"


@pytest.fixture
def demo_window(qtbot: Any, qloop: Any, sim: Simulator, monkeypatch: pytest.MonkeyPatch) -> Any:
    """A window in demo mode (its own quick simulator), with a live job from earlier today in the store."""
    from pixdesk.api.request import GenerationRequest
    from pixdesk.config import database_path, load_settings
    from pixdesk.jobs.models import Job
    from pixdesk.jobs.store import JobStore
    from pixdesk.runtime import Runtime
    from tests.helpers import FAST_POLL, FAST_RETRY

    earlier = Job(
        request=GenerationRequest(image=str(IMAGE), prompt="live, this morning"),
        state=JobState.COMPLETED,
        backend=sim.url,
        server_id="gen-earlier",
        usd_spent=0.4,
    )
    store = JobStore(database_path())
    assert store.save(earlier)
    store.close()
    runtime = Runtime(load_settings(), demo=True, simulator_options={"queue_seconds": 0.2, "generate_seconds": 0.3})
    win = MainWindow(runtime, engine_options={"poll_policy": FAST_POLL, "retry_policy": FAST_RETRY})
    win.show()
    prompter = ScriptedPrompter()
    win.controller.prompter = prompter  # type: ignore[assignment]
    qtbot.waitUntil(win.is_ready)
    yield win
    prompter.fail_on_unexpected = False
    prompter.default = True
    win.close()
    qtbot.waitUntil(win.is_closed, timeout=15000)
    win.deleteLater()
    runtime.close()


def test_demo_rows_say_demo_cost_nothing_and_never_count(
    qtbot: Any, demo_window: MainWindow, sim: Simulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pixdesk.ui.tasks import spawn

    win = demo_window
    label = find(win, "spendLabel")
    assert isinstance(label, QLabel) and label.text() == "Demo: no spend"
    win.settings.daily_budget_usd = 0.0  # demo never blocks (and never asks)
    win.settings.confirm_over_usd = 0.0
    fill(qtbot, win, IMAGE, "A demo pan over the hills")
    qtbot.waitUntil(lambda: "demo" in estimate_label(win).text())
    click_generate(qtbot, win)
    qtbot.waitUntil(lambda: any(r.startswith("completed: A demo") for r in rows(win)), timeout=30000)
    demo_row = next(r for r in rows(win) if "A demo" in r)
    assert demo_row.endswith(" · demo") and "$" not in demo_row and "credit" not in demo_row.lower()
    assert prompter_of(win).asked == [] and sim.create_requests == 0
    assert label.text() == "Demo: no spend"

    # Switch to live: only the live job of this morning counts, the demo job never does.
    monkeypatch.setenv("AIMLAPI_KEY", "sk-test-7f3a9c1e5b2d4f6a8c0e")
    monkeypatch.setenv("AIMLAPI_BASE_URL", sim.url)
    win.settings.demo_mode = False
    win.settings.daily_budget_usd = 20.0
    spawn(win._apply_settings(None))
    qtbot.waitUntil(lambda: label.text().startswith("Session:"))
    assert label.text() == "Session: $0.00 · Today: $0.40"
    qtbot.waitUntil(lambda: estimate_label(win).text().startswith("≈ $") and "demo" not in estimate_label(win).text())
