"""Retry on a failed storyboard's row in the window retries the film (only the failed part is sent again,
then joined), not a single transition from the first keyframe to the last."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QMimeData, QUrl
from PySide6.QtWidgets import QComboBox

from pixdesk.jobs.models import JobState
from pixdesk.simulator import Simulator
from tests.conftest import SAMPLES, WindowMaker
from tests.gui_helpers import drop_mime, find
from tests.test_gui_actions import choose, click_generate
from tests.test_gui_family import select
from tests.test_gui_library import jobs_of, widget


def test_retry_on_a_failed_film_retries_the_film(qtbot: Any, windows: WindowMaker, sim: Simulator):
    sim.fail_generations = 1  # the first part to be created fails
    win = windows()
    win.engine.max_in_flight = 1
    combo = widget(win, "modelCombo", QComboBox)
    combo.setCurrentIndex(combo.findData("pixverse/v5/transition"))
    mime = QMimeData()
    names = ("portrait.png", "sunset-mountains.jpg", "robot-transparent.png")
    mime.setUrls([QUrl.fromLocalFile(str(SAMPLES / n)) for n in names])
    assert drop_mime(find(win, "imageDrop"), mime)
    qtbot.waitUntil(lambda: len(win.inputs.storyboard_images() or []) == 3, timeout=10000)
    qtbot.keyClicks(find(win, "promptEdit"), "The seasons change")
    click_generate(qtbot, win)
    qtbot.waitUntil(lambda: any(j.is_film and j.state is JobState.FAILED for j in jobs_of(win)), timeout=60000)
    qtbot.waitUntil(lambda: all(j.is_final for j in jobs_of(win)), timeout=60000)
    (film,) = [j for j in jobs_of(win) if j.is_film]
    before = {j.id for j in jobs_of(win)}
    select(win, film)
    choose(win, "retry")
    qtbot.waitUntil(lambda: any(j.id not in before and j.is_final for j in jobs_of(win)), timeout=60000)
    new = [j for j in jobs_of(win) if j.id not in before]
    described = [
        (
            j.request.model,
            j.is_film,
            j.state.value,
            j.request.image.rsplit("/", 1)[-1],
            (j.request.last_frame or "").rsplit("/", 1)[-1],
        )
        for j in new
    ]
    assert any(j.is_film for j in new), f"Retry on the film made: {described}"
