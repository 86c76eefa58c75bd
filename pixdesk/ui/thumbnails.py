"""Decoding thumbnails on worker threads without a deadlock."""

from __future__ import annotations

from PySide6.QtGui import QImage


def decode_png(data: bytes) -> QImage:
    """A thumbnail's bytes (PNG, as `pixdesk.api.images` makes them) decoded with the format named.

    On a worker thread Qt must not guess the format: guessing runs every image plugin's probe, and the SVG one
    makes a QTextStream, whose signal connection waits for a lock the UI thread may hold while it waits for
    Python's GIL, which this thread holds during the call (a deadlock seen in the test suite)."""
    image = QImage()
    image.loadFromData(data, "PNG")  # a null image when the bytes are not a PNG
    return image
