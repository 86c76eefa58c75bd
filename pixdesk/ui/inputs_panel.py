"""The left column: image(s), prompt, options, the lip-sync line and how many variations, built from the model
catalogue.

Impossible combinations cannot be picked (1080p disables 8 s, with the reason as tooltip), and a
problem is shown right under the field that caused it. One click on Generate makes a set: one job per image of the
drop zone's strip times the ×N variations (distinct seeds); the button and the estimate say how many.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence

import shiboken6
from PySide6.QtCore import QModelIndex, QObject, QRect, Qt, QTimer, Signal
from PySide6.QtGui import QIntValidator, QKeyEvent, QKeySequence, QShortcut, QStandardItem, QStandardItemModel
from PySide6.QtWidgets import (
    QComboBox,
    QCompleter,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListView,
    QPlainTextEdit,
    QPushButton,
    QSizePolicy,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from pixdesk.api.catalogue import DEFAULT_MODEL, STYLE_LABELS, ModelSpec
from pixdesk.api.pricing import CREDITS_PER_USD, Estimate
from pixdesk.api.request import FieldError, GenerationRequest
from pixdesk.jobs.batch import MAX_VARIATIONS, BatchError, expand, set_size, variation_seeds
from pixdesk.ui import theme
from pixdesk.ui.drop_zone import ImageDropZone
from pixdesk.ui.form_memory import MAX_RECENT, FormState, remember_prompt


class MessageLine(QLabel):
    """The line under a field for its problem: its height is reserved whether or not there is a message,
    so nothing below moves when one appears, and a message of up to `lines` lines is read in full."""

    def __init__(self, name: str, lines: int = 2) -> None:
        super().__init__()
        self.setObjectName(name)
        self.setWordWrap(True)
        self.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setFixedHeight(self.fontMetrics().lineSpacing() * lines + 2)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self.setMinimumWidth(40)

    def show_problem(self, message: str) -> None:
        self.setText(f"⚠ {message}" if message else "")
        self.setStyleSheet(f"color: {theme.error_color()};" if message else "")
        self.setAccessibleName(message or "No problem")


class PromptEdit(QPlainTextEdit):
    """A text field that can offer recent prompts as the person types (see `RecentPrompts`).

    While the popup is open, QCompleter routes the keys: Up/Down choose, and it hands the rest to this field, which
    types them, or passes Enter (with a prompt chosen) and Escape back for QCompleter to fill or close."""

    submit_requested = Signal()  # Ctrl+Enter while the popup is open (the window's shortcut cannot see it then)

    def __init__(self) -> None:
        super().__init__()
        self.recent: RecentPrompts | None = None

    def keyPressEvent(self, event: QKeyEvent) -> None:
        recent = self.recent
        if recent is not None and recent.is_open():
            key = event.key()
            if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
                if event.modifiers() & Qt.KeyboardModifier.ControlModifier:
                    recent.close()
                    event.accept()
                    self.submit_requested.emit()
                    return
                if recent.has_choice():
                    event.ignore()  # QCompleter puts the chosen prompt in
                    return
                recent.close()  # nothing chosen: Enter is a new line, as without the popup
            elif event.matches(QKeySequence.StandardKey.Cancel):
                event.ignore()  # QCompleter closes the popup; the text stays as typed
                return
        before = self.toPlainText()
        super().keyPressEvent(event)
        if recent is not None and self.toPlainText() != before:
            recent.offer(self.toPlainText())


class RecentPrompts(QObject):
    """Recent prompts offered under a `PromptEdit` as the person types: those starting with what the field holds
    (case ignored), newest first. Not shown for an empty field, when nothing matches, when the only match is what
    is already typed, or when the text changed without typing (restore, reuse). The field keeps the focus."""

    PromptRole = Qt.ItemDataRole.UserRole + 1

    def __init__(self, edit: PromptEdit) -> None:
        super().__init__(edit)
        self.edit = edit
        self.model = QStandardItemModel(self)
        self.completer = QCompleter(self.model, self)
        self.completer.setWidget(edit)
        self.completer.setCompletionMode(QCompleter.CompletionMode.PopupCompletion)
        self.completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.completer.setFilterMode(Qt.MatchFlag.MatchStartsWith)
        self.completer.setModelSorting(QCompleter.ModelSorting.UnsortedModel)
        self.completer.setCompletionRole(self.PromptRole)
        self.completer.setMaxVisibleItems(6)
        self.popup = QListView()
        self.popup.setObjectName("recentPromptsPopup")
        self.popup.setAccessibleName("Recent prompts")
        self.popup.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.popup.setUniformItemSizes(True)
        self.completer.setPopup(self.popup)  # the completer owns it from here
        self.completer.activated.connect(self._chosen)  # activated(str): the chosen prompt
        edit.recent = self

    def set_prompts(self, prompts: Sequence[str]) -> None:
        self.model.clear()
        for prompt in prompts:
            item = QStandardItem(" ⏎ ".join(prompt.split("\n")))  # one line each in the popup
            item.setData(prompt, self.PromptRole)
            item.setToolTip(prompt)
            item.setEditable(False)
            self.model.appendRow(item)

    def prompts(self) -> list[str]:
        return [str(self.model.item(row).data(self.PromptRole)) for row in range(self.model.rowCount())]

    def is_open(self) -> bool:
        return self.popup.isVisible()

    def has_choice(self) -> bool:
        return self.popup.currentIndex().isValid()

    def close(self) -> None:
        popup = self.popup
        popup.setCurrentIndex(QModelIndex())
        popup.hide()

    def offer(self, text: str) -> None:
        """Show the prompts that start with `text` (what the person has typed so far), or hide the popup."""
        if not text.strip() or self.model.rowCount() == 0 or not self.edit.hasFocus():
            self.close()
            return
        self.completer.setCompletionPrefix(text)
        count = self.completer.completionCount()
        if count == 0 or (count == 1 and self.completer.currentCompletion() == text):
            self.close()
            return
        cursor = self.edit.cursorRect()
        viewport = self.edit.viewport()
        area = QRect(viewport.x(), viewport.y() + cursor.top(), viewport.width(), cursor.height())
        self.completer.complete(area)
        self.popup.setCurrentIndex(QModelIndex())  # nothing chosen until Up/Down

    def _chosen(self, prompt: str) -> None:
        self.edit.setPlainText(prompt)
        self.edit.moveCursor(self.edit.textCursor().MoveOperation.End)
        self.close()


class _CountedText(QWidget):
    """A text field with a live 'n / limit' counter that turns red past the limit, and its message line."""

    changed = Signal()

    def __init__(
        self, name: str, label: str, limit: int, placeholder: str, multi_line: bool, lines: int = 0, error: str = ""
    ) -> None:
        super().__init__()
        self.limit = limit
        self.edit: QPlainTextEdit | QLineEdit
        if multi_line:
            edit = PromptEdit()
            edit.setTabChangesFocus(True)
            edit.setPlaceholderText(placeholder)
            # `lines` lines of text (the rest scrolls), whatever the font
            margins = edit.contentsMargins().top() + edit.contentsMargins().bottom()
            edit.setFixedHeight(
                round(edit.fontMetrics().lineSpacing() * max(1, lines) + 2 * edit.document().documentMargin())
                + margins
                + 2
            )
            edit.textChanged.connect(self._update)
            self.edit = edit
        else:
            line = QLineEdit()
            line.setPlaceholderText(placeholder)
            line.textChanged.connect(self._update)
            self.edit = line
        self.edit.setObjectName(name)
        self.edit.setAccessibleName(label)
        self.edit.setAccessibleDescription(placeholder)
        self.counter = QLabel()
        self.counter.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop)
        self.counter.setObjectName(f"{name}Counter")
        self.message = MessageLine(error or f"{name}Message")
        # The line under the field (its problem, else the counter) spans the form's full width: the panel
        # places `footer` under both the label and the field, so two lines hold a long message.
        self.footer = QWidget()
        row = QHBoxLayout(self.footer)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(6)
        row.addWidget(self.message, 1)
        row.addWidget(self.counter, 0, Qt.AlignmentFlag.AlignTop)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.edit)
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
        over = n > self.limit
        self.counter.setStyleSheet(f"color: {theme.error_color()}; font-weight: bold;" if over else "")
        self.counter.setAccessibleName(f"{n} of {self.limit} characters")
        self.changed.emit()

    def show_problem(self, message: str) -> None:
        """The field's problem in its line; the counter steps aside meanwhile, leaving the whole width to it."""
        self.message.show_problem(message)
        self.message.setToolTip(message)
        self.counter.setVisible(not message)


