"""The PixVerse family in the real window against the real simulator: a finished clip's tools (export its last
frame and a GIF, make its character speak, continue from its last frame) and a storyboard from the form."""

from __future__ import annotations

import wave
from pathlib import Path
from typing import Any

import av
import pytest
from PIL import Image
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QComboBox, QLabel, QLineEdit, QPushButton, QRadioButton

from pixdesk.jobs.models import Job, JobState
from pixdesk.simulator import Simulator
from pixdesk.ui.main_window import MainWindow
from tests.conftest import SAMPLES, ScriptedPrompter, WindowMaker
from tests.gui_helpers import drop_mime, find
from tests.test_gui_actions import choose, click_generate, offered
from tests.test_gui_library import jobs_of, one_finished, widget


def prompter(win: MainWindow) -> ScriptedPrompter:
    found = win.controller.prompter
    assert isinstance(found, ScriptedPrompter)
    return found


def select(win: MainWindow, job: Job) -> None:
    index = win.library.index_of(job.id)
    assert index.isValid()
    win.queue.setCurrentIndex(index)


def duration_of(path: str | Path) -> float:
    with av.open(str(path)) as container:
        return float(container.duration or 0) / av.time_base


def write_wav(path: Path, seconds: float = 1.0) -> Path:
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(16000)
        out.writeframes(b"\x00\x10" * int(16000 * seconds))
    return path


def test_the_last_frame_and_a_gif_preview_are_exported_from_the_job_menu(
    qtbot: Any, windows: WindowMaker, tmp_path: Path
):
    win = windows()
    job = one_finished(qtbot, win, "A kite over the dunes")
    select(win, job)
    png, gif = tmp_path / "frame", tmp_path / "preview.gif"
    prompter(win).answers += [str(png), str(gif)]
    choose(win, "export_frame")
    qtbot.waitUntil(lambda: win.controller.last_exported == f"{png}.png", timeout=15000)
    with av.open(job.file_path or "") as clip:
        size = (clip.streams.video[0].width, clip.streams.video[0].height)
    with Image.open(f"{png}.png") as frame:
        assert frame.format == "PNG" and frame.size == size
    choose(win, "export_gif")
    qtbot.waitUntil(lambda: win.controller.last_exported == str(gif), timeout=15000)
    with Image.open(gif) as anim:
        assert anim.format == "GIF" and getattr(anim, "n_frames", 1) > 1 and anim.size[0] <= 360
    for made in (Path(f"{png}.png"), gif):  # readable like any file the person saves, not private
        assert made.stat().st_mode & 0o777 == Path(job.file_path or "").stat().st_mode & 0o777
    assert "Saved to" in win.statusBar().currentMessage()


def test_make_them_speak_queues_a_lip_sync_of_the_clip_with_a_line_and_a_voice(
    qtbot: Any, windows: WindowMaker, sim: Simulator
):
    win = windows()
    source = one_finished(qtbot, win, "A sailor looks at the camera")
    select(win, source)
    choose(win, "speak")
    qtbot.waitUntil(lambda: win.controller.speak_dialog is not None, timeout=10000)  # opened once the clip is seen
    dialog = win.controller.speak_dialog
    assert dialog is not None and dialog.isVisible()
    qtbot.waitUntil(lambda: dialog.clip_seconds is not None, timeout=10000)
    line = widget(dialog, "speakLineEdit", QLineEdit)
    line.clear()
    qtbot.keyClicks(line, "Fair winds to you")
    widget(dialog, "speakVoiceCombo", QComboBox).setCurrentText("Oliver")
    qtbot.mouseClick(widget(dialog, "speakButton", QPushButton), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: win.controller.speak_dialog is None, timeout=5000)
    spoken = wait_for_new(qtbot, win, {source.id})
    body = latest_body(sim)
    assert body["model"] == "pixverse/lip-sync" and body["video_url"].startswith("data:video/mp4;base64,")
    assert body["lip_sync_tts_content"] == "Fair winds to you" and body["lip_sync_tts_speaker"] == "Oliver"
    assert "audio_url" not in body and "prompt" not in body
    assert spoken.title == "Says “Fair winds to you”" and spoken.thumbnail == source.thumbnail
    select(win, spoken)
    assert "reuse" not in offered(win) and {"play", "speak", "export_gif"} <= offered(win)  # not a form's job
    assert duration_of(spoken.file_path or "") == pytest.approx(duration_of(source.file_path or ""), abs=0.3)


