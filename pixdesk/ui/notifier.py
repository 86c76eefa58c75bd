"""Desktop notifications (freedesktop `org.freedesktop.Notifications` over D-Bus, through Qt).

Only used while the window is not the active one, so a person working elsewhere learns that a clip is ready or a
job failed. Where there is no session bus or no notification service, nothing happens (and nothing is logged
above debug). D-Bus calls block, so they run off the UI thread.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import shiboken6
from PySide6.QtCore import Q_ARG, Q_RETURN_ARG, QMetaObject, QObject, Qt, Signal
from PySide6.QtDBus import QDBusConnection, QDBusInterface

from pixdesk import APP_NAME
from pixdesk.api.text import clean_text
from pixdesk.ui.tasks import off_ui_thread, spawn

log = logging.getLogger(__name__)

SERVICE = "org.freedesktop.Notifications"
PATH = "/org/freedesktop/Notifications"
EXPIRE_MS = 8000

BusFactory = Callable[[], QDBusConnection]


def send_notification(bus: QDBusConnection, title: str, body: str, icon: str = "pixdesk") -> int | None:
    """Send one notification; its id, or None when the desktop has no notification service. Blocks."""
    if not bus.isConnected():
        return None
    interface = QDBusInterface(SERVICE, PATH, SERVICE, bus)
    if not interface.isValid():
        return None
    # Notify(app_name s, replaces_id u, app_icon s, summary s, body s, actions as, hints a{sv}, timeout i): a
    # plain call would send replaces_id as a signed int, which services refuse, so the arguments go through
    # the interface's introspected method with their exact types.
    try:
        result = QMetaObject.invokeMethod(
            interface,
            "Notify",
            Qt.ConnectionType.DirectConnection,
            Q_RETURN_ARG("uint"),
            Q_ARG(str, APP_NAME),
            Q_ARG("uint", 0),
            Q_ARG(str, icon),
            Q_ARG(str, title),
            Q_ARG(str, body),
            Q_ARG("QStringList", []),
            Q_ARG("QVariantMap", {"desktop-entry": "pixdesk"}),
            Q_ARG(int, EXPIRE_MS),
        )
    except (RuntimeError, TypeError) as exc:  # the service does not offer Notify as the spec says
        log.debug("notification not sent: %s", exc)
        return None
    return int(result) if isinstance(result, int) else None


class DesktopNotifier(QObject):
    """Sends notifications in the background; `requested` tells what was asked for (the window's seam)."""

    requested = Signal(str, str)  # title, body
    delivered = Signal(int)  # the id the notification service gave it

    def __init__(self, parent: QObject | None = None, bus: BusFactory = QDBusConnection.sessionBus) -> None:
        super().__init__(parent)
        self.bus = bus  # public: a test points it at its own bus

    def notify(self, title: str, body: str) -> None:
        title, body = clean_text(title, 120), clean_text(body, 300)
        self.requested.emit(title, body)
        spawn(self._send(title, body))

    async def _send(self, title: str, body: str) -> None:
        try:
            notification_id = await off_ui_thread(lambda: send_notification(self.bus(), title, body))
        except Exception as exc:  # a broken bus must never disturb the window
            log.debug("notification failed: %s", exc)
            return
        if not shiboken6.isValid(self):  # the window closed meanwhile
            return
        if notification_id is not None:
            self.delivered.emit(notification_id)
        else:
            log.debug("no notification service: %r not shown", title)
