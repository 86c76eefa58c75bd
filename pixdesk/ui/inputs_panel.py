"""The left column: the model, its picture(s), prompt, options and how many variations, built from the model
catalogue for the model picked at the top.

Each model shows the fields it takes and only those (a transition's first and last frame, an aspect ratio
instead of a picture for text to video, v5.5's switches with what they do, lip-sync where the model has it);
what two models share carries over when the model changes, and a picked picture is never lost. Impossible
combinations cannot be picked (1080p disables 8 s and 10 s, with the reason as tooltip and as a note under the
options), and a problem is shown right under the field that caused it. One click on Generate makes a set: one
job per image of the drop zone's strip times the ×N variations (distinct seeds); the button and the estimate say
how many. With the transition model a strip of pictures is a storyboard: its keyframes, in the strip's order
(drag a thumbnail, or Ctrl+Left/Right), become one transition per pair, joined into one film.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import replace
from itertools import pairwise

import shiboken6
from PySide6.QtCore import QModelIndex, QObject, QRect, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QIntValidator, QKeyEvent, QKeySequence, QShortcut, QStandardItem, QStandardItemModel
from PySide6.QtWidgets import (
    QApplication,
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
    QStyle,
    QStyleOptionGroupBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from pixdesk.api.catalogue import DEFAULT_MODEL, FORM_MODELS, SEED_MAX, ModelSpec, get_model
from pixdesk.api.pricing import CREDITS_PER_USD, Estimate
from pixdesk.api.request import FieldError, GenerationRequest
from pixdesk.jobs.batch import MAX_VARIATIONS, BatchError, expand, set_size, variation_seeds
from pixdesk.ui import theme
from pixdesk.ui.drop_zone import PLACEHOLDER, ImageDropZone
from pixdesk.ui.form_memory import MAX_RECENT, FormState, remember_prompt
from pixdesk.ui.model_fields import (
    ChoiceCombo,
    Explained,
    FitLabel,
    form_params,
    grid_label,
    narrow,
    place_of,
    value_label,
)


class MessageLine(QLabel):
    """The line under a field for its problem: its height is reserved whether or not there is a message,
    so nothing below moves when one appears, and a message of up to `lines` lines is read in full. With no
    problem it may carry a note (why a choice is disabled), in the note colour."""

    def __init__(self, name: str, lines: int = 2) -> None:
        super().__init__()
        self.setObjectName(name)
        self.setWordWrap(True)
        self.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setFixedHeight(self.fontMetrics().lineSpacing() * lines + 2)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self.setMinimumWidth(40)
        self.problem = ""
        self.note = ""

    def hasHeightForWidth(self) -> bool:
        # Its height is reserved (fixed): a height-for-width label would make the form's layout one, and a scroll
        # area would then size the form by its preferred height, scrolling when everything fits.
        return False

    def show_problem(self, message: str) -> None:
        self.problem = message
        self._show()

    def show_note(self, note: str) -> None:
        self.note = note
        self._show()

    def _show(self) -> None:
        if self.problem:
            self.setText(f"⚠ {self.problem}")
            self.setStyleSheet(f"color: {theme.error_color()};")
        else:
            self.setText(f"ℹ {self.note}" if self.note else "")
            self.setStyleSheet(f"color: {theme.note_color()};" if self.note else "")
        self.setToolTip(self.problem or self.note)
        self.setAccessibleName(self.problem or self.note or "No problem")


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
            edit.textChanged.connect(self._update)
            self.edit = edit
            self.set_lines(lines)
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

    def set_lines(self, lines: int) -> None:
        """Show `lines` lines of text (the rest scrolls), whatever the font (multi-line fields only)."""
        edit = self.edit
        if not isinstance(edit, QPlainTextEdit):
            return
        margins = edit.contentsMargins().top() + edit.contentsMargins().bottom()
        edit.setFixedHeight(
            round(edit.fontMetrics().lineSpacing() * max(1, lines) + 2 * edit.document().documentMargin()) + margins + 2
        )

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


Quoter = Callable[[GenerationRequest, int], Estimate | None]
"""What the window's price book says `count` jobs like this request cost (None: the price is unknown)."""