def test_make_them_speak_with_an_audio_file_sends_the_recording_and_no_voice(
    qtbot: Any, windows: WindowMaker, sim: Simulator, tmp_path: Path
):
    win = windows()
    source = one_finished(qtbot, win, "A singer on a stage")
    select(win, source)
    choose(win, "speak")
    qtbot.waitUntil(lambda: win.controller.speak_dialog is not None, timeout=10000)  # opened once the clip is seen
    dialog = win.controller.speak_dialog
    assert dialog is not None
    with qtbot.waitSignal(dialog.audio_checked, timeout=10000):
        dialog.set_audio_file(str(write_wav(tmp_path / "line.wav")))
    assert "WAV" in widget(dialog, "speakAudioLabel", QLabel).text()
    qtbot.mouseClick(widget(dialog, "speakButton", QPushButton), Qt.MouseButton.LeftButton)
    wait_for_new(qtbot, win, {source.id})
    body = latest_body(sim)
    assert body["audio_url"].startswith("data:audio/wav;base64,")
    assert "lip_sync_tts_content" not in body and "lip_sync_tts_speaker" not in body


def test_make_them_speak_explains_bad_input_beside_the_field_and_sends_nothing(
    qtbot: Any, windows: WindowMaker, sim: Simulator, tmp_path: Path
):
    win = windows()
    source = one_finished(qtbot, win, "A robot waves")
    select(win, source)
    creates = sim.create_requests
    choose(win, "speak")
    qtbot.waitUntil(lambda: win.controller.speak_dialog is not None, timeout=10000)  # opened once the clip is seen
    dialog = win.controller.speak_dialog
    assert dialog is not None
    widget(dialog, "speakLineEdit", QLineEdit).clear()
    qtbot.mouseClick(widget(dialog, "speakButton", QPushButton), Qt.MouseButton.LeftButton)
    line_error = widget(dialog, "speakLineError", QLabel)
    assert line_error.isVisible() and "line to speak" in line_error.text()
    text = tmp_path / "notes.wav"
    text.write_text("not a recording")
    with qtbot.waitSignal(dialog.audio_checked, timeout=10000):
        dialog.set_audio_file(str(text))
    audio_error = widget(dialog, "speakAudioError", QLabel)
    assert audio_error.isVisible() and "not a recording PixDesk can send" in audio_error.text()
    by_line = widget(dialog, "speakByLine", QRadioButton)
    qtbot.mouseClick(by_line, Qt.MouseButton.LeftButton, pos=QPoint(10, by_line.height() // 2))  # on its label
    assert widget(dialog, "speakByLine", QRadioButton).isChecked()
    widget(dialog, "speakLineEdit", QLineEdit).setText("x" * 141)
    assert "limit is 140" in widget(dialog, "speakLineError", QLabel).text()
    dialog.reject()
    qtbot.waitUntil(lambda: win.controller.speak_dialog is None)
    assert sim.create_requests == creates


def test_continue_from_last_frame_puts_the_frame_in_the_form_for_the_next_job(
    qtbot: Any, windows: WindowMaker, sim: Simulator
):
    win = windows()
    source = one_finished(qtbot, win, "A train leaves the station")
    select(win, source)
    with qtbot.waitSignal(win.inputs.drop.image_changed, timeout=15000):
        choose(win, "continue")
    image = win.inputs.request().image
    assert image.endswith("_last-frame.png") and Path(image).is_file()
    with Image.open(image) as frame, av.open(source.file_path or "") as clip:
        assert frame.size == (clip.streams.video[0].width, clip.streams.video[0].height)
    click_generate(qtbot, win)
    wait_for_new(qtbot, win, {source.id})
    assert latest_body(sim)["image_url"].startswith("data:image/png;base64,")


def test_a_storyboard_of_three_images_from_the_form_plays_as_one_joined_film(
    qtbot: Any, windows: WindowMaker, sim: Simulator
):
    from PySide6.QtCore import QMimeData, QUrl

    win = windows()
    combo = widget(win, "modelCombo", QComboBox)
    combo.setCurrentIndex(combo.findData("pixverse/v5/transition"))
    images = [SAMPLES / name for name in ("portrait.png", "sunset-mountains.jpg", "robot-transparent.png")]
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in images])
    assert drop_mime(find(win, "imageDrop"), mime)
    qtbot.waitUntil(lambda: len(win.inputs.storyboard_images() or []) == 3, timeout=10000)
    assert win.inputs.storyboard_images() == [str(p) for p in images]
    prompt = find(win, "promptEdit")
    qtbot.keyClicks(prompt, "The seasons change")
    click_generate(qtbot, win)
    qtbot.waitUntil(lambda: any(j.is_film and j.state is JobState.COMPLETED for j in jobs_of(win)), timeout=60000)
    (film,) = [j for j in jobs_of(win) if j.is_film]
    parts = [j for j in jobs_of(win) if j.id in film.parts]
    assert len(parts) == 2 and all(p.state is JobState.COMPLETED for p in parts)
    assert [p.request.model for p in parts] == ["pixverse/v5/transition"] * 2
    total = sum(duration_of(p.file_path or "") for p in parts)
    assert duration_of(film.file_path or "") == pytest.approx(total, abs=0.2)
    select(win, film)  # the storyboard's row (folded): selecting it plays its film
    qtbot.waitUntil(lambda: win.player_panel.current_file == film.file_path, timeout=10000)
    player = win.player_panel.player
    qtbot.waitUntil(lambda: abs(player.duration() / 1000 - total) < 0.3, timeout=10000)


