"""The embedded player: video, play/pause, seek, time, volume, mute and loop; a clip can be dragged out.

Qt Multimedia (the media player, its FFmpeg backend and the video widget) is loaded when the first clip is shown,
not with the window: the first screen only shows "Your video will play here", and a window that never played a clip
has no media threads to stop when it closes.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QEvent, QMimeData, QObject, QPoint, Qt, QUrl, Signal
from PySide6.QtGui import QDrag, QKeySequence, QMouseEvent, QShortcut
from PySide6.QtWidgets import (
    QApplication,
    QHBoxLayout,
    QLabel,
    QProxyStyle,
    QSizePolicy,
    QSlider,
    QStackedLayout,
    QStyle,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

if TYPE_CHECKING:
    from PySide6.QtMultimedia import QAudioOutput, QMediaPlayer
    from PySide6.QtMultimediaWidgets import QVideoWidget


class _JumpToClick(QProxyStyle):
    """A left click on a seek bar's groove goes to that point (as in every video player), not a page further."""

    def styleHint(self, hint: QStyle.StyleHint, option: Any = None, widget: Any = None, data: Any = None) -> int:
        if hint == QStyle.StyleHint.SH_Slider_AbsoluteSetButtons:
            return Qt.MouseButton.LeftButton.value
        return super().styleHint(hint, option, widget, data)


def jump_to_click(slider: QSlider) -> None:
    """Make `slider` seek where it is clicked (the style is owned by the slider)."""
    style = _JumpToClick(slider.style().name())
    style.setParent(slider)
    slider.setStyle(style)


def clip_mime(path: str) -> QMimeData:
    """What a dragged clip carries: its file URL (file managers copy it, players open it) and its path."""
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(Path(path)))])
    mime.setText(str(Path(path)))
    return mime


def _start_drag(drag: QDrag) -> None:
    drag.exec(Qt.DropAction.CopyAction)  # never Move: the clip stays in PixDesk's library


def _clock(ms: int) -> str:
    seconds = max(0, ms) // 1000
    return f"{seconds // 60}:{seconds % 60:02d}"


