"""The PixDesk main window: inputs | player | queue, in splitters, on top of the job engine."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
from pathlib import Path
from typing import Any

from PySide6.QtCore import (
    QByteArray,
    QItemSelectionModel,
    QModelIndex,
    QObject,
    QPoint,
    QStandardPaths,
    Qt,
    QUrl,
    Signal,
)
from PySide6.QtGui import QAction, QCloseEvent, QDesktopServices, QGuiApplication, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QListView,
    QMainWindow,
    QMenu,
    QMessageBox,
    QPushButton,
    QScrollArea,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from pixdesk import APP_NAME, __version__
from pixdesk.api.errors import PixDeskError
from pixdesk.api.request import GenerationRequest, ValidationError
from pixdesk.config import save_settings
from pixdesk.jobs.library import suggested_name
from pixdesk.jobs.models import AT_SERVER, FINAL, NEVER_SENT, Job, JobState
from pixdesk.runtime import Runtime
from pixdesk.ui import theme
from pixdesk.ui.inputs_panel import InputsPanel
from pixdesk.ui.player import PlayerPanel
from pixdesk.ui.queue_model import JobDelegate, JobListModel
from pixdesk.ui.settings_dialog import SettingsDialog
from pixdesk.ui.tasks import off_ui_thread, spawn


class EngineBridge(QObject):
    """Turns the engine's plain callbacks into Qt signals for the UI."""

    job_changed = Signal(object)
    notice = Signal(str, str)


