"""The audio output every player of PixDesk uses: made by Qt (through QML), not by Python."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QUrl

if TYPE_CHECKING:
    from PySide6.QtMultimedia import QAudioOutput

log = logging.getLogger(__name__)

_qml_engine: QObject | None = None


def native_audio_output(parent: QObject) -> QAudioOutput:
    """A QAudioOutput made by Qt itself (through QML), not by Python.

    A QAudioOutput made from Python is a PySide subclass whose virtual functions ask Python first, under the
    interpreter lock. Qt's audio renderer thread calls one of them while it tears down (a seek, a pause, the end),
    and the UI thread can at that moment be waiting for that thread inside a Qt call made from Python, holding the
    lock: both wait for ever. Seen here: opening, playing and closing grids with sound hangs within a few hundred
    rounds with a Python-made output and never with this one. Falls back to a Python-made output (the hazard,
    not silence) when QML's multimedia module is missing.
    """
    global _qml_engine
    from PySide6.QtMultimedia import QAudioOutput

    try:
        from PySide6.QtCore import QCoreApplication
        from PySide6.QtQml import QQmlComponent, QQmlEngine

        if _qml_engine is None:
            _qml_engine = QQmlEngine(QCoreApplication.instance())
        component = QQmlComponent(_qml_engine)
        component.setData(b"import QtMultimedia\nAudioOutput {}", QUrl())
        made = component.create()
        component.deleteLater()
    except ImportError:
        made = None
    if isinstance(made, QAudioOutput):
        made.setParent(parent)
        return made
    log.info("QML's AudioOutput is not available; using one made from Python")
    return QAudioOutput(parent)
