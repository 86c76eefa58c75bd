"""“Make them speak…”: lip-sync over a finished clip, with a line and a voice or with an audio file.

The dialog only collects and checks; the controller prices it, asks the spending guard and queues it, and
closes the dialog once it is queued (a refusal is shown here, beside the button, and the dialog stays).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import shiboken6
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from pixdesk.api.catalogue import LIP_SYNC_MAX, SPEAKERS
from pixdesk.api.media_inputs import AUDIO_MAX_BYTES, MediaRejected, inspect_media
from pixdesk.api.pricing import Estimate
from pixdesk.api.request import GenerationRequest, ValidationError
from pixdesk.api.text import clean_text
from pixdesk.jobs.lipsync import speak_request
from pixdesk.jobs.models import Job
from pixdesk.ui import theme
from pixdesk.ui.tasks import off_ui_thread, spawn

AUDIO_FILTER = "Audio (*.wav *.mp3 *.m4a);;All files (*)"


class SpeakDialog(QDialog):
    """`submitted(request, seconds)`: the person asked for it (validated); `seconds` is the clip's length,
    which the price of lip-sync is counted in (None while unknown)."""

    submitted = Signal(object, object)
    audio_checked = Signal(str)  # the path, once checked (a refusal is shown beside the field)

    def __init__(
        self,
        job: Job,
        video: str,
        quote: Callable[[GenerationRequest, float | None], Estimate | None],
        *,
        demo: bool = False,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("speakDialog")
        self.setWindowTitle("Make them speak")
        self.job = job
        self.video = video
        self._quote = quote
        self._demo = demo
        self.clip_seconds: float | None = None
        self._audio: str | None = None
        self._checking: str | None = None  # the recording being checked (a later choice wins)

        intro = QLabel(
            "PixVerse lip-sync makes the character in this clip say a line, in one of its voices or from a "
            "recording. The result is a new clip; this one is kept."
        )
        intro.setWordWrap(True)
        self.by_line = QRadioButton("Speak a line")
        self.by_line.setObjectName("speakByLine")
        self.by_audio = QRadioButton("Use an audio file")
        self.by_audio.setObjectName("speakByAudio")
        self.by_line.setChecked(True)
        ways = QButtonGroup(self)
        ways.addButton(self.by_line)
        ways.addButton(self.by_audio)

        self.line = QLineEdit()
        self.line.setObjectName("speakLineEdit")
        self.line.setPlaceholderText("What should they say?")
        self.line.setText(job.request.lip_sync_tts_content or "")
        self.count = QLabel()
        self.count.setObjectName("speakLineCount")
        self.voice = QComboBox()
        self.voice.setObjectName("speakVoiceCombo")
        self.voice.addItems(list(SPEAKERS))
        if job.request.lip_sync_tts_speaker in SPEAKERS:
            self.voice.setCurrentText(job.request.lip_sync_tts_speaker)
        self.line_error = _error_label("speakLineError")

        self.audio_button = QPushButton("Choose audio…")
        self.audio_button.setObjectName("speakAudioButton")
        self.audio_label = QLabel("No file chosen")
        self.audio_label.setObjectName("speakAudioLabel")
        self.audio_error = _error_label("speakAudioError")
        self.audio_button.clicked.connect(self._browse)

        self.estimate = QLabel()
        self.estimate.setObjectName("speakEstimate")
        self.refusal = _error_label("speakRefusal")

        form = QFormLayout()
        line_row = QHBoxLayout()
        line_row.addWidget(self.line, 1)
        line_row.addWidget(self.count)
        form.addRow(self.by_line)
        form.addRow("Line", line_row)
        form.addRow("", self.line_error)
        form.addRow("Voice", self.voice)
        form.addRow(self.by_audio)
        audio_row = QHBoxLayout()
        audio_row.addWidget(self.audio_button)
        audio_row.addWidget(self.audio_label, 1)
        form.addRow("Recording", audio_row)
        form.addRow("", self.audio_error)

        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.speak_button = self.buttons.addButton("Make them speak", QDialogButtonBox.ButtonRole.AcceptRole)
        self.speak_button.setObjectName("speakButton")
        self.speak_button.setDefault(True)
        self.buttons.accepted.connect(self.submit)
        self.buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        clip = QLabel(f"Clip: {clean_text(Path(job.file_path or video).name, 120)}")
        clip.setObjectName("speakClipLabel")
        layout.addWidget(clip)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addWidget(self.estimate)
        layout.addWidget(self.refusal)
        layout.addWidget(self.buttons)

        for signal in (self.line.textChanged, self.voice.currentIndexChanged, self.by_line.toggled):
            signal.connect(self._update)
        self._update()
        self.resize(480, self.sizeHint().height())

    # -- public seams (what Browse and the probe do; tests call them) -----------------------------------
    def set_audio_file(self, path: str) -> None:
        """Check the recording off the UI thread; the label says what it is, or why it cannot be used."""
        self.by_audio.setChecked(True)
        self._audio = None
        self.audio_label.setText(f"Checking {Path(path).name}…")
        self.audio_error.hide()
        spawn(self._check_audio(path))

    def set_clip_seconds(self, seconds: float | None) -> None:
        self.clip_seconds = seconds
        self._update()

    def set_busy(self, busy: bool) -> None:
        """While the controller decides (reads the clip's length, asks the spending guard), no second click."""
        self.speak_button.setEnabled(not busy)

    def show_refusal(self, text: str) -> None:
        """Why the controller did not send it (the spending guard): shown here, the dialog stays."""
        self.refusal.setText(text)
        self.refusal.setVisible(bool(text))

    def request(self) -> GenerationRequest:
        """The validated request (raises ValidationError)."""
        if self.by_line.isChecked():
            return speak_request(self.video, line=self.line.text(), voice=self.voice.currentText())
        return speak_request(self.video, audio=self._audio)

    def submit(self) -> None:
        self.show_refusal("")
        try:
            request = self.request()
        except ValidationError as exc:
            self._show_errors(exc)
            return
        self.submitted.emit(request, self.clip_seconds)

    # -- inside --------------------------------------------------------------------------------------------
    async def _check_audio(self, path: str) -> None:
        self._checking = path
        try:
            mime, size = await off_ui_thread(inspect_media, path, "audio")
        except MediaRejected as exc:
            if not shiboken6.isValid(self) or self._checking != path:
                return  # closed meanwhile, or another recording was chosen since
            self.audio_label.setText("No file chosen")
            self.audio_error.setText(str(exc))
            self.audio_error.show()
        else:
            if not shiboken6.isValid(self) or self._checking != path:
                return
            self._audio = path
            kind = mime.split("/", 1)[-1].upper()
            self.audio_label.setText(f"{clean_text(Path(path).name, 60)} · {kind} · {size / 1e6:.1f} MB")
        self._update()
        self.audio_checked.emit(path)

    def _browse(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Choose a recording", str(Path.home()), AUDIO_FILTER)
        if path:
            self.set_audio_file(path)

    def _update(self) -> None:
        by_line = self.by_line.isChecked()
        for widget in (self.line, self.voice, self.count):
            widget.setEnabled(by_line)
        self.audio_button.setEnabled(True)
        length = len(self.line.text())
        self.count.setText(f"{length}/{LIP_SYNC_MAX}")
        over = by_line and length > LIP_SYNC_MAX
        self.line_error.setText(f"The line is {length} characters long; the limit is {LIP_SYNC_MAX}." if over else "")
        self.line_error.setVisible(over)
        self.audio_error.setVisible(bool(self.audio_error.text()) and not by_line)
        self.audio_button.setToolTip(f"WAV, MP3 or M4A, up to {AUDIO_MAX_BYTES // 1_000_000} MB")
        try:
            request = self.request()
        except ValidationError:
            request = None
        quote = self._quote(request, self.clip_seconds) if request is not None else None
        if request is None:
            self.estimate.setText("")
        elif quote is None:
            self.estimate.setText("Price unknown" + ("" if self.clip_seconds else " (the clip's length is not known)"))
        elif self._demo:
            self.estimate.setText(f"≈ ${quote.usd:,.2f} (demo: free)")
        else:
            self.estimate.setText(f"≈ ${quote.usd:,.2f}")

    def _show_errors(self, exc: ValidationError) -> None:
        for error in exc.errors:
            if error.field == "video_url":
                self.show_refusal(error.message)
                continue
            label = self.audio_error if error.field == "audio_url" else self.line_error
            label.setText(error.message)
            label.show()


def _error_label(name: str) -> QLabel:
    label = QLabel()
    label.setObjectName(name)
    label.setWordWrap(True)
    label.setStyleSheet(f"color: {theme.error_color()};")
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    label.hide()
    return label