def _narrow(combo: QComboBox) -> None:
    """A combo box as narrow as a few characters allows (it widens with the column), so the form fits 800 px."""
    combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
    combo.setMinimumContentsLength(4)


Quoter = Callable[[GenerationRequest, int], Estimate | None]
"""What the window's price book says `count` jobs like this request cost (None: the price is unknown)."""


def estimate_text(quote: Estimate | None, demo: bool = False, count: int = 1) -> tuple[str, str]:
    """(label, tooltip) for the estimate next to Generate: USD up front, credits in the tooltip. `quote` is for the
    whole set of `count` jobs; the tooltip says what one costs."""
    if quote is None:
        return "price unknown", (
            "No price is known for these settings: the price list could not be fetched and none is cached, "
            "or this model's price varies per job."
        )
    origin = "live price" if quote.source == "live" else "cached price (could not refresh it)"
    tip = f"≈ {quote.credits:,} credits ($1 = {CREDITS_PER_USD:,} credits) · {origin}"
    if count > 1:
        tip = f"{count} videos at ≈ ${quote.usd / count:,.2f} each\n{tip}"
    if demo:
        return f"≈ ${quote.usd:,.2f} (demo: free)", f"The simulator's price; demo jobs cost nothing.\n{tip}"
    return f"≈ ${quote.usd:,.2f}", tip


