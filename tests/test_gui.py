"""The real main window against the real simulator, driven like a person would."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QMimeData, Qt
from PySide6.QtGui import QImage, QStandardItemModel
from PySide6.QtMultimedia import QMediaPlayer
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QGroupBox,
    QLabel,
    QLineEdit,
    QListView,
    QPlainTextEdit,
    QPushButton,
)

from pixdesk.jobs.models import JobState
from pixdesk.simulator import Simulator
from pixdesk.ui.main_window import MainWindow
from pixdesk.ui.queue_model import JobRole
from tests.conftest import SAMPLES
from tests.gui_helpers import drop_file, drop_mime, find


def rows(win: MainWindow) -> list[str]:
    model = win.model
    return [model.index(r).data(Qt.ItemDataRole.AccessibleTextRole) for r in range(model.rowCount())]


def fill(qtbot, win: MainWindow, image: Path, prompt: str) -> None:
    zone = find(win, "imageDrop")
    assert drop_file(zone, image)
    qtbot.waitUntil(lambda: win.inputs.drop.source == str(image))
    edit = find(win, "promptEdit")
    assert isinstance(edit, QPlainTextEdit)
    edit.setPlainText("")
    qtbot.keyClicks(edit, prompt)


def test_drop_generate_play_and_save(qtbot, window: MainWindow, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    assert window.windowTitle().startswith("PixDesk")
    fill(qtbot, window, SAMPLES / "portrait.png", "She turns to the camera and says hello")
    lip = find(window, "lipSyncGroup")
    assert isinstance(lip, QGroupBox)
    lip.setChecked(True)
    qtbot.keyClicks(find(window, "lipSyncTextEdit"), "Hello there!")
    speaker = find(window, "speakerCombo")
    assert isinstance(speaker, QComboBox) and speaker.count() == 15 and speaker.currentText() == "Auto"
    speaker.setCurrentIndex(speaker.findText("Chloe"))
    resolution = find(window, "resolutionCombo")
    assert isinstance(resolution, QComboBox)
    resolution.setCurrentIndex(resolution.findText("360p"))

    generate = find(window, "generateButton")
    assert isinstance(generate, QPushButton) and generate.isEnabled()
    qtbot.mouseClick(generate, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: bool(rows(window)) and rows(window)[0].startswith("completed"), timeout=30000)
    job = window.model.index(0).data(JobRole)
    body = window.runtime.simulator or None
    assert body is None  # live mode against the test simulator, not the demo one
    assert job.request.lip_sync_tts_speaker == "Chloe" and job.request.lip_sync_tts_content == "Hello there!"

    player = window.player_panel.player
    assert isinstance(player.parent(), MainWindow)
    qtbot.waitUntil(lambda: player.duration() > 0, timeout=10000)
    assert player.source().toLocalFile() == job.file_path
    # Frames arrive through the video sink (read from the UI thread: no Python callback on Qt's decoder thread).
    sink = window.player_panel.video.videoSink()
    qtbot.waitUntil(lambda: sink.videoFrame().isValid(), timeout=10000)
    assert min(sink.videoFrame().size().width(), sink.videoFrame().size().height()) == 360
    assert player.mediaStatus() != QMediaPlayer.MediaStatus.InvalidMedia

    target = tmp_path / "My clip.mp4"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), "MP4 video (*.mp4)"))
    save = find(window, "saveButton")
    assert save.isEnabled()
    qtbot.mouseClick(save, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: target.exists() and target.stat().st_size == Path(job.file_path).stat().st_size)
    assert target.read_bytes() == Path(job.file_path).read_bytes()


def test_a_non_image_drop_is_refused_in_place(qtbot, window: MainWindow, tmp_path: Path, sim: Simulator):
    fill(qtbot, window, SAMPLES / "portrait.png", "ok")
    bogus = tmp_path / "notes.png"
    bogus.write_text("not really a picture")
    assert drop_file(find(window, "imageDrop"), bogus)
    error = find(window, "imageDropError")
    assert isinstance(error, QLabel)
    qtbot.waitUntil(lambda: "not an image" in error.text())
    assert error.isVisible()
    assert window.inputs.drop.source == str(SAMPLES / "portrait.png")  # the previous image stays
    assert window.model.rowCount() == 0 and sim.create_requests == 0


def test_a_web_image_url_is_passed_as_is(qtbot, window: MainWindow):
    mime = QMimeData()
    from PySide6.QtCore import QUrl

    mime.setUrls([QUrl("https://example.com/cat.jpg")])
    mime.setImageData(QImage(40, 30, QImage.Format.Format_RGB32))
    assert drop_mime(find(window, "imageDrop"), mime)
    assert window.inputs.drop.source == "https://example.com/cat.jpg"


def test_raw_image_data_is_used_as_a_file(qtbot, window: MainWindow):
    image = QImage(300, 200, QImage.Format.Format_RGB32)
    image.fill(Qt.GlobalColor.darkCyan)
    mime = QMimeData()
    mime.setImageData(image)
    assert drop_mime(find(window, "imageDrop"), mime)
    qtbot.waitUntil(lambda: window.inputs.drop.current is not None and window.inputs.drop.current.info is not None)
    assert window.inputs.drop.current.info.width == 300  # type: ignore[union-attr]


def test_8_seconds_is_disabled_at_1080p_with_the_reason(qtbot, window: MainWindow):
    resolution = find(window, "resolutionCombo")
    duration = find(window, "durationCombo")
    assert isinstance(resolution, QComboBox) and isinstance(duration, QComboBox)
    resolution.setCurrentIndex(resolution.findText("1080p"))
    model = duration.model()
    assert isinstance(model, QStandardItemModel)
    eight = model.item(duration.findData(8))
    assert not eight.isEnabled()
    assert "1080p" in eight.toolTip()
    resolution.setCurrentIndex(resolution.findText("720p"))
    assert eight.isEnabled()


def test_generate_needs_an_image_and_a_prompt(qtbot, window: MainWindow):
    generate = find(window, "generateButton")
    assert not generate.isEnabled()
    qtbot.keyClicks(find(window, "promptEdit"), "A prompt but no image")
    assert not generate.isEnabled()
    assert "image" in find(window, "generateHint").text()  # type: ignore[attr-defined]
    assert drop_file(find(window, "imageDrop"), SAMPLES / "portrait.png")
    qtbot.waitUntil(generate.isEnabled)
    edit = find(window, "promptEdit")
    assert isinstance(edit, QPlainTextEdit)
    edit.setPlainText("   ")
    assert not generate.isEnabled()


def test_three_jobs_in_flight_show_distinct_badges(qtbot, window: MainWindow, sim: Simulator):
    window.engine.max_in_flight = 2
    fill(qtbot, window, SAMPLES / "sunset-mountains.jpg", "first")
    sim.queue_seconds, sim.generate_seconds = 0.1, 120
    qtbot.mouseClick(find(window, "generateButton"), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: bool(rows(window)) and rows(window)[0].startswith("generating"), timeout=10000)
    sim.queue_seconds = 120
    find(window, "promptEdit").setPlainText("second")  # type: ignore[attr-defined]
    qtbot.mouseClick(find(window, "generateButton"), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(rows(window)) == 2 and rows(window)[0].startswith("queued"), timeout=10000)
    find(window, "promptEdit").setPlainText("third")  # type: ignore[attr-defined]
    qtbot.mouseClick(find(window, "generateButton"), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(rows(window)) == 3 and rows(window)[0].startswith("waiting"), timeout=10000)
    texts = rows(window)
    assert [t.split(":")[0] for t in texts] == ["waiting", "queued", "generating"]
    view = find(window, "queueView")
    assert isinstance(view, QListView)
    assert not view.grab().isNull()  # the delegate paints every badge without error
    assert "third" in texts[0] and "first" in texts[2]


def test_a_failed_generation_shows_the_servers_message(qtbot, window: MainWindow, sim: Simulator):
    sim.fail_generations = 1
    fill(qtbot, window, SAMPLES / "portrait.png", "this will fail")
    qtbot.mouseClick(find(window, "generateButton"), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: bool(rows(window)) and rows(window)[0].startswith("failed"), timeout=15000)
    tooltip = window.model.index(0).data(Qt.ItemDataRole.ToolTipRole)
    assert "moderation" in rows(window)[0] and "moderation" in tooltip
    assert "Generation id" in tooltip


def test_reuse_settings_restores_every_field(qtbot, window: MainWindow, sim: Simulator):
    sim.queue_seconds, sim.generate_seconds = 0, 0
    fill(qtbot, window, SAMPLES / "sunset-mountains.jpg", "Clouds drift over the peaks")
    form = window.inputs
    form.negative.set_text("blur")
    for combo, text in (
        (form.resolution, "540p"),
        (form.duration, "8 s"),
        (form.style_combo, "Comic"),
        (form.speaker, "Oliver"),
    ):
        combo.setCurrentIndex(combo.findText(text))
    form.seed.setText("4242")
    form.lip_group.setChecked(True)
    form.lip_text.set_text("What a view")
    qtbot.mouseClick(find(window, "generateButton"), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(rows(window)) == 1)
    original = window.model.index(0).data(JobRole).request

    # scramble the form, then reuse
    drop_file(find(window, "imageDrop"), SAMPLES / "portrait.png")
    qtbot.waitUntil(lambda: form.drop.source == str(SAMPLES / "portrait.png"))
    form.prompt.set_text("something else")
    form.negative.set_text("")
    for combo in (form.resolution, form.duration, form.style_combo, form.speaker):
        combo.setCurrentIndex(0)
    form.seed.clear()
    form.lip_group.setChecked(False)
    form.lip_text.set_text("")

    window.queue.setCurrentIndex(window.library.index(0, 0))
    window.job_actions["reuse"].trigger()
    qtbot.waitUntil(lambda: form.drop.source == str(SAMPLES / "sunset-mountains.jpg"))
    assert form.request() == original
    assert form.prompt.text() == "Clouds drift over the peaks" and form.negative.text() == "blur"
    assert (form.resolution.currentText(), form.duration.currentText(), form.style_combo.currentText()) == (
        "540p",
        "8 s",
        "Comic",
    )
    assert form.seed.text() == "4242" and form.lip_group.isChecked() and form.lip_text.text() == "What a view"
    assert form.speaker.currentText() == "Oliver"
    seed = find(window, "seedEdit")
    assert isinstance(seed, QLineEdit) and seed.text() == "4242"
    assert original.lip_sync_tts_speaker == "Oliver"
    assert window.engine.jobs[window.model.index(0).data(JobRole).id].state in (
        JobState.PREPARING,
        JobState.WAITING,
        JobState.SUBMITTING,
        JobState.QUEUED,
        JobState.GENERATING,
        JobState.DOWNLOADING,
        JobState.COMPLETED,
    )


def test_settings_test_key_reports_the_balance_and_where_the_key_lives(qtbot, window: MainWindow, sim: Simulator):
    from pixdesk.ui.settings_dialog import SettingsDialog

    dialog = SettingsDialog(window.settings, window.runtime.keystore, window)
    qtbot.addWidget(dialog)
    dialog.base_url.setText(sim.url)
    assert dialog.key.echoMode() == QLineEdit.EchoMode.Password
    assert "AIMLAPI_KEY" in dialog.storage.text()
    qtbot.mouseClick(dialog.test, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "Balance" in dialog.test_result.text(), timeout=10000)
    assert "USD" in dialog.test_result.text()
    sim.api_key = "something-else"
    qtbot.mouseClick(dialog.test, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "401" in dialog.test_result.text(), timeout=10000)


def test_a_refused_key_pauses_submissions_with_one_visible_message(qtbot, window: MainWindow, sim: Simulator):
    sim.api_key = "not-the-test-key"
    fill(qtbot, window, SAMPLES / "portrait.png", "first")
    qtbot.mouseClick(find(window, "generateButton"), Qt.MouseButton.LeftButton)
    qtbot.keyClicks(find(window, "promptEdit"), " and second")
    qtbot.mouseClick(find(window, "generateButton"), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(rows(window)) == 2 and all("paused" in r for r in rows(window)), timeout=10000)
    banner = find(window, "demoBannerText")
    assert isinstance(banner, QLabel) and window.banner.isVisible()
    assert "key" in banner.text() and "paused" in banner.text().lower()
    assert window.resume_button.isVisible()
    assert sim.create_requests <= 2 and len(sim.generations) == 0  # each tried at most once, none accepted