class EstimateLabel(QLabel):
    """The estimate beside Generate: on one line when there is room, else on two ("≈ $0.90" over "(demo:
    free)"), so the row fits the narrow form with "Generate storyboard" in it."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.setWordWrap(True)
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)

    def hasHeightForWidth(self) -> bool:
        return False  # two lines fit the row's height: the row never grows for it

    def minimumSizeHint(self) -> QSize:
        # the widest line it wraps to (a price, or the demo note), not its whole text
        widest = max((self.fontMetrics().horizontalAdvance(w) for w in self._chunks()), default=0)
        return QSize(widest + 4, self.fontMetrics().lineSpacing())

    def sizeHint(self) -> QSize:
        return QSize(self.fontMetrics().horizontalAdvance(self.text()) + 4, self.fontMetrics().lineSpacing())

    def _chunks(self) -> list[str]:
        text = self.text()
        head, _, tail = text.partition(" (")
        return [head, f"({tail}"] if tail else [text]


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
        # the note never splits: when the label wraps, it goes whole under the price
        return f"≈ ${quote.usd:,.2f} (demo:\u00a0free)", f"The simulator's price; demo jobs cost nothing.\n{tip}"
    return f"≈ ${quote.usd:,.2f}", tip


QWIDGETSIZE_MAX = (1 << 24) - 1

FIRST_FRAME_PLACEHOLDER = (
    "Drop the first frame here (several pictures make a storyboard)\nor click to browse · Ctrl+V to paste"
)
STORYBOARD_NO_VARIATIONS = "A storyboard makes one clip per pair of keyframes: no variations."


def _storyboard_capable(spec: ModelSpec) -> bool:
    """A model that moves from a first picture to a last one: a strip of pictures is a storyboard for it."""
    return spec.has("image_url") and spec.has("tail_image_url")


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _whole(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


class InputsPanel(QWidget):
    generate_requested = Signal(object)  # GenerationRequest: the first job of the set (`request()`)
    # list[GenerationRequest]: the whole set of this click, seeds drawn; for a storyboard its transitions (the
    # window asks `storyboard_images()` / `storyboard_request()` and makes the parts and the film itself).
    generate_set_requested = Signal(object)
    ready_changed = Signal(bool)
    set_changed = Signal()  # the images, their order or the variations changed: the set (and estimate) may differ
    model_changed = Signal(str)  # the model picked at the top (its prices may need fetching)
    storyboard_changed = Signal(bool)  # the form became a storyboard (True) or stopped being one

    def __init__(self, spec: ModelSpec = DEFAULT_MODEL, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        if spec.model_id not in FORM_MODELS:
            spec = DEFAULT_MODEL
        self.spec = spec
        # The price book lives in the window (it follows the backend); the form only asks it.
        self.quoter: Quoter | None = None
        self.demo = False
        self._guard_message = ""
        self._storyboard = False
        self._variations_before_storyboard = 1
        # Every field any model of the picker has, by name (one widget each; the chosen model's are shown).
        self.params = form_params(get_model(m) for m in FORM_MODELS)

        # -- the model -------------------------------------------------------------------------------
        self.model_combo = QComboBox()
        self.model_combo.setObjectName("modelCombo")
        self.model_combo.setAccessibleName("Model")
        narrow(self.model_combo)
        for model_id in FORM_MODELS:
            model = get_model(model_id)
            self.model_combo.addItem(model.title, model_id)
            self.model_combo.setItemData(
                self.model_combo.count() - 1, f"{model_id}: {model.summary}", Qt.ItemDataRole.ToolTipRole
            )
        self.model_combo.setCurrentIndex(self.model_combo.findData(spec.model_id))
        self.model_summary = FitLabel(spec.summary, "modelSummary")

        # -- the pictures ----------------------------------------------------------------------------
        self.drop = ImageDropZone()
        # While an image is being checked (off the UI thread) the form still holds the previous one, so
        # Generate waits: a click now would send the old image with the new prompt.
        self.drop.loading_changed.connect(lambda _loading: self._refresh())
        self.drop.images_changed.connect(self._on_set_changed)
        self.last_drop = ImageDropZone(name="lastFrameDrop", label="Last frame", allow_set=False)
        self.last_drop.set_caption("Last frame")
        self.last_drop.setMinimumWidth(120)
        self.last_drop.loading_changed.connect(lambda _loading: self._refresh())
        self.last_drop.images_changed.connect(self._on_last_frame_changed)
        self.frames_arrow = QLabel("→")
        self.frames_arrow.setObjectName("framesArrow")
        self.frames_arrow.setAccessibleName("to")
        self.frames = QWidget()
        self.frames.setObjectName("framesRow")
        frames_row = QHBoxLayout(self.frames)
        frames_row.setContentsMargins(0, 0, 0, 0)
        frames_row.setSpacing(4)
        frames_row.addWidget(self.drop, 1)
        frames_row.addWidget(self.frames_arrow)
        frames_row.addWidget(self.last_drop, 1)
        self.storyboard_note = FitLabel("", "storyboardNote")
        self.storyboard_note.hide()

        # -- the texts -------------------------------------------------------------------------------
        prompt_param = self.params["prompt"]
        self.prompt = _CountedText(
            "promptEdit",
            "Prompt",
            prompt_param.max_length or 2048,
            "Describe the motion: “She turns to the camera and smiles…”",
            True,
            lines=3,
            error="promptError",
        )
        assert isinstance(self.prompt.edit, PromptEdit)
        self.recent = RecentPrompts(self.prompt.edit)
        self.prompt.edit.submit_requested.connect(self.submit)
        self.prompt.edit.setToolTip(prompt_param.help)
        self.negative = _CountedText(
            "negativePromptEdit",
            "Avoid (negative prompt)",
            self.params["negative_prompt"].max_length or 2048,
            "What to avoid (optional): blur, extra fingers…",
            True,
            lines=2,
            error="negative_promptError",
        )

        # -- the options: a choice box per enum, the seed, the explained extras ------------------------
        self.choices: dict[str, ChoiceCombo] = {}
        self.extras: dict[str, Explained] = {}
        self.option_cells: dict[str, tuple[QLabel, QWidget]] = {}
        for name, param in self.params.items():
            place = place_of(param)
            if place == "options" and param.kind == "enum":
                combo = ChoiceCombo(param)
                self.choices[name] = combo
                label = QLabel(grid_label(param))
                label.setBuddy(combo)
                self.option_cells[name] = (label, combo)
            elif place == "extras":
                self.extras[name] = Explained(param)
        self.resolution = self.choices["resolution"]
        self.duration = self.choices["duration"]
        self.style_combo = self.choices["style"]
        self.aspect_ratio = self.choices["aspect_ratio"]
        seed_param = self.params["seed"]
        self.seed = QLineEdit()
        self.seed.setObjectName("seedEdit")
        self.seed.setAccessibleName("Seed")
        self.seed.setPlaceholderText("Random")
        self.seed.setValidator(QIntValidator(0, seed_param.maximum or SEED_MAX, self.seed))
        self.seed.setToolTip(seed_param.help)
        self.dice = QToolButton()
        self.dice.setObjectName("seedDiceButton")
        self.dice.setText("Roll")
        self.dice.setToolTip("Fill in a random seed")
        self.dice.setAccessibleName("Random seed")
        self.dice.clicked.connect(self.roll_seed)
        seed_box = QWidget()
        seed_box.setObjectName("seedBox")
        seed_row = QHBoxLayout(seed_box)
        seed_row.setContentsMargins(0, 0, 0, 0)
        seed_row.setSpacing(4)
        seed_row.addWidget(self.seed, 1)
        seed_row.addWidget(self.dice)
        seed_label = QLabel(seed_param.label)
        seed_label.setBuddy(self.seed)
        self.option_cells["seed"] = (seed_label, seed_box)
        for label, widget in self.option_cells.values():  # the form's own, shown or not (one window: one Tab chain)
            label.setParent(self)
            widget.setParent(self)
        self.sound = self.extras["generate_audio_switch"].check
        self.multi_clip = self.extras["generate_multi_clip_switch"].check
        self.thinking = self.extras["thinking_type"].combo
        self.extras_box = QWidget()
        self.extras_box.setObjectName("modelExtras")
        extras_layout = QVBoxLayout(self.extras_box)
        extras_layout.setContentsMargins(0, 2, 0, 0)
        extras_layout.setSpacing(3)
        for extra in self.extras.values():
            extras_layout.addWidget(extra)
        # One line for the options' problems (they rarely have any: impossible choices cannot be picked), or
        # why a choice is disabled.
        self.options_message = MessageLine("optionsError", lines=1)

        # -- lip-sync --------------------------------------------------------------------------------
        self.lip_group = QGroupBox("Make the character speak")
        self.lip_group.setObjectName("lipSyncGroup")
        self.lip_group.setAccessibleName("Make the character speak")
        self.lip_group.setCheckable(True)
        self.lip_group.setChecked(False)
        self.lip_text = _CountedText(
            "lipSyncTextEdit",
            "Line to speak",
            self.params["lip_sync_tts_content"].max_length or 140,
            "The line to say, e.g. “Welcome to the show!”",
            False,
            error="lip_sync_tts_contentError",
        )
        self.speaker = ChoiceCombo(self.params["lip_sync_tts_speaker"])
        self.speaker.setAccessibleName("Voice")
        lip_grid = QGridLayout(self.lip_group)
        lip_grid.setContentsMargins(8, 4, 8, 2)
        lip_grid.setHorizontalSpacing(6)
        lip_grid.setVerticalSpacing(0)
        lip_grid.addWidget(self.lip_text, 0, 0)
        lip_grid.addWidget(self.speaker, 0, 1, Qt.AlignmentFlag.AlignTop)
        lip_grid.addWidget(self.lip_text.footer, 1, 0, 1, 2)
        lip_grid.setColumnStretch(0, 1)
        # Unticked, the group is its title alone: the line and the voice show once it is ticked.
        self.lip_group.toggled.connect(self._show_lip_sync)
        self._show_lip_sync(False)

        # -- Generate --------------------------------------------------------------------------------
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
        # As wide as its longest text from the start, so turning into a storyboard never widens the form.
        self.generate.setMinimumWidth(
            self.generate.fontMetrics().horizontalAdvance("Generate storyboard")
            + self.generate.sizeHint().width()
            - self.generate.fontMetrics().horizontalAdvance("Generate")
        )
        self._added_timer = QTimer(self)
        self._added_timer.setSingleShot(True)
        self._added_timer.setInterval(1500)
        self._added_timer.timeout.connect(self._show_set_size)
        for keys in ("Ctrl+Return", "Ctrl+Enter"):
            QShortcut(QKeySequence(keys), self, self.submit, Qt.ShortcutContext.WindowShortcut)
        # Why Generate is disabled (or what the guard said): two lines, always reserved.
        self.hint = MessageLine("generateHint", lines=2)
        self.hint.setAccessibleName("Why Generate is not available")
        self.estimate = EstimateLabel("price unknown")
        self.estimate.setObjectName("estimateLabel")
        self.estimate.setAccessibleName("Estimated cost")

        # Where each field's problem is shown (the pictures' in their own zones).
        self._errors: dict[str, MessageLine] = {
            "prompt": self.prompt.message,
            "negative_prompt": self.negative.message,
            "lip_sync_tts_content": self.lip_text.message,
            "lip_sync_tts_speaker": self.lip_text.message,
        }
        for name in (*self.option_cells, *self.extras):
            self._errors[name] = self.options_message
        self._problems: dict[str, str] = {}  # field -> what the last check or the server said about it

        # -- layout ----------------------------------------------------------------------------------
        model_row = QHBoxLayout()
        model_row.setSpacing(6)
        model_label = QLabel("Model")
        model_label.setBuddy(self.model_combo)
        model_row.addWidget(model_label)
        model_row.addWidget(self.model_combo, 1)
        self.grid = QGridLayout()
        self.grid.setHorizontalSpacing(6)
        self.grid.setVerticalSpacing(3)
        row = 0
        for text, field in (("Prompt", self.prompt), ("Avoid", self.negative)):
            label = QLabel(text)
            label.setBuddy(field.edit)
            self.grid.addWidget(label, row, 0, Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
            self.grid.addWidget(field, row, 1, 1, 3)
            self.grid.addWidget(field.footer, row + 1, 0, 1, 4)
            row += 2
        self._options_row = row  # the options' rows start here (laid out per model)
        self.grid.setColumnStretch(1, 1)
        self.grid.setColumnStretch(3, 1)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 6)
        layout.setSpacing(4)
        layout.addLayout(model_row)
        layout.addWidget(self.model_summary)
        layout.addWidget(self.frames, 1)
        layout.addWidget(self.storyboard_note)
        layout.addLayout(self.grid)
        layout.addWidget(self.extras_box)
        layout.addWidget(self.options_message)
        layout.addWidget(self.lip_group)
        generate_row = QHBoxLayout()
        generate_row.setSpacing(6)
        generate_row.addWidget(self.variations_spin)
        generate_row.addWidget(self.generate, 1)
        generate_row.addWidget(self.estimate)
        layout.addLayout(generate_row)
        layout.addWidget(self.hint)
        # Without pictures (text to video) the space they took stays at the bottom, the fields at the top.
        layout.addStretch(0)
        self._layout = layout
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Expanding)

        for signal in (
            self.prompt.changed,
            self.negative.changed,
            self.lip_text.changed,
            self.lip_group.toggled,
            self.seed.textChanged,
        ):
            signal.connect(self._refresh)
        for extra in self.extras.values():
            extra.changed.connect(self._on_option_changed)
        # A problem the server named goes once the person changes that field.
        for fields, changed in (
            (("prompt",), self.prompt.changed),
            (("negative_prompt",), self.negative.changed),
            (("lip_sync_tts_content", "lip_sync_tts_speaker"), self.lip_text.changed),
            (("lip_sync_tts_speaker",), self.speaker.currentIndexChanged),
            (("seed",), self.seed.textChanged),
        ):
            changed.connect(lambda *_a, f=fields: self._forget_problems(f))
        for name, combo in self.choices.items():
            # resolution and duration exclude each other: a change to one clears a problem the pair had
            pair = ("resolution", "duration") if name in ("resolution", "duration") else (name,)
            combo.currentIndexChanged.connect(lambda *_a, f=pair: self._forget_problems(f))
            combo.currentIndexChanged.connect(self._on_option_changed)
        for name, extra in self.extras.items():
            extra.changed.connect(lambda n=name: self._forget_problems((n,)))
        self.model_combo.currentIndexChanged.connect(self._on_model_picked)
        self._show_model(spec)
        self._on_set_changed()

    # -- the model ---------------------------------------------------------------------------------
    def set_model(self, model_id: str) -> bool:
        """Pick a model of the picker (as a person would); False when the picker does not offer it."""
        row = self.model_combo.findData(model_id)
        if row < 0:
            return False
        self.model_combo.setCurrentIndex(row)
        return True

    def model_id(self) -> str:
        """The model picked at the top (what `request()` is for)."""
        return self.spec.model_id

    def _on_model_picked(self, _row: int) -> None:
        model_id = self.model_combo.currentData()
        if not isinstance(model_id, str) or model_id == self.spec.model_id:
            return
        self._show_model(get_model(model_id))
        self._on_set_changed()
        self.model_changed.emit(model_id)

    def _show_model(self, spec: ModelSpec) -> None:
        """Show `spec`'s fields and only those; values the models share stay as they were (choices the new
        model lacks fall back to its default; pictures stay, hidden, for a model that takes them)."""
        self.spec = spec
        self.model_summary.setText(spec.summary)
        self.model_summary.setToolTip(spec.model_id)
        for name, param in ((p.name, p) for p in spec.params):
            if name in self.choices:
                self.choices[name].set_param(param)
            elif name in self.extras:
                self.extras[name].set_param(param)
            elif name == "lip_sync_tts_speaker":
                self.speaker.set_param(param)
        takes_image = spec.has("image_url")
        self.frames.setVisible(takes_image)
        self._layout.setStretchFactor(self.frames, 1 if takes_image else 0)
        self._layout.setStretch(self._layout.count() - 1, 0 if takes_image else 1)
        self.prompt.set_lines(3 if takes_image else 6)  # words alone: room for a longer description
        if spec.has("tail_image_url"):
            hint = "Describe the change from the first frame to the last: “Day turns to night, the camera pulls back…”"
        elif takes_image:
            hint = "Describe the motion: “She turns to the camera and smiles…”"
        else:
            hint = "Describe the scene and what happens: “A red kite rises over a windy beach at sunset…”"
        self.prompt.edit.setPlaceholderText(hint)
        self._lay_out_options()
        for name, extra in self.extras.items():
            extra.setVisible(spec.has(name))
        self.extras_box.setVisible(any(spec.has(name) for name in self.extras))
        self.lip_group.setVisible(spec.has("lip_sync_tts_content"))
        self._update_storyboard()
        self._apply_exclusions()
        self._order_tabs()

    def _lay_out_options(self) -> None:
        """The chosen model's options two to a row, in the catalogue's order (the others are taken out)."""
        for label, widget in self.option_cells.values():
            self.grid.removeWidget(label)
            self.grid.removeWidget(widget)
            label.hide()
            widget.hide()
        names = [p.name for p in self.spec.params if p.name in self.option_cells]
        for i, name in enumerate(names):
            label, widget = self.option_cells[name]
            row, column = self._options_row + i // 2, 2 * (i % 2)
            self.grid.addWidget(label, row, column, Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft)
            self.grid.addWidget(widget, row, column + 1)
            label.show()
            widget.show()

    def focus_chain(self) -> list[QWidget]:
        """The form's widgets in Tab order for the chosen model (hidden ones are skipped by Tab): what the
        window puts between the banner and the player."""
        chain: list[QWidget] = [self.model_combo, self.drop, self.last_drop, self.prompt.edit, self.negative.edit]
        for param in self.spec.params:
            if param.name == "seed":
                chain += [self.seed, self.dice]
            elif param.name in self.option_cells:
                chain.append(self.option_cells[param.name][1])
        chain += [e.control for name, e in self.extras.items() if self.spec.has(name)]
        chain += [e.control for name, e in self.extras.items() if not self.spec.has(name)]
        chain += [c for name, c in self.choices.items() if not self.spec.has(name)]
        if not self.spec.has("seed"):
            chain += [self.seed, self.dice]
        chain += [self.lip_group, self.lip_text.edit, self.speaker, self.variations_spin, self.generate]
        return chain

    def _order_tabs(self) -> None:
        """Tab follows the options as laid out for this model (the form's widgets stay one run in the
        window's chain: re-threading them keeps the run where it is)."""
        chain = self.focus_chain()
        for first, second in pairwise(chain):
            QWidget.setTabOrder(first, second)

    def _show_lip_sync(self, on: bool) -> None:
        for widget in (self.lip_text, self.speaker, self.lip_text.footer):
            widget.setVisible(on)
        # Folded, the group is its title's height: the style's empty frame under it is cut away.
        group = self.lip_group
        option = QStyleOptionGroupBox()
        group.initStyleOption(option)
        title = group.style().subControlRect(
            QStyle.ComplexControl.CC_GroupBox, option, QStyle.SubControl.SC_GroupBoxCheckBox, group
        )
        group.setMaximumHeight(QWIDGETSIZE_MAX if on else max(title.bottom() + 1, group.fontMetrics().height() + 2))

    # -- the pictures ------------------------------------------------------------------------------
    def _zone_for_paste(self) -> ImageDropZone:
        focused = QApplication.focusWidget()
        last = self.last_drop
        if last.isVisible() and focused is not None and (focused is last or last.isAncestorOf(focused)):
            return last
        return self.drop

    def paste_image(self) -> bool:
        """Paste into the zone that has the focus (the last frame's), else the first; a text-to-video model
        turns into its image-to-video sibling first (a pasted picture is meant to be used)."""
        self._take_pictures()
        return self._zone_for_paste().paste()

    def browse_image(self) -> None:
        """Open… : choose pictures for the first zone (or the last frame's, when it has the focus)."""
        self._take_pictures()
        self._zone_for_paste().browse()

    def _take_pictures(self) -> None:
        """Make sure the chosen model takes a picture: text to video becomes image to video of its version."""
        if self.spec.has("image_url"):
            return
        self.set_model(self._image_model(self.spec.model_id.rsplit("/", 1)[0]).model_id)

    @staticmethod
    def _image_model(version: str) -> ModelSpec:
        """The picker's image-to-video model of `version` ("pixverse/v5.5"), else the default."""
        siblings = [get_model(m) for m in FORM_MODELS if m.rsplit("/", 1)[0] == version]
        return next((m for m in siblings if m.has("image_url") and not _storyboard_capable(m)), DEFAULT_MODEL)

    def _on_last_frame_changed(self) -> None:
        self._forget_problems(("tail_image_url",))
        self._refresh()

    def last_frame(self) -> str | None:
        """The transition's last frame as picked (kept while another model is chosen)."""
        return self.last_drop.source

    def set_last_frame(self, source: str | None) -> None:
        """Put a picture in the last-frame zone (checked off the UI thread, like a drop); None clears it."""
        self.last_drop.set_images([source] if source else [])

    # -- storyboard --------------------------------------------------------------------------------
    def is_storyboard(self) -> bool:
        """A transition with a strip of two or more pictures: one transition per pair, joined into one film."""
        return self._storyboard

    def storyboard_images(self) -> list[str] | None:
        """The keyframes in order (usable ones; the strip's order) in storyboard mode, else None."""
        return self.drop.images() if self._storyboard else None

    def storyboard_request(self) -> GenerationRequest:
        """The storyboard's base transition request: its prompt and options, the picture fields empty (each
        part gets its pair of keyframes)."""
        return replace(self._base_request(), image="", last_frame=None)

    def _update_storyboard(self) -> None:
        now = _storyboard_capable(self.spec) and self.drop.is_batch and len(self.drop.entries()) >= 2
        first = self.drop
        if _storyboard_capable(self.spec):
            first.set_caption("Keyframes, in order" if now else "First frame", "Keyframes" if now else "First frame")
            first.set_placeholder(FIRST_FRAME_PLACEHOLDER)
        else:
            first.set_caption("Image")
            first.set_placeholder(PLACEHOLDER)
        first.setMinimumWidth(120 if _storyboard_capable(self.spec) and not now else 200)
        show_last = _storyboard_capable(self.spec) and not now
        self.last_drop.setVisible(show_last)
        self.frames_arrow.setVisible(show_last)
        first.set_numbered(now)
        if now:
            frames = len(self.drop.images())
            parts = max(0, frames - 1)
            joined = ", joined into one film" if parts > 1 else ""
            self.storyboard_note.setText(
                f"Storyboard: {_plural(frames, 'keyframe')} → {_plural(parts, 'transition')}{joined}."
                " Drag a thumbnail, or Ctrl+←/→, to change the order."
            )
        self.storyboard_note.setVisible(now)
        if now == self._storyboard:
            return
        self._storyboard = now
        spin = self.variations_spin
        spin.blockSignals(True)
        if now:
            self._variations_before_storyboard = spin.value()
            spin.setValue(1)
            spin.setToolTip(STORYBOARD_NO_VARIATIONS)
        else:
            spin.setValue(self._variations_before_storyboard)
            spin.setToolTip("How many clips to make, each with its own seed")
        spin.blockSignals(False)
        spin.setEnabled(not now)
        self.storyboard_changed.emit(now)

    # -- behaviour ---------------------------------------------------------------------------------
    def _on_option_changed(self, *_args: object) -> None:
        self._apply_exclusions()

    def _chosen(self) -> dict[str, object]:
        return {name: combo.value() for name, combo in self.choices.items() if self.spec.has(name)}

    def _apply_exclusions(self) -> None:
        """Disable each choice the others make impossible, with the catalogue's reason as its tooltip and as a
        note under the options (why 8 s is grey at 1080p, why 1080p is grey at 8 s)."""
        chosen = self._chosen()
        reasons: list[str] = []
        for name, combo in self.choices.items():
            model = combo.model()
            assert isinstance(model, QStandardItemModel)
            for row in range(combo.count()):
                value = combo.itemData(row)
                reason = self.spec.forbidden(name, value, chosen) if self.spec.has(name) and value is not None else None
                item = model.item(row)
                item.setEnabled(reason is None)
                item.setToolTip(f"{value_label(combo.param, value)}: {reason}" if reason else "")
                if reason and reason not in reasons:
                    reasons.append(reason)
        self.options_message.show_note(" ".join(reasons))
        self._refresh()
        self.update_estimate()

    def update_estimate(self) -> None:
        """Re-quote what the form holds (model, resolution, duration, the set's size) with the window's prices."""
        if not shiboken6.isValid(self.variations_spin):  # a price answer that outlived its window
            return
        count = self.count
        quote = self.quoter(self.request(), count) if self.quoter is not None else None
        text, tip = estimate_text(quote, self.demo, count)
        if self._storyboard and quote is not None:
            tip = f"{_plural(count, 'transition')} of the storyboard\n{tip}"
        self.estimate.setText(text)
        self.estimate.setToolTip(tip)

    # -- the set: images × variations -------------------------------------------------------------
    @property
    def count(self) -> int:
        """Jobs one click on Generate makes (what the estimate and the spending guard cover)."""
        return self.set_size()

    def set_size(self) -> int:
        """Jobs one click on Generate makes: one per usable image (at least one) times the variations; for a
        storyboard, one per pair of keyframes (the film itself is joined here and costs nothing)."""
        if self._storyboard:
            return max(1, len(self.drop.images()) - 1)
        return set_size(len(self.images()), self.variations())

    def images(self) -> list[str]:
        """The set's images in order: the one shown, or the strip's usable ones ([] for a model without one)."""
        return self.drop.images() if self.spec.has("image_url") else []

    def set_images(self, paths: list[str]) -> None:
        """Replace the form's images: one shows large, several become a strip, none clears (checked off the UI
        thread; `set_changed` follows). A text-to-video model becomes image to video: pictures are meant to be
        used."""
        if paths:
            self._take_pictures()
        self.drop.set_images(paths)

    def variations(self) -> int:
        return self.variations_spin.value()

    def set_variations(self, count: int) -> None:
        """×N, clamped to 1..MAX_VARIATIONS (a storyboard keeps it for when it is a plain set again)."""
        count = max(1, min(MAX_VARIATIONS, count))
        if self._storyboard:
            self._variations_before_storyboard = count
            return
        self.variations_spin.setValue(count)

    def requests(self) -> list[GenerationRequest]:
        """The jobs one click makes: each usable image × each variation (same settings; seeds S, S+1, … with a
        seed S, else distinct random ones drawn on every call); for a storyboard, one transition per pair of
        keyframes. Raises BatchError when the seed does not leave room for the variations."""
        if self._storyboard:
            base = self.storyboard_request()
            return [replace(base, image=a, last_frame=b) for a, b in pairwise(self.drop.images())]
        return expand(self.request(), self.images(), self.variations())

    def _set_problem(self) -> str:
        """What is wrong with the set as a whole ("" when nothing): a seed too large for the variations."""
        try:
            variation_seeds(self.request().seed, self.variations(), random.Random(0))
        except BatchError as exc:
            return str(exc)
        return ""

    def _on_set_changed(self, *_args: object) -> None:
        self._update_storyboard()
        self._show_set_size()
        self._refresh()
        self.update_estimate()
        self.set_changed.emit()

    def _show_set_size(self) -> None:
        if self._added_timer.isActive():
            return  # "Added to queue" stays its moment; the timer puts the count back
        if self._storyboard:
            self.generate.setText("Generate storyboard")
            return
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
        self.seed.setText(str(random.randint(0, self.params["seed"].maximum or SEED_MAX)))

    def blocking_reason(self) -> str | None:
        """Why Generate is disabled: the pictures still being checked or missing, else the core's validation of
        what the form holds (never a second copy)."""
        spec = self.spec
        if spec.has("image_url"):
            first = "the keyframes" if self._storyboard else "the first frame" if _storyboard_capable(spec) else ""
            if self.drop.is_loading:
                checking = sum(1 for e in self.drop.entries() if e.loading)
                if checking > 1:
                    return f"Checking the images ({checking} left)…"
                return f"Checking {first}…" if first else "Checking the image…"
            if self._storyboard:
                from pixdesk.jobs.storyboard import MAX_KEYFRAMES  # not before the first frame: only now

                usable = len(self.drop.images())
                if usable < 2:
                    return "A storyboard needs at least two usable keyframes: add pictures, or remove the strip."
                if usable > MAX_KEYFRAMES:
                    return f"A storyboard can have at most {MAX_KEYFRAMES} keyframes ({usable} are in the strip)."
            elif self.drop.source is None:
                if self.drop.entries():
                    return "None of these images can be used: remove them or add others."
                return "Add the first frame to start." if first else "Add an image to start."
        if _storyboard_capable(spec) and not self._storyboard:
            if self.last_drop.is_loading:
                return "Checking the last frame…"
            if self.last_drop.source is None:
                return "Add the last frame: the picture the clip ends on."
        if spec.has("lip_sync_tts_content") and self.lip_group.isChecked() and not self.lip_text.text().strip():
            return "Type the line the character speaks, or switch lip-sync off."
        errors = self.request().validate()
        if errors:
            return errors[0].message
        return self._set_problem() or None

    def show_added(self) -> None:
        """Feedback for a click on Generate: the jobs are in the queue (a quick second click adds nothing)."""
        n = self.set_size()
        self.generate.setText("Added to queue" if n == 1 or self._storyboard else f"Added {n} to queue")
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
        if self._storyboard:
            parts = self.set_size()
            return f"Generate {_plural(parts, 'transition')} and join them into one film (Ctrl+Enter)"
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

    def _base_request(self) -> GenerationRequest:
        """What the form holds for the chosen model, its pictures as picked (only the model's own fields)."""
        spec = self.spec
        has = spec.has
        values: dict[str, object] = {"model": spec.model_id}
        if has("image_url"):
            values["image"] = self.drop.source or ""
        if has("tail_image_url"):
            values["last_frame"] = self.last_drop.source
        if has("prompt"):
            values["prompt"] = self.prompt.text().strip()
        if has("negative_prompt"):
            values["negative_prompt"] = self.negative.text().strip() or None
        if has("seed"):
            seed_text = self.seed.text().strip()
            values["seed"] = int(seed_text) if seed_text.isdigit() else None
        for name, combo in self.choices.items():
            if has(name):
                values[spec.param(name).field] = combo.value()
        for name, extra in self.extras.items():
            if has(name):
                values[spec.param(name).field] = extra.value()
        if has("lip_sync_tts_content") and self.lip_group.isChecked():
            values["lip_sync_tts_content"] = self.lip_text.text().strip() or None
            values["lip_sync_tts_speaker"] = self.speaker.value()
        return GenerationRequest.from_dict(values)

    def request(self) -> GenerationRequest:
        """The first job of the set: what the form holds for the chosen model and nothing else (for a
        storyboard, its first transition: the first keyframe to the second)."""
        request = self._base_request()
        if self._storyboard:
            frames = self.drop.images()
            return replace(
                request, image=frames[0] if frames else "", last_frame=frames[1] if len(frames) > 1 else None
            )
        return request

    def show_errors(self, errors: list[FieldError]) -> None:
        """Put each problem next to its field (a picture's in its drop zone); they stay until the next check or
        a change to that field."""
        self._problems = {}
        for error in errors:
            if error.field == "image_url":
                self.drop.show_problem(error.message)
            elif error.field == "tail_image_url" and not self._storyboard:
                self.last_drop.show_problem(error.message)
            elif error.field == "tail_image_url":
                self.drop.show_problem(error.message)
            elif error.field in self._errors:
                self._problems.setdefault(error.field, error.message)
            else:  # a field the form does not show (the model, say): under Generate
                self.show_guard_message(error.message)
        self._show_problems()

    def _forget_problems(self, fields: tuple[str, ...]) -> None:
        if "tail_image_url" in fields and self.last_drop.error_text() and self.last_drop.source:
            self.last_drop.show_problem("")
        if any(self._problems.pop(f, None) for f in fields):
            self._show_problems()

    def field_message(self, field: str) -> str:
        """What the line beside `field` says is wrong now ("" when nothing is)."""
        if field == "tail_image_url":
            return self.last_drop.error_text()
        line = self._errors.get(field)
        return line.problem if line is not None else self.drop.error_text()

    def submit(self) -> None:
        """A click on Generate: `generate_set_requested` carries the set (its seeds drawn once, here; a
        storyboard's transitions) and `generate_requested` its first job, for a window that still takes one
        request."""
        self.recent.close()
        if self.blocking_reason() is not None:
            return
        request = self.request()
        try:
            jobs = self.requests()
        except BatchError:  # blocking_reason said so already; the seed's line shows why
            return
        errors = next((e for e in (job.validate() for job in jobs) if e), [])
        self.show_errors(errors)
        if errors:
            return
        self.set_recent_prompts(remember_prompt(self.recent_prompts(), request.prompt))
        self.generate_set_requested.emit(jobs)
        self.generate_requested.emit(request)

    def load_request(self, request: GenerationRequest) -> None:
        """Reuse settings: put every field of an earlier job back into the form, its model first (its one
        image replaces a strip; the variations go back to ×1, since the job's seed is the one to reproduce).
        A model the picker does not offer (lip-sync) leaves the model as it is and brings back what fits."""
        from pixdesk.api.images import is_web_url

        self.set_model(request.model)
        spec = request.spec
        if spec.has("image_url") and request.image:
            if is_web_url(request.image):
                self.drop.set_url(request.image)
            else:
                self.drop.load_path(request.image)
        if spec.has("tail_image_url") and request.last_frame:
            self.set_last_frame(request.last_frame)
        if spec.has("prompt"):
            self.prompt.set_text(request.prompt)
        if spec.has("negative_prompt"):
            self.negative.set_text(request.negative_prompt or "")
        for name, combo in self.choices.items():
            if spec.has(name):
                combo.set_value(request.effective(name))
        for name, extra in self.extras.items():
            if spec.has(name):
                extra.set_value(request.effective(name))
        if spec.has("seed"):
            self.seed.setText("" if request.seed is None else str(request.seed))
        if spec.has("lip_sync_tts_content"):
            lip = bool(request.lip_sync_tts_content)
            self.lip_group.setChecked(lip)
            self.lip_text.set_text(request.lip_sync_tts_content or "")
            self.speaker.set_value(request.lip_sync_tts_speaker or "Auto")
        self.set_variations(1)
        self.show_errors([])

    def continue_from(self, image: str, previous: GenerationRequest) -> None:
        """Continue from a clip's last frame: `image` becomes the picture of the next job, with
        the clip's own model when it animates one picture, else the image-to-video model of its version; the
        clip's prompt and options come back to edit (not its seed or spoken line: the next clip is new)."""
        target = previous.spec if previous.model in FORM_MODELS else DEFAULT_MODEL
        if not target.has("image_url") or _storyboard_capable(target):
            version = target.model_id.rsplit("/", 1)[0]
            target = self._image_model(version)
        self.load_request(
            replace(
                previous,
                model=target.model_id,
                image=image,
                prompt=previous.prompt or self.prompt.text(),
                last_frame=None,
                seed=None,
                lip_sync_tts_content=None,
                lip_sync_tts_speaker=None,
            )
        )
        edit = self.prompt.edit
        assert isinstance(edit, PromptEdit)
        edit.setFocus(Qt.FocusReason.OtherFocusReason)
        edit.moveCursor(edit.textCursor().MoveOperation.End)

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
        """A snapshot of the form to save (Qt-free, so `form_memory.save_form_state` may run on a worker): every
        field of every model, so what a model switch kept is kept across a restart too."""
        seed = self.seed.text().strip()
        last = self.last_drop.images_to_keep()
        return FormState(
            images=tuple(self.drop.images_to_keep()),
            prompt=self.prompt.text(),
            negative_prompt=self.negative.text(),
            resolution=_text(self.resolution.value()),
            duration=_whole(self.duration.value()),
            style=_text(self.style_combo.value()),
            seed=int(seed) if seed.isdigit() else None,
            lip_sync=self.lip_group.isChecked(),
            lip_sync_text=self.lip_text.text(),
            lip_sync_voice=_text(self.speaker.value()),
            variations=self._variations_before_storyboard if self._storyboard else self.variations(),
            recent_prompts=tuple(self.recent_prompts()),
            model=self.spec.model_id,
            last_frame=last[0] if last else None,
            aspect_ratio=_text(self.aspect_ratio.value()),
            generate_audio_switch=self.extras["generate_audio_switch"].value() is True,
            generate_multi_clip_switch=self.extras["generate_multi_clip_switch"].value() is True,
            thinking_type=_text(self.extras["thinking_type"].value()),
        )

    def restore_form_state(self, state: FormState) -> None:
        """Put a saved form back, its model first. Values this form cannot take (a choice no model has now)
        are skipped; images are checked again off the UI thread, like a drop."""
        if state.model:
            self.set_model(state.model)
        if state.images:
            self.drop.set_images(list(state.images))
        if state.last_frame:
            self.set_last_frame(state.last_frame)
        self.prompt.set_text(state.prompt)
        self.negative.set_text(state.negative_prompt)
        for combo, value in (
            (self.resolution, state.resolution),
            (self.duration, state.duration),
            (self.aspect_ratio, state.aspect_ratio),
        ):
            if value is not None:
                combo.set_value(value)
        if not self.style_combo.set_value(state.style):
            self.style_combo.set_value(None)
        self.seed.setText("" if state.seed is None else str(state.seed))
        if not self.seed.hasAcceptableInput():
            self.seed.clear()
        self.lip_group.setChecked(state.lip_sync)
        self.lip_text.set_text(state.lip_sync_text)
        if state.lip_sync_voice is not None:
            self.speaker.set_value(state.lip_sync_voice)
        self.extras["generate_audio_switch"].set_value(state.generate_audio_switch)
        self.extras["generate_multi_clip_switch"].set_value(state.generate_multi_clip_switch)
        if state.thinking_type is not None:
            self.extras["thinking_type"].set_value(state.thinking_type)
        self.set_variations(state.variations)
        if state.recent_prompts:
            self.set_recent_prompts(list(state.recent_prompts))
        self._apply_exclusions()
