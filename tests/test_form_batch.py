"""The form makes sets: ×N variations with distinct seeds, a strip of dropped images (or a folder), and remembers
itself (form.json) and recent prompts. Driven like a person: real drops, keys and clicks on real image files."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QMimeData, QPoint, Qt, QUrl
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QLabel, QListView, QMainWindow, QPushButton, QSpinBox

from pixdesk.api.catalogue import SEED_MAX
from pixdesk.api.request import GenerationRequest
from pixdesk.jobs.batch import MAX_VARIATIONS
from pixdesk.ui.drop_zone import MAX_BATCH
from pixdesk.ui.form_memory import FormState, form_path, load_form_state, remember_prompt, save_form_state
from pixdesk.ui.inputs_panel import InputsPanel, estimate_text
from pixdesk.ui.main_window import MainWindow
from tests.conftest import SAMPLES, make_image
from tests.gui_helpers import drop_file, drop_mime, find

PORTRAIT = SAMPLES / "portrait.png"
SUNSET = SAMPLES / "sunset-mountains.jpg"
ROBOT = SAMPLES / "robot-transparent.png"
THREE = [PORTRAIT, SUNSET, ROBOT]


@pytest.fixture
def panel(qtbot: Any, qloop: Any) -> Iterator[InputsPanel]:
    """The form alone in a window of its own (the images are still checked off the UI thread)."""
    host = QMainWindow()
    form = InputsPanel()
    host.setCentralWidget(form)
    host.resize(420, 760)
    qtbot.addWidget(host)
    host.show()
    qtbot.waitExposed(host)
    yield form
    qtbot.waitUntil(lambda: not form.drop.is_loading, timeout=15000)  # no check left running at teardown


def files_mime(paths: list[Path]) -> QMimeData:
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    return mime


def settle(qtbot: Any, form: InputsPanel) -> None:
    qtbot.waitUntil(lambda: not form.drop.is_loading, timeout=15000)


def drop_images(qtbot: Any, form: InputsPanel, paths: list[Path]) -> None:
    assert drop_mime(form.drop, files_mime(paths))
    settle(qtbot, form)


def strip_rows(form: InputsPanel) -> list[str]:
    """What the strip says about each thumbnail (its tooltip, which a screen reader reads too)."""
    strip = find(form, "imageStrip")
    assert isinstance(strip, QListView)
    model = strip.model()
    return [model.index(r, 0).data(Qt.ItemDataRole.AccessibleTextRole) for r in range(model.rowCount())]


def generate_button(form: InputsPanel) -> QPushButton:
    button = find(form, "generateButton")
    assert isinstance(button, QPushButton)
    return button


def variations_spin(form: InputsPanel) -> QSpinBox:
    spin = find(form, "variationsSpin")
    assert isinstance(spin, QSpinBox)
    return spin


def raise_variations(qtbot: Any, form: InputsPanel, count: int) -> None:
    """Step the ×N box up with the arrow key, as a person would."""
    spin = variations_spin(form)
    while spin.value() < count:
        QTest.keyClick(spin, Qt.Key.Key_Up)
    assert spin.value() == count


def activate(qtbot: Any, widget: Any) -> None:
    window = widget.window()
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    widget.setFocus(Qt.FocusReason.TabFocusReason)
    qtbot.waitUntil(widget.hasFocus)


# -- variations ------------------------------------------------------------------------------------------
def test_variations_follow_the_form_seed_and_say_so_on_generate(qtbot: Any, panel: InputsPanel) -> None:
    assert drop_file(panel.drop, PORTRAIT)
    settle(qtbot, panel)
    qtbot.keyClicks(panel.prompt.edit, "She smiles")
    qtbot.keyClicks(find(panel, "seedEdit"), "100")
    spin = variations_spin(panel)
    assert (spin.minimum(), spin.maximum(), spin.prefix()) == (1, MAX_VARIATIONS, "×")
    assert spin.accessibleName() == "Variations" and "seed" in spin.toolTip()
    assert generate_button(panel).text() == "Generate"
    raise_variations(qtbot, panel, 4)
    assert generate_button(panel).text() == "Generate 4" and panel.set_size() == 4

    jobs = panel.requests()
    assert [j.seed for j in jobs] == [100, 101, 102, 103]
    assert {(j.image, j.prompt) for j in jobs} == {(str(PORTRAIT), "She smiles")}
    assert panel.request().seed == 100 and panel.request().image == str(PORTRAIT)  # the first, as before

    sets: list[list[GenerationRequest]] = []
    panel.generate_set_requested.connect(sets.append)
    with qtbot.waitSignal(panel.generate_requested, timeout=2000) as first:
        qtbot.mouseClick(generate_button(panel), Qt.MouseButton.LeftButton)
    assert [[j.seed for j in s] for s in sets] == [[100, 101, 102, 103]]
    assert first.args == [sets[0][0]]


def test_variations_without_a_seed_get_distinct_random_seeds(qtbot: Any, panel: InputsPanel) -> None:
    assert drop_file(panel.drop, PORTRAIT)
    settle(qtbot, panel)
    raise_variations(qtbot, panel, MAX_VARIATIONS)
    seeds = [j.seed for j in panel.requests()]
    assert len(seeds) == MAX_VARIATIONS == len(set(seeds))
    assert all(isinstance(s, int) and 0 <= s <= SEED_MAX for s in seeds)
    assert [j.seed for j in panel.requests()] != seeds  # drawn again for the next click
    panel.set_variations(1)
    assert [j.seed for j in panel.requests()] == [None]  # one clip: the server picks, as before


def test_a_seed_without_room_for_the_variations_is_shown_by_the_seed(qtbot: Any, panel: InputsPanel) -> None:
    assert drop_file(panel.drop, PORTRAIT)
    settle(qtbot, panel)
    qtbot.keyClicks(panel.prompt.edit, "A slow pan")
    qtbot.keyClicks(find(panel, "seedEdit"), str(SEED_MAX - 1))
    raise_variations(qtbot, panel, 2)
    assert generate_button(panel).isEnabled() and panel.field_message("seed") == ""
    raise_variations(qtbot, panel, 3)
    message = panel.field_message("seed")
    assert "3 variations" in message and str(SEED_MAX - 2) in message
    line = find(panel, "optionsError")
    assert isinstance(line, QLabel) and line.isVisible() and message in line.text()
    assert not generate_button(panel).isEnabled()
    assert message in find(panel, "generateHint").text()  # type: ignore[attr-defined]
    QTest.keyClick(variations_spin(panel), Qt.Key.Key_Down)
    assert generate_button(panel).isEnabled() and panel.field_message("seed") == ""


# -- batches ---------------------------------------------------------------------------------------------
def test_a_drop_of_three_images_makes_a_strip_and_three_jobs(qtbot: Any, panel: InputsPanel) -> None:
    changes: list[int] = []
    panel.set_changed.connect(lambda: changes.append(panel.set_size()))
    qtbot.keyClicks(panel.prompt.edit, "The same motion everywhere")
    drop_images(qtbot, panel, THREE)
    strip = find(panel, "imageStrip")
    assert strip.isVisible() and panel.drop.is_batch
    assert panel.images() == [str(p) for p in THREE]
    assert len(strip_rows(panel)) == 3 and "portrait.png" in strip_rows(panel)[0]
    assert panel.drop.title.text() == "3 images"
    assert generate_button(panel).text() == "Generate 3" and generate_button(panel).isEnabled()
    assert [j.image for j in panel.requests()] == [str(p) for p in THREE]
    assert changes and changes[-1] == 3

    raise_variations(qtbot, panel, 2)
    jobs = panel.requests()
    assert len(jobs) == 6 == panel.set_size() and changes[-1] == 6
    assert [j.image for j in jobs] == [str(p) for p in THREE for _ in range(2)]
    seeds = {j.image: [] for j in jobs}  # type: dict[str, list[int | None]]
    for j in jobs:
        seeds[j.image].append(j.seed)
    assert len({tuple(s) for s in seeds.values()}) == 1  # the same seeds for every picture: they compare fairly
    assert generate_button(panel).text() == "Generate 6"
    assert "3 images × 2 variations" in generate_button(panel).toolTip()


def test_dropping_on_a_strip_adds_and_clear_starts_over(qtbot: Any, panel: InputsPanel, tmp_path: Path) -> None:
    assert drop_file(panel.drop, PORTRAIT)
    settle(qtbot, panel)
    assert not panel.drop.is_batch
    assert drop_file(panel.drop, SUNSET)  # one image on one image replaces it, as always
    settle(qtbot, panel)
    assert panel.images() == [str(SUNSET)]

    drop_images(qtbot, panel, [PORTRAIT, ROBOT])  # several on one: a strip of them
    assert panel.images() == [str(PORTRAIT), str(ROBOT)]
    extra = make_image(tmp_path / "extra.png")
    assert drop_file(panel.drop, extra)  # one on a strip: added
    settle(qtbot, panel)
    assert panel.images() == [str(PORTRAIT), str(ROBOT), str(extra)]
    drop_images(qtbot, panel, [ROBOT])  # already there: not a second paid job
    assert len(panel.images()) == 3 and "already in the set" in panel.drop.error.text()

    qtbot.mouseClick(find(panel, "clearImagesButton"), Qt.MouseButton.LeftButton)
    assert panel.images() == [] and not panel.drop.is_batch
    assert not find(panel, "imageStrip").isVisible()
    assert not generate_button(panel).isEnabled() and generate_button(panel).text() == "Generate"


def test_a_folder_drop_takes_its_images_sorted_by_name(qtbot: Any, panel: InputsPanel, tmp_path: Path) -> None:
    folder = tmp_path / "shoot"
    folder.mkdir()
    for name in ("img10.png", "img2.jpg", "IMG1.png"):
        make_image(folder / name)
    (folder / "notes.txt").write_text("not a picture")
    (folder / "inner").mkdir()
    make_image(folder / "inner" / "deep.png")  # not recursed into
    assert drop_file(panel.drop, folder)
    settle(qtbot, panel)
    assert panel.drop.is_batch
    assert [Path(p).name for p in panel.images()] == ["IMG1.png", "img2.jpg", "img10.png"]
    assert "Skipped 1 file that is not an image" in panel.drop.error.text()
    assert panel.drop.error.isVisible()

    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "readme.md").write_text("nothing to see")
    assert drop_file(panel.drop, empty)  # added to the strip: nothing to add, and it says so
    settle(qtbot, panel)
    assert "No images in empty" in panel.drop.error.text() and len(panel.images()) == 3


def test_a_set_holds_at_most_fifty_images(qtbot: Any, panel: InputsPanel, tmp_path: Path) -> None:
    folder = tmp_path / "many"
    folder.mkdir()
    for i in range(MAX_BATCH + 3):
        make_image(folder / f"frame-{i:03d}.png", size=(80, 64))
    assert drop_file(panel.drop, folder)
    settle(qtbot, panel)
    assert len(panel.images()) == MAX_BATCH and panel.images()[-1].endswith(f"frame-{MAX_BATCH - 1:03d}.png")
    assert f"at most {MAX_BATCH} images: 3 more left out" in panel.drop.error.text()
    assert generate_button(panel).text() == f"Generate {MAX_BATCH}"


def test_a_refused_image_is_marked_in_the_strip_and_left_out(qtbot: Any, panel: InputsPanel, tmp_path: Path) -> None:
    bogus = tmp_path / "holiday.png"
    bogus.write_text("this is not a picture")
    tiny = make_image(tmp_path / "tiny.png", size=(20, 20))
    qtbot.keyClicks(panel.prompt.edit, "Waves")
    drop_images(qtbot, panel, [PORTRAIT, bogus, SUNSET])
    rows = strip_rows(panel)
    assert len(rows) == 3
    assert "holiday.png" in rows[1] and "can't be used" in rows[1] and "not an image" in rows[1]
    assert "can't be used" not in rows[0] + rows[2]
    assert panel.images() == [str(PORTRAIT), str(SUNSET)]
    assert [j.image for j in panel.requests()] == [str(PORTRAIT), str(SUNSET)]
    assert "1 can't be used" in panel.drop.title.text() and "not an image" in panel.drop.error.text()
    assert generate_button(panel).text() == "Generate 2"

    panel.set_images([str(bogus), str(tiny)])  # nothing usable: Generate says why
    settle(qtbot, panel)
    assert panel.images() == [] and len(strip_rows(panel)) == 2
    assert not generate_button(panel).isEnabled()
    assert "None of these images can be used" in find(panel, "generateHint").text()  # type: ignore[attr-defined]


def test_the_strip_is_reached_by_keyboard_and_delete_removes_the_focused_image(qtbot: Any, window: MainWindow) -> None:
    """In the real window: Delete in the strip removes an image, not the selected job (the window's Delete)."""
    form = window.inputs
    drop_images(qtbot, form, THREE)
    strip = find(window, "imageStrip")
    assert isinstance(strip, QListView) and strip.accessibleName()
    activate(qtbot, form.drop)
    QTest.keyClick(window.windowHandle(), Qt.Key.Key_Tab)  # from the zone into its strip
    qtbot.waitUntil(strip.hasFocus)
    assert strip.currentIndex().row() == 0  # the first thumbnail has the focus ring
    QTest.keyClick(window.windowHandle(), Qt.Key.Key_Right)
    assert strip.currentIndex().row() == 1
    QTest.keyClick(window.windowHandle(), Qt.Key.Key_Delete)
    qtbot.waitUntil(lambda: len(form.images()) == 2)
    assert form.images() == [str(PORTRAIT), str(ROBOT)]
    assert strip.hasFocus() and strip.currentIndex().row() == 1  # the next one, ready for another Delete
    assert form.generate.text() == "Generate 2"

    # the ✕ on a thumbnail removes it too
    cell = strip.visualRect(strip.model().index(0, 0))
    close = cell.topRight() + QPoint(-9, 9)
    qtbot.mouseClick(strip.viewport(), Qt.MouseButton.LeftButton, pos=close)
    assert form.images() == [str(ROBOT)]
    QTest.keyClick(window.windowHandle(), Qt.Key.Key_Delete)
    qtbot.waitUntil(lambda: form.images() == [])  # the last one gone: the zone is empty again
    assert not form.drop.is_batch and not strip.isVisible()


# -- the estimate covers the set -------------------------------------------------------------------------
def test_the_estimate_and_generate_cover_the_whole_set(qtbot: Any, window: MainWindow) -> None:
    form = window.inputs
    label = find(window, "estimateLabel")
    assert isinstance(label, QLabel)
    qtbot.waitUntil(lambda: label.text().startswith("≈ $"))
    one = window.quote(form.request(), 1)
    assert one is not None and label.text() == f"≈ ${one.usd:,.2f}"

    drop_images(qtbot, form, THREE)
    raise_variations(qtbot, form, 4)
    assert form.generate.text() == "Generate 12" and form.count == 12
    whole = window.quote(form.request(), 12)
    assert whole is not None and whole.usd == pytest.approx(12 * one.usd, rel=0.01)
    assert (label.text(), label.toolTip()) == estimate_text(whole, window.runtime.demo, 12)
    assert label.text() == f"≈ ${whole.usd:,.2f}" and f"12 videos at ≈ ${one.usd:,.2f} each" in label.toolTip()

    find(window, "resolutionCombo").setCurrentIndex(0)  # type: ignore[attr-defined]  # cheaper: still the set
    cheaper = window.quote(form.request(), 12)
    assert cheaper is not None and label.text() == f"≈ ${cheaper.usd:,.2f}"


# -- recent prompts --------------------------------------------------------------------------------------
RECENT = ["A slow pan over the hills", "a cat naps on the sofa", "Another day at the beach"]


def popup_of(form: InputsPanel) -> QListView:
    """The popup is a window of its own (a Qt popup), found by its name among the application's windows."""
    (popup,) = [
        w for w in QApplication.topLevelWidgets() if w.objectName() == "recentPromptsPopup" and w is form.recent.popup
    ]
    assert isinstance(popup, QListView)
    return popup


def test_recent_prompts_are_offered_as_you_type_and_enter_fills_the_prompt(qtbot: Any, panel: InputsPanel) -> None:
    panel.set_recent_prompts(RECENT)
    edit = panel.prompt.edit
    activate(qtbot, edit)
    popup = popup_of(panel)
    assert not popup.isVisible()
    qtbot.keyClicks(edit, "a ")
    qtbot.waitUntil(popup.isVisible)
    shown = [popup.model().index(r, 0).data() for r in range(popup.model().rowCount())]
    assert shown == ["A slow pan over the hills", "a cat naps on the sofa"]  # newest first; case ignored
    assert edit.hasFocus() and QApplication.focusWidget() is edit  # typing goes on in the field
    assert not popup.currentIndex().isValid()  # nothing chosen until Up/Down

    # keys reach the popup first, as Qt delivers them while a popup is open
    QTest.keyClick(popup, Qt.Key.Key_S)
    assert panel.prompt.text() == "a s" and popup.model().rowCount() == 1
    QTest.keyClick(popup, Qt.Key.Key_Down)
    assert popup.currentIndex().isValid()
    QTest.keyClick(popup, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: not popup.isVisible())
    assert panel.prompt.text() == "A slow pan over the hills"
    assert edit.hasFocus() and edit.textCursor().atEnd()


def test_the_recent_prompts_popup_stays_out_of_the_way(qtbot: Any, panel: InputsPanel) -> None:
    panel.set_recent_prompts(RECENT)
    edit = panel.prompt.edit
    popup = popup_of(panel)
    panel.prompt.set_text("A slow")  # text put in without typing (restore, reuse): no popup
    assert not popup.isVisible()
    activate(qtbot, edit)
    edit.selectAll()
    QTest.keyClick(edit, Qt.Key.Key_Backspace)
    assert panel.prompt.text() == "" and not popup.isVisible()  # an empty field offers nothing
    qtbot.keyClicks(edit, "zebra")
    assert not popup.isVisible()  # nothing matches
    QTest.keyClick(edit, Qt.Key.Key_Backspace)
    for _ in range(4):
        QTest.keyClick(edit, Qt.Key.Key_Backspace)
    qtbot.keyClicks(edit, "An")
    qtbot.waitUntil(popup.isVisible)
    QTest.keyClick(popup, Qt.Key.Key_Escape)  # closes the popup, keeps what was typed
    qtbot.waitUntil(lambda: not popup.isVisible())
    assert panel.prompt.text() == "An" and edit.hasFocus()
    qtbot.keyClicks(edit, "other")
    qtbot.waitUntil(popup.isVisible)
    QTest.keyClick(popup, Qt.Key.Key_Return)  # nothing chosen: Enter is Enter (a new line), the popup goes
    qtbot.waitUntil(lambda: not popup.isVisible())
    assert panel.prompt.text() == "Another\n"


def test_generate_puts_its_prompt_first_among_the_recent_ones(qtbot: Any, panel: InputsPanel) -> None:
    panel.set_recent_prompts(RECENT)
    assert drop_file(panel.drop, PORTRAIT)
    settle(qtbot, panel)
    edit = panel.prompt.edit
    activate(qtbot, edit)
    qtbot.keyClicks(edit, "a cat naps")
    popup = popup_of(panel)
    qtbot.waitUntil(popup.isVisible)
    # Ctrl+Enter generates even while the popup is open (the window's shortcut cannot see it then)
    with qtbot.waitSignal(panel.generate_set_requested, timeout=2000) as sent:
        QTest.keyClick(popup, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert [j.prompt for j in sent.args[0]] == ["a cat naps"]
    assert not popup.isVisible() and panel.prompt.text() == "a cat naps"
    assert panel.recent_prompts() == ["a cat naps", *RECENT]
    many = [f"p{i}" for i in range(60)]
    assert remember_prompt(many, "new")[:2] == ["new", "p0"] and len(remember_prompt(many, "new")) == 50
    assert remember_prompt(["a", "b"], "b") == ["b", "a"] and remember_prompt(["a"], "  ") == ["a"]


# -- form memory -----------------------------------------------------------------------------------------
def fill_everything(qtbot: Any, form: InputsPanel) -> None:
    drop_images(qtbot, form, [PORTRAIT, SUNSET])
    form.prompt.set_text("She turns to the camera")
    form.negative.set_text("blur")
    for name, value in (("resolutionCombo", "540p"), ("durationCombo", 8), ("styleCombo", "anime")):
        combo = find(form, name)
        combo.setCurrentIndex(combo.findData(value))  # type: ignore[attr-defined]
    form.seed.setText("42")
    form.lip_group.setChecked(True)
    form.lip_text.set_text("Hello there!")
    form.speaker.setCurrentIndex(form.speaker.findData("Chloe"))
    form.set_variations(3)
    form.set_recent_prompts(["She turns to the camera", "older"])


def test_the_form_comes_back_from_its_file(qtbot: Any, panel: InputsPanel) -> None:
    fill_everything(qtbot, panel)
    state = panel.form_state()
    assert state.images == (str(PORTRAIT), str(SUNSET)) and state.variations == 3 and state.seed == 42
    # saved from a worker thread, as the window does at close and after Generate
    errors: list[BaseException] = []

    def save() -> None:
        try:
            save_form_state(state)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    worker = threading.Thread(target=save)
    worker.start()
    worker.join(10)
    assert errors == [] and form_path().is_file()
    assert not [p for p in form_path().parent.iterdir() if p.name.endswith(".tmp")]

    fresh = InputsPanel()
    qtbot.addWidget(fresh)
    fresh.restore_form_state(load_form_state())
    settle(qtbot, fresh)
    assert fresh.form_state() == state
    assert fresh.drop.is_batch and fresh.generate.text() == "Generate 6"
    assert find(fresh, "styleCombo").currentText() == "Anime"  # type: ignore[attr-defined]


def test_a_remembered_image_that_is_gone_is_left_out(qtbot: Any, panel: InputsPanel, tmp_path: Path) -> None:
    gone = make_image(tmp_path / "gone.png")
    kept = make_image(tmp_path / "kept.png")
    save_form_state(FormState(images=(str(gone), str(kept)), prompt="still here"))
    gone.unlink()
    state = load_form_state()
    assert state.images == (str(kept),) and state.prompt == "still here"
    panel.restore_form_state(state)
    settle(qtbot, panel)
    assert panel.images() == [str(kept)] and not panel.drop.is_batch and panel.prompt.text() == "still here"


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"{",
        b'{"prompt": "cut short',
        b"\xff\xfe\x00garbage",
        b"[1, 2, 3]",
        b"null",
        b"[" * 100_000 + b"]" * 100_000,
        b'{"prompt": "' + b"x" * 2_000_000 + b'"}',
    ],
    ids=["empty", "brace", "truncated", "binary", "list", "null", "deep", "huge"],
)
def test_a_corrupt_form_file_gives_an_empty_form(content: bytes) -> None:
    form_path().parent.mkdir(parents=True, exist_ok=True)
    form_path().write_bytes(content)
    assert load_form_state() == FormState()


