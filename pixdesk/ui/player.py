"""The embedded player: video, play/pause, seek, time, volume, mute and loop."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Qt, QUrl, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtMultimedia import QAudioOutput, QMediaPlayer
from PySide6.QtMultimediaWidgets import QVideoWidget
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QSlider,
    QStackedLayout,
    QStyle,
    QToolButton,
    QVBoxLayout,
    QWidget,
)


def _clock(ms: int) -> str:
    seconds = max(0, ms) // 1000
    return f"{seconds // 60}:{seconds % 60:02d}"


class PlayerPanel(QWidget):
    save_requested = Signal()

    def __init__(self, player_parent: QObject, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("videoPlayer")
        self.current_file: str | None = None
        self.player = QMediaPlayer(player_parent)
        self.audio = QAudioOutput(player_parent)
        self.player.setAudioOutput(self.audio)
        self.video = QVideoWidget()
        self.video.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.video.setMinimumSize(320, 200)
        self.player.setVideoOutput(self.video)

        self.empty = QLabel("Your video will play here.\nPick a finished job in the queue, or generate one.")
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setObjectName("playerEmpty")
        self.empty.setWordWrap(True)
        screen = QWidget()
        self.stack = QStackedLayout(screen)
        self.stack.addWidget(self.empty)
        self.stack.addWidget(self.video)

        style = self.style()
        self.play_button = QToolButton()
        self.play_button.setObjectName("playButton")
        self.play_button.setIcon(style.standardIcon(QStyle.StandardPixmap.SP_MediaPlay))
        self.play_button.setToolTip("Play / pause (Space)")
        self.play_button.setAccessibleName("Play")
        self.play_button.clicked.connect(self.toggle)
        self.position = QSlider(Qt.Orientation.Horizontal)
        self.position.setObjectName("seekSlider")
        self.position.setAccessibleName("Position")
        self.position.setRange(0, 0)
        self.position.sliderMoved.connect(self.player.setPosition)
        self.position.sliderPressed.connect(lambda: self.player.setPosition(self.position.value()))
        self.time = QLabel("0:00 / 0:00")
        self.time.setObjectName("timeLabel")
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
        self.volume.setMaximumWidth(90)
        self.volume.valueChanged.connect(lambda v: self.audio.setVolume(v / 100))
        self.audio.setVolume(0.8)
        self.loop = QToolButton()
        self.loop.setObjectName("loopButton")
        self.loop.setText("⟲ Loop")
        self.loop.setCheckable(True)
        self.loop.setChecked(True)
        self.loop.setToolTip("Play the clip in a loop")
        self.loop.toggled.connect(self._set_loop)
        self._set_loop(True)
        self.save = QPushButton("Save…")
        self.save.setObjectName("saveButton")
        self.save.setToolTip("Save the video (Ctrl+S)")
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

        self.player.positionChanged.connect(self._position_changed)
        self.player.durationChanged.connect(self._duration_changed)
        self.player.playbackStateChanged.connect(self._state_changed)
        QShortcut(QKeySequence(Qt.Key.Key_Space), self, self.toggle, Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self._set_controls_enabled(False)

    # -- control -----------------------------------------------------------------------------------
    def play_file(self, path: str, autoplay: bool = True) -> None:
        self.current_file = path
        self.stack.setCurrentWidget(self.video)
        self.player.setSource(QUrl.fromLocalFile(str(Path(path))))
        self._set_controls_enabled(True)
        if autoplay:
            self.player.play()

    def clear(self) -> None:
        self.player.stop()
        self.player.setSource(QUrl())
        self.current_file = None
        self.stack.setCurrentWidget(self.empty)
        self._set_controls_enabled(False)

    def release(self) -> None:
        """Stop and detach everything before the window goes: Qt Multimedia's threads must not outlive it."""
        self.player.stop()
        self.player.setSource(QUrl())
        self.player.setVideoOutput(None)  # type: ignore[arg-type]  # nullptr detaches; the stubs miss it
        self.player.setAudioOutput(None)  # type: ignore[arg-type]

    def is_playing(self) -> bool:
        return self.player.playbackState() == QMediaPlayer.PlaybackState.PlayingState

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

    def _set_muted(self, muted: bool) -> None:
        self.audio.setMuted(muted)
        icon = QStyle.StandardPixmap.SP_MediaVolumeMuted if muted else QStyle.StandardPixmap.SP_MediaVolume
        self.mute.setIcon(self.style().standardIcon(icon))

    def _set_loop(self, on: bool) -> None:
        self.player.setLoops(QMediaPlayer.Loops.Infinite if on else 1)

    def _position_changed(self, ms: int) -> None:
        if not self.position.isSliderDown():
            self.position.setValue(ms)
        self.time.setText(f"{_clock(ms)} / {_clock(self.player.duration())}")

    def _duration_changed(self, ms: int) -> None:
        self.position.setRange(0, ms)
        self.time.setText(f"{_clock(self.player.position())} / {_clock(ms)}")

    def _state_changed(self, state: QMediaPlayer.PlaybackState) -> None:
        playing = state == QMediaPlayer.PlaybackState.PlayingState
        icon = QStyle.StandardPixmap.SP_MediaPause if playing else QStyle.StandardPixmap.SP_MediaPlay
        self.play_button.setIcon(self.style().standardIcon(icon))
        self.play_button.setAccessibleName("Pause" if playing else "Play")
