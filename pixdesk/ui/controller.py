"""What each job action does. The window, its menus, the queue's context menu and the shortcuts all call
this one controller; which actions a job offers, and which need a question first, come from the core's
state table (`pixdesk.jobs.states`)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QStandardPaths, QUrl, Signal
from PySide6.QtGui import QAction, QDesktopServices, QGuiApplication, QKeySequence
from PySide6.QtWidgets import QCheckBox, QFileDialog, QMessageBox, QWidget

from pixdesk.api.pricing import Estimate
from pixdesk.api.request import GenerationRequest, ValidationError
from pixdesk.config import Settings, data_dir
from pixdesk.jobs.batch import new_group_id
from pixdesk.jobs.library import export_clip, suggested_name
from pixdesk.jobs.models import Job
from pixdesk.jobs.states import Action, allowed_actions, needs_confirmation, offers_file_deletion
from pixdesk.ui.tasks import off_ui_thread, spawn

if TYPE_CHECKING:
    import asyncio

    from pixdesk.ui.main_window import MainWindow
    from pixdesk.ui.speak_dialog import SpeakDialog

DOUBLE_CLICK_SECONDS = 1.0
ACTION_LABELS: dict[Action, str] = {
    Action.PLAY: "Play",
    Action.SAVE: "Save as…",
    Action.OPEN_FOLDER: "Open containing folder",
    Action.EXPORT_FRAME: "Export last frame as PNG…",
    Action.EXPORT_GIF: "Export GIF preview…",
    Action.SPEAK: "Make them speak…",
    Action.CONTINUE: "Continue from last frame",
    Action.COPY_PROMPT: "Copy prompt",
    Action.REUSE: "Reuse settings",
    Action.RETRY: "Retry (new job)",  # "Send again" on a job known not to have been created
    Action.RESUME: "Resume",
    Action.CANCEL: "Cancel",
    Action.REMOVE: "Remove from list",
}


class Prompter:
    """Asks the person a question. A public seam: tests put a scripted one in its place."""

    def __init__(self, parent: QWidget) -> None:
        self.parent = parent

    def confirm(self, title: str, text: str, yes: str = "Yes") -> bool:
        box = QMessageBox(QMessageBox.Icon.Question, title, text, parent=self.parent)
        ok = box.addButton(yes, QMessageBox.ButtonRole.AcceptRole)
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.exec()
        return box.clickedButton() is ok

    def confirm_remove_finished(self, title: str, text: str, also: str) -> tuple[bool, bool]:
        """(remove it?, also delete its files?)"""
        box = QMessageBox(QMessageBox.Icon.Question, title, text, parent=self.parent)
        ok = box.addButton("Remove", QMessageBox.ButtonRole.AcceptRole)
        box.addButton(QMessageBox.StandardButton.Cancel)
        check = QCheckBox(also)
        box.setCheckBox(check)
        box.exec()
        return box.clickedButton() is ok, check.isChecked()

    def warn(self, title: str, text: str) -> None:
        QMessageBox.warning(self.parent, title, text)

    def ask_save_path(self, title: str, default_path: str, filter: str) -> str:
        """Where to save: the chosen path, or "" when the person cancels."""
        path, _ = QFileDialog.getSaveFileName(self.parent, title, default_path, filter)
        return path


def open_url(url: QUrl) -> bool:
    """Hand a URL to the desktop (a folder to the file manager); False when nothing could be started.
    Looked up at each call, so whatever replaces QDesktopServices.openUrl is what runs."""
    return QDesktopServices.openUrl(url)


@dataclass(frozen=True)
class Verdict:
    """What the spending guard says about a submission: "send", "ask" (title, text) or "block" (text)."""

    kind: str
    title: str = ""
    text: str = ""


SEND = Verdict("send")


def spending_verdict(
    settings: Settings, *, demo: bool, quote: Estimate | None, today_usd: float, count: int = 1
) -> Verdict:
    """The guard's rule, kept pure so it reads in one place. Demo costs nothing, so it never asks or blocks.
    The daily budget blocks before any question (a job over budget is not sent even if you would say yes);
    an unknown price cannot be checked against the budget, so it is asked about unless the budget is spent."""
    if demo or not settings.spending_guard:
        return SEND
    budget = settings.daily_budget_usd
    jobs = f"{count} jobs" if count != 1 else "this job"
    if quote is None:
        if today_usd >= budget:
            return Verdict(
                "block",
                text=f"Not sent: today's spend ${today_usd:,.2f} has reached your daily budget of ${budget:,.2f} "
                "(Settings → Spending guard).",
            )
        return Verdict(
            "ask",
            "Price unknown — send anyway?",
            f"PixDesk does not know what {jobs} will cost: no price list could be fetched and none is cached, or "
            "the model's price varies. It will be charged to your AI/ML API account.\n\nSend anyway?",
        )
    if today_usd + quote.usd > budget:
        return Verdict(
            "block",
            text=f"Not sent: today's spend ${today_usd:,.2f} plus ≈ ${quote.usd:,.2f} for {jobs} would exceed "
            f"your daily budget of ${budget:,.2f} (Settings → Spending guard).",
        )
    if quote.usd > settings.confirm_over_usd:
        return Verdict(
            "ask",
            f"Send {jobs} for ≈ ${quote.usd:,.2f}?",
            f"{jobs.capitalize()} {'are' if count != 1 else 'is'} estimated at ${quote.usd:,.2f}, over the "
            f"${settings.confirm_over_usd:,.2f} you asked to confirm (Settings → Spending guard).\n\n"
            f"Send {'them' if count != 1 else 'it'}?",
        )
    return SEND


@dataclass
class Removal:
    """One removal (of one job or several at once) that Undo takes back while the window is open (the engine
    keeps the jobs, and their files in the trash when they were deleted too)."""

    job_ids: list[str]
    prompt: str


class JobController(QObject):
    status = Signal(str, int)

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.prompter: Prompter = Prompter(window)
        # A public seam like `prompter`: how a folder is handed to the file manager (tests make it fail).
        self.open_url: Callable[[QUrl], bool] = open_url
        self.removals: list[Removal] = []
        self.speak_dialog: SpeakDialog | None = None  # the open "Make them speak…" dialog (tests drive it)
        self.last_exported: str | None = None
        self._removing: set[asyncio.Task[None]] = set()  # removals under way (closing waits for them)
        self._clip_length: asyncio.Task[None] | None = None  # the open speak dialog's clip being measured
        self._last_generate: tuple[tuple[GenerationRequest, int], float] | None = None
        self.actions: dict[Action, QAction] = {}
        for action, label in ACTION_LABELS.items():
            qaction = QAction(label, window)
            qaction.setObjectName(f"jobAction_{action.value}")
            qaction.triggered.connect(lambda _=False, a=action: self.trigger_selected(a))
            self.actions[action] = qaction
        self.undo_action = QAction("Undo remove", window)
        self.undo_action.setObjectName("undoRemoveAction")
        self.undo_action.setShortcut(QKeySequence(QKeySequence.StandardKey.Undo))
        self.undo_action.setEnabled(False)
        self.undo_action.triggered.connect(self.undo)

    # -- which actions a job offers ------------------------------------------------------------------------
    def update_actions(self, job: Job | None) -> None:
        allowed = allowed_actions(job) if job is not None else frozenset()
        for action, qaction in self.actions.items():
            qaction.setEnabled(action in allowed)

    def trigger_selected(self, action: Action) -> None:
        """An action on the selection: Remove takes every selected job (a group's row stands for its jobs);
        the others act on the current job."""
        group = self.window.selected_group()
        if action is Action.CANCEL and group is not None and group.film is not None:
            self.cancel_group(group.group_id, list(group.jobs))  # a storyboard stops as a whole
            return
        if action is Action.REMOVE:
            jobs = self.window.selected_jobs()
            if len(jobs) > 1:
                self.remove_many(jobs)
                return
            self.trigger(action, jobs[0] if jobs else None)
            return
        self.trigger(action, self.window.selected_job())

    def trigger(self, action: Action, job: Job | None) -> None:
        if job is None or action not in allowed_actions(job):
            return
        handlers = {
            Action.PLAY: self.play,
            Action.SAVE: self.save_as,
            Action.OPEN_FOLDER: self.open_folder,
            Action.COPY_PROMPT: self.copy_prompt,
            Action.REUSE: self.reuse,
            Action.RETRY: self.retry,
            Action.RESUME: self.resume,
            Action.CANCEL: self.cancel,
            Action.REMOVE: self.remove,
            Action.EXPORT_FRAME: self.export_last_frame,
            Action.EXPORT_GIF: self.export_gif,
            Action.SPEAK: self.speak,
            Action.CONTINUE: self.continue_from_last_frame,
        }
        handlers[action](job)

    # -- generating ----------------------------------------------------------------------------------------
    def generate(self, request: GenerationRequest) -> None:
        self.generate_set([request])

    def generate_set(self, requests: list[GenerationRequest]) -> None:
        """Queue a job, or a set of them (variations, a batch: one group), past the spending guard, which weighs
        the whole set. A second click within a second on an unchanged form is the same wish, not a second paid
        set: it only says "Added to queue" again (compared by the form, whose random seeds differ per click).
        While the price list is still being fetched the decision waits for it, so "price unknown" is never
        asked merely because it is early."""
        if not requests:
            return
        wish = (self.window.inputs.request() if len(requests) > 1 else requests[0], len(requests))
        now = time.monotonic()
        last = self._last_generate
        if last is not None and last[0] == wish and now - last[1] < DOUBLE_CLICK_SECONDS:
            # Measured from the latest click, not the first: six clicks a quarter second apart are one wish.
            self._last_generate = (wish, now)
            self.window.inputs.show_added()
            return
        self._last_generate = (wish, now)
        self.window.after_prices(lambda: self._guarded_submit(requests))

    def _guarded_submit(self, requests: list[GenerationRequest]) -> bool:
        """Ask or refuse as the spending guard says, then queue. Returns whether the set was queued."""
        if not self.passes_guard(requests[0], len(requests)):
            self._last_generate = None  # the next click is a fresh decision, not a duplicate
            return False
        self.window.inputs.clear_guard_message()
        self.window.inputs.show_added()
        spawn(self._submit_set(requests))
        return True

    def passes_guard(
        self,
        request: GenerationRequest,
        count: int = 1,
        *,
        seconds: float | None = None,
        show_block: Callable[[str], None] | None = None,
    ) -> bool:
        """Whether a submission may go: blocked ones say why next to Generate (or `show_block`: beside the
        dialog's button) and in the status bar."""
        window = self.window
        verdict = spending_verdict(
            window.settings,
            demo=window.runtime.demo,
            quote=window.quote(request, count, seconds),
            today_usd=window.today_committed_usd(),
            count=count,
        )
        if verdict.kind == "block":
            (show_block or window.inputs.show_guard_message)(verdict.text)
            self.status.emit(verdict.text, 15000)
            return False
        if verdict.kind == "ask" and not self.prompter.confirm(verdict.title, verdict.text, yes="Send"):
            self.status.emit("Not sent.", 4000)
            return False
        return True

    async def _submit_set(self, requests: list[GenerationRequest], group_id: str | None = None) -> None:
        """Queue `requests`: several become one new group; one joins `group_id` (a retry stays in its set)."""
        group_id = new_group_id() if len(requests) > 1 else group_id
        queued: list[Job] = []
        for request in requests:
            try:
                queued.append(await self.window.engine.submit(request, group_id=group_id))
            except ValidationError as exc:  # checked by the form already: the first one says why, none is sent
                self.window.inputs.show_errors(exc.errors)
                break
        if queued:
            prompt = requests[0].prompt[:40]
            said = f"Queued “{prompt}”" if len(queued) == 1 else f"Queued {len(queued)} jobs of “{prompt}”"
            library = self.window.library
            if library.is_active() and not any(library.matches(job) for job in queued):
                self.status.emit(f"{said} — hidden by the library's search or filters", 10000)
            else:
                self.status.emit(said, 4000)

    def generate_storyboard(self, keyframes: list[str], base: GenerationRequest) -> None:
        """A storyboard: one transition per pair of keyframes, past the guard for all of them, and the film."""
        from pixdesk.jobs import storyboard  # loaded on first use: not on the first frame's path

        if len(keyframes) < 2:
            return
        try:
            parts = storyboard.part_requests(keyframes, base)
        except ValidationError as exc:
            self.window.inputs.show_errors(exc.errors)
            return
        wish = (parts[0], len(parts))
        now = time.monotonic()
        last = self._last_generate
        if last is not None and last[0] == wish and now - last[1] < DOUBLE_CLICK_SECONDS:
            self._last_generate = (wish, now)
            self.window.inputs.show_added()
            return
        self._last_generate = (wish, now)
        self.window.after_prices(lambda: self._guarded_storyboard(keyframes, base, parts))

    def _guarded_storyboard(
        self, keyframes: list[str], base: GenerationRequest, parts: list[GenerationRequest]
    ) -> None:
        if not self.passes_guard(parts[0], len(parts)):
            self._last_generate = None
            return
        self.window.inputs.clear_guard_message()
        self.window.inputs.show_added()
        spawn(self._submit_storyboard(keyframes, base))

    async def _submit_storyboard(self, keyframes: list[str], base: GenerationRequest) -> None:
        try:
            parts, _film = await self.window.engine.submit_storyboard(keyframes, base)
        except ValidationError as exc:
            self.window.inputs.show_errors(exc.errors)
            return
        self.status.emit(
            f"Queued a storyboard: {len(parts)} transitions, joined into one film when they are done", 6000
        )

    # -- a finished clip's tools --------------------------------------------------------------------------
    def speak(self, job: Job) -> None:
        """Open "Make them speak…" for a finished clip; queued (past the guard) from the dialog."""
        spawn(self._open_speak(job))

    async def _open_speak(self, job: Job) -> None:
        from pixdesk.jobs.lipsync import clip_source
        from pixdesk.ui.speak_dialog import SpeakDialog

        try:
            video = await off_ui_thread(clip_source, job)  # looks at the file: not on the UI thread
        except ValidationError as exc:
            self.prompter.warn("Cannot lip-sync this clip", exc.errors[0].message)
            return
        if self.speak_dialog is not None:
            self.speak_dialog.close()
        window = self.window
        dialog = SpeakDialog(
            job, video, lambda r, seconds: window.quote(r, 1, seconds), demo=window.runtime.demo, parent=window
        )
        dialog.submitted.connect(lambda request, seconds: self._speak(dialog, job, request, seconds))
        dialog.finished.connect(lambda _r: self._speak_closed(dialog))
        self.speak_dialog = dialog
        dialog.open()
        self._clip_length = spawn(self._probe_for(dialog, job))

    async def _probe_for(self, dialog: SpeakDialog, job: Job) -> None:
        from pixdesk.jobs import media

        try:
            info = await off_ui_thread(media.probe, job.file_path or "")
        except (media.MediaError, OSError):
            return
        if self.speak_dialog is dialog:
            dialog.set_clip_seconds(info.duration)

    async def _speak_when_measured(self, dialog: SpeakDialog, job: Job, request: GenerationRequest) -> None:
        if self._clip_length is not None:
            await self._clip_length  # the length read when the dialog opened: not read a second time
        if self.speak_dialog is dialog:
            dialog.set_busy(False)
            self.window.after_prices(lambda: self._speak(dialog, job, request, dialog.clip_seconds or 0.0))

    def _speak_closed(self, dialog: SpeakDialog) -> None:
        if self.speak_dialog is dialog:
            self.speak_dialog = None
        dialog.deleteLater()

    def _speak(self, dialog: SpeakDialog, job: Job, request: GenerationRequest, seconds: float | None) -> None:
        dialog.set_busy(True)  # one click, one paid job: the button waits for this decision
        if seconds is None:  # clicked before the clip's length was read: read it first (lip-sync is priced by it)
            spawn(self._speak_when_measured(dialog, job, request))
            return
        if not self.passes_guard(request, seconds=seconds, show_block=dialog.show_refusal):
            dialog.set_busy(False)
            return
        dialog.accept()
        spawn(self._submit_speak(job, request))

    async def _submit_speak(self, job: Job, request: GenerationRequest) -> None:
        try:
            await self.window.engine.submit(request, thumbnail=job.thumbnail)
        except ValidationError as exc:
            self.prompter.warn("Cannot lip-sync this clip", exc.errors[0].message)
            return
        self.status.emit("Queued lip-sync: the spoken clip appears as a new job", 5000)

    def continue_from_last_frame(self, job: Job) -> None:
        """The clip's last frame becomes the next job's image (an image model is picked if needed)."""
        spawn(self._continue(job))

    async def _continue(self, job: Job) -> None:
        from pixdesk.jobs import media

        target = frames_dir() / f"{Path(job.file_path or job.id).stem}_last-frame.png"

        def take() -> None:
            target.parent.mkdir(parents=True, exist_ok=True)
            media.save_last_frame(job.file_path or "", target)

        try:
            await off_ui_thread(take)
        except (media.MediaError, OSError) as exc:
            self.prompter.warn("Could not take the last frame", str(exc))
            return
        self.window.continue_from_frame(str(target), job.request)
        model = self.window.inputs.spec.title
        self.status.emit(f"The clip's last frame is the new image ({model}): describe what happens next", 8000)

    def export_last_frame(self, job: Job) -> None:
        from pixdesk.jobs import media

        self._export_with(job, "Export last frame", "_last-frame.png", "PNG image (*.png)", media.save_last_frame)

    def export_gif(self, job: Job) -> None:
        from pixdesk.jobs import media

        self._export_with(job, "Export GIF preview", "_preview.gif", "GIF animation (*.gif)", media.gif_preview)

    def _export_with(self, job: Job, title: str, suffix: str, file_filter: str, make: Callable[..., object]) -> None:
        if not job.file_path:  # a missing file is said by the export itself, off the UI thread
            return
        stem = Path(suggested_name(job.request.headline, job.created_at)).stem
        target = self.prompter.ask_save_path(title, str(Path(self.save_folder()) / f"{stem}{suffix}"), file_filter)
        if not target:
            return
        extension = suffix.rsplit(".", 1)[-1]
        if not target.lower().endswith("." + extension):
            target += "." + extension
        self.window.settings.ui["last_save_folder"] = str(Path(target).parent)
        spawn(self._make_export(job.file_path, target, make))

    async def _make_export(self, source: str, target: str, make: Callable[..., object]) -> None:
        from pixdesk.jobs import media

        try:
            await off_ui_thread(make, source, target)
        except (media.MediaError, OSError) as exc:
            self.prompter.warn("Could not export", f"{target}\n\n{exc}\n\nNothing was left there.")
            return
        self.last_exported = target
        self.status.emit(f"Saved to {target}", 6000)

    # -- job actions ---------------------------------------------------------------------------------------
    def play(self, job: Job) -> None:
        self.window.play_job(job)

    def copy_prompt(self, job: Job) -> None:
        QGuiApplication.clipboard().setText(job.request.prompt)
        self.status.emit("Prompt copied", 3000)

    def reuse(self, job: Job) -> None:
        self.window.inputs.load_request(job.request)
        self.status.emit("Settings loaded into the form", 3000)

    def retry(self, job: Job) -> None:
        if needs_confirmation(Action.RETRY, job) and not self.prompter.confirm(
            "Send this job again?",
            "PixDesk does not know whether the server received this job. If it did, sending it again means "
            "paying twice: check your AI/ML API dashboard first.\n\nSend it again as a new job?",
            yes="Send again",
        ):
            return
        # A retry is a new paid job: the same guard as Generate, which also waits for a price refresh under way
        # (just after the start, "Send again" must not ask "price unknown" merely because it is early).
        self.window.after_prices(lambda: self._guarded_retry(job))

    def _guarded_retry(self, job: Job) -> None:
        if job.is_film:  # a storyboard: only the parts that did not finish are sent again, and the guard weighs them
            resend = self.window.engine.film_parts_to_send(job.id)
            if not resend or self.passes_guard(resend[0].request, len(resend)):
                spawn(self._retry_film(job))
            return
        if self.passes_guard(job.request):
            spawn(self._submit_set([job.request], job.group_id))

    async def _retry_film(self, film: Job) -> None:
        try:
            await self.window.engine.retry(film.id)
        except ValidationError as exc:
            self.prompter.warn("Cannot retry this storyboard", exc.errors[0].message)
            return
        self.status.emit("Retrying the storyboard: the parts that did not finish are sent again", 6000)

    def resume(self, job: Job) -> None:
        spawn(self._resume(job))

    async def _resume(self, job: Job) -> None:
        if not await self.window.engine.resume_job(job.id):
            self.status.emit("This job is being handled by another PixDesk window or command.", 6000)

    def cancel(self, job: Job) -> None:
        if needs_confirmation(Action.CANCEL, job) and not self.prompter.confirm(
            "Stop this job?",
            "The server has this job already: PixDesk will stop watching it, but the server may still finish "
            "it and charge for it.\n\nStop watching?",
            yes="Stop watching",
        ):
            return
        self.window.engine.cancel(job.id)

    def cancel_group(self, group_id: str, jobs: list[Job]) -> None:
        """Stop every unfinished job of a group, asking first (as Cancel does for one job) when the server has
        any of them or a create is on its way: those may still be finished and charged."""
        unfinished = [j for j in jobs if not j.is_final]
        if not unfinished:
            return
        at_server = sum(1 for j in unfinished if needs_confirmation(Action.CANCEL, j))
        n = len(unfinished)
        if at_server and not self.prompter.confirm(
            "Stop the whole group?",
            f"The server already has {at_server} of this group's {n} unfinished job{'s' if n != 1 else ''} (or is "
            f"being sent {'them' if at_server != 1 else 'it'}): PixDesk stops watching, but the server may still "
            f"finish {'them' if at_server != 1 else 'it'} and charge for {'them' if at_server != 1 else 'it'}. "
            "Jobs not sent yet are never sent.",
            yes="Stop the group",
        ):
            return
        stopped = self.window.engine.cancel_group(group_id)
        self.status.emit(f"Stopped {stopped} job{'s' if stopped != 1 else ''} of the group", 6000)

    def remove(self, job: Job) -> None:
        delete_files = False
        if needs_confirmation(Action.REMOVE, job):
            if not self.prompter.confirm(
                "Remove this job?",
                "The server has this job already: removing it stops PixDesk watching it, but the server may "
                "still finish it and charge for it.\n\nRemove it anyway?",
                yes="Remove",
            ):
                return
        elif offers_file_deletion(job):
            ok, delete_files = self.prompter.confirm_remove_finished(
                "Remove this job?",
                f"Remove “{job.request.prompt[:60]}”{_which(job)} from the list? You can undo this (Ctrl+Z) until "
                "you close the window.",
                "Also delete the video file and its details from disk",
            )
            if not ok:
                return
        self.window.engine.mark_removing(job.id)  # before anything else: no update may bring the row back
        self.window.forget_job(job)
        self._track(spawn(self._remove(job, delete_files)))

    async def _remove(self, job: Job, delete_files: bool) -> None:
        if not await self.window.engine.remove(job.id, delete_files=delete_files):
            self.window.model.upsert(job)
            self.status.emit("Another PixDesk process is working on this job right now; it was not removed.", 8000)
            return
        self.removals.append(Removal([job.id], job.request.prompt))
        self.undo_action.setEnabled(True)
        self.window.refresh_counts()
        self.status.emit(f"Removed “{job.request.prompt[:40]}” — Ctrl+Z brings it back", 8000)

    def remove_many(self, jobs: list[Job]) -> None:
        """Remove several jobs at once (a multiple selection, a group's row): one question, one Undo."""
        at_server = [j for j in jobs if needs_confirmation(Action.REMOVE, j)]
        with_files = [j for j in jobs if offers_file_deletion(j)]
        text = f"Remove these {len(jobs)} jobs from the list? You can undo this (Ctrl+Z) until you close the window."
        if at_server:
            n = len(at_server)
            text += (
                f"\n\nThe server has {n} of them already: removing {'them' if n != 1 else 'it'} stops PixDesk "
                f"watching, but the server may still finish {'them' if n != 1 else 'it'} and charge for "
                f"{'them' if n != 1 else 'it'}."
            )
        title = f"Remove {len(jobs)} jobs?"
        delete_files = False
        if with_files:
            ok, delete_files = self.prompter.confirm_remove_finished(
                title, text, f"Also delete the {len(with_files)} finished videos and their details from disk"
            )
        else:
            ok = self.prompter.confirm(title, text, yes="Remove")
        if not ok:
            return
        for job in jobs:
            self.window.engine.mark_removing(job.id)
            self.window.forget_job(job)
        self._track(spawn(self._remove_many(jobs, delete_files)))

    async def _remove_many(self, jobs: list[Job], delete_files: bool) -> None:
        removed: list[str] = []
        for job in jobs:
            if await self.window.engine.remove(job.id, delete_files=delete_files and offers_file_deletion(job)):
                removed.append(job.id)
            else:
                self.window.model.upsert(job)
        kept = len(jobs) - len(removed)
        if removed:
            self.removals.append(Removal(removed, jobs[0].request.prompt))
            self.undo_action.setEnabled(True)
        self.window.refresh_counts()
        note = f"; {kept} another PixDesk process is working on stayed" if kept else ""
        self.status.emit(f"Removed {len(removed)} jobs{note} — Ctrl+Z brings them back", 8000)

    def _track(self, task: asyncio.Task[None]) -> None:
        self._removing.add(task)
        task.add_done_callback(self._removing.discard)

    async def settle(self) -> None:
        """Let removals under way end before the engine closes (a Remove asked for just before Quit is done, and
        no removal meets a closed engine)."""
        import asyncio

        if self._removing:
            await asyncio.gather(*list(self._removing), return_exceptions=True)

    def undo(self) -> None:
        if self.removals:
            spawn(self._undo(self.removals.pop()))
        self.undo_action.setEnabled(bool(self.removals))

    async def _undo(self, removal: Removal) -> None:
        restored = 0
        for job_id in removal.job_ids:
            job = await self.window.engine.restore(job_id)  # its files too, if they were deleted
            if job is not None:
                self.window.model.upsert(job)
                restored += 1
        if restored:
            self.window.refresh_counts()
            what = f"“{removal.prompt[:40]}”" if restored == 1 else f"{restored} jobs of “{removal.prompt[:40]}”"
            self.status.emit(f"Restored {what}", 5000)

    def open_folder(self, job: Job) -> None:
        """Show the clip's folder in the file manager; when that cannot be done, the status bar says why."""
        if not job.file_path:
            return
        folder = Path(job.file_path).parent
        if not folder.is_dir():
            self.status.emit(f"Could not open the folder {folder}: it was moved or deleted.", 10000)
            return
        if not self.open_url(QUrl.fromLocalFile(str(folder))):
            self.status.emit(f"Could not open the folder {folder}: no file manager is set up to open folders.", 10000)

    # -- saving --------------------------------------------------------------------------------------------
    def save_folder(self) -> str:
        """Where a save dialog opens: the folder last saved to, else the save folder chosen in Settings, else the
        platform's Videos folder, else home; each only if it exists (a dialog in a missing folder is lost)."""
        settings = self.window.settings
        videos = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.MoviesLocation)
        for candidate in (settings.ui.get("last_save_folder"), settings.save_folder, videos):
            if candidate and Path(candidate).is_dir():
                return str(candidate)
        return str(Path.home())

    def save_as(self, job: Job) -> None:
        if not job.file_path:
            return
        if not Path(job.file_path).is_file():
            self.status.emit(f"The video file is missing: {job.file_path}", 8000)
            return
        default = str(Path(self.save_folder()) / suggested_name(job.request.prompt, job.created_at))
        target = self.prompter.ask_save_path("Save video", default, "MP4 video (*.mp4)")
        if not target:
            return
        if not target.lower().endswith(".mp4"):
            target += ".mp4"
        self.window.settings.ui["last_save_folder"] = str(Path(target).parent)
        spawn(self._export(job.file_path, target))

    async def _export(self, source: str, target: str) -> None:
        try:
            await off_ui_thread(export_clip, Path(source), Path(target))
        except OSError as exc:
            if not Path(source).is_file():  # gone from the library since the menu was opened
                self.prompter.warn("Could not save the video", f"The video file is missing:\n{source}")
                return
            self.prompter.warn(
                "Could not save the video",
                f"{target}\n\n{exc.strerror or exc}\n\nNothing was left there. The clip is safe in the library:\n"
                f"{source}",
            )
            return
        self.last_saved = target
        self.status.emit(f"Saved to {target}", 6000)

    def finish(self) -> None:
        """The window is closing: removals can no longer be undone (the engine empties its trash as it closes)."""
        self.removals.clear()


def _which(job: Job) -> str:
    """Which of several jobs with one prompt (a set's jobs differ only in seed and picture)."""
    if not job.group_id:
        return ""
    parts = [f"seed {job.request.seed}"] if job.request.seed is not None else []
    parts.append(Path(job.request.image).name)
    return f" ({', '.join(parts)})"


def frames_dir() -> Path:
    """Where "Continue from last frame" keeps the frames it takes (the form may refer to them after a restart)."""
    return data_dir() / "frames"
