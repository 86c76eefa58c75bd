"""The compare grid: two to four finished clips side by side, playing in sync under one transport.

Each clip has its own QMediaPlayer; the longest clip is the reference clock. Play, pause and seek go to every
player at once, and a timer puts back any player that drifts more than DRIFT_MS from the reference (a decoder that
started late, a seek that took longer on one file). A clip shorter than the reference is paused on its last frame
and waits there; when the reference ends, all start again from the beginning (Loop, on by default) or hold their
last frames. Each cell is labelled with what sets its clip apart (`pixdesk.jobs.differences`) and has a star.

Sound: every clip starts muted, and the speaker of a clip that has a sound track plays that one alone (another's
speaker moves the sound there). Comparing is about the pictures first, two lip-sync voices over each other are
unintelligible, and a muted clip then needs no audio output at all (see `native_audio_output` for why fewer of
those is also safer).

Qt Multimedia is imported when the first clip is shown, as in `pixdesk.ui.player`: this module may be imported
with the window (for `CompareItem`) without loading the media stack or starting its threads.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QSize, Qt, QTimer, QUrl, Signal
from PySide6.QtGui import QCloseEvent, QGuiApplication, QKeySequence, QResizeEvent, QShortcut
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QSlider,
    QStackedLayout,
    QStyle,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from pixdesk.jobs.differences import differences
from pixdesk.ui import theme
from pixdesk.ui.audio_output import native_audio_output
from pixdesk.ui.player import jump_to_click

if TYPE_CHECKING:
    from PySide6.QtMultimedia import QAudioOutput, QMediaPlayer
    from PySide6.QtMultimediaWidgets import QVideoWidget

    from pixdesk.jobs.models import Job

log = logging.getLogger(__name__)
MAX_CLIPS = 4
SYNC_INTERVAL_MS = 50  # how often the players are checked against the reference
DRIFT_MS = 60  # a player further than this from the reference is put back in step
SETTLE_MS = 200  # after a seek a player is left alone this long: it is still decoding its way to the target
MAX_LEAD_MS = 250  # at most this far ahead of the reference a lagging player is sent (its seek takes time)
END_GUARD_MS = 150  # a shorter clip is paused this close to its end (a tick later it would have run out)
HOLD_BEFORE_END_MS = 20  # where a finished clip waits: on its last frame (at its very end the frame is gone)
STAR_COLORS = ("#b8860b", "#ffd54f")  # (light theme, dark theme): a gold that reads on both


@dataclass(frozen=True)
class CompareItem:
    """One clip of the grid: the job it came from, its file, the label over it and whether it is starred."""

    job_id: str
    path: str
    label: str
    favourite: bool = False


def compare_items(jobs: Sequence[Job]) -> list[CompareItem]:
    """The grid's items for finished jobs (in this order), each labelled with what differs from the others."""
    labels = differences([job.request for job in jobs])
    return [
        CompareItem(job.id, job.file_path or "", label, job.favourite) for job, label in zip(jobs, labels, strict=True)
    ]


def grid_shape(count: int, aspect: float, width: int, height: int, header: int = 30) -> tuple[int, int]:
    """(rows, columns) for `count` clips of `aspect` (width / height) in a `width` × `height` area: the shape
    whose clips show largest. Two clips are always side by side; three or four go in a row or a 2×2 square
    (wide clips fill a square better, tall ones a row)."""
    if count <= 1:
        return 1, 1
    if count == 2:
        return 1, 2
    candidates = [(2, 2), (1, count)]

    def video_area(shape: tuple[int, int]) -> float:
        rows, cols = shape
        cell_w, cell_h = width / cols, max(1.0, height / rows - header)
        w = min(cell_w, cell_h * aspect)
        return w * (w / aspect)

    return max(candidates, key=video_area)


def _clock(ms: int) -> str:
    """m:ss.t — tenths, because clips are a few seconds long and are compared moment by moment."""
    tenths = max(0, ms) // 100
    return f"{tenths // 600}:{tenths // 10 % 60:02d}.{tenths % 10}"


