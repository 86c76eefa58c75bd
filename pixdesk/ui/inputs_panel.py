"""The left column: image, prompt, options and the lip-sync line, built from the model catalogue.

Impossible combinations cannot be picked (1080p disables 8 s, with the reason as tooltip), and a
problem is shown right under the field that caused it.
"""

from __future__ import annotations

import random
from collections.abc import Callable

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QIntValidator, QKeySequence, QShortcut, QStandardItemModel
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from pixdesk.api.catalogue import DEFAULT_MODEL, STYLE_LABELS, ModelSpec
from pixdesk.api.pricing import CREDITS_PER_USD, Estimate
from pixdesk.api.request import FieldError, GenerationRequest
from pixdesk.ui import theme
from pixdesk.ui.drop_zone import ImageDropZone


class _CountedText(QWidget):
    """A text field with a live 'n / limit' counter that turns red past the limit."""

    changed = Signal()

    def __init__(self, name: str, limit: int, placeholder: str, multi_line: bool, height: int = 0) -> None:
        super().__init__()
        self.limit = limit
        self.edit: QPlainTextEdit | QLineEdit
        if multi_line:
            edit = QPlainTextEdit()
            edit.setTabChangesFocus(True)
            edit.setPlaceholderText(placeholder)
            if height:
                edit.setFixedHeight(height)
            edit.textChanged.connect(self._update)
            self.edit = edit
        else:
            line = QLineEdit()
            line.setPlaceholderText(placeholder)
            line.textChanged.connect(self._update)
            self.edit = line
        self.edit.setObjectName(name)
        self.counter = QLabel()
        self.counter.setAlignment(Qt.AlignmentFlag.AlignRight)
        self.counter.setObjectName(f"{name}Counter")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.edit)
        layout.addWidget(self.counter)
        self._update()

    def text(self) -> str:
        return self.edit.toPlainText() if isinstance(self.edit, QPlainTextEdit) else self.edit.text()

    def set_text(self, text: str) -> None:
        if isinstance(self.edit, QPlainTextEdit):
            self.edit.setPlainText(text)
        else:
            self.edit.setText(text)

    def over_limit(self) -> bool:
        return len(self.text()) > self.limit

    def _update(self) -> None:
        n = len(self.text())
        self.counter.setText(f"{n} / {self.limit}")
        self.counter.setStyleSheet(f"color: {theme.error_color()}; font-weight: bold;" if n > self.limit else "")
        self.changed.emit()


Quoter = Callable[[GenerationRequest, int], Estimate | None]
"""What the window's price book says `count` jobs like this request cost (None: the price is unknown)."""


def estimate_text(quote: Estimate | None, demo: bool = False) -> tuple[str, str]:
    """(label, tooltip) for the estimate next to Generate: USD up front, credits in the tooltip."""
    if quote is None:
        return "price unknown", (
            "No price is known for these settings: the price list could not be fetched and none is cached, "
            "or this model's price varies per job."
        )
    origin = "live price" if quote.source == "live" else "cached price (could not refresh it)"
    tip = f"≈ {quote.credits:,} credits ($1 = {CREDITS_PER_USD:,} credits) · {origin}"
    if demo:
        return f"≈ ${quote.usd:,.2f} (demo: free)", f"The simulator's price; demo jobs cost nothing.\n{tip}"
    return f"≈ ${quote.usd:,.2f}", tip


