"""The form is built from the catalogue for each model a person picks: exactly that model's fields, a request with
exactly its fields, what two models share carried over, impossible choices disabled with the reason, a transition's
two frames, a storyboard of keyframes in an order the person sets (mouse or keyboard), and the form remembered with
its model. Real widgets, real image files, driven with clicks, keys and drops."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from PySide6.QtCore import QMimeData, QPoint, Qt, QUrl
from PySide6.QtGui import QGuiApplication, QStandardItemModel
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QCheckBox, QComboBox, QFileDialog, QLabel, QListView, QMainWindow, QSpinBox, QWidget

from pixdesk.api.catalogue import FORM_MODELS, THINKING_LABELS, get_model
from pixdesk.api.request import FieldError, GenerationRequest
from pixdesk.ui.form_memory import FormState, form_path, load_form_state, save_form_state
from pixdesk.ui.inputs_panel import InputsPanel, estimate_text
from pixdesk.ui.main_window import MainWindow
from tests.conftest import SAMPLES, make_image
from tests.gui_helpers import drop_file, drop_mime, find

PORTRAIT = SAMPLES / "portrait.png"
SUNSET = SAMPLES / "sunset-mountains.jpg"
ROBOT = SAMPLES / "robot-transparent.png"
THREE = [PORTRAIT, SUNSET, ROBOT]

I2V, TRANSITION, T2V = "pixverse/v5/image-to-video", "pixverse/v5/transition", "pixverse/v5/text-to-video"
I2V_55, T2V_55 = "pixverse/v5.5/image-to-video", "pixverse/v5.5/text-to-video"

# What a person sees for each model (the form's field widgets, by objectName).
COMMON = {"promptEdit", "negativePromptEdit", "resolutionCombo", "durationCombo", "styleCombo", "seedEdit"}
V55_SWITCHES = {"soundCheck", "multiClipCheck", "thinkingCombo"}
SHOWN: dict[str, set[str]] = {
    I2V: COMMON | {"imageDrop", "lipSyncGroup"},
    TRANSITION: COMMON | {"imageDrop", "lastFrameDrop", "lipSyncGroup"},
    T2V: COMMON | {"aspectRatioCombo", "lipSyncGroup"},
    I2V_55: COMMON | {"imageDrop"} | V55_SWITCHES,
    T2V_55: COMMON | {"aspectRatioCombo"} | V55_SWITCHES,
}
FIELD_WIDGETS = set().union(*SHOWN.values()) | {"storyboardNote"}

SCHEMAS = Path(__file__).resolve().parents[2] / "shared" / "api-schemas"


@pytest.fixture
def panel(qtbot: Any, qloop: Any) -> Iterator[InputsPanel]:
    """The form alone in a window of its own (images are still checked off the UI thread)."""
    host = QMainWindow()
    form = InputsPanel()
    host.setCentralWidget(form)
    host.resize(420, 900)
    qtbot.addWidget(host)
    host.show()
    qtbot.waitExposed(host)
    yield form
    qtbot.waitUntil(lambda: not (form.drop.is_loading or form.last_drop.is_loading), timeout=15000)


def settle(qtbot: Any, form: InputsPanel) -> None:
    qtbot.waitUntil(lambda: not (form.drop.is_loading or form.last_drop.is_loading), timeout=15000)


def combo(form: QWidget, name: str) -> QComboBox:
    widget = find(form, name)
    assert isinstance(widget, QComboBox)
    return widget


def pick(form: InputsPanel, name: str, value: object) -> None:
    """Choose `value` in the combo box `name` as a person would (the item must be enabled)."""
    box = combo(form, name)
    row = box.findData(value)
    assert row >= 0, f"{name} does not offer {value!r}"
    model = box.model()
    assert isinstance(model, QStandardItemModel) and model.item(row).isEnabled(), f"{value!r} is disabled"
    box.setCurrentIndex(row)


def pick_model(form: InputsPanel, model_id: str) -> None:
    pick(form, "modelCombo", model_id)
    assert form.request().model == model_id


def visible_fields(form: InputsPanel) -> set[str]:
    return {name for name in FIELD_WIDGETS if find(form, name).isVisible()}


def files_mime(paths: list[Path]) -> QMimeData:
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    return mime


def disabled_items(box: QComboBox) -> dict[object, str]:
    model = box.model()
    assert isinstance(model, QStandardItemModel)
    return {box.itemData(r): model.item(r).toolTip() for r in range(box.count()) if not model.item(r).isEnabled()}


def fill_everything(qtbot: Any, form: InputsPanel) -> None:
    """Every field the chosen model shows, set (so the request carries every field the model takes)."""
    shown = visible_fields(form)
    if "imageDrop" in shown:
        assert drop_file(form.drop, PORTRAIT)
    if "lastFrameDrop" in shown:
        assert drop_file(form.last_drop, SUNSET)
    settle(qtbot, form)
    qtbot.keyClicks(form.prompt.edit, "A kite rises over the beach")
    qtbot.keyClicks(form.negative.edit, "blur")
    pick(form, "styleCombo", "clay")
    qtbot.keyClicks(find(form, "seedEdit"), "42")
    pick(form, "resolutionCombo", "540p")
    pick(form, "durationCombo", 8)
    if "aspectRatioCombo" in shown:
        pick(form, "aspectRatioCombo", "9:16")
    if "lipSyncGroup" in shown:
        form.lip_group.setChecked(True)
        qtbot.keyClicks(find(form, "lipSyncTextEdit"), "Hello there!")
        pick(form, "speakerCombo", "Chloe")
    if "soundCheck" in shown:
        for name in ("soundCheck", "multiClipCheck"):
            box = find(form, name)
            qtbot.mouseClick(box, Qt.MouseButton.LeftButton, pos=QPoint(8, box.height() // 2))  # on its tick box
            assert isinstance(box, QCheckBox) and box.isChecked()
        pick(form, "thinkingCombo", "auto")


def official_schema(model: str) -> dict[str, Any] | None:
    path = SCHEMAS / f"{model.replace('/', '-')}.json"  # pixverse-v5.5-image-to-video.json
    if not path.is_file():
        return None
    document = json.loads(path.read_text(encoding="utf-8"))
    body = document["paths"]["/v2/video/generations"]["post"]["requestBody"]["content"]["application/json"]
    return dict(body["schema"])


# -- each model: its fields, and a request of exactly its fields ------------------------------------------------
@pytest.mark.parametrize("model_id", FORM_MODELS)
def test_picking_a_model_shows_exactly_its_fields(qtbot: Any, panel: InputsPanel, model_id: str) -> None:
    spec = get_model(model_id)
    picker = combo(panel, "modelCombo")
    assert [picker.itemData(r) for r in range(picker.count())] == list(FORM_MODELS)
    assert [picker.itemText(r) for r in range(picker.count())] == [get_model(m).title for m in FORM_MODELS]
    changes: list[str] = []
    panel.model_changed.connect(changes.append)
    pick_model(panel, model_id)
    assert changes == ([] if model_id == I2V else [model_id])
    summary = find(panel, "modelSummary")
    assert isinstance(summary, QLabel) and summary.isVisible() and summary.text() == spec.summary

    assert visible_fields(panel) == SHOWN[model_id]
    if "imageDrop" in SHOWN[model_id]:
        zone = find(panel, "imageDrop")
        label = "First frame" if model_id == TRANSITION else "Image"
        assert zone.accessibleName() == label and find(panel, "imageDropCaption").text() == label  # type: ignore[attr-defined]
    if model_id == TRANSITION:
        assert find(panel, "lastFrameDrop").accessibleName() == "Last frame"
        assert find(panel, "lastFrameDropCaption").text() == "Last frame"  # type: ignore[attr-defined]
    durations = combo(panel, "durationCombo")
    offered = [durations.itemData(r) for r in range(durations.count())]
    assert offered == ([5, 8, 10] if "5.5" in model_id else [5, 8]) and durations.currentText() == "5 s"
    if "aspectRatioCombo" in SHOWN[model_id]:
        ratios = combo(panel, "aspectRatioCombo")
        assert [ratios.itemText(r) for r in range(ratios.count())] == ["16:9", "4:3", "1:1", "3:4", "9:16"]
        assert ratios.currentText() == "16:9"
    if "soundCheck" in SHOWN[model_id]:
        thinking = combo(panel, "thinkingCombo")
        assert [thinking.itemText(r) for r in range(thinking.count())] == ["On", "Off", "Let the model decide"]
        assert thinking.currentText() == THINKING_LABELS[str(spec.param("thinking_type").default)] == "On"
        for name, param in (
            ("soundCheck", "generate_audio_switch"),
            ("multiClipCheck", "generate_multi_clip_switch"),
            ("thinkingCombo", "thinking_type"),
        ):
            help_line = find(panel, f"{name}Help")
            assert isinstance(help_line, QLabel) and help_line.isVisible()
            assert help_line.text() == spec.param(param).help != ""
        check = find(panel, "soundCheck")
        assert isinstance(check, QCheckBox) and not check.isChecked() and check.text() == "Generate sound"


@pytest.mark.parametrize("model_id", FORM_MODELS)
def test_the_request_holds_exactly_the_models_fields(qtbot: Any, panel: InputsPanel, model_id: str) -> None:
    spec = get_model(model_id)
    pick_model(panel, model_id)
    fill_everything(qtbot, panel)
    request = panel.request()
    assert request.validate() == [] and panel.generate.isEnabled()
    body = request.to_body(request.inputs())
    assert set(body) == {"model"} | {p.name for p in spec.params}
    assert body["prompt"] == "A kite rises over the beach" and body["seed"] == 42 and body["duration"] == 8
    if "image_url" in body:
        assert body["image_url"] == str(PORTRAIT)
    if "tail_image_url" in body:
        assert body["tail_image_url"] == str(SUNSET)
    if "aspect_ratio" in body:
        assert body["aspect_ratio"] == "9:16"
    if "thinking_type" in body:
        assert (body["generate_audio_switch"], body["generate_multi_clip_switch"], body["thinking_type"]) == (
            True,
            True,
            "auto",
        )
    assert [r.model for r in panel.requests()] == [model_id]
    schema = official_schema(model_id)
    if schema is not None:  # the official schema, where its copy sits beside the project
        online = {name: f"https://example.com/{name}.png" for name in request.inputs()}
        jsonschema.validate(request.to_body(online), schema)

    # emptied again: lip-sync and the optional fields are left out, not sent empty
    panel.negative.set_text("")
    panel.seed.clear()
    combo(panel, "styleCombo").setCurrentIndex(0)  # None
    panel.lip_group.setChecked(False)
    plain = panel.request().to_body(panel.request().inputs())
    assert "negative_prompt" not in plain and "seed" not in plain and "style" not in plain
    assert "lip_sync_tts_content" not in plain and "lip_sync_tts_speaker" not in plain


# -- switching models -------------------------------------------------------------------------------------------
def test_switching_models_keeps_what_carries_over_and_never_loses_the_picture(qtbot: Any, panel: InputsPanel) -> None:
    assert drop_file(panel.drop, PORTRAIT)
    settle(qtbot, panel)
    qtbot.keyClicks(panel.prompt.edit, "She turns to the camera")
    qtbot.keyClicks(panel.negative.edit, "blur")
    qtbot.keyClicks(find(panel, "seedEdit"), "7")
    pick(panel, "styleCombo", "anime")
    pick(panel, "durationCombo", 8)
    panel.lip_group.setChecked(True)
    qtbot.keyClicks(find(panel, "lipSyncTextEdit"), "Hi!")

    for model_id in (T2V, I2V_55, T2V_55, TRANSITION, I2V):
        pick_model(panel, model_id)
        request = panel.request()
        assert (request.prompt, request.negative_prompt, request.seed, request.style) == (
            "She turns to the camera",
            "blur",
            7,
            "anime",
        ), model_id
        assert request.duration == 8, model_id  # 8 s: every model has it
        assert request.image == ("" if "text-to-video" in model_id else str(PORTRAIT)), model_id
        assert request.lip_sync_tts_content == (None if "5.5" in model_id else "Hi!"), model_id
    assert panel.images() == [str(PORTRAIT)] and find(panel, "imageDrop").isVisible()

    pick_model(panel, I2V_55)
    pick(panel, "durationCombo", 10)
    pick_model(panel, I2V)  # v5 has no 10 s: its default, not an impossible value
    assert panel.request().duration == 5 and combo(panel, "durationCombo").currentText() == "5 s"
    assert panel.request().validate() == []

    pick_model(panel, T2V)
    pick(panel, "aspectRatioCombo", "1:1")
    pick_model(panel, T2V_55)
    assert panel.request().aspect_ratio == "1:1"
    assert panel.images() == [] and panel.set_size() == 1 and panel.generate.isEnabled()


def test_pictures_given_to_a_text_to_video_form_switch_it_to_image_to_video(qtbot: Any, panel: InputsPanel) -> None:
    pick_model(panel, T2V_55)
    panel.set_images([str(SUNSET)])  # the command line, a second launch
    settle(qtbot, panel)
    assert panel.request().model == I2V_55 and panel.request().image == str(SUNSET)


# -- impossible combinations ------------------------------------------------------------------------------------
def test_1080p_disables_8_and_10_seconds_with_the_reason(qtbot: Any, panel: InputsPanel) -> None:
    reason = "1080p videos can only be 5 seconds long."
    note = find(panel, "optionsError")
    assert isinstance(note, QLabel) and note.text() == ""
    pick(panel, "resolutionCombo", "1080p")
    disabled = disabled_items(combo(panel, "durationCombo"))
    assert set(disabled) == {8} and reason in disabled[8]
    assert note.isVisible() and reason in note.text() and panel.field_message("duration") == ""

    pick_model(panel, I2V_55)
    disabled = disabled_items(combo(panel, "durationCombo"))
    assert set(disabled) == {8, 10} and all(reason in tip for tip in disabled.values())
    assert reason in note.text()
    pick(panel, "resolutionCombo", "720p")
    assert disabled_items(combo(panel, "durationCombo")) == {} and note.text() == ""
    pick(panel, "durationCombo", 10)  # and the other way round: at 10 s, 1080p is the impossible one
    assert set(disabled_items(combo(panel, "resolutionCombo"))) == {"1080p"} and reason in note.text()
    assert not {e.field for e in panel.request().validate()} & {"resolution", "duration"}


# -- a transition's two frames ----------------------------------------------------------------------------------
def test_a_transition_takes_a_first_and_a_last_frame(qtbot: Any, panel: InputsPanel, tmp_path: Path) -> None:
    pick_model(panel, TRANSITION)
    assert drop_file(panel.drop, PORTRAIT)
    settle(qtbot, panel)
    qtbot.keyClicks(panel.prompt.edit, "From her face to the mountains")
    hint = find(panel, "generateHint")
    assert not panel.generate.isEnabled() and "last frame" in hint.text()  # type: ignore[attr-defined]

    bogus = tmp_path / "notes.png"
    bogus.write_text("not a picture")
    assert drop_file(panel.last_drop, bogus)  # refused beside the zone that took it
    error = find(panel, "lastFrameDropError")
    qtbot.waitUntil(lambda: "not an image" in error.text())  # type: ignore[attr-defined]
    assert error.isVisible() and panel.last_frame() is None and panel.drop.source == str(PORTRAIT)
    assert drop_mime(panel.last_drop, files_mime([SUNSET, ROBOT]))  # one picture only, and it says so
    assert "one picture" in error.text() and panel.last_frame() is None  # type: ignore[attr-defined]

    assert drop_file(panel.last_drop, SUNSET)
    settle(qtbot, panel)
    assert panel.last_frame() == str(SUNSET) and panel.generate.isEnabled()
    sets: list[list[GenerationRequest]] = []
    panel.generate_set_requested.connect(sets.append)
    qtbot.mouseClick(panel.generate, Qt.MouseButton.LeftButton)
    ((job,),) = sets
    assert (job.model, job.image, job.last_frame) == (TRANSITION, str(PORTRAIT), str(SUNSET))
    assert job.to_body(job.inputs())["tail_image_url"] == str(SUNSET)

    raise_variations = find(panel, "variationsSpin")
    assert isinstance(raise_variations, QSpinBox) and raise_variations.isEnabled()  # ×N works for one transition
    raise_variations.setValue(2)
    assert [(j.image, j.last_frame) for j in panel.requests()] == [(str(PORTRAIT), str(SUNSET))] * 2

    # a problem the server names for the last frame lands in its zone, not under Generate
    panel.show_errors([FieldError("tail_image_url", "The last frame is too small.")])
    assert error.text() == "⚠ The last frame is too small." and panel.field_message("tail_image_url")  # type: ignore[attr-defined]
    assert hint.text() == ""  # type: ignore[attr-defined]

    pick_model(panel, I2V)  # the last frame waits, unsent, for the next transition
    assert not find(panel, "lastFrameDrop").isVisible() and panel.request().last_frame is None
    pick_model(panel, TRANSITION)
    assert panel.request().last_frame == str(SUNSET)


def test_the_last_frame_is_pasted_and_browsed_like_the_first(
    qtbot: Any, window: MainWindow, monkeypatch: pytest.MonkeyPatch
) -> None:
    form = window.inputs
    pick_model(form, TRANSITION)
    zone = find(window, "lastFrameDrop")
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    zone.setFocus(Qt.FocusReason.TabFocusReason)
    qtbot.waitUntil(zone.hasFocus)
    QGuiApplication.clipboard().setMimeData(files_mime([ROBOT]))
    QTest.keyClick(window.windowHandle(), Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier)  # the window's Ctrl+V
    qtbot.waitUntil(lambda: form.last_frame() == str(ROBOT), timeout=10000)
    assert form.drop.source is None  # not the first frame

    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(SUNSET), ""))
    qtbot.mouseClick(zone, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: form.last_frame() == str(SUNSET), timeout=10000)


# -- storyboard -------------------------------------------------------------------------------------------------
def strip_of(form: InputsPanel) -> QListView:
    strip = find(form, "imageStrip")
    assert isinstance(strip, QListView)
    return strip


def told(form: InputsPanel) -> list[str]:
    """What the strip tells about each thumbnail (its tooltip, read by screen readers)."""
    model = strip_of(form).model()
    return [model.index(r, 0).data(Qt.ItemDataRole.AccessibleTextRole) for r in range(model.rowCount())]


def test_a_strip_of_three_is_a_storyboard_in_the_strips_order(qtbot: Any, panel: InputsPanel) -> None:
    pick_model(panel, TRANSITION)
    qtbot.keyClicks(panel.prompt.edit, "Morph into the next picture")
    modes: list[bool] = []
    panel.storyboard_changed.connect(modes.append)
    assert panel.storyboard_images() is None
    assert drop_mime(panel.drop, files_mime(THREE))
    settle(qtbot, panel)
    assert modes == [True] and panel.is_storyboard()
    assert panel.storyboard_images() == [str(p) for p in THREE]
    note = find(panel, "storyboardNote")
    assert note.isVisible() and "Storyboard: 3 keyframes → 2 transitions, joined into one film" in note.text()  # type: ignore[attr-defined]
    assert not find(panel, "lastFrameDrop").isVisible()
    spin = find(panel, "variationsSpin")
    assert isinstance(spin, QSpinBox) and not spin.isEnabled() and "storyboard" in spin.toolTip()
    assert panel.generate.text() == "Generate storyboard" and panel.generate.isEnabled()
    assert told(panel)[0].startswith("Keyframe 1 of 3: portrait.png")  # the order, said and painted on each
    base = panel.storyboard_request()
    assert (base.model, base.image, base.last_frame, base.prompt) == (
        TRANSITION,
        "",
        None,
        "Morph into the next picture",
    )
    assert [(r.image, r.last_frame) for r in panel.requests()] == [
        (str(PORTRAIT), str(SUNSET)),
        (str(SUNSET), str(ROBOT)),
    ]
    assert panel.count == 2  # what the estimate and the spending guard weigh: two transitions

    # the keyboard: Ctrl+Right on the focused thumbnail moves it one place later
    strip = strip_of(panel)
    panel.window().activateWindow()
    qtbot.waitUntil(panel.window().isActiveWindow)
    strip.setFocus(Qt.FocusReason.TabFocusReason)
    qtbot.waitUntil(strip.hasFocus)
    strip.setCurrentIndex(strip.model().index(0, 0))
    QTest.keyClick(strip, Qt.Key.Key_Right, Qt.KeyboardModifier.ControlModifier)
    assert panel.storyboard_images() == [str(SUNSET), str(PORTRAIT), str(ROBOT)]
    assert strip.currentIndex().row() == 1 and strip.hasFocus()  # it stays with the moved picture
    QTest.keyClick(strip, Qt.Key.Key_Left, Qt.KeyboardModifier.ControlModifier)
    QTest.keyClick(strip, Qt.Key.Key_Left, Qt.KeyboardModifier.ControlModifier)  # already first: nothing
    assert panel.storyboard_images() == [str(p) for p in THREE]

    # the mouse: the third thumbnail dragged before the first
    source = strip.visualRect(strip.model().index(2, 0)).center()
    target = strip.visualRect(strip.model().index(0, 0))
    drop_at = QPoint(target.left() + 3, target.center().y())
    QTest.mousePress(strip.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, source)
    QTest.mouseMove(strip.viewport(), source + QPoint(-12, 0))
    QTest.mouseMove(strip.viewport(), drop_at)
    QTest.mouseRelease(strip.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, drop_at)
    assert panel.storyboard_images() == [str(ROBOT), str(PORTRAIT), str(SUNSET)]
    assert told(panel)[0].startswith("Keyframe 1 of 3: robot-transparent.png")

    sets: list[list[GenerationRequest]] = []
    panel.generate_set_requested.connect(sets.append)
    qtbot.mouseClick(panel.generate, Qt.MouseButton.LeftButton)
    assert [[(j.image, j.last_frame) for j in s] for s in sets] == [
        [(str(ROBOT), str(PORTRAIT)), (str(PORTRAIT), str(SUNSET))]
    ]

    pick_model(panel, I2V)  # not a storyboard any more: a batch of three pictures, ×N back
    assert modes == [True, False] and panel.storyboard_images() is None
    assert spin.isEnabled() and panel.generate.text() == "Generate 3"
    assert not note.isVisible() and told(panel)[0].startswith("1. robot-transparent.png")


def test_a_storyboard_needs_two_usable_keyframes(qtbot: Any, panel: InputsPanel, tmp_path: Path) -> None:
    bogus = tmp_path / "broken.png"
    bogus.write_text("not a picture")
    pick_model(panel, TRANSITION)
    qtbot.keyClicks(panel.prompt.edit, "Morph")
    panel.set_variations(3)
    assert drop_mime(panel.drop, files_mime([PORTRAIT, bogus]))
    settle(qtbot, panel)
    assert panel.is_storyboard() and panel.storyboard_images() == [str(PORTRAIT)]
    assert not panel.generate.isEnabled()
    assert "at least two usable keyframes" in find(panel, "generateHint").text()  # type: ignore[attr-defined]
    assert told(panel)[1].startswith("Left out: broken.png")
    assert drop_file(panel.drop, SUNSET)  # added to the strip
    settle(qtbot, panel)
    assert panel.storyboard_images() == [str(PORTRAIT), str(SUNSET)] and panel.generate.isEnabled()
    assert panel.form_state().variations == 3  # kept for when it is a plain set again
    qtbot.mouseClick(find(panel, "clearImagesButton"), Qt.MouseButton.LeftButton)
    assert not panel.is_storyboard() and panel.variations() == 3


# -- the estimate follows the model -----------------------------------------------------------------------------
def test_the_estimate_prices_the_chosen_model(qtbot: Any, window: MainWindow) -> None:
    form = window.inputs
    label = find(window, "estimateLabel")
    assert isinstance(label, QLabel)

    def quoted() -> bool:
        quote = window.quote(form.request(), form.count)
        return quote is not None and label.text() == estimate_text(quote, window.runtime.demo, form.count)[0]

    for model_id in (I2V_55, TRANSITION):
        pick_model(form, model_id)
        assert form.request().model == model_id
        qtbot.waitUntil(quoted, timeout=10000)


# -- reuse and memory -------------------------------------------------------------------------------------------
def test_reuse_brings_back_the_model_and_its_fields(qtbot: Any, panel: InputsPanel) -> None:
    pick_model(panel, I2V_55)
    fill_everything(qtbot, panel)
    pick(panel, "durationCombo", 10)
    original = panel.request()
    pick_model(panel, T2V)
    panel.prompt.set_text("something else")
    panel.load_request(original)
    settle(qtbot, panel)
    assert panel.request() == original and find(panel, "soundCheck").isVisible()


def test_continue_from_a_frame_takes_it_as_the_next_picture(qtbot: Any, panel: InputsPanel, tmp_path: Path) -> None:
    frame = make_image(tmp_path / "last-frame.png")
    clip = GenerationRequest(model=T2V_55, prompt="A kite rises", aspect_ratio="9:16", seed=5, duration=10)
    panel.continue_from(str(frame), clip)
    settle(qtbot, panel)
    request = panel.request()
    assert (request.model, request.image, request.prompt, request.duration, request.seed) == (
        I2V_55,
        str(frame),
        "A kite rises",
        10,
        None,
    )


def test_form_memory_round_trips_the_model_and_the_v55_switches(qtbot: Any, panel: InputsPanel) -> None:
    pick_model(panel, TRANSITION)
    assert drop_file(panel.last_drop, SUNSET)
    pick_model(panel, T2V)
    pick(panel, "aspectRatioCombo", "3:4")
    pick_model(panel, I2V_55)
    fill_everything(qtbot, panel)
    pick(panel, "durationCombo", 10)
    pick(panel, "thinkingCombo", "disabled")
    state = panel.form_state()
    assert (state.model, state.duration, state.thinking_type, state.aspect_ratio, state.last_frame) == (
        I2V_55,
        10,
        "disabled",
        "3:4",
        str(SUNSET),
    )
    assert state.generate_audio_switch and state.generate_multi_clip_switch
    save_form_state(state)

    fresh = InputsPanel()
    qtbot.addWidget(fresh)
    fresh.restore_form_state(load_form_state())
    settle(qtbot, fresh)
    assert fresh.form_state() == state
    assert fresh.request() == panel.request()
    sound = find(fresh, "soundCheck")
    assert isinstance(sound, QCheckBox) and sound.isChecked()
    assert combo(fresh, "modelCombo").currentData() == I2V_55 and combo(fresh, "thinkingCombo").currentText() == "Off"


def test_an_old_or_odd_form_file_still_restores_what_it_can(qtbot: Any, panel: InputsPanel) -> None:
    form_path().parent.mkdir(parents=True, exist_ok=True)
    # written before the model picker: the default model's form
    form_path().write_text(
        json.dumps({"version": 1, "prompt": "kept", "resolution": "540p", "duration": 8}), encoding="utf-8"
    )
    state = load_form_state()
    assert state == FormState(prompt="kept", resolution="540p", duration=8)
    panel.restore_form_state(state)
    assert panel.request().model == I2V and panel.request().duration == 8

    odd = {
        "version": 2,
        "model": "pixverse/v9/dream-machine",
        "duration": 10,  # some model of the picker offers it: kept for when that one is chosen
        "aspect_ratio": "21:9",
        "thinking_type": True,
        "generate_audio_switch": "yes",
        "generate_multi_clip_switch": 1,
        "last_frame": "relative/last.png",
    }
    form_path().write_text(json.dumps(odd), encoding="utf-8")
    assert load_form_state() == FormState(duration=10)
    form_path().write_text(json.dumps({"model": "pixverse/lip-sync", "prompt": "x"}), encoding="utf-8")
    assert load_form_state() == FormState(prompt="x")  # not a model of the picker


# -- the keyboard -----------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("model_id", "order"),
    [
        (TRANSITION, ["modelCombo", "imageDrop", "lastFrameDrop", "promptEdit", "negativePromptEdit"]),
        (T2V_55, ["modelCombo", "promptEdit", "negativePromptEdit", "aspectRatioCombo", "resolutionCombo"]),
    ],
)
def test_tab_follows_the_chosen_models_fields(qtbot: Any, panel: InputsPanel, model_id: str, order: list[str]) -> None:
    pick_model(panel, model_id)
    picker = find(panel, "modelCombo")
    panel.window().activateWindow()
    qtbot.waitUntil(panel.window().isActiveWindow)
    picker.setFocus(Qt.FocusReason.TabFocusReason)
    qtbot.waitUntil(picker.hasFocus)
    reached = [QGuiApplication.focusObject().objectName()]
    for _ in order[1:]:
        QTest.keyClick(panel.window().windowHandle(), Qt.Key.Key_Tab)
        reached.append(QGuiApplication.focusObject().objectName())
    assert reached == order