class MainWindow(QMainWindow):
    def __init__(self, runtime: Runtime, engine_options: dict[str, Any] | None = None) -> None:
        super().__init__()
        self.runtime = runtime
        self.settings = runtime.settings
        self.engine = runtime.make_engine(**(engine_options or {}))
        self.bridge = EngineBridge(self)
        self.engine.job_listeners.append(self.bridge.job_changed.emit)
        self.engine.notice_listeners.append(self.bridge.notice.emit)
        self.bridge.job_changed.connect(self._on_job)
        self.bridge.notice.connect(self._on_notice)
        self._closed: asyncio.Future[None] = asyncio.get_event_loop().create_future()
        self._credits_seen: dict[str, float] = {}
        self._ready = False

        self.setWindowIcon(theme.app_icon())
        self.setMinimumSize(980, 620)
        self.inputs = InputsPanel()
        self.inputs.generate_requested.connect(self.generate)
        self.player_panel = PlayerPanel(self)
        self.player_panel.save_requested.connect(self.save_current)
        self.model = JobListModel(self)
        self.queue = QListView()
        self.queue.setObjectName("queueView")
        self.queue.setAccessibleName("Job queue")
        self.queue.setModel(self.model)
        self.queue.setItemDelegate(JobDelegate(self.queue))
        self.queue.setUniformItemSizes(True)
        self.queue.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.queue.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.queue.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.queue.customContextMenuRequested.connect(self._context_menu)
        self.queue.activated.connect(lambda index: self.play_job(self.model.job_at(index.row())))
        selection = self.queue.selectionModel()
        selection.currentChanged.connect(self._current_changed)

        self._build_banner()
        self._build_layout()
        self._build_actions()
        self._build_status_bar()
        self._update_mode()
        self._restore_geometry()
        spawn(self._startup())

    # -- building ----------------------------------------------------------------------------------
    def _build_banner(self) -> None:
        self.banner = QFrame()
        self.banner.setObjectName("demoBanner")
        self.banner_text = QLabel()
        self.banner_text.setWordWrap(True)
        self.banner_text.setObjectName("demoBannerText")
        self.banner_button = QPushButton("Open Settings…")
        self.banner_button.clicked.connect(self.open_settings)
        self.resume_button = QPushButton("Resume submissions")
        self.resume_button.clicked.connect(self._resume_submissions)
        self.resume_button.hide()
        row = QHBoxLayout(self.banner)
        row.setContentsMargins(12, 6, 12, 6)
        row.addWidget(self.banner_text, 1)
        row.addWidget(self.resume_button)
        row.addWidget(self.banner_button)

    def _build_layout(self) -> None:
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(self.inputs)
        scroll.setMinimumWidth(300)
        queue_panel = QWidget()
        queue_layout = QVBoxLayout(queue_panel)
        queue_layout.setContentsMargins(8, 8, 8, 8)
        header = QHBoxLayout()
        title = QLabel("<b>Queue</b>")
        self.queue_count = QLabel()
        self.queue_count.setObjectName("queueCount")
        header.addWidget(title)
        header.addStretch(1)
        header.addWidget(self.queue_count)
        queue_layout.addLayout(header)
        queue_layout.addWidget(self.queue, 1)
        queue_panel.setMinimumWidth(280)
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.setObjectName("mainSplitter")
        self.splitter.addWidget(scroll)
        self.splitter.addWidget(self.player_panel)
        self.splitter.addWidget(queue_panel)
        self.splitter.setStretchFactor(0, 0)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setStretchFactor(2, 0)
        self.splitter.setSizes([360, 640, 380])
        self.splitter.setChildrenCollapsible(False)
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.banner)
        layout.addWidget(self.splitter, 1)
        self.setCentralWidget(central)

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
        self.open_action = self._action("Open image…", self.inputs.drop.browse, QKeySequence.StandardKey.Open)
        self.paste_action = self._action("Paste image", self.inputs.drop.paste, QKeySequence.StandardKey.Paste)
        self.save_action = self._action("Save video…", self.save_current, QKeySequence.StandardKey.Save)
        self.save_action.setEnabled(False)
        self.settings_action = self._action("Settings…", self.open_settings, QKeySequence.StandardKey.Preferences)
        quit_action = self._action("Quit", self.close, QKeySequence.StandardKey.Quit)
        for action in (self.open_action, self.paste_action, self.save_action):
            file_menu.addAction(action)
        file_menu.addSeparator()
        file_menu.addAction(self.settings_action)
        file_menu.addSeparator()
        file_menu.addAction(quit_action)
        self.addActions([self.open_action, self.paste_action, self.save_action, self.settings_action, quit_action])

        view_only = Qt.ShortcutContext.WidgetWithChildrenShortcut
        self.job_actions = {
            "play": self._action("Play", lambda: self.play_job(self.selected_job())),
            "save": self._action("Save as…", lambda: self.save_job(self.selected_job())),
            "folder": self._action("Open containing folder", lambda: self.open_folder(self.selected_job())),
            "copy": self._action(
                "Copy prompt", lambda: self.copy_prompt(self.selected_job()), QKeySequence.StandardKey.Copy, view_only
            ),
            "reuse": self._action("Reuse settings", lambda: self.reuse(self.selected_job()), "Ctrl+R", view_only),
            "retry": self._action("Retry (new job)", lambda: self.retry(self.selected_job())),
            "cancel": self._action("Cancel", lambda: self.cancel(self.selected_job())),
            "remove": self._action(
                "Remove from list", lambda: self.remove(self.selected_job()), QKeySequence.StandardKey.Delete, view_only
            ),
        }
        self.queue.addActions(list(self.job_actions.values()))
        job_menu = menu.addMenu("&Job")
        for key, action in self.job_actions.items():
            job_menu.addAction(action)
            if key in ("folder", "reuse"):
                job_menu.addSeparator()
        job_menu.aboutToShow.connect(self._update_job_actions)
        help_menu = menu.addMenu("&Help")
        help_menu.addAction(self._action("About PixDesk", self._about))

    def _build_status_bar(self) -> None:
        bar = self.statusBar()
        self.mode_label = QLabel()
        self.mode_label.setObjectName("modeLabel")
        self.running_label = QLabel()
        self.running_label.setObjectName("runningLabel")
        self.credits_label = QLabel()
        self.credits_label.setObjectName("creditsLabel")
        self.balance_label = QLabel("Balance: …")
        self.balance_label.setObjectName("balanceLabel")
        for label in (self.mode_label, self.running_label, self.credits_label, self.balance_label):
            bar.addPermanentWidget(label)
        self._update_counts()

    # -- state display -----------------------------------------------------------------------------
    def _update_mode(self) -> None:
        demo = self.runtime.demo
        self.setWindowTitle(f"{APP_NAME} — demo mode" if demo else APP_NAME)
        if demo:
            self.mode_label.setText("● Demo (simulator)")
            self.mode_label.setToolTip("Jobs run against PixDesk's built-in simulator: no credits, no network.")
            self.banner_text.setText(
                "<b>Demo mode.</b> Videos come from PixDesk's built-in simulator — no API key, no credits. "
                "To make real videos, add your AI/ML API key in Settings."
            )
            self.banner.setStyleSheet("#demoBanner { background: %s; }" % ("#3a3120" if theme.is_dark() else "#fff4d6"))
        else:
            host = self.runtime.connection.base_url.split("://", 1)[-1]
            self.mode_label.setText(f"● Live — {host}")
            self.mode_label.setToolTip("Jobs go to the AI/ML API and use your credits.")
        self.banner.setVisible(demo or self.engine.paused_reason is not None)
        self.banner_button.setText("Open Settings…")

    def _update_counts(self) -> None:
        jobs = self.model.jobs()
        running = sum(1 for j in jobs if j.state not in FINAL)
        self.running_label.setText(f"{running} running" if running else "Idle")
        total = sum(self._credits_seen.values())
        self.credits_label.setText(f"Session: {total:,.0f} credits")
        done = sum(1 for j in jobs if j.state is JobState.COMPLETED)
        self.queue_count.setText(f"{running} running · {done} done" if jobs else "No jobs yet")

    # -- start-up ----------------------------------------------------------------------------------
    async def _startup(self) -> None:
        history = await self.engine.load_history()
        self.model.set_jobs(history)
        await self.engine.resume_unfinished()
        self._update_counts()
        self._ready = True
        await self.refresh_balance()

    async def refresh_balance(self) -> None:
        try:
            balance = await off_ui_thread(self.engine.client.balance)
        except PixDeskError as exc:
            self.balance_label.setText("Balance: unavailable")
            self.balance_label.setToolTip(str(exc))
            return
        self.balance_label.setText(f"Balance: {balance.amount:,.2f} {balance.currency}")
        self.balance_label.setToolTip("Refreshed after each completed job")

    # -- generating --------------------------------------------------------------------------------
    def generate(self, request: GenerationRequest) -> None:
        spawn(self._submit(request))

    async def _submit(self, request: GenerationRequest) -> None:
        try:
            job = await self.engine.submit(request)
        except ValidationError as exc:
            self.inputs.show_errors(exc.errors)
            return
        self.statusBar().showMessage(f"Queued “{job.request.prompt[:40]}”", 4000)

    def _on_job(self, job: Job) -> None:
        previous_row = self.model.row_of(job.id)
        previous = self.model.job_at(previous_row) if previous_row is not None else None
        self.model.upsert(job)
        if job.state is JobState.COMPLETED and job.credits:
            self._credits_seen[job.id] = job.credits
        newly_done = job.state is JobState.COMPLETED and (previous is None or previous.state is not JobState.COMPLETED)
        if newly_done and self._ready:
            if not self.player_panel.is_playing() and job.file_path:
                self._select(job.id)
                self.play_job(job)
            spawn(self.refresh_balance())
        self._update_counts()
        if self.selected_job() and self.selected_job().id == job.id:  # type: ignore[union-attr]
            self._update_job_actions()

    def _on_notice(self, kind: str, message: str) -> None:
        if kind == "paused":
            self.banner_text.setText(f"<b>⚠ {message}</b>")
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
    def selected_job(self) -> Job | None:
        index = self.queue.currentIndex()
        return self.model.job_at(index.row()) if index.isValid() else None

    def _select(self, job_id: str) -> None:
        row = self.model.row_of(job_id)
        if row is not None:
            self.queue.selectionModel().setCurrentIndex(
                self.model.index(row), QItemSelectionModel.SelectionFlag.ClearAndSelect
            )

    def _current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        job = self.model.job_at(current.row()) if current.isValid() else None
        self._update_job_actions()
        if job is not None and job.state is JobState.COMPLETED and job.file_path != self.player_panel.current_file:
            self.play_job(job)

    def _update_job_actions(self) -> None:
        job = self.selected_job()
        done = job is not None and job.state is JobState.COMPLETED and bool(job.file_path)
        a = self.job_actions
        a["play"].setEnabled(done)
        a["save"].setEnabled(done)
        a["folder"].setEnabled(done)
        for key in ("copy", "reuse", "retry", "remove"):
            a[key].setEnabled(job is not None)
        a["cancel"].setEnabled(
            job is not None
            and (job.state in NEVER_SENT or job.state in AT_SERVER or job.state is JobState.SUBMITTING)
            and not job.is_final
        )

    def _context_menu(self, pos: QPoint) -> None:
        index = self.queue.indexAt(pos)
        if not index.isValid():
            return
        self.queue.setCurrentIndex(index)
        self._update_job_actions()
        menu = QMenu(self)
        for key, action in self.job_actions.items():
            menu.addAction(action)
            if key in ("folder", "reuse"):
                menu.addSeparator()
        menu.exec(self.queue.viewport().mapToGlobal(pos))

    def play_job(self, job: Job | None) -> None:
        if job is None or job.state is not JobState.COMPLETED or not job.file_path:
            return
        if not Path(job.file_path).exists():
            self.statusBar().showMessage(f"The video file is missing: {job.file_path}", 8000)
            return
        self.player_panel.play_file(job.file_path)
        self.save_action.setEnabled(True)

    def copy_prompt(self, job: Job | None) -> None:
        if job is not None:
            QGuiApplication.clipboard().setText(job.request.prompt)
            self.statusBar().showMessage("Prompt copied", 3000)

    def reuse(self, job: Job | None) -> None:
        if job is not None:
            self.inputs.load_request(job.request)
            self.statusBar().showMessage("Settings loaded into the form", 3000)

    def retry(self, job: Job | None) -> None:
        if job is not None:
            spawn(self._submit(job.request))

    def cancel(self, job: Job | None) -> None:
        if job is None:
            return
        if job.state not in NEVER_SENT:
            answer = QMessageBox.question(
                self,
                "Stop this job?",
                "The server has this job already: PixDesk will stop watching it, but the server may still "
                "finish it and charge for it.\n\nStop watching?",
            )
            if answer != QMessageBox.StandardButton.Yes:
                return
        self.engine.cancel(job.id)

    def remove(self, job: Job | None) -> None:
        if job is None:
            return
        if self.player_panel.current_file and job.file_path == self.player_panel.current_file:
            self.player_panel.clear()
            self.save_action.setEnabled(False)
        self.model.remove(job.id)
        spawn(self.engine.remove(job.id))
        self._update_counts()

    def open_folder(self, job: Job | None) -> None:
        if job is not None and job.file_path:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(Path(job.file_path).parent)))

    # -- saving ------------------------------------------------------------------------------------
    def _job_for_file(self, path: str | None) -> Job | None:
        return next((j for j in self.model.jobs() if path and j.file_path == path), None)

    def save_current(self) -> None:
        self.save_job(self._job_for_file(self.player_panel.current_file))

    def _save_folder(self) -> str:
        for candidate in (self.settings.ui.get("last_save_folder"), self.settings.save_folder):
            if candidate and Path(candidate).is_dir():
                return str(candidate)
        return QStandardPaths.writableLocation(QStandardPaths.StandardLocation.MoviesLocation) or str(Path.home())

    def save_job(self, job: Job | None) -> None:
        if job is None or not job.file_path:
            return
        default = str(Path(self._save_folder()) / suggested_name(job.request.prompt, job.created_at))
        target, _ = QFileDialog.getSaveFileName(self, "Save video", default, "MP4 video (*.mp4)")
        if not target:
            return
        if not target.lower().endswith(".mp4"):
            target += ".mp4"
        self.settings.ui["last_save_folder"] = str(Path(target).parent)
        spawn(self._copy(job.file_path, target))

    async def _copy(self, source: str, target: str) -> None:
        try:
            await off_ui_thread(shutil.copyfile, source, target)
        except OSError as exc:
            QMessageBox.warning(self, "Could not save the video", f"{target}\n\n{exc.strerror or exc}")
            return
        self.statusBar().showMessage(f"Saved to {target}", 6000)
        self.last_saved = target

    # -- settings ----------------------------------------------------------------------------------
    def open_settings(self) -> None:
        dialog = SettingsDialog(self.settings, self.runtime.keystore, self)
        if dialog.exec() != SettingsDialog.DialogCode.Accepted:
            return
        dialog.apply()
        spawn(self._apply_settings(dialog.new_key() if dialog.key_changed() else None))

    async def _apply_settings(self, new_key: str | None) -> None:
        if new_key is not None:
            await off_ui_thread(self.runtime.keystore.set, new_key)
        await off_ui_thread(save_settings, self.settings)
        client = self.runtime.reconnect()
        self.engine.use_backend(self.runtime.backend, client)
        self.engine.max_in_flight = self.settings.max_in_flight
        self.engine.resume_submissions()
        self.resume_button.hide()
        self._update_mode()
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

    def closeEvent(self, event: QCloseEvent) -> None:
        self.settings.ui["geometry"] = bytes(self.saveGeometry().toBase64().data()).decode()
        self.settings.ui["splitter"] = bytes(self.splitter.saveState().toBase64().data()).decode()
        with contextlib.suppress(OSError):
            save_settings(self.settings)  # tiny, once, as the window goes away
        self.player_panel.release()
        super().closeEvent(event)
        spawn(self._shutdown())

    async def _shutdown(self) -> None:
        await self.engine.close()
        if not self._closed.done():
            self._closed.set_result(None)

    async def wait_closed(self) -> None:
        await self._closed
