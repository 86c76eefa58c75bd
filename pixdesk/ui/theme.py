"""Colours that read well in light and dark themes, and the app icon."""

from __future__ import annotations

from PySide6.QtGui import QColor, QGuiApplication, QIcon, QPalette

from pixdesk.jobs.models import JobState
from pixdesk.resources_path import icon_path

# (light background, dark background) per state; text is chosen for contrast.
BADGE_COLORS: dict[JobState, tuple[str, str]] = {
    JobState.PREPARING: ("#e0e0e0", "#4a4a4a"),
    JobState.WAITING: ("#e0e0e0", "#4a4a4a"),
    JobState.SUBMITTING: ("#d6e4ff", "#2c4a86"),
    JobState.QUEUED: ("#ffe9b3", "#7a5a00"),
    JobState.GENERATING: ("#d9ccff", "#5a3fb8"),
    JobState.DOWNLOADING: ("#c8efff", "#0b6a8a"),
    JobState.COMPLETED: ("#c9f2d0", "#1f7a35"),
    JobState.FAILED: ("#ffd2d2", "#a02828"),
    JobState.CANCELLED: ("#eeeeee", "#555555"),
    JobState.UNKNOWN: ("#ffd9b0", "#a0520a"),
    JobState.NOT_CREATED: ("#eeeeee", "#555555"),
    JobState.STALLED: ("#ffd9b0", "#a0520a"),
}
ERROR_COLOR = ("#c62828", "#ff8a80")
NOTE_COLOR = ("#8a5a00", "#ffcc80")


def is_dark(palette: QPalette | None = None) -> bool:
    palette = palette or QGuiApplication.palette()
    return palette.color(QPalette.ColorRole.Window).lightness() < 128


def badge_colors(state: JobState, dark: bool) -> tuple[QColor, QColor]:
    light_bg, dark_bg = BADGE_COLORS[state]
    background = QColor(dark_bg if dark else light_bg)
    text = QColor("#ffffff") if dark else QColor("#1b1b1b")
    return background, text


# The colour of the reason line under a finished row, per state: red only for a failure, amber for what needs a
# look (the outcome is unknown, contact was lost, it was never created), none (the row's muted text) otherwise:
# a cancelled job is no error.
REASON_COLORS: dict[JobState, tuple[str, str]] = {
    JobState.FAILED: ERROR_COLOR,
    JobState.UNKNOWN: NOTE_COLOR,
    JobState.STALLED: NOTE_COLOR,
    JobState.NOT_CREATED: NOTE_COLOR,
}


def reason_color(state: JobState, dark: bool) -> QColor | None:
    """The colour of a finished row's reason line, or None for the row's ordinary (muted) text."""
    pair = REASON_COLORS.get(state)
    return None if pair is None else QColor(pair[1] if dark else pair[0])


def error_color() -> str:
    return ERROR_COLOR[is_dark()]


def note_color() -> str:
    return NOTE_COLOR[is_dark()]


def app_icon() -> QIcon:
    icon = QIcon()
    for size in (16, 24, 32, 48, 64, 128, 256, 512):
        path = icon_path(size)
        if path.exists():
            icon.addFile(str(path))
    return icon
