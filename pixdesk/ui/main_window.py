"""The PixDesk main window: inputs | player | queue, in splitters, on top of the job engine."""

from __future__ import annotations

import contextlib
import itertools
import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import (
    QByteArray,
    QEvent,
    QItemSelectionModel,
    QModelIndex,
    QObject,
    QPoint,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QAction, QCloseEvent, QGuiApplication, QKeyEvent, QKeySequence, QResizeEvent, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListView,
    QMainWindow,
    QMenu,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from pixdesk import APP_NAME, __version__, crash
from pixdesk.api.errors import PixDeskError
from pixdesk.api.pricing import Estimate
from pixdesk.api.request import GenerationRequest
from pixdesk.api.text import clean_text
from pixdesk.jobs.models import FINAL, NEVER_SENT, Job, JobState
from pixdesk.jobs.spend import Spend, is_demo, spend_of, start_of_day
from pixdesk.jobs.states import Action
from pixdesk.runtime import Runtime
from pixdesk.ui import theme
from pixdesk.ui.controller import JobController
from pixdesk.ui.drop_zone import ImageDropZone
from pixdesk.ui.inputs_panel import InputsPanel
from pixdesk.ui.library_filter import LibraryBar, LibraryFilter
from pixdesk.ui.notifier import DesktopNotifier
from pixdesk.ui.player import PlayerPanel
from pixdesk.ui.queue_model import GroupSummary, JobDelegate, JobListModel, shows_star
from pixdesk.ui.settings_dialog import SettingsDialog, save_settings_async, store_key
from pixdesk.ui.tasks import network_read, off_ui_thread, spawn

if TYPE_CHECKING:
    import asyncio

    from pixdesk.jobs.engine import JobEngine
    from pixdesk.ui.compare import CompareDialog


def _load_job_machinery() -> None:
    """Import the engine and the HTTP client (a worker thread does this while the window is already on screen)."""
    import pixdesk.api.client
    import pixdesk.jobs.engine  # noqa: F401


class EngineBridge(QObject):
    """Turns the engine's plain callbacks into Qt signals for the UI."""

    job_changed = Signal(object)
    notice = Signal(str, str)


class _FirstExpose(QObject):
    """Calls `then` on the first expose event of the window it watches (Qt paints the widgets while handling it)."""

    def __init__(self, parent: QObject, then: Callable[[], None]) -> None:
        super().__init__(parent)
        self._then: Callable[[], None] | None = then

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Expose and self._then is not None:
            watched.removeEventFilter(self)
            then, self._then = self._then, None
            then()
        return False


log = logging.getLogger(__name__)

MINIMUM_SIZE = (800, 600)
COMPARE_MAX = 4  # clips side by side
RECENT_PROMPTS = 50  # offered as you type in the prompt
# Start-up work waits for the first frame; a window that is never exposed (started minimized on some desktops)
# must not keep its jobs waiting, so the work starts after this long anyway.
USABLE_FALLBACK_MS = 1500
# Narrower than this, the queue goes under the player instead of beside it (three columns would crush them).
SIDE_BY_SIDE_WIDTH = 1120


class MainWindow(QMainWindow):
    crash_reported = Signal(str)
    ready = Signal()  # history loaded and unfinished jobs resumed (`is_ready`)

    def __init__(
        self, runtime: Runtime, engine_options: dict[str, Any] | None = None, *, attach_loop: bool = True
    ) -> None:
        """`attach_loop=False`: the asyncio loop comes later (`attach_loop()`); `run_gui` paints the window first
        and only then imports asyncio and qasync, which the first frame does not need."""
        super().__init__()
        self.runtime = runtime
        self.settings = runtime.settings
        # The job engine (and the HTTP stack and job stages it imports) is made once the window is on screen.
        self._engine: JobEngine | None = None
        self._engine_options = dict(engine_options or {})
        self.bridge = EngineBridge(self)
        self.bridge.job_changed.connect(self._on_job)
        self.bridge.notice.connect(self._on_notice)
        self._closed: asyncio.Future[None] | None = None  # made by `attach_loop`, with the start-up tasks
        # Every job this window has seen, kept after its row is removed: removing a row refunds nothing, so
        # today's spend (and the daily budget) still counts it.
        self._seen: dict[str, Job] = {}
        self._session_start = time.time()
        self._finished_here: set[str] = set()  # earlier jobs that completed in front of us count this session
        self._price_refresh: asyncio.Task[None] | None = None
        self._other_prices: asyncio.Task[None] | None = None
        # "Usable": the first frame is on screen and the event loop has turned once since. Start-up work (history,
        # the demo simulator, prices, balance) waits for it, so none of it delays the first frame.
        self._usable = False
        self._usable_future: asyncio.Future[None] | None = None
        self._close_pending = False  # asked to close before the loop was attached: closes once it is
        self._usable_callbacks: list[Callable[[], None]] = []
        self._expose_watched = False
        self._connecting: asyncio.Task[None] | None = None
        self.jobs_running_at_close = 0  # how many jobs were still running when the person quit
        self._images_given = False  # images came from the command line or a second launch
        self._pending_images: list[str] = []  # handed over before the loop was attached: opened once it is
        # The queue's pause: the person's wish, kept across restarts and given to the engine when it is made.
        self._queue_paused = bool(self.settings.ui.get("queue_paused", False))
        self.compare_dialog: CompareDialog | None = None  # the open compare window, if any
        self._ready = False
        self._shutting_down = False
        self._close_now = False
        # An uncaught exception anywhere (a Qt slot, a thread, a task) is logged with its traceback and
        # shown as a short notice; the app keeps running.
        self.crash_reported.connect(self._show_crash)
        crash.install(self.crash_reported.emit)
        self.controller = JobController(self)
        self.controller.status.connect(lambda text, ms: self.statusBar().showMessage(text, ms))

        self.setWindowIcon(theme.app_icon())
        self.setMinimumSize(*MINIMUM_SIZE)
        self.notifier = DesktopNotifier(self)
        self.inputs = InputsPanel()
        self.inputs.quoter = self.quote
        self.inputs.generate_set_requested.connect(self.generate_set)
        self.player_panel = PlayerPanel(self)
        self.player_panel.save_requested.connect(self.save_current)
        self.model = JobListModel(self)
        # The view shows the library filtered (search, status, model, date, favourites): rows are the filter's.
        self.library = LibraryFilter(self.model, self)
        self.library_bar = LibraryBar(self.library)
        self.queue = QListView()
        self.queue.setObjectName("queueView")
        self.queue.setAccessibleName("Job queue")
        self.queue.setModel(self.library)
        self.delegate = JobDelegate(self.queue)
        self.delegate.resend_clicked.connect(lambda job_id: self.controller.trigger(Action.RETRY, self._job(job_id)))
        self.delegate.favourite_clicked.connect(self.toggle_favourite)
        self.queue.setItemDelegate(self.delegate)
        self.queue.setUniformItemSizes(True)
        # Several rows at once (Ctrl/Shift+click): two to four finished clips can be compared side by side.
        self.queue.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.queue.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        # A finished clip drags out as a file (to a file manager, a chat, an editor); never moved out.
        self.queue.setDragEnabled(True)
        self.queue.setDragDropMode(QAbstractItemView.DragDropMode.DragOnly)
        self.queue.setDefaultDropAction(Qt.DropAction.CopyAction)
        self.queue.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.queue.customContextMenuRequested.connect(self._context_menu)
        self.queue.activated.connect(
            lambda index: self.controller.trigger(Action.PLAY, self.library.job_at(index.row()))
        )
        selection = self.queue.selectionModel()
        selection.currentChanged.connect(self._current_changed)
        selection.selectionChanged.connect(lambda *_: self._update_job_actions())

        self._build_banner()
        self._build_layout()
        self._build_actions()
        self._build_status_bar()
        self._set_tab_order()
        self._update_mode()
        self._restore_geometry()
        if self._queue_paused:
            self.set_queue_paused(True)  # the button and menu say so from the first frame
        QTimer.singleShot(USABLE_FALLBACK_MS, self, self._on_usable)
        if attach_loop:
            self.attach_loop()

    def attach_loop(self) -> None:
        """Start the work that runs on the asyncio loop (the current one): the start-up (history, jobs, the demo
        simulator, prices, balance), which itself waits for the first frame. Once only."""
        import asyncio

        if self._closed is not None:
            return
        loop = asyncio.get_event_loop()
        loop.set_exception_handler(crash.loop_exception_handler)
        self._closed = loop.create_future()
        self._usable_future = loop.create_future()
        if self._usable:
            self._usable_future.set_result(None)
        # Generate waits for this (`after_prices`): the simulator in demo mode, then the price list.
        self._price_refresh = spawn(self._first_prices())
        spawn(self._startup())
        if self._pending_images:
            pending, self._pending_images = self._pending_images, []
            self.open_images(pending)
        if self._close_pending:
            QTimer.singleShot(0, self, self.close)

    # -- building ----------------------------------------------------------------------------------
    def _build_banner(self) -> None:
        self.banner = QFrame()
        self.banner.setObjectName("demoBanner")
        self.banner_text = QLabel()
        self.banner_text.setWordWrap(True)
        self.banner_text.setObjectName("demoBannerText")
        self.banner_button = QPushButton("Open Settings…")
        self.banner_button.setObjectName("bannerSettingsButton")
        self.banner_button.clicked.connect(self.open_settings)
        self.resume_button = QPushButton("Resume submissions")
        self.resume_button.setObjectName("resumeSubmissionsButton")
        self.resume_button.clicked.connect(self._resume_submissions)
        self.resume_button.hide()
        row = QHBoxLayout(self.banner)
        row.setContentsMargins(12, 6, 12, 6)
        row.addWidget(self.banner_text, 1)
        row.addWidget(self.resume_button)
        row.addWidget(self.banner_button)

    def _build_layout(self) -> None:
        scroll = QScrollArea()
        scroll.setObjectName("inputsScroll")
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # not a tab stop of its own: the fields inside are
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setWidget(self.inputs)
        # As wide as the form needs (plus a scroll bar, should a huge font ever need one): never clipped.
        scroll.setMinimumWidth(self.inputs.minimumSizeHint().width() + scroll.verticalScrollBar().sizeHint().width())
        self.inputs_scroll = scroll
        queue_panel = QWidget()
        queue_panel.setObjectName("queuePanel")
        queue_layout = QVBoxLayout(queue_panel)
        queue_layout.setContentsMargins(8, 8, 8, 8)
        header = QHBoxLayout()
        title = QLabel("<b>Library</b>")
        self.queue_count = QLabel()
        self.queue_count.setObjectName("queueCount")
        self.pause_button = QPushButton("Pause queue")
        self.pause_button.setObjectName("pauseQueueButton")
        self.pause_button.setAccessibleName("Pause queue")
        self.pause_button.setToolTip("Pause the queue: nothing new is sent; jobs the server has go on (Ctrl+Shift+P)")
        self.pause_button.clicked.connect(self._toggle_pause)
        header.addWidget(title)
        header.addStretch(1)
        header.addWidget(self.queue_count)
        header.addWidget(self.pause_button)
        queue_layout.addLayout(header)
        queue_layout.addWidget(self.library_bar)
        queue_layout.addWidget(self.queue, 1)
        # Said when the search or filters hide every job (a blank list would look like an empty library).
        self.no_match = QWidget()
        self.no_match.setObjectName("libraryNoMatch")
        no_match_row = QHBoxLayout(self.no_match)
        no_match_row.setContentsMargins(0, 0, 0, 0)
        no_match_text = QLabel("No job matches the search and filters.")
        no_match_text.setWordWrap(True)
        clear_filters = QPushButton("Show all")
        clear_filters.setObjectName("libraryShowAll")
        clear_filters.setAccessibleName("Show all jobs")
        clear_filters.clicked.connect(self.library_bar.clear)
        no_match_row.addWidget(no_match_text, 1)
        no_match_row.addWidget(clear_filters)
        self.no_match.hide()
        queue_layout.addWidget(self.no_match)
        for signal in (self.library.rowsInserted, self.library.rowsRemoved, self.library.modelReset):
            signal.connect(self._update_no_match)
        queue_panel.setMinimumSize(260, 150)
        # [inputs | [player | queue]]: the inner pair stands side by side on a wide window, stacked on a narrow one.
        self.side_splitter = QSplitter(Qt.Orientation.Horizontal)
        self.side_splitter.setObjectName("playerQueueSplitter")
        self.side_splitter.addWidget(self.player_panel)
        self.side_splitter.addWidget(queue_panel)
        self.side_splitter.setStretchFactor(0, 1)
        self.side_splitter.setStretchFactor(1, 0)
        self.side_splitter.setChildrenCollapsible(False)
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.setObjectName("mainSplitter")
        self.splitter.addWidget(scroll)
        self.splitter.addWidget(self.side_splitter)
        self.splitter.setStretchFactor(0, 0)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([370, 1010])
        self.splitter.setChildrenCollapsible(False)
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.banner)
        layout.addWidget(self.splitter, 1)
        self.setCentralWidget(central)
        self._arrange()

    def _arrange(self) -> None:
        """Queue beside the player when there is room for three columns, else under it."""
        wide = self.width() >= SIDE_BY_SIDE_WIDTH
        wanted = Qt.Orientation.Horizontal if wide else Qt.Orientation.Vertical
        if self.side_splitter.orientation() == wanted and self.side_splitter.property("arranged"):
            return
        self.side_splitter.setOrientation(wanted)
        self.side_splitter.setProperty("arranged", True)
        # Sizes once the splitter has its new shape: the player gets the larger part.
        QTimer.singleShot(0, self, lambda: self._share_side(wide))

    def _share_side(self, wide: bool) -> None:
        total = self.side_splitter.width() if wide else self.side_splitter.height()
        player = max(total - 380, total * 3 // 5) if wide else total * 3 // 5
        self.side_splitter.setSizes([player, max(1, total - player)])

    def is_side_by_side(self) -> bool:
        """Whether the queue stands beside the player (a wide window) rather than under it."""
        return self.side_splitter.orientation() == Qt.Orientation.Horizontal

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._arrange()

    def _set_tab_order(self) -> None:
        """Tab goes the way the eye reads: the banner, the form top to bottom, the player, the queue."""
        inputs = self.inputs
        chain: list[QWidget] = [
            self.resume_button,
            self.banner_button,
            *inputs.focus_chain(),  # the chosen model's fields (the panel re-threads them when it changes)
            *self.player_panel.focus_chain(),
            self.pause_button,
            *self.library_bar.focus_chain(),
            self.queue,
        ]
        for first, second in itertools.pairwise(chain):
            QWidget.setTabOrder(first, second)

    def _action(
        self,
        text: str,
        slot: object,
        shortcut: QKeySequence | QKeySequence.StandardKey | str | None = None,
        context: Qt.ShortcutContext = Qt.ShortcutContext.WindowShortcut,
    ) -> QAction:
        action = QAction(text, self)
        action.triggered.connect(slot)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
            action.setShortcutContext(context)
        return action

    def _build_actions(self) -> None:
        menu = self.menuBar()
        file_menu = menu.addMenu("&File")
        self.open_action = self._action("Open image…", self.inputs.browse_image, QKeySequence.StandardKey.Open)
        self.paste_action = self._action("Paste image", self.inputs.paste_image, QKeySequence.StandardKey.Paste)
        self.save_action = self._action("Save video…", self.save_current, QKeySequence.StandardKey.Save)
        self.save_action.setEnabled(False)
        # Ctrl+, everywhere: the platform's Preferences key is empty on Linux.
        self.settings_action = self._action("Settings…", self.open_settings, QKeySequence("Ctrl+,"))
        quit_action = self._action("Quit", self.close, QKeySequence.StandardKey.Quit)
        for action in (self.open_action, self.paste_action, self.save_action):
            file_menu.addAction(action)
        file_menu.addSeparator()
        file_menu.addAction(self.settings_action)
        file_menu.addSeparator()
        file_menu.addAction(quit_action)
        self.addActions([self.open_action, self.paste_action, self.save_action, self.settings_action, quit_action])

        # Job shortcuts act on the selected job wherever focus is in the window; a text field keeps the keys
        # it edits with (see `eventFilter`).
        actions = self.controller.actions
        for job_action, shortcut in (
            (Action.COPY_PROMPT, QKeySequence(QKeySequence.StandardKey.Copy)),
            (Action.REUSE, QKeySequence("Ctrl+R")),
            (Action.REMOVE, QKeySequence(QKeySequence.StandardKey.Delete)),
        ):
            actions[job_action].setShortcut(shortcut)
            actions[job_action].setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        self.job_actions = {a.value: q for a, q in actions.items()}
        self.addActions(list(actions.values()))
        for field in self.findChildren(QLineEdit) + self.findChildren(QPlainTextEdit):
            field.installEventFilter(self)
        for zone in (self.inputs.drop, self.inputs.last_drop):
            zone.installEventFilter(self)
        self.favourite_action = self._action("Add to favourites", self._toggle_selected_favourite, "Ctrl+D")
        self.favourite_action.setObjectName("favouriteAction")
        self.compare_action = self._action("Compare side by side…", self.compare_selected, "Ctrl+Shift+C")
        self.compare_action.setObjectName("compareAction")
        self.cancel_group_action = self._action("Stop the whole group", self._cancel_selected_group)
        self.cancel_group_action.setObjectName("cancelGroupAction")
        self.pause_action = self._action("Pause queue", self._toggle_pause, "Ctrl+Shift+P")
        self.pause_action.setObjectName("pauseQueueAction")
        self.pause_action.setCheckable(True)
        self.find_action = self._action("Find in library", self._find, QKeySequence.StandardKey.Find)
        self.addActions([self.favourite_action, self.compare_action, self.pause_action, self.find_action])
        edit_menu = menu.addMenu("&Edit")
        edit_menu.addAction(self.controller.undo_action)
        edit_menu.addSeparator()
        edit_menu.addAction(self.find_action)
        self.addAction(self.controller.undo_action)
        job_menu = menu.addMenu("&Job")
        self._fill_job_menu(job_menu)
        job_menu.addSeparator()
        job_menu.addAction(self.pause_action)  # the whole queue's, so in the Job menu only, not on a row
        job_menu.aboutToShow.connect(self._update_job_actions)
        help_menu = menu.addMenu("&Help")
        help_menu.addAction(self._action("About PixDesk", self._about))

    def _fill_job_menu(self, menu: QMenu) -> None:
        for action, qaction in self.controller.actions.items():
            menu.addAction(qaction)
            if action is Action.OPEN_FOLDER:
                menu.addAction(self.favourite_action)
                menu.addAction(self.compare_action)
            if action in (Action.OPEN_FOLDER, Action.EXPORT_GIF, Action.CONTINUE, Action.REUSE, Action.RESUME):
                menu.addSeparator()
        menu.addAction(self.cancel_group_action)

    def _build_status_bar(self) -> None:
        bar = self.statusBar()
        self.mode_label = QLabel()
        self.mode_label.setObjectName("modeLabel")
        self.running_label = QLabel()
        self.running_label.setObjectName("runningLabel")
        # Spend in USD (the attribute keeps its old name too: it is the same label as before, now in dollars).
        self.spend_label = QLabel()
        self.spend_label.setObjectName("spendLabel")
        self.credits_label = self.spend_label
        self.balance_label = QLabel("Balance: …")
        self.balance_label.setObjectName("balanceLabel")
        for label in (self.mode_label, self.running_label, self.credits_label, self.balance_label):
            bar.addPermanentWidget(label)
        self._update_counts()

    # -- state display -----------------------------------------------------------------------------
    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Text fields keep Ctrl+C/Ctrl+V/Delete for editing, except when they would do nothing with them: Ctrl+V
        with only an image on the clipboard pastes the image, Ctrl+C with no text selected copies the selected
        job's prompt."""
        if (
            isinstance(watched, ImageDropZone)
            and isinstance(event, QKeyEvent)
            and watched.holds_one_picture()
            and event.key() in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace)
            and not event.modifiers()
        ):
            if event.type() == QEvent.Type.ShortcutOverride:
                event.accept()  # the zone's, not the list's Delete: the key comes to the zone
                return True
            if event.type() == QEvent.Type.KeyPress:
                watched.clear()  # Delete on a focused picture takes it out of the form
                return True
        if event.type() == QEvent.Type.ShortcutOverride and isinstance(event, QKeyEvent):
            if event.matches(QKeySequence.StandardKey.Paste) and _clipboard_has_only_image():
                event.ignore()  # not the field's: the window's Paste image takes it
                return True
            if event.matches(QKeySequence.StandardKey.Copy) and not _has_selection(watched):
                event.ignore()
                return True
        return super().eventFilter(watched, event)

    def _title(self) -> str:
        """'PixDesk', '— demo mode', and how many jobs are running (or waiting here), each said once (the taskbar
        shows it)."""
        running, waiting = _running_and_waiting(self.model.jobs())
        title = f"{APP_NAME} — demo mode" if self.runtime.demo else APP_NAME
        if running:
            return f"{title} ({running} running)"
        return f"{title} ({waiting} waiting)" if waiting else title

    def _update_mode(self) -> None:
        demo = self.runtime.demo
        self.setWindowTitle(self._title())
        if demo:
            self.mode_label.setText("● Demo (simulator)")
            self.mode_label.setToolTip("Jobs run against PixDesk's built-in simulator: no credits, no network.")
            self.banner_text.setText(
                "<b>Demo mode:</b> free videos from the built-in simulator. Add your AI/ML API key for real ones."
            )
            # Say why the saved key is not used; asked only once the key was looked for (asking looks up the
            # keychain, which the first frame does without).
            if self.runtime.key_known() and getattr(self.runtime.keystore, "state", None) == "locked":
                reason = self.runtime.keystore.last_error or "the system keychain is locked"
                self.banner_text.setText(
                    f"<b>Demo mode:</b> the saved API key could not be read — {_html(reason)} "
                    "Unlock the keychain and restart PixDesk, or enter the key in Settings."
                )
            self.banner.setStyleSheet("#demoBanner { background: %s; }" % ("#3a3120" if theme.is_dark() else "#fff4d6"))
        else:
            host = self.runtime.connection.base_url.split("://", 1)[-1]
            self.mode_label.setText(f"● Live — {host}")
            self.mode_label.setToolTip("Jobs go to the AI/ML API and use your credits.")
        self.inputs.demo = demo
        self.inputs.update_estimate()
        paused = self._engine.paused_reason if self._engine is not None else None
        self.banner.setVisible(demo or paused is not None)
        self.banner_button.setText("Add API key…" if demo and paused is None else "Open Settings…")
        self.banner_button.setAccessibleName(self.banner_button.text().rstrip("…"))

    def _show_key_outcome(self) -> None:
        """After the saved key was read (`Runtime.read_key`): a mode other than the one shown, or a locked keychain
        (the banner says why the key is not used), is shown; otherwise the banner keeps any notice it shows."""
        self.runtime.remember_key_hint()  # on this thread: the settings are the UI's
        locked = self.runtime.demo and getattr(self.runtime.keystore, "state", None) == "locked"
        if self.inputs.demo != self.runtime.demo or locked:
            self._update_mode()

    def refresh_counts(self) -> None:
        self._update_counts()

    def _update_counts(self) -> None:
        jobs = self.model.jobs()
        running, waiting = _running_and_waiting(jobs)
        # "Running" is what the server has; jobs held here (a paused queue, the in-flight limit) are "waiting".
        parts = [f"{running} running"] if running else []
        parts += [f"{waiting} waiting"] if waiting else []
        status = " · ".join(parts) or "Idle"
        self.running_label.setText(f"{status} · queue paused" if self.is_queue_paused() else status)
        self._update_spend()
        done = sum(1 for j in jobs if j.state is JobState.COMPLETED)
        self.queue_count.setText(" · ".join([*parts, f"{done} done"]) if jobs else "")
        self.setWindowTitle(self._title())

    # -- money -------------------------------------------------------------------------------------------
    def quote(self, request: GenerationRequest, count: int = 1, seconds: float | None = None) -> Estimate | None:
        """The estimate for `count` jobs like `request` from the current backend's prices (None: unknown);
        `seconds`: the length of a job whose model has no duration (lip-sync over a clip)."""
        return self.runtime.prices.quote(request, count, seconds)

    def refresh_prices(self) -> None:
        """Fetch the price list in the background (the cached one is shown meanwhile); the estimate follows."""
        self._price_refresh = spawn(self._refresh_prices())

    async def _refresh_prices(self) -> None:
        book = self.runtime.prices
        # `PriceBook.refresh` on the window's plain worker threads (as `refresh_async` would, but not on
        # qasync's default QThread executor, whose threads Qt tears down noisily at exit).
        # The client is fetched there too: the first use of `runtime.client` imports the HTTP stack.
        runtime, model_id = self.runtime, self.inputs.spec.model_id
        await off_ui_thread(lambda: book.refresh(runtime.client, model_id))
        self.inputs.update_estimate()
        if self._other_prices is None or self._other_prices.done():  # the rest of the family, for the picker
            self._other_prices = spawn(self._refresh_other_prices(model_id))

    async def _refresh_other_prices(self, done: str) -> None:
        from pixdesk.api.catalogue import MODELS

        book, runtime = self.runtime.prices, self.runtime
        for model_id in MODELS:  # only shown (a quitting window drops them): not the pool closing waits for
            if model_id != done and not self.is_closing():
                await network_read(lambda m=model_id: book.refresh(runtime.client, m))
        self.inputs.update_estimate()

    def prices_settled(self) -> bool:
        """No price refresh under way: an unknown price now really is unknown (not merely not fetched yet)."""
        return self._price_refresh is None or self._price_refresh.done()

    def after_prices(self, callback: Any) -> None:
        """Call `callback` once the price refresh under way has finished, from Qt's loop (not inside an
        asyncio task: the callback may open a modal question)."""
        from PySide6.QtCore import QTimer

        task = self._price_refresh
        if task is None or task.done():
            callback()
            return
        task.add_done_callback(lambda _t: QTimer.singleShot(0, self, callback))

    def today_spend(self) -> Spend:
        """Live spend since midnight: charged or reported, plus the estimates of jobs still in flight."""
        return spend_of(self._seen.values(), start_of_day())

    def today_committed_usd(self) -> float:
        """What the daily budget weighs a new job against: today's spend plus the estimates of live jobs
        still waiting here to be sent (they cost nothing yet, but will once they go)."""
        since = start_of_day()
        waiting = sum(
            j.estimated_usd or 0.0
            for j in self._seen.values()
            if j.state in NEVER_SENT and j.created_at >= since and not is_demo(j) and not self._row_removed(j)
        )
        return self.today_spend().total_usd + waiting

    def _row_removed(self, job: Job) -> bool:
        """A job whose row was removed before it was sent will never be sent: it commits nothing."""
        return self.model.row_of(job.id) is None

    def session_spend(self) -> Spend:
        """Live jobs sent from this window, and earlier ones that finished while it was open."""
        jobs = [j for j in self._seen.values() if j.created_at >= self._session_start or j.id in self._finished_here]
        return spend_of(jobs, 0.0)

    def _update_spend(self) -> None:
        today = self.today_spend()
        session = self.session_spend()
        live = f"Session: ${session.total_usd:,.2f} · Today: ${today.total_usd:,.2f}"
        tip = (
            f"Live jobs only (demo jobs cost nothing). Today: ${today.usd:,.2f} charged or reported"
            f" + ${today.in_flight_usd:,.2f} estimated for jobs in flight."
        )
        if self.runtime.demo:
            self.spend_label.setText("Demo: no spend")
            self.spend_label.setToolTip(f"Demo jobs cost nothing. Live spend — {live}")
        else:
            self.spend_label.setText(live)
            self.spend_label.setToolTip(tip)

    # -- start-up ----------------------------------------------------------------------------------
    @property
    def engine(self) -> JobEngine:
        """The job engine: made by the start-up once the window is on screen, or at once by whatever needs it
        sooner (a job asked for in the first instant)."""
        engine = self._engine
        if engine is None:
            engine = self.runtime.make_engine(**self._engine_options)
            if self._queue_paused:  # paused before the engine existed, or when PixDesk last closed
                engine.pause_queue()
            engine.job_listeners.append(self.bridge.job_changed.emit)
            engine.notice_listeners.append(self.bridge.notice.emit)
            self._engine = engine
        return engine

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        handle = self.windowHandle()
        if self._expose_watched or handle is None:
            return
        self._expose_watched = True
        if handle.isExposed():
            self._first_frame()
        else:
            handle.installEventFilter(_FirstExpose(self, self._first_frame))

    def _first_frame(self) -> None:
        QTimer.singleShot(0, self, self._on_usable)  # once the loop has turned: the frame is out

    def _on_usable(self) -> None:
        if self._usable:
            return
        self._usable = True
        if self._usable_future is not None:
            self._usable_future.set_result(None)
        callbacks, self._usable_callbacks = self._usable_callbacks, []
        for callback in callbacks:
            callback()

    def is_usable(self) -> bool:
        """The first frame is on screen and the event loop has turned since (or the window is closing)."""
        return self._usable

    def when_usable(self, callback: Callable[[], None]) -> None:
        """Call `callback` once the window is usable: shown, its first frame painted (its first expose), and
        one event-loop turn done after that. The start-up benchmark's bare window uses the same rule."""
        if self._usable:
            callback()
        else:
            self._usable_callbacks.append(callback)

    async def _connected(self) -> None:
        """The runtime's server is there: in demo mode the simulator (imported and started off the UI thread)."""
        if self._connecting is None:
            self._connecting = spawn(self._connect())
        import asyncio

        await asyncio.shield(self._connecting)

    async def _connect(self) -> None:
        try:
            changed = await off_ui_thread(self.runtime.connect)
        except Exception as exc:  # no simulator: the window still shows the history and says why
            crash.report(exc, "starting the built-in simulator")
            self.show_notice(f"The built-in simulator could not start: {exc}")
            return
        self._show_key_outcome()  # the saved key was read first: demo or live as it says
        if changed and self._engine is not None:  # the port chosen was taken meanwhile: new jobs use the new client
            self._engine.use_backend(self.runtime.backend, self.runtime.client)

    async def _first_prices(self) -> None:
        await self._first_frame_shown()
        if self.is_closing():
            return
        await self._connected()
        if not self.is_closing():
            await self._refresh_prices()

    async def _first_frame_shown(self) -> None:
        assert self._usable_future is not None  # made with the loop, before any task that awaits this
        await self._usable_future

    async def _startup(self) -> None:
        await self._first_frame_shown()  # nothing here delays the first frame
        if self.is_closing():
            return
        notice = getattr(self.runtime.store, "recovery_notice", None)
        if notice:
            self.show_notice(notice)
        await self._restore_form()
        self.inputs.update_estimate()  # the cached price, at once
        await off_ui_thread(_load_job_machinery)  # the imports off the UI thread; making the engine is quick
        # The saved key (the keychain may be slow): the engine is made for the mode it gives.
        await off_ui_thread(self.runtime.read_key)
        self._show_key_outcome()
        if self.is_closing():
            return
        history = await self.engine.load_history()
        if self.is_closing():
            return
        self._seen.update((j.id, j) for j in history)
        self.model.set_jobs(history)
        await self._connected()
        if self.is_closing():
            return
        await self._offer_recent_prompts()
        await self.engine.resume_unfinished()
        self._update_counts()
        self._ready = True
        self.ready.emit()
        await self.refresh_balance()

    async def _restore_form(self) -> None:
        """The form as it was last time (images still on disk, prompt, options, ×N) and its recent prompts; images
        given on the command line win over the saved ones."""
        from dataclasses import replace

        from pixdesk.ui.form_memory import load_form_state

        state = await off_ui_thread(load_form_state)
        if self.is_closing():
            return
        if self._images_given:
            state = replace(state, images=())
        self.inputs.restore_form_state(state)

    async def _offer_recent_prompts(self) -> None:
        """Recent prompts as you type: the form's own list first, then those of jobs in the library (the CLI's
        too)."""
        stored = await self.engine.recent_prompts(RECENT_PROMPTS)
        if self.is_closing():
            return
        merged = list(dict.fromkeys([*self.inputs.recent_prompts(), *stored]))[:RECENT_PROMPTS]
        self.inputs.set_recent_prompts(merged)

    async def refresh_balance(self) -> None:
        if self.is_closing():
            return
        try:
            balance = await network_read(self.engine.client.balance)
        except PixDeskError as exc:
            if self.is_closing():  # the window went while the server answered
                return
            self.balance_label.setText("Balance: unavailable")
            self.balance_label.setToolTip(str(exc))
            return
        if self.is_closing():
            return
        self.balance_label.setText(f"Balance: {balance.amount:,.2f} {balance.currency}")
        self.balance_label.setToolTip("Refreshed after each completed job")

    # -- generating --------------------------------------------------------------------------------
    def generate(self, request: GenerationRequest) -> None:
        self.generate_set([request])

    def generate_set(self, requests: list[GenerationRequest]) -> None:
        """One click on Generate: one job, or a set (variations, a batch) that the guard and the list treat as one
        group. The form is saved with it, so a restart brings back what was sent."""
        keyframes = self.inputs.storyboard_images()
        if keyframes:
            self.controller.generate_storyboard(keyframes, self.inputs.storyboard_request())
        else:
            self.controller.generate_set(requests)
        self._save_form()

    def continue_from_frame(self, image: str, previous: GenerationRequest) -> None:
        """ "Continue from last frame": the frame becomes the form's image, with an image model (the clip's
        own when it takes an image) and the clip's prompt kept to edit."""
        self.inputs.continue_from(image, previous)

    def _save_form(self) -> None:
        from pixdesk.ui.form_memory import save_form_state

        state = self.inputs.form_state()  # read on the UI thread, written off it
        spawn(self._write_form(save_form_state, state))

    async def _write_form(self, save: Callable[[Any], None], state: object) -> None:
        try:
            await off_ui_thread(save, state)
        except OSError as exc:  # the form is a convenience: say so in the log, never stop for it
            log.info("the form could not be saved: %s", exc)

    def _on_job(self, job: Job) -> None:
        previous = self.model.job(job.id)
        self.model.upsert(job)
        if self.compare_dialog is not None and previous is not None and previous.favourite != job.favourite:
            self.compare_dialog.grid.set_favourite(job.id, job.favourite)
        self._seen[job.id] = job
        # Finished in front of us (not a row coming back by Undo, which was counted when it finished).
        newly_done = (
            job.state is JobState.COMPLETED and previous is not None and previous.state is not JobState.COMPLETED
        )
        if newly_done:
            self._finished_here.add(job.id)
        if newly_done and self._ready:
            # Plays by itself unless the person is watching another clip they chose.
            if not self.player_panel.is_watching() and job.file_path and Path(job.file_path).exists():
                self.player_panel.play_file(job.file_path, chosen=False)
                self.save_action.setEnabled(True)
                self._select(job.id)  # the row follows; the clip is already the current one
            spawn(self.refresh_balance())
        newly_failed = job.state is JobState.FAILED and previous is not None and previous.state is not JobState.FAILED
        if self._ready and (newly_done or newly_failed):
            self._notify_if_away(job)
        self._update_counts()
        if job.id in {j.id for j in self.selected_jobs()}:  # its row, or its group's row, is selected
            self._update_job_actions()

    def is_attended(self) -> bool:
        """The person is looking at this window (it is the active one): no desktop notification then."""
        return self.isActiveWindow() and not self.isMinimized()

    def _notify_if_away(self, job: Job) -> None:
        if not self.settings.notify_when_inactive or self.is_attended():
            return
        prompt = clean_text(job.title, 60) or "Your video"
        if job.state is JobState.COMPLETED:
            self.notifier.notify("Video ready", f"“{prompt}” has finished.")
        else:
            reason = job.error or "The job failed."
            self.notifier.notify("Video failed", f"“{prompt}”: {clean_text(reason, 200)}")

    def show_notice(self, message: str) -> None:
        """A message that must not be missed, in the banner above everything (not a blocking dialog)."""
        self.banner_text.setText(f"<b>⚠ {_html(message)}</b>")
        self.banner.setStyleSheet("#demoBanner { background: %s; }" % ("#4a2020" if theme.is_dark() else "#ffe0e0"))
        self.banner.show()

    def _show_crash(self, text: str) -> None:
        self.statusBar().showMessage(clean_text(text, 300), 15000)

    def _on_notice(self, kind: str, message: str) -> None:
        if kind == "paused":
            self.banner_text.setText(f"<b>⚠ {_html(message)}</b>")
            self.banner.setStyleSheet("#demoBanner { background: %s; }" % ("#4a2020" if theme.is_dark() else "#ffe0e0"))
            self.resume_button.show()
            self.banner.show()
        elif kind == "resumed":
            self.resume_button.hide()
            self._update_mode()
        self.statusBar().showMessage(message, 8000)

    def _resume_submissions(self) -> None:
        self.engine.resume_submissions()

    # -- the queue ---------------------------------------------------------------------------------
    def _job(self, job_id: str) -> Job | None:
        return self.model.job(job_id)

    def selected_job(self) -> Job | None:
        """The job of the current row. A storyboard's row stands for its film (Play, Save, the exports and a
        Retry act on it); any other group row has none (see `selected_group`)."""
        index = self.queue.currentIndex()
        if not index.isValid():
            return None
        job = self.library.job_at(index.row())
        if job is None and (group := self.library.group_at(index.row())) is not None:
            return group.film
        return job

    def selected_group(self) -> GroupSummary | None:
        index = self.queue.currentIndex()
        return self.library.group_at(index.row()) if index.isValid() else None

    def selected_jobs(self) -> list[Job]:
        """Every job of the selected rows, a group row standing for all of its jobs, in list order."""
        rows = sorted(index.row() for index in self.queue.selectionModel().selectedRows())
        seen: dict[str, Job] = {}
        for row in rows:
            group = self.library.group_at(row)
            jobs = group.jobs if group is not None else [j for j in (self.library.job_at(row),) if j is not None]
            for job in jobs:
                seen.setdefault(job.id, job)
        return list(seen.values())

    def _select(self, job_id: str) -> None:
        """Make the job's row current (its group's row while the group is folded; nothing while filtered out)."""
        index = self.library.index_of(job_id)
        if index.isValid():
            self.queue.selectionModel().setCurrentIndex(index, QItemSelectionModel.SelectionFlag.ClearAndSelect)

    def _current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        job = self.selected_job() if current.isValid() else None  # a storyboard's row: its film
        self._update_job_actions()
        if job is not None and job.state is JobState.COMPLETED and job.file_path != self.player_panel.current_file:
            self.play_job(job)

    def _update_job_actions(self) -> None:
        job = self.selected_job()
        self.controller.update_actions(job)
        starrable = job is not None and shows_star(job)
        self.favourite_action.setEnabled(starrable)
        self.favourite_action.setText(
            "Remove from favourites" if job is not None and job.favourite else "Add to favourites"
        )
        self.compare_action.setEnabled(len(self.comparable_jobs()) >= 2)
        group = self.selected_group()
        self.cancel_group_action.setEnabled(group is not None and group.running > 0)
        if job is None and self.selected_jobs():  # a group's row: Remove takes its jobs
            self.controller.actions[Action.REMOVE].setEnabled(True)

    # -- favourites, groups, the queue's pause ------------------------------------------------------------
    def toggle_favourite(self, job_id: str) -> None:
        """Star a finished job, or unstar it (the row's star, Ctrl+D, the menu); kept across restarts."""
        job = self.model.job(job_id)
        if job is not None:
            spawn(self._set_favourite(job_id, not job.favourite))

    async def _set_favourite(self, job_id: str, favourite: bool) -> None:
        if await self.engine.set_favourite(job_id, favourite) is None:
            self.statusBar().showMessage("Another PixDesk process is working on this job; try again shortly.", 6000)

    def _toggle_selected_favourite(self) -> None:
        job = self.selected_job()
        if job is not None and shows_star(job):
            self.toggle_favourite(job.id)

    def _cancel_selected_group(self) -> None:
        group = self.selected_group()
        if group is not None:
            self.controller.cancel_group(group.group_id, list(group.jobs))

    def is_queue_paused(self) -> bool:
        return self._queue_paused

    def set_queue_paused(self, paused: bool) -> None:
        """Pause the queue (nothing new is sent; what the server has goes on) or let it go on. Before the engine
        exists this is only noted: the engine, made once the saved key is known, starts paused."""
        self._queue_paused = paused
        if self._engine is not None and paused != self._engine.queue_paused:
            if paused:
                self._engine.pause_queue()
            else:
                self._engine.resume_queue()
        # The button says what it will do; the menu item is ticked while the queue is paused.
        self.pause_action.blockSignals(True)
        self.pause_action.setChecked(paused)
        self.pause_action.blockSignals(False)
        self.pause_button.setText("Resume queue" if paused else "Pause queue")
        self.pause_button.setAccessibleName(self.pause_button.text())
        self.settings.ui["queue_paused"] = paused  # saved with the settings: a restart keeps the queue paused
        self._update_counts()

    def _toggle_pause(self) -> None:
        self.set_queue_paused(not self.is_queue_paused())

    def _update_no_match(self, *_: object) -> None:
        self.no_match.setVisible(self.library.rowCount() == 0 and self.model.job_count() > 0)

    def _find(self) -> None:
        self.library_bar.search.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.library_bar.search.selectAll()

    # -- comparing ---------------------------------------------------------------------------------------
    def comparable_jobs(self) -> list[Job]:
        """The selected finished clips (what Compare shows; a file gone from disk says so in its cell)."""
        return [j for j in self.selected_jobs() if j.state is JobState.COMPLETED and j.file_path]

    def compare_selected(self) -> None:
        """The selected finished clips side by side: two to four of them (of a bigger set, the first four, and the
        status bar says how to choose others)."""
        jobs = self.comparable_jobs()
        if len(jobs) < 2:
            self.statusBar().showMessage(f"Select two to {COMPARE_MAX} finished clips to compare them.", 6000)
            return
        if len(jobs) > COMPARE_MAX:
            self.statusBar().showMessage(
                f"Comparing the first {COMPARE_MAX} of {len(jobs)} finished clips; open the group and Ctrl+click "
                f"up to {COMPARE_MAX} to choose others.",
                10000,
            )
        self.open_compare(jobs[:COMPARE_MAX])

    def open_compare(self, jobs: list[Job]) -> None:
        """The clips side by side in a window of their own, playing in sync; stars there are the library's."""
        from pixdesk.ui.compare import CompareDialog, compare_items  # Qt Multimedia comes with it

        if self.compare_dialog is not None:
            self.compare_dialog.close()
        dialog = CompareDialog(compare_items(jobs), self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.grid.favourite_toggled.connect(lambda job_id, on: spawn(self._set_favourite(job_id, on)))
        dialog.destroyed.connect(lambda *_: setattr(self, "compare_dialog", None))
        self.compare_dialog = dialog
        if self.player_panel.is_playing():  # one thing playing at a time: the grid now
            self.player_panel.toggle()
        dialog.show()

    def _context_menu(self, pos: QPoint) -> None:
        index = self.queue.indexAt(pos)
        if not index.isValid():
            return
        selection = self.queue.selectionModel()
        if selection.isSelected(index):  # a right-click inside a multiple selection keeps it (Compare, Remove)
            selection.setCurrentIndex(index, QItemSelectionModel.SelectionFlag.NoUpdate)
        else:
            self.queue.setCurrentIndex(index)
        self._update_job_actions()
        menu = QMenu(self)
        self._fill_job_menu(menu)
        menu.exec(self.queue.viewport().mapToGlobal(pos))
        menu.deleteLater()  # one menu per right-click: never let them pile up as the window's children

    def play_job(self, job: Job | None) -> None:
        if job is None or job.state is not JobState.COMPLETED or not job.file_path:
            return
        if not Path(job.file_path).exists():
            self.statusBar().showMessage(f"The video file is missing: {job.file_path}", 8000)
            return
        self.player_panel.play_file(job.file_path)
        self.save_action.setEnabled(True)

    def forget_job(self, job: Job) -> None:
        """The job leaves the list (it is being removed): stop showing its clip, drop its row."""
        if self.player_panel.current_file and job.file_path == self.player_panel.current_file:
            self.player_panel.clear()
            self.save_action.setEnabled(False)
        self.model.remove(job.id)
        self._update_counts()

    def _job_for_file(self, path: str | None) -> Job | None:
        return next((j for j in self.model.jobs() if path and j.file_path == path), None)

    def save_current(self) -> None:
        job = self._job_for_file(self.player_panel.current_file)
        if job is not None:
            self.controller.trigger(Action.SAVE, job)

    # -- images from outside (the command line, a second launch) ------------------------------------------
    def open_images(self, paths: list[str]) -> None:
        """Images given on the command line or handed over by a second launch: the first goes into the form
        (the drop zone checks it off the UI thread and says so if it is refused)."""
        usable = [p for p in paths if p]
        if not usable:
            return
        if self._closed is None:  # handed over in the first instant: checking them needs the loop
            self._pending_images.extend(usable)
            return
        self._images_given = True  # the form's saved images do not replace these
        self.inputs.set_images(usable)

    def bring_to_front(self) -> None:
        """Show the window above the others (a second launch handed its work to this one)."""
        if self.isMinimized():
            self.showNormal()
        self.show()
        self.raise_()
        self.activateWindow()

    # -- settings ----------------------------------------------------------------------------------
    def open_settings(self) -> None:
        dialog = SettingsDialog(self.settings, self.runtime.keystore, self, demo_active=self.runtime.demo)
        if dialog.exec() != SettingsDialog.DialogCode.Accepted:
            return
        dialog.apply()
        # Demo stays as it is unless the box was changed (a session started with --demo stays a demo).
        choice = dialog.demo_choice()
        demo = True if choice is True or (choice is None and self.runtime.demo) else None
        spawn(self._apply_settings(dialog.new_key() if dialog.key_changed() else None, demo))

    async def _apply_settings(self, new_key: str | None, demo: bool | None = None) -> None:
        if new_key is not None:
            problem = await store_key(self, self.runtime.keystore, new_key)
            if problem:
                self.show_notice(f"The API key was not saved: {problem}")
        try:
            await save_settings_async(self.settings)
        except OSError as exc:
            self.show_notice(f"The settings could not be saved: {exc.strerror or exc}")
        # Reads the keychain: never on the UI thread. `demo` None: live when a key is saved and demo is off.
        client = await off_ui_thread(self.runtime.reconnect, demo)
        self.runtime.remember_key_hint()  # the settings are the UI thread's
        self.engine.use_backend(self.runtime.backend, client)
        self.engine.prices = self.runtime.prices  # rebuilt for the new backend: estimates stored at submit follow
        self.inputs.clear_guard_message()
        self.refresh_prices()
        self.engine.max_in_flight = self.settings.max_in_flight
        self.engine.resume_submissions()
        self.resume_button.hide()
        self._update_mode()
        self._update_counts()
        self.statusBar().showMessage("Settings saved" + (" — demo mode" if self.runtime.demo else ""), 5000)
        await self.refresh_balance()

    def _about(self) -> None:
        QMessageBox.about(
            self, "About PixDesk", f"<b>PixDesk {__version__}</b><br>Image to video with pixverse/v5 on the AI/ML API."
        )

    # -- window state ------------------------------------------------------------------------------
    def _restore_geometry(self) -> None:
        ui = self.settings.ui
        if ui.get("geometry"):
            self.restoreGeometry(QByteArray.fromBase64(ui["geometry"].encode()))
        else:
            self.resize(1380, 820)
        if ui.get("splitter"):
            self.splitter.restoreState(QByteArray.fromBase64(ui["splitter"].encode()))

    def is_ready(self) -> bool:
        """History loaded and unfinished jobs resumed."""
        return self._ready

    def is_closed(self) -> bool:
        return self._closed is not None and self._closed.done()

    def is_closing(self) -> bool:
        """The person chose to quit and the shutdown has begun (or ended): no new work is taken."""
        return self._shutting_down or self.is_closed()

    def closeEvent(self, event: QCloseEvent) -> None:
        """Say how many jobs are running (they continue next time); wait for create requests already sent,
        so the ids the server gives are saved; then close."""
        if self._close_now:
            super().closeEvent(event)
            return
        event.ignore()
        if self._shutting_down:
            return
        if self._closed is None:  # the first instant, before the loop: the close follows once it is there
            self._close_pending = True
            return
        engine = self._engine  # none yet: the window closes in its first instant, and nothing runs
        running = engine.running_count() if engine is not None else 0
        if running and not self.controller.prompter.confirm(
            "Quit PixDesk?", self._quit_text(list(engine.jobs.values()) if engine else []), yes="Quit"
        ):
            return
        self._shutting_down = True
        self.jobs_running_at_close = running
        self._on_usable()  # start-up work still waiting for the first frame sees the window closing, and ends
        self.settings.ui["geometry"] = bytes(self.saveGeometry().toBase64().data()).decode()
        self.settings.ui["splitter"] = bytes(self.splitter.saveState().toBase64().data()).decode()
        sending = engine.submitting_count() if engine is not None else 0
        if sending:
            self.statusBar().showMessage(f"Finishing {sending} submission{'s' if sending != 1 else ''}…")
        central = self.centralWidget()
        if central is not None:
            central.setEnabled(False)
        self.menuBar().setEnabled(False)
        self.player_panel.release()
        if self.compare_dialog is not None:  # its clips stop with the window
            self.compare_dialog.close()
        spawn(self._shutdown())

    def _quit_text(self, jobs: list[Job]) -> str:
        """What quitting leaves: jobs the server has go on there; jobs not sent yet wait here for the next start."""
        sent, held = _running_and_waiting(jobs)
        lines = []
        if sent:
            lines.append(
                f"{sent} job{'s are' if sent != 1 else ' is'} still running. "
                f"{'They continue' if sent != 1 else 'It continues'} the next time you open PixDesk "
                "(the server keeps working on what it already has)."
            )
        if held:
            when = "once you resume the queue" if self.is_queue_paused() else "the next time you open PixDesk"
            lines.append(
                f"{held} job{'s' if held != 1 else ''} not sent yet {'wait' if held != 1 else 'waits'} here and "
                f"{'are' if held != 1 else 'is'} sent {when}: nothing is charged for {'them' if held != 1 else 'it'}"
                " until then."
            )
        return "\n\n".join(lines)

    async def _shutdown(self) -> None:
        from pixdesk.ui.form_memory import save_form_state

        form = self.inputs.form_state()
        try:
            with contextlib.suppress(OSError):
                await off_ui_thread(save_form_state, form)
            await self.controller.settle()  # removals asked for just before quitting end first
            if self._engine is not None:
                await self._engine.close()
            with contextlib.suppress(OSError):
                await save_settings_async(self.settings)
            await off_ui_thread(self.controller.finish)
        finally:
            crash.uninstall()
            self._close_now = True
            self.close()
            if self._closed is not None and not self._closed.done():
                self._closed.set_result(None)

    async def wait_closed(self) -> None:
        assert self._closed is not None, "attach_loop() first"
        await self._closed


def _running_and_waiting(jobs: list[Job]) -> tuple[int, int]:
    """(jobs the server has or is being sent, jobs not sent yet) among the unfinished ones. A storyboard's film is
    neither: it is never sent (it is joined here once its parts are done)."""
    unfinished = [j for j in jobs if j.state not in FINAL and not j.is_film]
    waiting = sum(1 for j in unfinished if j.state in NEVER_SENT)
    return len(unfinished) - waiting, waiting


def _clipboard_has_only_image() -> bool:
    mime = QGuiApplication.clipboard().mimeData()
    return mime is not None and mime.hasImage() and not mime.text().strip()


def _has_selection(field: QObject) -> bool:
    if isinstance(field, QLineEdit):
        return field.hasSelectedText()
    if isinstance(field, QPlainTextEdit):
        return field.textCursor().hasSelection()
    return True


def _html(text: str) -> str:
    return clean_text(text, 600).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
