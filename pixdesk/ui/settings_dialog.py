"""Settings: the API key (masked, testable), base URL, save folder, jobs in flight, demo mode."""

from __future__ import annotations

import os

from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from pixdesk.api.client import DEFAULT_BASE_URL, ApiClient, Timeouts
from pixdesk.api.errors import PixDeskError
from pixdesk.config import Settings
from pixdesk.keystore import KeyStore
from pixdesk.ui import theme
from pixdesk.ui.tasks import off_ui_thread, spawn


def check_key(base_url: str, key: str) -> str:
    client = ApiClient(base_url, key, timeouts=Timeouts(connect=8, read=15))
    try:
        balance = client.balance()
    finally:
        client.close()
    return f"✔ Key accepted. Balance: {balance.amount:,.2f} {balance.currency}"


class SettingsDialog(QDialog):
    def __init__(self, settings: Settings, keystore: KeyStore, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("PixDesk settings")
        self.setMinimumWidth(520)
        self.settings = settings
        self.keystore = keystore
        self._original_key = keystore.get() or ""

        self.key = QLineEdit(self._original_key)
        self.key.setObjectName("apiKeyEdit")
        self.key.setEchoMode(QLineEdit.EchoMode.Password)
        self.key.setPlaceholderText("Paste your AI/ML API key")
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
        env_key = bool(os.environ.get("AIMLAPI_KEY"))
        self.storage = QLabel(f"The key is kept {keystore.backend_description}.")
        self.storage.setWordWrap(True)
        self.storage.setObjectName("keyStorageNote")
        if env_key:
            self.key.setEnabled(False)

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
        self.demo.setChecked(settings.demo_mode)

        key_row = QHBoxLayout()
        key_row.addWidget(self.key, 1)
        key_row.addWidget(self.show_key)
        key_row.addWidget(self.test)
        folder_row = QHBoxLayout()
        folder_row.addWidget(self.save_folder, 1)
        folder_row.addWidget(browse)
        form = QFormLayout()
        form.addRow("API key", key_row)
        form.addRow("", self.test_result)
        form.addRow("", self.storage)
        form.addRow("Base URL", self.base_url)
        form.addRow("Save videos to", folder_row)
        form.addRow("Jobs at once", self.in_flight)
        form.addRow("", self.demo)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(buttons)

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

    def _show_result(self, text: str, ok: bool) -> None:
        self.test_result.setText(text)
        self.test_result.setStyleSheet("" if ok else f"color: {theme.error_color()};")

    def key_changed(self) -> bool:
        return self.key.isEnabled() and self.key.text().strip() != self._original_key

    def apply(self) -> None:
        """Write what the dialog holds into the settings object (the caller saves and reconnects)."""
        self.settings.base_url = self.base_url.text().strip() or DEFAULT_BASE_URL
        self.settings.save_folder = self.save_folder.text().strip()
        self.settings.max_in_flight = self.in_flight.value()
        self.settings.demo_mode = self.demo.isChecked()

    def new_key(self) -> str:
        return self.key.text().strip()
