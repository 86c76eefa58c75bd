"""Drive the real app on a virtual screen into the states README shows, and screenshot them.

Run through packaging/screenshots.sh (Xvfb + ImageMagick's `import`). Uses a simulator on loopback
as the "live" server, with timings and faults chosen so every badge is on screen at once.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "docs" / "screenshots"
sys.path.insert(0, str(ROOT))

home = Path(tempfile.mkdtemp(prefix="pixdesk-shots-"))
os.environ.update(
    XDG_DATA_HOME=str(home / "data"),
    XDG_CONFIG_HOME=str(home / "config"),
    PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring",
)

import qasync  # noqa: E402
from PySide6.QtGui import QColor, QPalette  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from pixdesk.api.images import prepare_image  # noqa: E402
from pixdesk.api.request import GenerationRequest  # noqa: E402
from pixdesk.config import load_settings  # noqa: E402
from pixdesk.jobs import Job, JobState, JobStore  # noqa: E402
from pixdesk.runtime import Runtime  # noqa: E402
from pixdesk.simulator import Simulator  # noqa: E402
from pixdesk.ui.app import ensure_app  # noqa: E402
from pixdesk.ui.main_window import MainWindow  # noqa: E402
from pixdesk.ui.queue_model import JobRole  # noqa: E402

SAMPLES = ROOT / "resources" / "samples"


# `--small`: the window at its minimum size (800x600) on a screen of that size; names end in -800x600.
SMALL = "--small" in sys.argv
SIZE = (800, 600) if SMALL else (1440, 860)


def shot(name: str) -> None:
    if SMALL:
        name = name.replace(".png", "-800x600.png")
    OUT.mkdir(parents=True, exist_ok=True)
    subprocess.run(["import", "-window", "root", str(OUT / name)], check=True)
    print("wrote", OUT / name)


def dark_palette() -> QPalette:
    p = QPalette()
    for role, color in (
        (QPalette.ColorRole.Window, "#2b2b2b"),
        (QPalette.ColorRole.WindowText, "#e6e6e6"),
        (QPalette.ColorRole.Base, "#1f1f1f"),
        (QPalette.ColorRole.AlternateBase, "#262626"),
        (QPalette.ColorRole.Text, "#e6e6e6"),
        (QPalette.ColorRole.Button, "#353535"),
        (QPalette.ColorRole.ButtonText, "#e6e6e6"),
        (QPalette.ColorRole.Highlight, "#3d6dcc"),
        (QPalette.ColorRole.HighlightedText, "#ffffff"),
        (QPalette.ColorRole.ToolTipBase, "#333333"),
        (QPalette.ColorRole.ToolTipText, "#e6e6e6"),
        (QPalette.ColorRole.PlaceholderText, "#8a8a8a"),
        (QPalette.ColorRole.Mid, "#444444"),
    ):
        p.setColor(role, QColor(color))
    return p


class _AlwaysYes:
    def confirm(self, title: str, text: str, yes: str = "Yes") -> bool:
        return True

    def confirm_remove_finished(self, title: str, text: str, also: str) -> tuple[bool, bool]:
        return True, False

    def warn(self, title: str, text: str) -> None:
        print(f"warning: {title}: {text}", file=sys.stderr)


def seed_history(sim_url: str) -> None:
    store = JobStore(home / "data" / "pixdesk" / "jobs.sqlite3")
    thumb = prepare_image(SAMPLES / "robot-transparent.png", 128).thumbnail
    now = time.time()
    samples = [
        (JobState.FAILED, "A robot juggles three glowing orbs", "The content could not be generated: moderation."),
        (
            JobState.CANCELLED,
            "Robot waves goodbye, camera pulls back",
            "Stopped watching; the server may still finish it.",
        ),
        (
            JobState.UNKNOWN,
            "Robot dances in the rain",
            "The connection broke before an answer arrived. Check your dashboard.",
        ),
        (
            JobState.NOT_CREATED,
            "Robot paints a sunset",
            "Not created: the usage logs show no trace of it 10 minutes after it was sent. Safe to send again.",
        ),
    ]
    for i, (state, prompt, error) in enumerate(samples):
        store.save(
            Job(
                request=GenerationRequest(
                    image=str(SAMPLES / "robot-transparent.png"), prompt=prompt, resolution="540p"
                ),
                state=state,
                backend=sim_url,
                created_at=now - 3600 * (i + 1),
                error=error,
                thumbnail=thumb,
                server_id=f"sim-{i}:pixverse/v5/image-to-video"
                if state in (JobState.FAILED, JobState.CANCELLED)
                else None,
            )
        )
    store.close()


async def scenario(app: QApplication, dark: bool) -> None:
    sim = Simulator(queue_seconds=1.0, generate_seconds=2.5, ledger_lag_seconds=0.5).start()
    os.environ["AIMLAPI_BASE_URL"] = sim.url
    os.environ["AIMLAPI_KEY"] = "screenshot-key"
    seed_history(sim.url)
    runtime = Runtime(load_settings())
    from pixdesk.jobs.timing import PollPolicy

    window = MainWindow(
        runtime,
        engine_options={
            "poll_policy": PollPolicy(first=0.5, growth=1.2, ceiling=1.0),
            "max_in_flight": 4,
            "ledger_interval": 1.0,  # so finished rows show what the ledger charged
        },
    )
    window.controller.prompter = _AlwaysYes()  # closing with jobs running asks: the script says yes
    window.resize(*SIZE)
    window.move(0, 0)
    window.show()
    await asyncio.sleep(2.0)
    form = window.inputs
    form.drop.load_path(str(SAMPLES / "portrait.png"))
    await asyncio.sleep(0.8)
    form.prompt.set_text("She turns to the camera, smiles and says hello")
    form.lip_group.setChecked(True)
    form.lip_text.set_text("Hello, and welcome to PixDesk!")
    form.speaker.setCurrentIndex(form.speaker.findText("Chloe"))
    form.resolution.setCurrentIndex(form.resolution.findText("540p"))
    engine = window.engine
    prompts = [
        "The sun sets behind the mountains, clouds drift",
        "Slow zoom into the valley, birds fly across",
        "She turns to the camera, smiles and says hello",
    ]
    base = form.request()
    # completed first (plays), then the live ones
    await engine.submit(GenerationRequest(**{**base.to_dict(), "prompt": "She waves at the camera and says hello"}))
    await asyncio.sleep(6.0)
    sim.generate_seconds = 600  # the rest keep generating
    sim.inject("cut", "download", count=0)
    await engine.submit(
        GenerationRequest(
            **{**base.to_dict(), "prompt": prompts[0], "style": "anime", "image": str(SAMPLES / "sunset-mountains.jpg")}
        )
    )
    await asyncio.sleep(2.5)
    sim.queue_seconds = 600
    await engine.submit(
        GenerationRequest(
            **{
                **base.to_dict(),
                "prompt": prompts[1],
                "style": "cyberpunk",
                "image": str(SAMPLES / "sunset-mountains.jpg"),
            }
        )
    )
    sim.inject("hang", "create", seconds=60)
    await engine.submit(GenerationRequest(**{**base.to_dict(), "prompt": "A slow dolly shot through the forest"}))
    await asyncio.sleep(0.5)
    engine.max_in_flight = 3
    await engine.submit(base)
    await asyncio.sleep(2.0)
    # a download in progress: a finished job whose file trickles
    window.queue.setCurrentIndex(window.library.index(window.library.rowCount() - 4, 0))
    for row in range(window.library.rowCount()):
        job = window.library.job_at(row)
        if job is not None and job.state is JobState.COMPLETED:
            window.queue.setCurrentIndex(window.library.index(row, 0))
            window.play_job(job)
    fake = window.model.index(0).data(JobRole)
    downloading = Job(
        request=GenerationRequest(
            image=str(SAMPLES / "portrait.png"), prompt="Close-up: she blinks and laughs", resolution="720p"
        ),
        state=JobState.DOWNLOADING,
        progress=0.62,
        created_at=fake.created_at - 1,
        backend=sim.url,
        thumbnail=prepare_image(SAMPLES / "portrait.png", 128).thumbnail,
    )
    window.model.upsert(downloading)  # shown only: the badge a download shows mid-way
    await asyncio.sleep(1.5)
    shot("busy-queue-dark.png" if dark else "busy-queue.png")
    if not dark and not SMALL:
        window.model.remove(downloading.id)
        await asyncio.sleep(1.2)
        shot("clip-playing.png")
    window.close()
    await window.wait_closed()
    sim.stop()


async def live_window() -> tuple[Simulator, Runtime, MainWindow]:
    """A simulator standing in for the API (quick timings) and a ready window talking to it, as "live"."""
    from pixdesk.jobs.timing import PollPolicy

    sim = Simulator(queue_seconds=0.3, generate_seconds=1.5).start()
    os.environ["AIMLAPI_BASE_URL"] = sim.url
    os.environ["AIMLAPI_KEY"] = "screenshot-key"
    runtime = Runtime(load_settings())
    window = MainWindow(
        runtime, engine_options={"poll_policy": PollPolicy(first=0.3, growth=1.2, ceiling=0.6), "max_in_flight": 8}
    )
    window.controller.prompter = _AlwaysYes()
    window.resize(*SIZE)
    window.move(0, 0)
    window.show()
    while not window.is_ready():
        await asyncio.sleep(0.1)
    return sim, runtime, window


async def volume(app: QApplication) -> None:
    """Issue 12's screens: a group in the queue (with a batch strip in the form), the compare grid, the library
    filtered."""
    from pixdesk.jobs.batch import expand, new_group_id

    sim, runtime, window = await live_window()
    engine = window.engine

    async def submit_set(requests: list[GenerationRequest], group: str) -> None:
        for request in requests:
            await engine.submit(request, group_id=group)

    def done(group: str) -> int:
        return sum(1 for j in window.model.group_jobs(group) if j.state is JobState.COMPLETED)

    portrait, sunset, robot = (
        str(SAMPLES / n) for n in ("portrait.png", "sunset-mountains.jpg", "robot-transparent.png")
    )
    waves = GenerationRequest(image=sunset, prompt="Waves roll in at sunset, the camera drifts left", seed=10)
    compare_group = new_group_id()
    await submit_set(expand(waves, [], 4), compare_group)
    batch_group = new_group_id()
    batch = GenerationRequest(image=portrait, prompt="A slow smile, the wind in the hair", style="anime", seed=3)
    await submit_set(expand(batch, [portrait, robot, sunset], 1), batch_group)
    await engine.submit(GenerationRequest(image=robot, prompt="The robot waves at a passing drone", seed=5))
    lighthouse = new_group_id()
    beam = GenerationRequest(image=sunset, prompt="A lighthouse beam sweeps the sunset fog", seed=40)
    await submit_set(expand(beam, [], 8)[:3], lighthouse)
    while done(compare_group) < 4 or done(batch_group) < 3 or done(lighthouse) < 3:
        await asyncio.sleep(0.2)
    sim.generate_seconds = 600  # the rest of the eight keep generating
    await submit_set(expand(beam, [], 8)[3:], lighthouse)
    for job in window.model.group_jobs(compare_group)[:2]:
        await engine.set_favourite(job.id, True)
    window.model.set_expanded(lighthouse, True)
    window.queue.setCurrentIndex(window.library.index(0, 0))
    form = window.inputs
    form.set_images([portrait, sunset, robot])
    form.prompt.set_text("A slow smile, the wind in the hair")
    form.set_variations(2)
    await asyncio.sleep(3.0)
    shot("group-queue.png")

    window.open_compare(window.model.group_jobs(compare_group))
    dialog = window.compare_dialog
    assert dialog is not None
    dialog.resize(1280, 760)
    dialog.move(80, 40)
    while not dialog.grid.is_loaded():
        await asyncio.sleep(0.1)
    dialog.grid.seek(1200)
    await asyncio.sleep(1.5)
    shot("compare-grid.png")
    dialog.close()

    window.model.set_expanded(lighthouse, False)
    window.model.set_expanded(compare_group, True)
    window.library_bar.search.setText("sunset")
    window.library_bar.apply_search()
    window.library_bar.status_combo.setCurrentIndex(window.library_bar.status_combo.findData("completed"))
    window.queue.setCurrentIndex(window.library.index_of(window.model.group_jobs(compare_group)[0].id))
    await asyncio.sleep(1.0)
    shot("library-filtered.png")
    window.close()
    await window.wait_closed()
    runtime.close()
    sim.stop()


async def family(app: QApplication) -> None:
    """Issue 13's screens: the transition form, a storyboard with its film playing, lip-sync on a finished clip."""
    sim, runtime, window = await live_window()
    engine = window.engine
    portrait, sunset, robot = (
        str(SAMPLES / n) for n in ("portrait.png", "sunset-mountains.jpg", "robot-transparent.png")
    )

    # A finished clip to make speak, and a storyboard of three keyframes.
    source = await engine.submit(GenerationRequest(image=portrait, prompt="She looks up and smiles", seed=8))
    _parts, film = await engine.submit_storyboard(
        [portrait, sunset, robot],
        GenerationRequest(prompt="One scene melts into the next, the camera glides", resolution="540p", seed=21),
    )
    form = window.inputs
    form.set_model("pixverse/v5/transition")
    form.set_images([portrait])
    form.set_last_frame(sunset)
    form.prompt.set_text("Her portrait dissolves into a sunset over the mountains")
    await asyncio.sleep(2.0)
    shot("transition-form.png")

    while any(engine.jobs[j.id].state is not JobState.COMPLETED for j in (film, source)):
        await asyncio.sleep(0.2)
    form.set_images([portrait, sunset, robot])  # the form in storyboard mode, as it was sent
    form.prompt.set_text("One scene melts into the next, the camera glides")
    group = engine.jobs[film.id].group_id or ""
    window.model.set_expanded(group, True)
    window.queue.setCurrentIndex(window.library.index_of(film.id))
    window.play_job(engine.jobs[film.id].snapshot())
    await asyncio.sleep(3.0)
    shot("storyboard.png")

    window.model.set_expanded(group, False)
    window.queue.setCurrentIndex(window.library.index_of(source.id))
    window.controller.speak(engine.jobs[source.id].snapshot())
    while window.controller.speak_dialog is None:  # opened once the clip's file is looked at
        await asyncio.sleep(0.1)
    dialog = window.controller.speak_dialog
    assert dialog is not None
    dialog.line.setText("Good morning! Shall we begin?")
    dialog.voice.setCurrentText("Emily")
    while dialog.clip_seconds is None:
        await asyncio.sleep(0.1)
    dialog.move(window.x() + window.width() // 2 - dialog.width() // 2, window.y() + 120)
    await asyncio.sleep(1.5)
    shot("lip-sync.png")
    dialog.reject()
    window.close()
    await window.wait_closed()
    runtime.close()
    sim.stop()


def main() -> None:
    dark = "--dark" in sys.argv
    app = ensure_app()
    if dark:
        app.setStyle("Fusion")
        app.setPalette(dark_palette())
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    if "--volume" in sys.argv:
        loop.run_until_complete(volume(app))
        return
    if "--family" in sys.argv:
        loop.run_until_complete(family(app))
        return
    if "--empty" in sys.argv:

        async def empty() -> None:
            runtime = Runtime(load_settings(), demo=True)
            window = MainWindow(runtime)
            window.resize(*SIZE)
            window.move(0, 0)
            window.show()
            await asyncio.sleep(2.0)
            shot("empty-window-dark.png" if dark else "empty-window.png")
            window.close()
            await window.wait_closed()
            runtime.close()

        loop.run_until_complete(empty())
        return
    loop.run_until_complete(scenario(app, dark))


if __name__ == "__main__":
    main()
