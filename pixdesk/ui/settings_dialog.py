"""Settings: the API key (masked, testable), base URL, save folder, jobs in flight, demo mode, spending guard.

The keychain can block (a dbus unlock prompt, a slow agent), so it is only ever touched off the UI thread: the dialog
opens at once and loads the key in the background; `store_key` and `save_settings_async` write after it is accepted.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable

import shiboken6
from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from pixdesk.api.errors import PixDeskError
from pixdesk.config import DEFAULT_BASE_URL, Settings, save_settings
from pixdesk.keystore import KeychainLocked, KeyStore, NoKeychain
from pixdesk.ui import theme
from pixdesk.ui.tasks import off_ui_thread, spawn


def check_key(base_url: str, key: str) -> str:
    """Ask for the balance with `key` (blocking: off the UI thread); the HTTP client is imported here, on first use."""
    from pixdesk.api.client import ApiClient, Timeouts

    client = ApiClient(base_url, key, timeouts=Timeouts(connect=8, read=15))
    try:
        balance = client.balance()
    finally:
        client.close()
    return f"✔ Key accepted. Balance: {balance.amount:,.2f} {balance.currency}"


def _usd_spin(name: str, value: float) -> QDoubleSpinBox:
    """An amount in US dollars, as the guard settings hold them (config keeps them within 0 … 1e6)."""
    spin = QDoubleSpinBox()
    spin.setObjectName(name)
    spin.setPrefix("$")
    spin.setDecimals(2)
    spin.setRange(0.0, 999_999.0)
    spin.setSingleStep(1.0)
    spin.setValue(value)
    return spin


KEY_PLACEHOLDER = "Paste your AI/ML API key"
LOADING_PLACEHOLDER = "Loading…"


class SettingsDialog(QDialog):
    key_load_finished = Signal()
    """Emitted once the key has been read from the keychain (or reading it failed) and the field is usable."""

    def __init__(
        self, settings: Settings, keystore: KeyStore, parent: QWidget | None = None, demo_active: bool | None = None
    ) -> None:
        """`demo_active`: whether the window runs in demo mode now (the box shows that, whatever the reason)."""
        super().__init__(parent)
        self.setWindowTitle("Settings")
        self.setMinimumWidth(520)
        self.settings = settings
        self.keystore = keystore
        self._original_key = ""
        self._key_loaded = False
        self._env_key = bool(os.environ.get("AIMLAPI_KEY", "").strip())

        self.key = QLineEdit()
        self.key.setObjectName("apiKeyEdit")
        self.key.setEchoMode(QLineEdit.EchoMode.Password)
        self.key.setPlaceholderText(LOADING_PLACEHOLDER)
        self.key.setEnabled(False)  # until the key is loaded: typing now would race the load
        self.show_key = QToolButton()
        self.show_key.setText("Show")
        self.show_key.setCheckable(True)
        self.show_key.toggled.connect(
            lambda on: self.key.setEchoMode(QLineEdit.EchoMode.Normal if on else QLineEdit.EchoMode.Password)
        )
        self.test = QPushButton("Test key")
        self.test.setObjectName("testKeyButton")
        self.test.clicked.connect(self.test_key)
        self.test_result = QLabel()
        self.test_result.setObjectName("testKeyResult")
        self.test_result.setWordWrap(True)
        self.test_result.hide()  # no empty row: it shows once there is a result
        self.storage = QLabel(f"The key is kept {keystore.backend_description}.")
        self.storage.setWordWrap(True)
        self.storage.setObjectName("keyStorageNote")

        self.base_url = QLineEdit(settings.base_url or DEFAULT_BASE_URL)
        self.base_url.setObjectName("baseUrlEdit")
        if os.environ.get("AIMLAPI_BASE_URL"):
            self.base_url.setToolTip("AIMLAPI_BASE_URL in the environment overrides this.")
        self.save_folder = QLineEdit(settings.save_folder)
        self.save_folder.setPlaceholderText("Ask every time (starts in your Videos folder)")
        browse = QToolButton()
        browse.setText("…")
        browse.clicked.connect(self._browse)
        self.in_flight = QSpinBox()
        self.in_flight.setObjectName("maxInFlightSpin")
        self.in_flight.setRange(1, 20)
        self.in_flight.setValue(settings.max_in_flight)
        self.in_flight.setToolTip("How many jobs may be at the server at once; the rest wait locally in order.")
        self.demo = QCheckBox("Demo mode: use the built-in simulator (no credits, no network)")
        self.demo.setObjectName("demoModeCheck")
        self._demo_was = settings.demo_mode if demo_active is None else demo_active
        self.demo.setChecked(self._demo_was)
        if self._demo_was and not settings.demo_mode:
            self.demo.setToolTip(
                "On now because PixDesk was started with --demo or has no API key. Untick it to go live once a key "
                "is saved."
            )
        self.notify = QCheckBox("Notify me when a job finishes while PixDesk is in the background")
        self.notify.setObjectName("notifyCheck")
        self.notify.setChecked(settings.notify_when_inactive)
        self.guard = QCheckBox("Spending guard")
        self.guard.setObjectName("spendingGuardCheck")
        self.guard.setToolTip("Ask before costly submissions and stop new jobs once today's budget is spent.")
        self.guard.setChecked(settings.spending_guard)
        self.confirm_over = _usd_spin("confirmOverSpin", settings.confirm_over_usd)
        self.confirm_over.setToolTip("A submission estimated above this asks first (an unknown price always asks).")
        self.daily_budget = _usd_spin("dailyBudgetSpin", settings.daily_budget_usd)
        self.daily_budget.setToolTip(
            "New jobs are not sent once today's live spend (charged + in flight) plus the job would exceed this. "
            "Demo jobs cost nothing and never count."
        )
        self.guard.toggled.connect(self.confirm_over.setEnabled)
        self.guard.toggled.connect(self.daily_budget.setEnabled)
        self.confirm_over.setEnabled(settings.spending_guard)
        self.daily_budget.setEnabled(settings.spending_guard)

        key_row = QHBoxLayout()
        key_row.addWidget(self.key, 1)
        key_row.addWidget(self.show_key)
        key_row.addWidget(self.test)
        folder_row = QHBoxLayout()
        folder_row.addWidget(self.save_folder, 1)
        folder_row.addWidget(browse)
        form = QFormLayout()
        form.addRow("API key", key_row)
        notes = QVBoxLayout()
        notes.setSpacing(2)
        notes.addWidget(self.test_result)
        notes.addWidget(self.storage)
        form.addRow("", notes)
        form.addRow("Base URL", self.base_url)
        form.addRow("Save videos to", folder_row)
        form.addRow("Jobs at once", self.in_flight)
        form.addRow("", self.demo)
        form.addRow("", self.notify)
        form.addRow("", self.guard)
        form.addRow("Ask before a submission over", self.confirm_over)
        form.addRow("Daily budget", self.daily_budget)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(buttons)
        spawn(self._load_key())

    @property
    def key_loaded(self) -> bool:
        """True once the background read of the key has finished (successfully or not)."""
        return self._key_loaded

    async def _load_key(self) -> None:
        failure = ""
        try:
            key = await off_ui_thread(self.keystore.get)
        except Exception as exc:  # an unexpected backend failure: say so, but leave the field usable
            key = None
            failure = f"✘ Could not read the saved key: {type(exc).__name__}"
        if not shiboken6.isValid(self):  # closed and deleted while the keychain answered
            return
        if failure:
            self._show_result(failure, ok=False)
        self._original_key = key or ""
        self.key.setText(self._original_key)
        self.key.setPlaceholderText(KEY_PLACEHOLDER)
        self.key.setEnabled(not self._env_key)
        self.storage.setText(f"The key is kept {self.keystore.backend_description}.")
        if self.keystore.state == "locked" and self.keystore.last_error:
            self._show_result(self.keystore.last_error, ok=False)
        self._key_loaded = True
        self.key_load_finished.emit()

    def _browse(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Save videos to", self.save_folder.text())
        if folder:
            self.save_folder.setText(folder)

    def test_key(self) -> None:
        key = self.key.text().strip() or os.environ.get("AIMLAPI_KEY", "")
        if not key:
            self._show_result("Enter a key first.", ok=False)
            return
        self.test.setEnabled(False)
        self._show_result("Checking…", ok=True)
        spawn(self._test(self.base_url.text().strip() or DEFAULT_BASE_URL, key))

    async def _test(self, base_url: str, key: str) -> None:
        try:
            message = await off_ui_thread(check_key, base_url, key)
            self._show_result(message, ok=True)
        except PixDeskError as exc:
            self._show_result(f"✘ {exc}", ok=False)
        finally:
            self.test.setEnabled(True)
            # Back to where the user was typing (the field is disabled when the key comes from the environment).
            (self.key if self.key.isEnabled() else self.test).setFocus()

    def _show_result(self, text: str, ok: bool) -> None:
        self.test_result.setText(text)
        self.test_result.setVisible(bool(text))
        self.test_result.setStyleSheet("" if ok else f"color: {theme.error_color()};")

    def key_changed(self) -> bool:
        return self.key.isEnabled() and self.key.text().strip() != self._original_key

    def apply(self) -> None:
        """Write what the dialog holds into the settings object (the caller saves and reconnects)."""
        self.settings.base_url = self.base_url.text().strip() or DEFAULT_BASE_URL
        self.settings.save_folder = self.save_folder.text().strip()
        self.settings.max_in_flight = self.in_flight.value()
        if self.demo_choice() is not None:  # only a change of the box is a choice to remember
            self.settings.demo_mode = self.demo.isChecked()
        self.settings.notify_when_inactive = self.notify.isChecked()
        self.settings.spending_guard = self.guard.isChecked()
        self.settings.confirm_over_usd = self.confirm_over.value()
        self.settings.daily_budget_usd = self.daily_budget.value()

    def demo_choice(self) -> bool | None:
        """True/False when the person ticked/unticked demo mode in this dialog; None when they left it."""
        checked = self.demo.isChecked()
        return None if checked == self._demo_was else checked

    def new_key(self) -> str:
        return self.key.text().strip()


# -- writing after the dialog is accepted (the main window awaits these) -------------------------------------------
Ask = Callable[[str, str], bool]


def _ask_question(parent: QWidget | None, title: str, text: str, ask: Ask | None) -> bool:
    if ask is not None:
        return ask(title, text)
    answer = QMessageBox.question(
        parent,
        title,
        text,
        QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
        QMessageBox.StandardButton.No,
    )
    return answer == QMessageBox.StandardButton.Yes


def _ask_retry(parent: QWidget | None, title: str, text: str, ask: Ask | None) -> bool:
    if ask is not None:
        return ask(title, text)
    answer = QMessageBox.warning(
        parent,
        title,
        text,
        QMessageBox.StandardButton.Retry | QMessageBox.StandardButton.Cancel,
        QMessageBox.StandardButton.Retry,
    )
    return answer == QMessageBox.StandardButton.Retry


async def store_key(parent: QWidget | None, keystore: KeyStore, key: str, ask: Ask | None = None) -> str | None:
    """Save `key` off the UI thread, asking the user where the keychain cannot take it.

    No keychain: asks (Yes/No) whether a user-only file is acceptable and writes it only on Yes. Locked keychain:
    offers Retry/Cancel. Returns None once saved, else the message of why the key was NOT saved.
    `ask(title, text) -> bool` replaces the message boxes (tests); True means Yes/Retry.
    """
    allow_plain_file = False
    while True:
        try:
            await off_ui_thread(functools.partial(keystore.set, key, allow_plain_file=allow_plain_file))
            return None
        except NoKeychain as exc:
            if allow_plain_file:  # cannot happen (set writes the file then); never loop on it
                return exc.message
            question = (
                "No system keychain is available on this computer.\n\n"
                f"Keep the API key in a file that only your user account can read?\n{exc.fallback_file}\n\n"
                "Choose No to keep using PixDesk without saving the key (set AIMLAPI_KEY instead)."
            )
            if not _ask_question(parent, "Save the API key in a file?", question, ask):
                return "The key was not saved: there is no system keychain and you chose not to keep it in a file."
            allow_plain_file = True
        except KeychainLocked as exc:
            if not _ask_retry(parent, "Keychain locked", exc.message, ask):
                return exc.message
        except OSError as exc:
            return f"The key was not saved: could not write {keystore.fallback_file} ({exc.strerror or exc})."


async def save_settings_async(settings: Settings) -> None:
    """`pixdesk.config.save_settings` on a worker thread (a slow or network home folder must not freeze the UI).

    Raises OSError like `save_settings`.
    """
    await off_ui_thread(save_settings, settings)