class InputsPanel(QWidget):
    generate_requested = Signal(object)  # GenerationRequest
    ready_changed = Signal(bool)

    def __init__(self, spec: ModelSpec = DEFAULT_MODEL, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.spec = spec
        self._errors: dict[str, QLabel] = {}
        # The price book lives in the window (it follows the backend); the form only asks it.
        self.quoter: Quoter | None = None
        self.demo = False
        self.count = 1  # jobs one click on Generate makes (one today; variations would raise it)
        self._guard_message = ""

        self.drop = ImageDropZone()
        # While an image is being checked (off the UI thread) the form still holds the previous one, so
        # Generate waits: a click now would send the old image with the new prompt.
        self.drop.loading_changed.connect(lambda _loading: self._refresh())
        self.prompt = _CountedText(
            "promptEdit",
            spec.param("prompt").max_length or 2048,
            "Describe the motion: “She turns to the camera and smiles…”",
            True,
            96,
        )
        self.negative = _CountedText(
            "negativePromptEdit",
            spec.param("negative_prompt").max_length or 2048,
            "What to avoid (optional): blur, extra fingers…",
            True,
            48,
        )
        self.resolution = self._combo("resolutionCombo", "resolution")
        self.duration = self._combo("durationCombo", "duration", suffix=" s")
        self.style_combo = QComboBox()
        self.style_combo.setObjectName("styleCombo")
        self.style_combo.addItem("None", None)
        for value in spec.param("style").choices:
            self.style_combo.addItem(STYLE_LABELS.get(str(value), str(value)), value)
        self.seed = QLineEdit()
        self.seed.setObjectName("seedEdit")
        self.seed.setPlaceholderText("Random")
        self.seed.setValidator(QIntValidator(0, spec.param("seed").maximum or 2_147_483_647, self.seed))
        self.seed.setToolTip(spec.param("seed").help)
        self.dice = QToolButton()
        self.dice.setObjectName("seedDiceButton")
        self.dice.setText("Roll")
        self.dice.setToolTip("Fill in a random seed")
        self.dice.setAccessibleName("Random seed")
        self.dice.clicked.connect(self.roll_seed)

        self.lip_group = QGroupBox("Make the character speak")
        self.lip_group.setObjectName("lipSyncGroup")
        self.lip_group.setCheckable(True)
        self.lip_group.setChecked(False)
        self.lip_text = _CountedText(
            "lipSyncTextEdit",
            spec.param("lip_sync_tts_content").max_length or 140,
            "The line to say, e.g. “Welcome to the show!”",
            False,
        )
        self.speaker = self._combo("speakerCombo", "lip_sync_tts_speaker")
        lip_form = QFormLayout(self.lip_group)
        lip_form.addRow("Line", self.lip_text)
        lip_form.addRow("", self._error_label("lip_sync_tts_content"))
        lip_form.addRow("Voice", self.speaker)
        lip_form.addRow("", self._error_label("lip_sync_tts_speaker"))

        self.generate = QPushButton("Generate")
        self.generate.setObjectName("generateButton")
        self.generate.setDefault(True)
        self.generate.setMinimumHeight(36)
        self.generate.setToolTip("Generate the video (Ctrl+Enter)")
        self.generate.clicked.connect(self.submit)
        self._added_timer = QTimer(self)
        self._added_timer.setSingleShot(True)
        self._added_timer.setInterval(1500)
        self._added_timer.timeout.connect(lambda: self.generate.setText("Generate"))
        for keys in ("Ctrl+Return", "Ctrl+Enter"):
            QShortcut(QKeySequence(keys), self, self.submit, Qt.ShortcutContext.WindowShortcut)
        self.hint = QLabel()
        self.hint.setObjectName("generateHint")
        self.hint.setWordWrap(True)
        self.estimate = QLabel("price unknown")
        self.estimate.setObjectName("estimateLabel")
        self.estimate.setAccessibleName("Estimated cost")
        self.estimate.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)

        seed_row = QHBoxLayout()
        seed_row.setSpacing(4)
        seed_row.addWidget(self.seed, 1)
        seed_row.addWidget(self.dice)

        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.addRow("Prompt", self.prompt)
        form.addRow("", self._error_label("prompt"))
        form.addRow("Avoid", self.negative)
        form.addRow("", self._error_label("negative_prompt"))
        form.addRow("Resolution", self.resolution)
        form.addRow("", self._error_label("resolution"))
        form.addRow("Duration", self.duration)
        form.addRow("", self._error_label("duration"))
        form.addRow("Style", self.style_combo)
        form.addRow("Seed", seed_row)
        form.addRow("", self._error_label("seed"))

        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.addWidget(self.drop, 1)
        layout.addWidget(self._error_label("image_url"))
        layout.addLayout(form)
        layout.addWidget(self.lip_group)
        generate_row = QHBoxLayout()
        generate_row.addWidget(self.generate, 1)
        generate_row.addWidget(self.estimate)
        layout.addLayout(generate_row)
        layout.addWidget(self.hint)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Expanding)

        for signal in (
            self.prompt.changed,
            self.negative.changed,
            self.lip_text.changed,
            self.drop.image_changed,
            self.lip_group.toggled,
            self.seed.textChanged,
        ):
            signal.connect(self._refresh)
        self.resolution.currentIndexChanged.connect(self._apply_exclusions)
        self.duration.currentIndexChanged.connect(self._apply_exclusions)
        self._apply_exclusions()
        self._refresh()

    # -- building ----------------------------------------------------------------------------------
    def _combo(self, name: str, param_name: str, suffix: str = "") -> QComboBox:
        param = self.spec.param(param_name)
        combo = QComboBox()
        combo.setObjectName(name)
        for value in param.choices:
            combo.addItem(f"{value}{suffix}", value)
        if param.default is not None:
            combo.setCurrentIndex(combo.findData(param.default))
        if param.help:
            combo.setToolTip(param.help)
        return combo

    def _error_label(self, field: str) -> QLabel:
        label = QLabel()
        label.setObjectName(f"{field}Error")
        label.setWordWrap(True)
        label.hide()
        self._errors[field] = label
        return label

    # -- behaviour ---------------------------------------------------------------------------------
    def _apply_exclusions(self) -> None:
        chosen = {"resolution": self.resolution.currentData(), "duration": self.duration.currentData()}
        for combo, param in ((self.resolution, "resolution"), (self.duration, "duration")):
            model = combo.model()
            assert isinstance(model, QStandardItemModel)
            for row in range(combo.count()):
                value = combo.itemData(row)
                reason = self.spec.forbidden(param, value, chosen)
                item = model.item(row)
                item.setEnabled(reason is None)
                item.setToolTip(reason or "")
        self._refresh()
        self.update_estimate()

    def update_estimate(self) -> None:
        """Re-quote what the form holds (resolution, duration, count) with the window's current prices."""
        quote = self.quoter(self.request(), self.count) if self.quoter is not None else None
        text, tip = estimate_text(quote, self.demo)
        self.estimate.setText(text)
        self.estimate.setToolTip(tip)

    def show_guard_message(self, message: str) -> None:
        """Why the spending guard kept the last click from queuing a job; stays until cleared."""
        self._guard_message = message
        self._refresh()

    def clear_guard_message(self) -> None:
        if self._guard_message:
            self._guard_message = ""
            self._refresh()

    def roll_seed(self) -> None:
        self.seed.setText(str(random.randint(0, self.spec.param("seed").maximum or 2_147_483_647)))

    def blocking_reason(self) -> str | None:
        """Why Generate is disabled: the core's validation of what the form holds (never a second copy)."""
        if self.drop.is_loading:
            return "Checking the image…"
        if self.drop.source is None:
            return "Add an image to start."
        if self.lip_group.isChecked() and not self.lip_text.text().strip():
            return "Type the line the character speaks, or switch lip-sync off."
        errors = self.request().validate()
        return errors[0].message if errors else None

    def show_added(self) -> None:
        """Feedback for a click on Generate: the job is in the queue (a quick second click adds nothing)."""
        self.generate.setText("Added to queue")
        self._added_timer.start()

    def _refresh(self) -> None:
        reason = self.blocking_reason()
        self.generate.setEnabled(reason is None)
        message = reason or self._guard_message
        self.hint.setText(message)
        self.hint.setStyleSheet(f"color: {theme.error_color()};" if not reason and message else "")
        self.hint.setVisible(bool(message))
        self.ready_changed.emit(reason is None)

    def request(self) -> GenerationRequest:
        seed_text = self.seed.text().strip()
        lip = self.lip_group.isChecked()
        return GenerationRequest(
            image=self.drop.source or "",
            prompt=self.prompt.text().strip(),
            negative_prompt=self.negative.text().strip() or None,
            resolution=self.resolution.currentData(),
            duration=self.duration.currentData(),
            style=self.style_combo.currentData(),
            seed=int(seed_text) if seed_text.isdigit() else None,
            lip_sync_tts_content=(self.lip_text.text().strip() or None) if lip else None,
            lip_sync_tts_speaker=self.speaker.currentData() if lip else None,
            model=self.spec.model_id,
        )

    def show_errors(self, errors: list[FieldError]) -> None:
        by_field = {e.field: e.message for e in errors}
        for field, label in self._errors.items():
            message = by_field.get(field)
            label.setText(f"⚠ {message}" if message else "")
            label.setStyleSheet(f"color: {theme.error_color()};")
            label.setVisible(bool(message))

    def submit(self) -> None:
        if self.blocking_reason() is not None:
            return
        request = self.request()
        errors = request.validate()
        self.show_errors(errors)
        if not errors:
            self.generate_requested.emit(request)

    def load_request(self, request: GenerationRequest) -> None:
        """Reuse settings: put every field of an earlier job back into the form."""
        from pixdesk.api.images import is_web_url

        if is_web_url(request.image):
            self.drop.set_url(request.image)
        else:
            self.drop.load_path(request.image)
        self.prompt.set_text(request.prompt)
        self.negative.set_text(request.negative_prompt or "")
        for combo, value in (
            (self.resolution, request.effective("resolution")),
            (self.duration, request.effective("duration")),
            (self.style_combo, request.style),
        ):
            combo.setCurrentIndex(max(0, combo.findData(value)))
        self.seed.setText("" if request.seed is None else str(request.seed))
        lip = bool(request.lip_sync_tts_content)
        self.lip_group.setChecked(lip)
        self.lip_text.set_text(request.lip_sync_tts_content or "")
        self.speaker.setCurrentIndex(max(0, self.speaker.findData(request.lip_sync_tts_speaker or "Auto")))
        self.show_errors([])