class InputsPanel(QWidget):
    generate_requested = Signal(object)  # GenerationRequest: the first job of the set (`request()`)
    generate_set_requested = Signal(object)  # list[GenerationRequest]: the whole set of this click, seeds drawn
    ready_changed = Signal(bool)
    set_changed = Signal()  # the images or the variations changed: the set's size (and estimate) may differ

    def __init__(self, spec: ModelSpec = DEFAULT_MODEL, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.spec = spec
        # The price book lives in the window (it follows the backend); the form only asks it.
        self.quoter: Quoter | None = None
        self.demo = False
        self._guard_message = ""

        self.drop = ImageDropZone()
        # While an image is being checked (off the UI thread) the form still holds the previous one, so
        # Generate waits: a click now would send the old image with the new prompt.
        self.drop.loading_changed.connect(lambda _loading: self._refresh())
        self.drop.images_changed.connect(self._on_set_changed)
        self.prompt = _CountedText(
            "promptEdit",
            "Prompt",
            spec.param("prompt").max_length or 2048,
            "Describe the motion: “She turns to the camera and smiles…”",
            True,
            lines=3,
            error="promptError",
        )
        assert isinstance(self.prompt.edit, PromptEdit)
        self.recent = RecentPrompts(self.prompt.edit)
        self.prompt.edit.submit_requested.connect(self.submit)
        self.negative = _CountedText(
            "negativePromptEdit",
            "Avoid (negative prompt)",
            spec.param("negative_prompt").max_length or 2048,
            "What to avoid (optional): blur, extra fingers…",
            True,
            lines=2,
            error="negative_promptError",
        )
        self.resolution = self._combo("resolutionCombo", "resolution", "Resolution")
        self.duration = self._combo("durationCombo", "duration", "Duration", suffix=" s")
        self.style_combo = QComboBox()
        self.style_combo.setObjectName("styleCombo")
        self.style_combo.setAccessibleName("Style")
        _narrow(self.style_combo)
        self.style_combo.addItem("None", None)
        for value in spec.param("style").choices:
            self.style_combo.addItem(STYLE_LABELS.get(str(value), str(value)), value)
        self.seed = QLineEdit()
        self.seed.setObjectName("seedEdit")
        self.seed.setAccessibleName("Seed")
        self.seed.setPlaceholderText("Random")
        self.seed.setValidator(QIntValidator(0, spec.param("seed").maximum or 2_147_483_647, self.seed))
        self.seed.setToolTip(spec.param("seed").help)
        self.dice = QToolButton()
        self.dice.setObjectName("seedDiceButton")
        self.dice.setText("Roll")
        self.dice.setToolTip("Fill in a random seed")
        self.dice.setAccessibleName("Random seed")
        self.dice.clicked.connect(self.roll_seed)
        # One line for the options' problems (they rarely have any: impossible choices cannot be picked).
        self.options_message = MessageLine("optionsError", lines=1)

        self.lip_group = QGroupBox("Make the character speak")
        self.lip_group.setObjectName("lipSyncGroup")
        self.lip_group.setAccessibleName("Make the character speak")
        self.lip_group.setCheckable(True)
        self.lip_group.setChecked(False)
        self.lip_text = _CountedText(
            "lipSyncTextEdit",
            "Line to speak",
            spec.param("lip_sync_tts_content").max_length or 140,
            "The line to say, e.g. “Welcome to the show!”",
            False,
            error="lip_sync_tts_contentError",
        )
        self.speaker = self._combo("speakerCombo", "lip_sync_tts_speaker", "Voice")
        lip_grid = QGridLayout(self.lip_group)
        lip_grid.setContentsMargins(8, 4, 8, 2)
        lip_grid.setHorizontalSpacing(6)
        lip_grid.setVerticalSpacing(0)
        lip_grid.addWidget(self.lip_text, 0, 0)
        lip_grid.addWidget(self.speaker, 0, 1, Qt.AlignmentFlag.AlignTop)
        lip_grid.addWidget(self.lip_text.footer, 1, 0, 1, 2)
        lip_grid.setColumnStretch(0, 1)

        self.variations_spin = QSpinBox()
        self.variations_spin.setObjectName("variationsSpin")
        self.variations_spin.setRange(1, MAX_VARIATIONS)
        self.variations_spin.setPrefix("×")
        self.variations_spin.setAccessibleName("Variations")
        self.variations_spin.setToolTip("How many clips to make, each with its own seed")
        self.variations_spin.setMinimumHeight(34)
        self.variations_spin.valueChanged.connect(self._on_set_changed)
        self.generate = QPushButton("Generate")
        self.generate.setObjectName("generateButton")
        self.generate.setDefault(True)
        self.generate.setMinimumHeight(34)
        self.generate.setToolTip("Generate the video (Ctrl+Enter)")
        self.generate.clicked.connect(self.submit)
        self._added_timer = QTimer(self)
        self._added_timer.setSingleShot(True)
        self._added_timer.setInterval(1500)
        self._added_timer.timeout.connect(self._show_set_size)
        for keys in ("Ctrl+Return", "Ctrl+Enter"):
            QShortcut(QKeySequence(keys), self, self.submit, Qt.ShortcutContext.WindowShortcut)
        # Why Generate is disabled (or what the guard said): two lines, always reserved.
        self.hint = MessageLine("generateHint", lines=2)
        self.hint.setAccessibleName("Why Generate is not available")
        self.estimate = QLabel("price unknown")
        self.estimate.setObjectName("estimateLabel")
        self.estimate.setAccessibleName("Estimated cost")
        self.estimate.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)

        self._errors: dict[str, MessageLine] = {
            "prompt": self.prompt.message,
            "negative_prompt": self.negative.message,
            "resolution": self.options_message,
            "duration": self.options_message,
            "style": self.options_message,
            "seed": self.options_message,
            "lip_sync_tts_content": self.lip_text.message,
            "lip_sync_tts_speaker": self.lip_text.message,
        }
        self._problems: dict[str, str] = {}  # field -> what the last check or the server said about it

        seed_row = QHBoxLayout()
        seed_row.setSpacing(4)
        seed_row.addWidget(self.seed, 1)
        seed_row.addWidget(self.dice)
        grid = QGridLayout()
        grid.setHorizontalSpacing(6)
        grid.setVerticalSpacing(3)
        row = 0
        for text, field in (("Prompt", self.prompt), ("Avoid", self.negative)):
            label = QLabel(text)
            label.setBuddy(field.edit)
            grid.addWidget(label, row, 0, Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
            grid.addWidget(field, row, 1, 1, 3)
            grid.addWidget(field.footer, row + 1, 0, 1, 4)
            row += 2
        for pairs in (
            (("Resolution", self.resolution), ("Duration", self.duration)),
            (("Style", self.style_combo), ("Seed", seed_row)),
        ):
            for column, (text, item) in enumerate(pairs):
                label = QLabel(text)
                if isinstance(item, QWidget):
                    label.setBuddy(item)
                    grid.addWidget(item, row, 2 * column + 1)
                elif isinstance(item, QHBoxLayout):
                    label.setBuddy(self.seed)
                    grid.addLayout(item, row, 2 * column + 1)
                grid.addWidget(label, row, 2 * column, Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft)
            row += 1
        grid.addWidget(self.options_message, row, 0, 1, 4)
        grid.setColumnStretch(1, 1)
        grid.setColumnStretch(3, 1)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 6)
        layout.setSpacing(4)
        layout.addWidget(self.drop, 1)
        layout.addLayout(grid)
        layout.addWidget(self.lip_group)
        generate_row = QHBoxLayout()
        generate_row.setSpacing(6)
        generate_row.addWidget(self.variations_spin)
        generate_row.addWidget(self.generate, 1)
        generate_row.addWidget(self.estimate)
        layout.addLayout(generate_row)
        layout.addWidget(self.hint)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Expanding)

        for signal in (
            self.prompt.changed,
            self.negative.changed,
            self.lip_text.changed,
            self.lip_group.toggled,
            self.seed.textChanged,
        ):
            signal.connect(self._refresh)
        # A problem the server named goes once the person changes that field.
        for fields, changed in (
            (("prompt",), self.prompt.changed),
            (("negative_prompt",), self.negative.changed),
            (("lip_sync_tts_content", "lip_sync_tts_speaker"), self.lip_text.changed),
            (("lip_sync_tts_speaker",), self.speaker.currentIndexChanged),
            (("seed",), self.seed.textChanged),
            (("style",), self.style_combo.currentIndexChanged),
            (("resolution", "duration"), self.resolution.currentIndexChanged),
            (("resolution", "duration"), self.duration.currentIndexChanged),
        ):
            changed.connect(lambda *_a, f=fields: self._forget_problems(f))
        self.resolution.currentIndexChanged.connect(self._apply_exclusions)
        self.duration.currentIndexChanged.connect(self._apply_exclusions)
        self._apply_exclusions()
        self._on_set_changed()

    # -- building ----------------------------------------------------------------------------------
    def _combo(self, name: str, param_name: str, label: str, suffix: str = "") -> QComboBox:
        param = self.spec.param(param_name)
        combo = QComboBox()
        combo.setObjectName(name)
        combo.setAccessibleName(label)
        _narrow(combo)
        for value in param.choices:
            combo.addItem(f"{value}{suffix}", value)
        if param.default is not None:
            combo.setCurrentIndex(combo.findData(param.default))
        if param.help:
            combo.setToolTip(param.help)
        return combo

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
        """Re-quote what the form holds (resolution, duration, the set's size) with the window's current prices."""
        if not shiboken6.isValid(self.variations_spin):  # a price answer that outlived its window
            return
        count = self.count
        quote = self.quoter(self.request(), count) if self.quoter is not None else None
        text, tip = estimate_text(quote, self.demo, count)
        self.estimate.setText(text)
        self.estimate.setToolTip(tip)

    # -- the set: images × variations -------------------------------------------------------------
    @property
    def count(self) -> int:
        """Jobs one click on Generate makes (what the estimate and the spending guard cover)."""
        return self.set_size()

    def set_size(self) -> int:
        """Jobs one click on Generate makes: one per usable image (at least one) times the variations."""
        return set_size(len(self.images()), self.variations())

    def images(self) -> list[str]:
        """The set's images in order: the one shown, or the strip's usable ones."""
        return self.drop.images()

    def set_images(self, paths: list[str]) -> None:
        """Replace the form's images: one shows large, several become a strip, none clears (checked off the UI
        thread; `set_changed` follows)."""
        self.drop.set_images(paths)

    def variations(self) -> int:
        return self.variations_spin.value()

    def set_variations(self, count: int) -> None:
        """×N, clamped to 1..MAX_VARIATIONS."""
        self.variations_spin.setValue(max(1, min(MAX_VARIATIONS, count)))

    def requests(self) -> list[GenerationRequest]:
        """The jobs one click makes: each usable image × each variation (same settings; seeds S, S+1, … with a
        seed S, else distinct random ones drawn on every call). Raises BatchError when the seed does not leave
        room for the variations."""
        return expand(self.request(), self.images(), self.variations())

    def _set_problem(self) -> str:
        """What is wrong with the set as a whole ("" when nothing): a seed too large for the variations."""
        try:
            variation_seeds(self.request().seed, self.variations(), random.Random(0))
        except BatchError as exc:
            return str(exc)
        return ""

    def _on_set_changed(self, *_args: object) -> None:
        self._show_set_size()
        self._refresh()
        self.update_estimate()
        self.set_changed.emit()

    def _show_set_size(self) -> None:
        if self._added_timer.isActive():
            return  # "Added to queue" stays its moment; the timer puts the count back
        n = self.set_size()
        self.generate.setText("Generate" if n == 1 else f"Generate {n}")

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
            checking = sum(1 for e in self.drop.entries() if e.loading)
            return f"Checking the images ({checking} left)…" if checking > 1 else "Checking the image…"
        if self.drop.source is None:
            if self.drop.entries():
                return "None of these images can be used: remove them or add others."
            return "Add an image to start."
        if self.lip_group.isChecked() and not self.lip_text.text().strip():
            return "Type the line the character speaks, or switch lip-sync off."
        errors = self.request().validate()
        if errors:
            return errors[0].message
        return self._set_problem() or None

    def show_added(self) -> None:
        """Feedback for a click on Generate: the jobs are in the queue (a quick second click adds nothing)."""
        n = self.set_size()
        self.generate.setText("Added to queue" if n == 1 else f"Added {n} to queue")
        self._added_timer.start()

    def _refresh(self) -> None:
        reason = self.blocking_reason()
        self.generate.setEnabled(reason is None)
        # A disabled button says why on hover too (the line under it says it as well).
        self.generate.setToolTip(reason or self._generate_tip())
        message = reason or self._guard_message
        self.hint.setText(message)
        self.hint.setToolTip(message)
        self.hint.setStyleSheet(f"color: {theme.error_color()};" if not reason and message else "")
        self.hint.setAccessibleName(message or "Ready to generate")
        self._show_problems()
        self.ready_changed.emit(reason is None)

    def _generate_tip(self) -> str:
        images, n = max(1, len(self.images())), self.variations()
        if images * n == 1:
            return "Generate the video (Ctrl+Enter)"
        if images == 1:
            return f"Generate {n} videos, each with its own seed (Ctrl+Enter)"
        each = "1 video" if n == 1 else f"{n} variations"
        return f"Generate {images * n} videos: {images} images × {each} (Ctrl+Enter)"

    def _show_problems(self) -> None:
        """Each field's line: what the last check or the server said, else a text over its limit (the seed's also
        says when it leaves no room for the variations)."""
        over = {
            "prompt": self.prompt,
            "negative_prompt": self.negative,
            "lip_sync_tts_content": self.lip_text,
        }
        by_line: dict[int, list[str]] = {}
        for field, line in self._errors.items():
            message = self._problems.get(field, "")
            if not message and field == "seed":
                message = self._set_problem()
            counted = over.get(field)
            if not message and counted is not None and counted.over_limit():
                length = len(counted.text())
                message = f"{length:,} / {counted.limit:,} characters: {length - counted.limit:,} over the limit."
            messages = by_line.setdefault(id(line), [])
            if message and message not in messages:
                messages.append(message)
        owners = {id(f.message): f for f in over.values()}
        for line in {id(line): line for line in self._errors.values()}.values():
            text = " ".join(by_line.get(id(line), []))
            owner = owners.get(id(line))
            if owner is not None:
                owner.show_problem(text)
            else:
                line.show_problem(text)
                line.setToolTip(text)

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
        """Put each problem next to its field (an image problem in the drop zone); they stay until the next
        check or a change to that field."""
        self._problems = {}
        for error in errors:
            if error.field == "image_url":
                self.drop.show_problem(error.message)
            elif error.field in self._errors:
                self._problems.setdefault(error.field, error.message)
            else:  # a field the form does not show (the model, say): under Generate
                self.show_guard_message(error.message)
        self._show_problems()

    def _forget_problems(self, fields: tuple[str, ...]) -> None:
        if any(self._problems.pop(f, None) for f in fields):
            self._show_problems()

    def field_message(self, field: str) -> str:
        """What the line under `field` says now ("" when nothing is wrong)."""
        line = self._errors.get(field)
        return line.text().removeprefix("⚠ ") if line is not None else self.drop.error_text()

    def submit(self) -> None:
        """A click on Generate: `generate_set_requested` carries the set (its seeds drawn once, here) and
        `generate_requested` its first job, for a window that still takes one request."""
        self.recent.close()
        if self.blocking_reason() is not None:
            return
        request = self.request()
        errors = request.validate()
        self.show_errors(errors)
        if errors:
            return
        try:
            jobs = self.requests()
        except BatchError:  # blocking_reason said so already; the seed's line shows why
            return
        self.set_recent_prompts(remember_prompt(self.recent_prompts(), request.prompt))
        self.generate_set_requested.emit(jobs)
        self.generate_requested.emit(request)

    def load_request(self, request: GenerationRequest) -> None:
        """Reuse settings: put every field of an earlier job back into the form (its one image replaces a strip;
        the variations go back to ×1, since the job's seed is the one to reproduce)."""
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
        self.set_variations(1)
        self.show_errors([])

    # -- memory: the form as it was left, and recent prompts ----------------------------------------
    def set_recent_prompts(self, prompts: Sequence[str]) -> None:
        """Offer these (newest first) under the prompt field as the person types; Generate adds its prompt."""
        clean: list[str] = []
        for prompt in prompts:
            if isinstance(prompt, str) and prompt.strip() and prompt not in clean:
                clean.append(prompt)
        self.recent.set_prompts(clean[:MAX_RECENT])

    def recent_prompts(self) -> list[str]:
        return self.recent.prompts()

    def form_state(self) -> FormState:
        """A snapshot of the form to save (Qt-free, so `form_memory.save_form_state` may run on a worker)."""
        seed = self.seed.text().strip()
        return FormState(
            images=tuple(self.drop.images_to_keep()),
            prompt=self.prompt.text(),
            negative_prompt=self.negative.text(),
            resolution=self.resolution.currentData(),
            duration=self.duration.currentData(),
            style=self.style_combo.currentData(),
            seed=int(seed) if seed.isdigit() else None,
            lip_sync=self.lip_group.isChecked(),
            lip_sync_text=self.lip_text.text(),
            lip_sync_voice=self.speaker.currentData(),
            variations=self.variations(),
            recent_prompts=tuple(self.recent_prompts()),
        )

    def restore_form_state(self, state: FormState) -> None:
        """Put a saved form back. Values this form cannot take (a choice the model no longer has) are skipped;
        images are checked again off the UI thread, like a drop."""
        if state.images:
            self.set_images(list(state.images))
        self.prompt.set_text(state.prompt)
        self.negative.set_text(state.negative_prompt)
        for combo, value in ((self.resolution, state.resolution), (self.duration, state.duration)):
            row = combo.findData(value) if value is not None else -1
            if row >= 0:
                combo.setCurrentIndex(row)
        self.style_combo.setCurrentIndex(max(0, self.style_combo.findData(state.style)) if state.style else 0)
        self.seed.setText("" if state.seed is None else str(state.seed))
        if not self.seed.hasAcceptableInput():
            self.seed.clear()
        self.lip_group.setChecked(state.lip_sync)
        self.lip_text.set_text(state.lip_sync_text)
        row = self.speaker.findData(state.lip_sync_voice)
        if row >= 0:
            self.speaker.setCurrentIndex(row)
        self.set_variations(state.variations)
        if state.recent_prompts:
            self.set_recent_prompts(list(state.recent_prompts))
        self._apply_exclusions()