def wait_for_new(qtbot: Any, win: MainWindow, before: set[str]) -> Job:
    """The one job made since `before`, once it has completed."""
    qtbot.waitUntil(
        lambda: any(j.id not in before and j.state is JobState.COMPLETED for j in jobs_of(win)), timeout=30000
    )
    (job,) = [j for j in jobs_of(win) if j.id not in before]
    return job


def latest_body(sim: Simulator) -> dict[str, Any]:
    newest = max(sim.generations.values(), key=lambda g: g.created)
    return dict(newest.body)


def test_delete_on_a_focused_last_frame_takes_it_out_of_the_form_not_a_job_from_the_library(
    qtbot: Any, windows: WindowMaker
):
    win = windows()
    job = one_finished(qtbot, win, "A quiet harbour")
    select(win, job)
    win.inputs.set_model("pixverse/v5/transition")
    last = win.inputs.last_drop
    with qtbot.waitSignal(last.images_changed, timeout=10000):
        win.inputs.set_last_frame(str(SAMPLES / "sunset-mountains.jpg"))
    qtbot.waitUntil(lambda: win.inputs.last_frame() is not None, timeout=10000)
    last.setFocus()
    qtbot.keyClick(last, Qt.Key.Key_Delete)
    assert win.inputs.last_frame() is None
    assert [j.id for j in jobs_of(win)] == [job.id] and prompter(win).asked == []


def test_a_storyboard_held_by_a_paused_queue_counts_its_transitions_not_its_film(qtbot: Any, windows: WindowMaker):
    from PySide6.QtCore import QMimeData, QUrl

    win = windows()
    win.set_queue_paused(True)
    combo = widget(win, "modelCombo", QComboBox)
    combo.setCurrentIndex(combo.findData("pixverse/v5/transition"))
    mime = QMimeData()
    mime.setUrls(
        [
            QUrl.fromLocalFile(str(SAMPLES / n))
            for n in ("portrait.png", "sunset-mountains.jpg", "robot-transparent.png")
        ]
    )
    assert drop_mime(find(win, "imageDrop"), mime)
    qtbot.waitUntil(lambda: len(win.inputs.storyboard_images() or []) == 3, timeout=10000)
    qtbot.keyClicks(find(win, "promptEdit"), "Held back")
    click_generate(qtbot, win)
    qtbot.waitUntil(lambda: len(jobs_of(win)) == 3, timeout=10000)
    qtbot.waitUntil(lambda: win.windowTitle().endswith("(2 waiting)"), timeout=10000)
