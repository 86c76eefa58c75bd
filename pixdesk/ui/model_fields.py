"""The form's option widgets, made from the catalogue's `Param`s: a choice box for an enum, a switch with its
one-line explanation for a bool, so a model's new option is a catalogue entry, not new form code.

Where each option goes (the options grid, the explained extras, the lip-sync group) and the objectNames people
and tests rely on (DESIGN §3) are decided here too, from the parameter's name and kind.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QPalette, QResizeEvent
from PySide6.QtWidgets import QCheckBox, QComboBox, QGridLayout, QLabel, QSizePolicy, QWidget

from pixdesk.api.catalogue import STYLE_LABELS, THINKING_LABELS, ModelSpec, Param

# The names people and tests find the widgets by; any other option gets `<camelCase name>Combo` / `Check`.
WIDGET_NAMES: dict[str, str] = {
    "resolution": "resolutionCombo",
    "duration": "durationCombo",
    "style": "styleCombo",
    "seed": "seedEdit",
    "aspect_ratio": "aspectRatioCombo",
    "thinking_type": "thinkingCombo",
    "lip_sync_tts_speaker": "speakerCombo",
    "lip_sync_tts_content": "lipSyncTextEdit",
    "generate_audio_switch": "soundCheck",
    "generate_multi_clip_switch": "multiClipCheck",
    "prompt": "promptEdit",
    "negative_prompt": "negativePromptEdit",
    "image_url": "imageDrop",
    "tail_image_url": "lastFrameDrop",
}
VALUE_LABELS: dict[str, dict[str, str]] = {"style": STYLE_LABELS, "thinking_type": THINKING_LABELS}
SUFFIXES: dict[str, str] = {"duration": " s"}
# Shorter labels where the options grid is tight (the full label stays the accessible name).
GRID_LABELS: dict[str, str] = {"aspect_ratio": "Aspect"}
LIP_SYNC: frozenset[str] = frozenset({"lip_sync_tts_content", "lip_sync_tts_speaker"})
# Choices whose meaning is not obvious from their values: shown with their explanation, like the switches.
EXPLAINED: frozenset[str] = frozenset({"thinking_type"})

Place = Literal["input", "text", "options", "extras", "lip_sync", "none"]


def place_of(param: Param) -> Place:
    """Where the form shows `param`: a drop zone, a text field, the options grid, the explained extras (switches
    and choices that need a word of explanation), the lip-sync group, or nowhere (a clip or a recording: not
    this form's, lip-sync is reached from a finished clip)."""
    if param.name in LIP_SYNC:
        return "lip_sync"
    if param.kind == "image":
        return "input"
    if param.kind in ("video", "audio"):
        return "none"
    if param.kind == "text":
        return "text"
    if param.kind == "bool" or param.name in EXPLAINED:
        return "extras"
    return "options"  # enums and the seed


def grid_label(param: Param) -> str:
    return GRID_LABELS.get(param.name, param.label)


def widget_name(param: Param) -> str:
    if param.name in WIDGET_NAMES:
        return WIDGET_NAMES[param.name]
    head, *rest = param.name.split("_")
    return head + "".join(w.title() for w in rest) + ("Check" if param.kind == "bool" else "Combo")


def value_label(param: Param, value: str | int) -> str:
    return VALUE_LABELS.get(param.name, {}).get(str(value), f"{value}{SUFFIXES.get(param.name, '')}")


def form_params(specs: Iterable[ModelSpec]) -> dict[str, Param]:
    """Every parameter of these models by name, the first model's version of each (the form makes one widget per
    name and refills it with the chosen model's choices)."""
    out: dict[str, Param] = {}
    for spec in specs:
        for param in spec.params:
            out.setdefault(param.name, param)
    return out


def narrow(combo: QComboBox) -> None:
    """A combo box as narrow as a few characters allows (it widens with the column), so the form fits 800 px."""
    combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
    combo.setMinimumContentsLength(4)


class ChoiceCombo(QComboBox):
    """An enum parameter's choices, labelled for people (“5 s”, “Anime”, “On”); a parameter without a default
    starts with “None” (the field is then left out of the request)."""

    def __init__(self, param: Param) -> None:
        super().__init__()
        self.param = param
        self.setObjectName(widget_name(param))
        self.setAccessibleName(param.label)
        narrow(self)
        self._fill(param, param.default)

    def _fill(self, param: Param, keep: object) -> None:
        self.param = param
        self.clear()
        if param.default is None:
            self.addItem("None", None)
        for choice in param.choices:
            self.addItem(value_label(param, choice), choice)
        row = self.findData(keep) if keep is not None else -1
        if row < 0 and param.default is not None:
            row = self.findData(param.default)
        self.setCurrentIndex(max(0, row))
        self.setToolTip(param.help)
        self.setAccessibleDescription(param.help)

    def set_param(self, param: Param) -> None:
        """Take another model's version of the parameter (10 s added or gone): the choice stays when it is still
        offered, else the model's default."""
        if param == self.param:
            return
        keep = self.value()
        self.blockSignals(True)
        try:
            self._fill(param, keep)
        finally:
            self.blockSignals(False)
        self.currentIndexChanged.emit(self.currentIndex())

    def value(self) -> str | int | None:
        data = self.currentData()
        return data if isinstance(data, str | int) else None

    def set_value(self, value: object) -> bool:
        """Choose `value`; False (nothing changed) when it is not offered."""
        row = self.findData(value) if value is not None else (0 if self.param.default is None else -1)
        if row < 0:
            return False
        self.setCurrentIndex(row)
        return True


class FitLabel(QLabel):
    """Wrapped text whose height follows its width (one line when wide, two when narrow), without making the
    form's layout height-for-width: a scroll area would then size the form by its preferred height, not its
    minimum, and scroll at sizes where everything fits."""

    def __init__(self, text: str = "", name: str = "") -> None:
        super().__init__(text)
        if name:
            self.setObjectName(name)
        self.setWordWrap(True)
        self.setTextFormat(Qt.TextFormat.PlainText)
        policy = QSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        policy.setHeightForWidth(False)
        self.setSizePolicy(policy)
        self.setMinimumWidth(60)
        self._fit()

    def setText(self, text: str) -> None:
        super().setText(text)
        self._fit()

    def hasHeightForWidth(self) -> bool:
        return False  # its height is set from its width here (Qt turns the flag back on with each text)

    def minimumSizeHint(self) -> QSize:
        return QSize(60, self.minimumHeight())

    def sizeHint(self) -> QSize:
        return QSize(super().sizeHint().width(), self.minimumHeight())

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit()

    def _fit(self) -> None:
        height = max(self.heightForWidth(max(60, self.width())), self.fontMetrics().lineSpacing()) if self.text() else 0
        if height != self.minimumHeight() or height != self.maximumHeight():
            self.setFixedHeight(height)


class HelpLine(FitLabel):
    """The one-line explanation under a switch or a choice: muted and a little smaller, wrapped when the form
    is narrow."""

    def __init__(self, text: str, name: str) -> None:
        super().__init__("", name)
        font = self.font()
        font.setPointSizeF(font.pointSizeF() * 0.9)
        self.setFont(font)
        palette = self.palette()
        palette.setColor(QPalette.ColorRole.WindowText, palette.color(QPalette.ColorRole.PlaceholderText))
        self.setPalette(palette)
        self.setText(text)


class Explained(QWidget):
    """One of the extras: a switch (a bool parameter) or a labelled choice, with its explanation under it,
    always visible (what “multi-clip” or “prompt optimisation” means is not obvious)."""

    changed = Signal()

    def __init__(self, param: Param) -> None:
        super().__init__()
        self.param = param
        self.setObjectName(f"{widget_name(param)}Row")
        self.check: QCheckBox | None = None
        self.combo: ChoiceCombo | None = None
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setHorizontalSpacing(6)
        grid.setVerticalSpacing(0)
        if param.kind == "bool":
            check = QCheckBox(param.label)
            check.setObjectName(widget_name(param))
            check.setAccessibleDescription(param.help)
            check.setToolTip(param.help)
            check.setChecked(param.default is True)
            check.toggled.connect(self.changed)
            grid.addWidget(check, 0, 0, 1, 2)
            self.check = check
            self.control: QWidget = check
        else:
            combo = ChoiceCombo(param)
            combo.currentIndexChanged.connect(self.changed)
            label = QLabel(param.label)
            label.setBuddy(combo)
            grid.addWidget(label, 0, 0)
            grid.addWidget(combo, 0, 1)
            grid.setColumnStretch(1, 1)
            self.combo = combo
            self.control = combo
        indent = self.style().pixelMetric(self.style().PixelMetric.PM_IndicatorWidth) + 6 if self.check else 0
        self.help = HelpLine(param.help, f"{widget_name(param)}Help")
        self.help.setContentsMargins(indent, 0, 0, 0)
        grid.addWidget(self.help, 1, 0, 1, 2)

    def set_param(self, param: Param) -> None:
        self.param = param
        self.help.setText(param.help)
        if self.combo is not None:
            self.combo.set_param(param)

    def value(self) -> str | int | bool | None:
        if self.check is not None:
            return self.check.isChecked()
        assert self.combo is not None
        return self.combo.value()

    def set_value(self, value: object) -> bool:
        if self.check is not None:
            if not isinstance(value, bool):
                return False
            self.check.setChecked(value)
            return True
        assert self.combo is not None
        return self.combo.set_value(value)


__all__ = [
    "EXPLAINED",
    "LIP_SYNC",
    "WIDGET_NAMES",
    "ChoiceCombo",
    "Explained",
    "FitLabel",
    "HelpLine",
    "Place",
    "form_params",
    "grid_label",
    "narrow",
    "place_of",
    "value_label",
    "widget_name",
]