def test_a_hostile_form_file_keeps_only_what_is_valid(qtbot: Any, panel: InputsPanel, tmp_path: Path) -> None:
    real = make_image(tmp_path / "real.png")
    fifo_like = tmp_path / "folder.png"
    fifo_like.mkdir()
    hostile = {
        "version": 99,
        "evil": {"__class__": "os.system"},
        "images": [
            str(real),
            str(real),  # twice: once
            "relative/path.png",
            str(tmp_path / "missing.png"),
            str(fifo_like),
            "/etc/passwd\x00.png",
            "x" * 5000,
            42,
            None,
            "https://example.com/cat.jpg",
        ],
        "prompt": "kept",
        "negative_prompt": "n" * 50_000,
        "resolution": "4k",
        "duration": True,
        "style": ["anime"],
        "seed": SEED_MAX + 1,
        "lip_sync": "yes",
        "lip_sync_text": 140,
        "lip_sync_voice": "HAL9000",
        "variations": 99,
        "recent_prompts": ["ok", "", "ok", 7, "\ud800 lone surrogate", "y" * 20_000, "fine"],
    }
    form_path().parent.mkdir(parents=True, exist_ok=True)
    form_path().write_text(json.dumps(hostile), encoding="utf-8")
    state = load_form_state()
    assert state == FormState(
        images=(str(real), "https://example.com/cat.jpg"),
        prompt="kept",
        recent_prompts=("ok", "fine"),
    )
    panel.restore_form_state(state)
    settle(qtbot, panel)
    assert panel.images() == [str(real), "https://example.com/cat.jpg"] and panel.variations() == 1
    assert panel.prompt.text() == "kept" and panel.resolution.currentData() == "720p"

    # right types, wrong values for this model: each falls back on its own, the rest is restored
    form_path().write_text(
        json.dumps({"resolution": "540p", "duration": 9, "seed": -1, "variations": 0, "lip_sync": True}),
        encoding="utf-8",
    )
    state = load_form_state()
    assert (state.resolution, state.duration, state.seed, state.variations, state.lip_sync) == (
        "540p",
        None,
        None,
        1,
        True,
    )


def test_saving_replaces_the_file_whole(tmp_path: Path) -> None:
    target = tmp_path / "deep" / "form.json"
    save_form_state(FormState(prompt="first"), target)
    save_form_state(FormState(prompt="second", variations=4), target)
    assert load_form_state(target) == FormState(prompt="second", variations=4)
    assert sorted(p.name for p in target.parent.iterdir()) == ["form.json"]
    blocker = tmp_path / "file-not-folder"
    blocker.write_text("x")
    with pytest.raises(OSError):
        save_form_state(FormState(), blocker / "form.json")