class _ElidedLabel(QLabel):
    """A one-line label that shortens its text with an ellipsis to fit; the whole text is in the tooltip."""

    def __init__(self, text: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._full = ""
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.set_full_text(text)

    def full_text(self) -> str:
        return self._full

    def set_full_text(self, text: str) -> None:
        self._full = text
        self.setToolTip(text)
        self.setAccessibleName(text)
        self._elide()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._elide()

    def minimumSizeHint(self) -> QSize:
        return QSize(40, super().minimumSizeHint().height())

    def _elide(self) -> None:
        self.setText(self.fontMetrics().elidedText(self._full, Qt.TextElideMode.ElideRight, max(40, self.width())))


class CompareCell(QWidget):
    """One clip of the grid: its label, star and speaker over the video (or the reason it cannot play).

    The label bar and the video form one framed block the size of the clip's picture, centred in the cell: the
    label sits on its clip, and the letterbox around a clip is the window's background, not black bars.
    """

    def __init__(self, index: int, item: CompareItem, grid: CompareGrid, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        from PySide6.QtMultimedia import QMediaPlayer
        from PySide6.QtMultimediaWidgets import QVideoWidget

        self.setObjectName("compareCell")
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.index = index
        self.item = item
        self.error: str | None = None
        self.loaded = False  # the player has the clip open (its duration is known)
        self.held = False  # paused on its last frame, waiting for the reference to end
        self.settle_until = 0.0  # monotonic time until which the sync leaves this player alone (after a seek)
        # How far ahead of the reference a realigning seek aims: what this player's seeks fell short by, learnt
        # from the last realignment (a busy machine takes a while to decode up to the target).
        self.lead_ms = 0
        self.realigned = False  # the last seek was a realignment, not yet measured
        self.aspect = 16 / 9  # width / height; the clip's own once it has loaded

        self.box = QFrame(self)
        self.box.setObjectName("compareClip")
        self.box.setFrameShape(QFrame.Shape.StyledPanel)
        self.title = _ElidedLabel(f"{index + 1}  {item.label}")
        self.title.setObjectName("compareLabel")
        self.star = QToolButton()
        self.star.setObjectName("compareStar")
        self.star.setCheckable(True)
        self.star.setChecked(item.favourite)
        self.star.setAutoRaise(True)
        self.sound = QToolButton()
        self.sound.setObjectName("compareSound")
        self.sound.setCheckable(True)
        self.sound.setAutoRaise(True)
        self.sound.setEnabled(False)  # until the clip is known to have a sound track
        self.sound.setToolTip("This clip has no sound")
        self.sound.setAccessibleName(f"Listen to clip {index + 1}")
        self._header = header = QHBoxLayout()
        header.setContentsMargins(6, 1, 1, 1)
        header.setSpacing(2)
        header.addWidget(self.title, 1)
        header.addWidget(self.sound)
        header.addWidget(self.star)

        self.message = QLabel("Loading…")
        self.message.setObjectName("compareMessage")
        self.message.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.message.setWordWrap(True)
        self.message.setMinimumSize(120, 68)
        self.video: QVideoWidget = QVideoWidget()
        self.video.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.video.setMinimumSize(120, 68)
        self.video.setAccessibleName(f"Clip {index + 1}: {item.label}")
        screen = QWidget()
        screen.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.stack = QStackedLayout(screen)
        self.stack.addWidget(self.message)
        self.stack.addWidget(self.video)
        layout = QVBoxLayout(self.box)
        layout.setContentsMargins(1, 1, 1, 1)
        layout.setSpacing(1)
        layout.addLayout(header)
        layout.addWidget(screen, 1)

        # The player belongs to the grid (not to this cell), as the single player's belongs to the window; `release`
        # hands it to Qt to delete before the widget it draws into goes.
        self._grid = grid
        self.player: QMediaPlayer = QMediaPlayer(grid)
        self.player.setVideoOutput(self.video)
        # Made when the clip is first heard: a muted clip needs no audio output, and each output is a renderer
        # thread (see `release` for why fewer of those is also safer).
        self.audio: QAudioOutput | None = None
        self._restyle()

    # -- what the grid asks ---------------------------------------------------------------------------
    @property
    def playable(self) -> bool:
        return self.loaded and self.error is None

    @property
    def settled(self) -> bool:
        """Loaded or failed: nothing more will come of opening it."""
        return self.loaded or self.error is not None

    @property
    def hold_ms(self) -> int:
        """Where this clip waits once it has played to its end: its last frame."""
        return max(0, self.player.duration() - HOLD_BEFORE_END_MS)

    def position(self) -> int:
        return self.player.position() if self.playable else 0

    def is_running(self) -> bool:
        from PySide6.QtMultimedia import QMediaPlayer

        return self.player.playbackState() == QMediaPlayer.PlaybackState.PlayingState

    def show_error(self, message: str) -> None:
        self.error = message
        self.message.setText(message)
        self.stack.setCurrentWidget(self.message)
        self._restyle()

    def show_video(self) -> None:
        self.stack.setCurrentWidget(self.video)

    def set_favourite(self, on: bool) -> None:
        """Show the star on or off (without telling anyone: the change came from outside)."""
        self.star.blockSignals(True)
        self.star.setChecked(on)
        self.star.blockSignals(False)
        self._restyle()

    def is_audible(self) -> bool:
        return self.audio is not None and not self.audio.isMuted()

    def set_audible(self, on: bool) -> None:
        if on and self.audio is None:
            self.audio = native_audio_output(self._grid)
            self.player.setAudioOutput(self.audio)
        if self.audio is not None:
            self.audio.setMuted(not on)  # muted, not detached: detaching waits on the renderer (see `release`)
        self.sound.blockSignals(True)
        self.sound.setChecked(on)
        self.sound.blockSignals(False)
        self._restyle()

    def release(self) -> None:
        """Hand the player (and its audio output) to Qt to delete, before the video widget (deleted after it).

        Not `stop()` from here: stopping waits for the player's threads, and its audio renderer, ending, calls
        back into the Python-made QAudioOutput, which needs the interpreter lock this thread holds while it waits
        (seen: a hang in `stop()` after a few hundred opened and closed grids). Deleted from Qt's event loop, the
        player stops with the lock free. Nothing calls this player again: the grid has forgotten the cell.
        """
        self.player.deleteLater()
        if self.audio is not None:
            self.audio.deleteLater()

    # -- placement ------------------------------------------------------------------------------------
    def sizeHint(self) -> QSize:
        return QSize(320, 220)

    def minimumSizeHint(self) -> QSize:
        return self.box.minimumSizeHint()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._place()

    def _place(self) -> None:
        """The block as large as fits at the clip's aspect (16:9 until it has loaded), centred in the cell."""
        width, height = self.width(), self.height()
        frame = 2 * self.box.frameWidth() + 2  # the frame and the layout's margins
        chrome_h = self._header.sizeHint().height() + 1 + frame  # the label bar and the spacing
        video_w = max(1, min(width - frame, int((height - chrome_h) * self.aspect)))
        minimum = self.box.minimumSizeHint()
        width = min(width, max(minimum.width(), video_w + frame))
        height = min(height, max(minimum.height(), round(video_w / self.aspect) + chrome_h))
        self.box.setGeometry((self.width() - width) // 2, (self.height() - height) // 2, width, height)

    def set_aspect(self, aspect: float) -> None:
        self.aspect = aspect
        self._place()

    # -- look ---------------------------------------------------------------------------------------
    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:
            self._restyle()

    def _restyle(self) -> None:
        dark = theme.is_dark(self.palette())
        on = self.star.isChecked()
        self.star.setText("★" if on else "☆")
        self.star.setStyleSheet(f"color: {STAR_COLORS[dark]};" if on else "")
        label = self.item.label
        self.star.setAccessibleName(f"Favourite: clip {self.index + 1}, {label}")
        self.star.setToolTip("Favourite (click to unmark)" if on else "Mark as favourite")
        style = self.style()
        heard = self.sound.isChecked()
        icon = QStyle.StandardPixmap.SP_MediaVolume if heard else QStyle.StandardPixmap.SP_MediaVolumeMuted
        self.sound.setIcon(style.standardIcon(icon))
        if self.sound.isEnabled():
            self.sound.setToolTip("You hear this clip" if heard else "Listen to this clip (mutes the others)")
        self.message.setStyleSheet(f"color: {theme.ERROR_COLOR[dark]};" if self.error else "")
        self.video.setStyleSheet("background: black;")


class CompareGrid(QWidget):
    """Up to four clips in a grid under one play/pause button, one seek slider and one clock."""

    favourite_toggled = Signal(str, bool)  # job id, starred
    all_loaded = Signal()  # every clip has loaded or shows why it cannot play

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("compareGrid")
        self._cells: list[CompareCell] = []
        self._shape = (0, 0)
        self._playing = False  # play mode, as the person asked (the players follow it)
        self._pending_seek: int | None = None  # asked before every clip had loaded
        self._announced = True  # all_loaded was emitted for the clips showing

        self.area = QWidget()
        self.area.setObjectName("compareArea")
        self.area.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.cells_layout = QGridLayout(self.area)
        self.cells_layout.setContentsMargins(0, 0, 0, 0)
        self.cells_layout.setSpacing(6)

        style = self.style()
        self.play_button = QToolButton()
        self.play_button.setObjectName("comparePlayButton")
        self.play_button.setIcon(style.standardIcon(QStyle.StandardPixmap.SP_MediaPlay))
        self.play_button.setToolTip("Play / pause all (Space)")
        self.play_button.setAccessibleName("Play all")
        self.play_button.clicked.connect(self.toggle)
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setObjectName("compareSeekSlider")
        self.slider.setAccessibleName("Position of all clips")
        self.slider.setRange(0, 0)
        self.slider.setSingleStep(100)
        self.slider.setPageStep(1000)
        self.slider.setMinimumWidth(100)
        self.slider.sliderPressed.connect(lambda: self.seek(self.slider.value()))
        self.slider.sliderMoved.connect(self.seek)
        self.slider.actionTriggered.connect(self._slider_action)
        jump_to_click(self.slider)
        self.time = QLabel("0:00.0 / 0:00.0")
        self.time.setObjectName("compareTimeLabel")
        self.time.setAccessibleName("Time")
        self.time.setMinimumWidth(self.time.fontMetrics().horizontalAdvance("00:00.0 / 00:00.0") + 4)
        self.loop = QToolButton()
        self.loop.setObjectName("compareLoopButton")
        self.loop.setText("⟲ Loop")
        self.loop.setCheckable(True)
        self.loop.setChecked(True)
        self.loop.setToolTip("Start all clips again when the longest ends")
        self.loop.setAccessibleName("Loop")
        controls = QHBoxLayout()
        controls.setSpacing(6)
        controls.addWidget(self.play_button)
        controls.addWidget(self.slider, 1)
        controls.addWidget(self.time)
        controls.addWidget(self.loop)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self.area, 1)
        layout.addLayout(controls)

        self._sync = QTimer(self)
        self._sync.setInterval(SYNC_INTERVAL_MS)
        self._sync.timeout.connect(self._keep_in_step)
        QShortcut(QKeySequence(Qt.Key.Key_Space), self, self.toggle, Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self._set_controls_enabled(False)

    # -- showing clips ------------------------------------------------------------------------------
    def show_clips(self, items: Sequence[CompareItem], autoplay: bool = False) -> None:
        """Show these clips (one to four; the grid is for two to four) from the start, paused; with `autoplay`,
        all start together once every clip has loaded. `all_loaded` follows when each has loaded or failed."""
        if not 1 <= len(items) <= MAX_CLIPS:
            raise ValueError(f"The compare grid shows 1 to {MAX_CLIPS} clips, not {len(items)}.")
        self.clear()
        self._announced = False
        self._playing = autoplay
        for index, item in enumerate(items):
            cell = CompareCell(index, item, self, self.area)
            cell.star.toggled.connect(lambda on, c=cell: self._star_toggled(c, on))
            cell.sound.clicked.connect(lambda on, c=cell: self.set_audible(c.index if on else None))
            # Connected before the source is set: a missing file can fail at once.
            cell.player.mediaStatusChanged.connect(lambda status, c=cell: self._status_changed(c, status))
            cell.player.errorOccurred.connect(lambda error, text, c=cell: self._failed(c, error, text))
            cell.player.positionChanged.connect(lambda ms, c=cell: self._position_changed(c, ms))
            self._cells.append(cell)
        self._relayout(force=True)
        for cell in self._cells:
            cell.player.setSource(QUrl.fromLocalFile(str(Path(cell.item.path))))
        self._update_play_button()
        self._check_all_loaded()

    def clear(self) -> None:
        """Stop and let go of every player (call it before the grid goes), and empty the grid."""
        self._sync.stop()
        self._playing = False
        self._pending_seek = None
        self._announced = True
        for cell in self._cells:
            cell.release()
            self.cells_layout.removeWidget(cell)
            cell.hide()
            cell.deleteLater()
        self._cells = []
        self._shape = (0, 0)
        self.slider.setRange(0, 0)
        self.time.setText(f"{_clock(0)} / {_clock(0)}")
        self._set_controls_enabled(False)
        self._update_play_button()

    # -- the public seams -----------------------------------------------------------------------------
    def cells(self) -> list[CompareCell]:
        return list(self._cells)

    def labels(self) -> list[str]:
        return [cell.item.label for cell in self._cells]

    def errors(self) -> list[str | None]:
        """Per clip, what its cell says instead of playing (None: it plays)."""
        return [cell.error for cell in self._cells]

    def is_loaded(self) -> bool:
        """Every clip has loaded or failed (what `all_loaded` announces)."""
        return bool(self._cells) and all(cell.settled for cell in self._cells)

    def positions(self) -> list[int]:
        """Each clip's position in ms, in the grid's order (0 for a clip that cannot play)."""
        return [cell.position() for cell in self._cells]

    def duration(self) -> int:
        """The longest clip's length in ms: what the seek slider spans."""
        return max((cell.player.duration() for cell in self._cells if cell.playable), default=0)

    def is_playing(self) -> bool:
        """In play mode: play was pressed (or autoplay asked) and neither pause nor the end came since."""
        return self._playing

    def shape(self) -> tuple[int, int]:
        """(rows, columns) of the grid as laid out now."""
        return self._shape

    def audible(self) -> int | None:
        """The clip that is heard (its index), or None: all muted."""
        return next((cell.index for cell in self._cells if cell.is_audible()), None)

    def set_audible(self, index: int | None) -> None:
        """Hear clip `index` and mute the others (None: mute all)."""
        for cell in self._cells:
            on = cell.index == index and cell.sound.isEnabled()
            if on or cell.audio is not None:
                cell.set_audible(on)

    def set_favourite(self, job_id: str, favourite: bool) -> None:
        """Show a star set elsewhere (the queue's row): no `favourite_toggled` comes of it."""
        for cell in self._cells:
            if cell.item.job_id == job_id:
                cell.set_favourite(favourite)

    # -- the transport --------------------------------------------------------------------------------
    def toggle(self) -> None:
        if not self._cells:
            return
        if self._playing:
            self.pause()
        else:
            self.play()

    def play(self) -> None:
        """Start every clip together from where they are (from the start when the longest has ended)."""
        if not self._cells:
            return
        self._playing = True
        self._update_play_button()
        if not self.is_loaded():
            return  # they start together once all have loaded
        reference = self._reference()
        if reference is None:
            return
        if reference.position() >= reference.hold_ms - 1:
            self._seek_now(0)
        self._run_all(reference.position())

    def pause(self) -> None:
        """Pause every clip, on the same moment as the longest."""
        self._playing = False
        self._sync.stop()
        self._update_play_button()
        reference = self._reference()
        for cell in self._playable():
            cell.player.pause()
        if reference is not None and self.is_loaded():
            self._seek_now(reference.position())  # the frames side by side are of the same moment

    def seek(self, ms: int) -> None:
        """Move every clip to `ms` (a clip shorter than that shows its last frame)."""
        ms = max(0, min(int(ms), self.duration() or int(ms)))
        if not self.is_loaded():
            self._pending_seek = ms
            return
        self._seek_now(ms)
        self._show_time(ms)

    # -- keeping in step ------------------------------------------------------------------------------
    def _reference(self) -> CompareCell | None:
        """The clock the others follow: the longest clip that plays (the first of equals)."""
        playable = self._playable()
        return max(playable, key=lambda c: c.player.duration()) if playable else None

    def _playable(self) -> list[CompareCell]:
        return [cell for cell in self._cells if cell.playable]

    def _seek_now(self, ms: int) -> None:
        settle = time.monotonic() + SETTLE_MS / 1000
        for cell in self._playable():
            if ms >= cell.hold_ms - (END_GUARD_MS if self._playing else 0) and cell is not self._reference():
                self._hold(cell)
                continue
            cell.held = False
            cell.realigned = False
            cell.player.setPosition(min(ms, cell.hold_ms))
            cell.settle_until = settle
            if self._playing:
                cell.player.play()
            else:
                cell.player.pause()  # a stopped player draws nothing; a paused one shows the frame
        self._show_time(ms)

    def _run_all(self, ms: int) -> None:
        """Start every clip at once (those already past their end wait on their last frame)."""
        for cell in self._playable():
            if ms >= cell.hold_ms - END_GUARD_MS and cell is not self._reference():
                self._hold(cell)
            else:
                cell.held = False
                cell.player.play()
        self._sync.start()

    def _hold(self, cell: CompareCell) -> None:
        """Park a clip that has played to its end on its last frame."""
        cell.held = True
        cell.player.pause()
        cell.player.setPosition(cell.hold_ms)

    def _keep_in_step(self) -> None:
        """Every SYNC_INTERVAL_MS while playing: hold clips at their end, restart or realign the others."""
        reference = self._reference()
        if not self._playing or reference is None:
            return
        now = time.monotonic()
        ref_ms = reference.position()
        for cell in self._playable():
            if cell is reference:
                continue
            if ref_ms >= cell.hold_ms - END_GUARD_MS:
                if not cell.held:
                    self._hold(cell)
            elif cell.held or not cell.is_running():
                cell.held = False
                cell.player.setPosition(ref_ms)
                cell.player.play()
                cell.settle_until = now + SETTLE_MS / 1000
            elif now >= cell.settle_until:
                behind = ref_ms - cell.position()
                if cell.realigned:
                    cell.lead_ms = min(MAX_LEAD_MS, max(0, cell.lead_ms + behind))
                    cell.realigned = False
                if abs(behind) > DRIFT_MS:
                    cell.player.setPosition(min(ref_ms + cell.lead_ms, cell.hold_ms))
                    cell.realigned = True
                    cell.settle_until = now + SETTLE_MS / 1000

    # -- what the players say -------------------------------------------------------------------------
    def _status_changed(self, cell: CompareCell, status: QMediaPlayer.MediaStatus) -> None:
        from PySide6.QtMultimedia import QMediaMetaData, QMediaPlayer

        if cell not in self._cells:
            return  # a released player, on its way out

        Status = QMediaPlayer.MediaStatus
        if status in (Status.LoadedMedia, Status.BufferingMedia, Status.BufferedMedia) and not cell.loaded:
            if cell.error is not None:
                return
            cell.loaded = True
            size = cell.player.metaData().value(QMediaMetaData.Key.Resolution)
            if isinstance(size, QSize) and size.width() > 0 and size.height() > 0:
                cell.set_aspect(size.width() / size.height())
            if cell.player.hasAudio():
                cell.sound.setEnabled(True)
                cell.sound.setToolTip("Listen to this clip (mutes the others)")
            cell.show_video()
            cell.player.pause()  # shows the first frame
            self._check_all_loaded()
        elif status == Status.InvalidMedia and cell.error is None:
            self._failed(cell, QMediaPlayer.Error.FormatError, "")
        elif status == Status.EndOfMedia and cell.playable:
            self._ended(cell)

    def _failed(self, cell: CompareCell, error: QMediaPlayer.Error, text: str) -> None:
        from PySide6.QtMultimedia import QMediaPlayer

        if cell.error is not None or cell not in self._cells:
            return
        name = Path(cell.item.path).name or "(no file)"
        if error == QMediaPlayer.Error.ResourceError:
            message = f"Cannot play this clip: the file is missing or cannot be read.\n{name}"
        elif error == QMediaPlayer.Error.FormatError:
            message = f"Cannot play this clip: it is not a video PixDesk can play.\n{name}"
        else:
            message = f"Cannot play this clip: {text or 'the player refused it'}.\n{name}"
        cell.loaded = False
        cell.show_error(message)
        cell.sound.setEnabled(False)
        self._check_all_loaded()

    def _ended(self, cell: CompareCell) -> None:
        """A player ran out: the reference ends the round (loop or hold all); another waits on its last frame."""
        if cell is not self._reference():
            self._hold(cell)
            return
        if self._playing and self.loop.isChecked():
            self._seek_now(0)
            return
        self._playing = False
        self._sync.stop()
        for other in self._playable():
            self._hold(other)
        self._update_play_button()
        self._show_time(self.duration())

    def _check_all_loaded(self) -> None:
        if self._announced or not self.is_loaded():
            return
        self._announced = True
        self._relayout(force=True)
        self.slider.setRange(0, self.duration())
        self._set_controls_enabled(bool(self._playable()))
        if self._pending_seek is not None:
            self._seek_now(self._pending_seek)
            self._pending_seek = None
        reference = self._reference()
        if self._playing:
            self.play()
        else:
            self._show_time(reference.position() if reference is not None else 0)
        self.all_loaded.emit()

    def _position_changed(self, cell: CompareCell, ms: int) -> None:
        if cell in self._cells and cell is self._reference() and self.is_loaded():
            self._show_time(ms)

    def _show_time(self, ms: int) -> None:
        if not self.slider.isSliderDown():
            self.slider.setValue(ms)
        self.time.setText(f"{_clock(ms)} / {_clock(self.duration())}")

    def _slider_action(self, action: int) -> None:
        """Clicks on the groove and the arrow keys: seek where the slider is going (drags come by sliderMoved)."""
        if action != QSlider.SliderAction.SliderMove.value:
            self.seek(self.slider.sliderPosition())

    def _star_toggled(self, cell: CompareCell, on: bool) -> None:
        cell.set_favourite(on)
        self.favourite_toggled.emit(cell.item.job_id, on)

    # -- layout and look ------------------------------------------------------------------------------
    def _relayout(self, force: bool = False) -> None:
        """Place the cells as `grid_shape` says for this size (again only when the shape changes)."""
        if not self._cells:
            return
        aspects = [cell.aspect for cell in self._cells if cell.playable] or [16 / 9]
        size = self.area.size() if self.area.width() > 0 else QSize(800, 500)
        shape = grid_shape(len(self._cells), sum(aspects) / len(aspects), size.width(), size.height())
        if shape == self._shape and not force:
            return
        self._shape = shape
        rows, cols = shape
        for cell in self._cells:
            self.cells_layout.removeWidget(cell)
        for index, cell in enumerate(self._cells):
            self.cells_layout.addWidget(cell, index // cols, index % cols)
        for r in range(MAX_CLIPS):
            self.cells_layout.setRowStretch(r, 1 if r < rows else 0)
        for c in range(MAX_CLIPS):
            self.cells_layout.setColumnStretch(c, 1 if c < cols else 0)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._relayout()

    def _set_controls_enabled(self, enabled: bool) -> None:
        for widget in (self.play_button, self.slider, self.loop):
            widget.setEnabled(enabled)

    def _update_play_button(self) -> None:
        icon = QStyle.StandardPixmap.SP_MediaPause if self._playing else QStyle.StandardPixmap.SP_MediaPlay
        self.play_button.setIcon(self.style().standardIcon(icon))
        self.play_button.setAccessibleName("Pause all" if self._playing else "Play all")


class CompareDialog(QDialog):
    """The compare grid in a window of its own (resizable; it remembers nothing). Closing it releases the media.

    Open it with `show()` (not `exec()`): the person can go on using the main window beside it. `grid`'s
    `favourite_toggled` says when a star was clicked; `grid.set_favourite` shows one set elsewhere.
    """

    def __init__(self, items: Sequence[CompareItem] = (), parent: QWidget | None = None, autoplay: bool = True) -> None:
        super().__init__(parent)
        self.setObjectName("compareDialog")
        self.setWindowTitle("Compare — PixDesk")
        self.setWindowFlag(Qt.WindowType.WindowMaximizeButtonHint, True)
        self.setSizeGripEnabled(True)
        self.grid = CompareGrid(self)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        close = buttons.button(QDialogButtonBox.StandardButton.Close)
        close.setAutoDefault(False)  # Space and Enter belong to the transport, not to Close
        close.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # focus stays in the grid, where Space plays (Esc closes)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self.grid, 1)
        layout.addWidget(buttons)
        self.resize(self._first_size())
        self.grid.play_button.setFocus()
        if items:
            self.grid.show_clips(items, autoplay=autoplay)

    def _first_size(self) -> QSize:
        """Most of the screen (clips are compared by their detail), within 640×480 .. 1600×1000."""
        screen = self.screen() or QGuiApplication.primaryScreen()
        available = screen.availableGeometry().size() if screen is not None else QSize(1280, 800)
        width = max(640, min(1600, int(available.width() * 0.8)))
        height = max(480, min(1000, int(available.height() * 0.8)))
        return QSize(width, height)

    def done(self, result: int) -> None:
        self.grid.clear()
        super().done(result)

    def closeEvent(self, event: QCloseEvent) -> None:
        self.grid.clear()
        super().closeEvent(event)