class PlayerPanel(QWidget):
    save_requested = Signal()

    def __init__(self, player_parent: QObject, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("videoPlayer")
        self.current_file: str | None = None
        # Whether the person chose the clip now showing (clicked it, pressed play, seeked): they are watching
        # it, and a clip that finishes elsewhere must not take its place. An auto-played clip is not theirs.
        self._chosen = False
        self._press: QPoint | None = None
        # Runs a drag of the clip out of the player; a public seam (tests look at the drag instead).
        self.start_drag: Callable[[QDrag], None] = _start_drag
        self._player_parent = player_parent
        self._player: QMediaPlayer | None = None  # made by `_media()` when first needed
        self._audio: QAudioOutput | None = None
        self._video: QVideoWidget | None = None
        self._loop_on = True

        self.empty = QLabel("Your video will play here.\nPick a finished job in the queue, or generate one.")
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setObjectName("playerEmpty")
        self.empty.setWordWrap(True)
        screen = QWidget()
        self.stack = QStackedLayout(screen)
        self.stack.addWidget(self.empty)

        style = self.style()
        self.play_button = QToolButton()
        self.play_button.setObjectName("playButton")
        self.play_button.setIcon(style.standardIcon(QStyle.StandardPixmap.SP_MediaPlay))
        self.play_button.setToolTip("Play / pause (Space)")
        self.play_button.setAccessibleName("Play")
        self.play_button.clicked.connect(self.toggle_by_user)
        self.position = QSlider(Qt.Orientation.Horizontal)
        self.position.setObjectName("seekSlider")
        self.position.setAccessibleName("Position")
        self.position.setRange(0, 0)
        self.position.setMinimumWidth(100)
        self.position.sliderMoved.connect(lambda ms: self.player.setPosition(ms))
        self.position.sliderPressed.connect(self._seek_pressed)
        self.position.actionTriggered.connect(lambda _action: self._mark_chosen())
        jump_to_click(self.position)
        self.time = QLabel("0:00 / 0:00")
        self.time.setObjectName("timeLabel")
        self.time.setAccessibleName("Time")
        self.time.setMinimumWidth(self.time.fontMetrics().horizontalAdvance("00:00 / 00:00") + 4)
        self.mute = QToolButton()
        self.mute.setObjectName("muteButton")
        self.mute.setCheckable(True)
        self.mute.setIcon(style.standardIcon(QStyle.StandardPixmap.SP_MediaVolume))
        self.mute.setToolTip("Mute")
        self.mute.setAccessibleName("Mute")
        self.mute.toggled.connect(self._set_muted)
        self.volume = QSlider(Qt.Orientation.Horizontal)
        self.volume.setObjectName("volumeSlider")
        self.volume.setAccessibleName("Volume")
        self.volume.setRange(0, 100)
        self.volume.setValue(80)
        self.volume.setMinimumWidth(60)
        self.volume.setMaximumWidth(100)
        self.volume.valueChanged.connect(self._set_volume)
        self.loop = QToolButton()
        self.loop.setObjectName("loopButton")
        self.loop.setText("⟲ Loop")
        self.loop.setCheckable(True)
        self.loop.setChecked(True)
        self.loop.setToolTip("Play the clip in a loop")
        self.loop.setAccessibleName("Loop")
        self.loop.toggled.connect(self._set_loop)
        self._set_loop(True)
        self.save = QToolButton()
        self.save.setText("Save…")
        self.save.setObjectName("saveButton")
        self.save.setToolTip("Save the video (Ctrl+S)")
        self.save.setAccessibleName("Save video")
        self.save.setEnabled(False)
        self.save.clicked.connect(self.save_requested)

        controls = QHBoxLayout()
        controls.setSpacing(6)
        controls.addWidget(self.play_button)
        controls.addWidget(self.position, 1)
        controls.addWidget(self.time)
        controls.addWidget(self.mute)
        controls.addWidget(self.volume)
        controls.addWidget(self.loop)
        controls.addWidget(self.save)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.addWidget(screen, 1)
        layout.addLayout(controls)

        QShortcut(
            QKeySequence(Qt.Key.Key_Space), self, self.toggle_by_user, Qt.ShortcutContext.WidgetWithChildrenShortcut
        )
        self._set_controls_enabled(False)

    # -- the media objects, made on first use ---------------------------------------------------------
    @property
    def player(self) -> QMediaPlayer:
        return self._media()[0]

    @property
    def audio(self) -> QAudioOutput:
        return self._media()[1]

    @property
    def video(self) -> QVideoWidget:
        return self._media()[2]

    def has_media(self) -> bool:
        """Whether Qt Multimedia's objects exist yet (they do once a clip was shown or asked for)."""
        return self._player is not None

    def _media(self) -> tuple[QMediaPlayer, QAudioOutput, QVideoWidget]:
        """The player, its audio output and the video widget, made now if need be, with the controls' settings."""
        if self._player is None or self._audio is None or self._video is None:
            from PySide6.QtMultimedia import QMediaPlayer
            from PySide6.QtMultimediaWidgets import QVideoWidget

            from pixdesk.ui.audio_output import native_audio_output

            player = QMediaPlayer(self._player_parent)
            # Made by Qt, not Python: a Python-made output deadlocks Qt's audio thread against a close (see there).
            audio = native_audio_output(self._player_parent)
            audio.setVolume(self.volume.value() / 100)
            audio.setMuted(self.mute.isChecked())
            player.setAudioOutput(audio)
            video = QVideoWidget()
            video.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
            video.setMinimumSize(200, 112)
            video.setAccessibleName("Video")
            video.setToolTip("Drag the clip to a folder or another app to copy it")
            video.installEventFilter(self)
            player.setVideoOutput(video)
            player.setLoops(_loops(self._loop_on))
            self.stack.addWidget(video)
            player.positionChanged.connect(self._position_changed)
            player.durationChanged.connect(self._duration_changed)
            player.playbackStateChanged.connect(self._state_changed)
            self._player, self._audio, self._video = player, audio, video
        return self._player, self._audio, self._video

    # -- control -----------------------------------------------------------------------------------
    def play_file(self, path: str, autoplay: bool = True, chosen: bool = True) -> None:
        """Show `path` (and play it); `chosen`: the person picked it (False: it played by itself)."""
        self.current_file = path
        self._chosen = chosen
        self.stack.setCurrentWidget(self.video)
        self.player.setSource(QUrl.fromLocalFile(str(Path(path))))
        self._set_controls_enabled(True)
        if autoplay:
            self.player.play()

    def clear(self) -> None:
        if self._player is not None:
            self._player.stop()
            self._player.setSource(QUrl())
        self.current_file = None
        self._chosen = False
        self.stack.setCurrentWidget(self.empty)
        self._set_controls_enabled(False)

    def release(self) -> None:
        """Stop and detach everything before the window goes: Qt Multimedia's threads must not outlive it."""
        player = self._player
        if player is None:  # no clip was ever shown: nothing to stop
            return
        player.stop()
        player.setSource(QUrl())
        player.setVideoOutput(None)  # type: ignore[arg-type]  # nullptr detaches; the stubs miss it
        player.setAudioOutput(None)  # type: ignore[arg-type]

    def is_playing(self) -> bool:
        if self._player is None:
            return False
        from PySide6.QtMultimedia import QMediaPlayer

        return self._player.playbackState() == QMediaPlayer.PlaybackState.PlayingState

    def focus_chain(self) -> list[QWidget]:
        """The player's controls in the order Tab visits them (left to right)."""
        return [self.play_button, self.position, self.mute, self.volume, self.loop, self.save]

    def is_watching(self) -> bool:
        """The person is watching the clip showing: they chose it (clicked it, played, paused or seeked it) and
        it has not run to its end. A clip that played by itself is not being watched."""
        if self.current_file is None or not self._chosen or self._player is None:
            return False
        from PySide6.QtMultimedia import QMediaPlayer

        return self._player.mediaStatus() != QMediaPlayer.MediaStatus.EndOfMedia

    def toggle_by_user(self) -> None:
        self._mark_chosen()
        self.toggle()

    def _mark_chosen(self) -> None:
        if self.current_file is not None:
            self._chosen = True

    def _seek_pressed(self) -> None:
        self._mark_chosen()
        self.player.setPosition(self.position.value())

    def clip_mime(self) -> QMimeData | None:
        """What dragging the clip out carries (None: no clip showing)."""
        return clip_mime(self.current_file) if self.current_file else None

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Drag the clip out of the video: press, then move past the platform's drag distance."""
        if watched is self._video and self.current_file:
            if event.type() == QEvent.Type.MouseButtonPress and isinstance(event, QMouseEvent):
                if event.button() == Qt.MouseButton.LeftButton:
                    self._press = event.position().toPoint()
            elif event.type() == QEvent.Type.MouseMove and isinstance(event, QMouseEvent):
                if self._press is not None and event.buttons() & Qt.MouseButton.LeftButton:
                    moved = (event.position().toPoint() - self._press).manhattanLength()
                    if moved >= QApplication.startDragDistance():
                        self._press = None
                        self._drag_clip()
                        return True
            elif event.type() == QEvent.Type.MouseButtonRelease:
                self._press = None
        return super().eventFilter(watched, event)

    def _drag_clip(self) -> None:
        mime = self.clip_mime()
        if mime is None:
            return
        drag = QDrag(self)
        drag.setMimeData(mime)
        frame = self.video.grab().scaledToWidth(160, Qt.TransformationMode.SmoothTransformation)
        if not frame.isNull():
            drag.setPixmap(frame)
        self.start_drag(drag)

    def toggle(self) -> None:
        if self.current_file is None:
            return
        if self.is_playing():
            self.player.pause()
        else:
            self.player.play()

    # -- internals ---------------------------------------------------------------------------------
    def _set_controls_enabled(self, enabled: bool) -> None:
        for widget in (self.play_button, self.position, self.save):
            widget.setEnabled(enabled)

    def _set_volume(self, value: int) -> None:
        if self._audio is not None:
            self._audio.setVolume(value / 100)

    def _set_muted(self, muted: bool) -> None:
        if self._audio is not None:
            self._audio.setMuted(muted)
        icon = QStyle.StandardPixmap.SP_MediaVolumeMuted if muted else QStyle.StandardPixmap.SP_MediaVolume
        self.mute.setIcon(self.style().standardIcon(icon))

    def _set_loop(self, on: bool) -> None:
        self._loop_on = on
        if self._player is not None:
            self._player.setLoops(_loops(on))

    def _position_changed(self, ms: int) -> None:
        if not self.position.isSliderDown():
            self.position.setValue(ms)
        self.time.setText(f"{_clock(ms)} / {_clock(self.player.duration())}")

    def _duration_changed(self, ms: int) -> None:
        self.position.setRange(0, ms)
        self.time.setText(f"{_clock(self.player.position())} / {_clock(ms)}")

    def _state_changed(self, state: QMediaPlayer.PlaybackState) -> None:
        from PySide6.QtMultimedia import QMediaPlayer

        playing = state == QMediaPlayer.PlaybackState.PlayingState
        icon = QStyle.StandardPixmap.SP_MediaPause if playing else QStyle.StandardPixmap.SP_MediaPlay
        self.play_button.setIcon(self.style().standardIcon(icon))
        self.play_button.setAccessibleName("Pause" if playing else "Play")


def _loops(on: bool) -> int:
    """QMediaPlayer's loop count: forever, or once."""
    from PySide6.QtMultimedia import QMediaPlayer

    return int(QMediaPlayer.Loops.Infinite.value) if on else 1
