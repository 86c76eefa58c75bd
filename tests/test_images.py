"""Data-URI preparation for each kind of image a person may drop."""

from __future__ import annotations

import base64
import io
from pathlib import Path

import pytest
from PIL import Image

from pixdesk.api.images import (
    DATA_URI_CAP_BYTES,
    MAX_SIDE,
    ImageRejected,
    inspect_image,
    prepare_image,
)
from tests.conftest import make_image


def decode(uri: str) -> tuple[str, Image.Image, bytes]:
    head, payload = uri.split(",", 1)
    data = base64.b64decode(payload)
    img = Image.open(io.BytesIO(data))
    img.load()
    return head, img, data


def test_jpeg_within_limits_passes_byte_for_byte(tmp_path: Path):
    path = make_image(tmp_path / "a.jpg", fmt="JPEG", quality=85)
    prepared = prepare_image(path)
    head, _, data = decode(prepared.image_url)
    assert head == "data:image/jpeg;base64" and data == path.read_bytes() and prepared.notes == []


def test_png_within_limits_passes_byte_for_byte(png: Path):
    head, _, data = decode(prepare_image(png).image_url)
    assert head == "data:image/png;base64" and data == png.read_bytes()


@pytest.mark.parametrize(
    ("name", "fmt", "word"),
    [("a.webp", "WEBP", "WEBP"), ("a.bmp", "BMP", "BMP"), ("a.tiff", "TIFF", "TIFF"), ("a.gif", "GIF", "GIF")],
)
def test_other_formats_become_jpeg(tmp_path: Path, name: str, fmt: str, word: str):
    path = make_image(tmp_path / name, fmt=fmt)
    prepared = prepare_image(path)
    head, img, _ = decode(prepared.image_url)
    assert head == "data:image/jpeg;base64" and img.format == "JPEG" and img.size == (640, 480)
    assert any(word in note and "JPEG" in note for note in prepared.notes)


def test_animated_gif_uses_the_first_frame(tmp_path: Path):
    frames = [Image.new("RGB", (200, 100), c) for c in ((255, 0, 0), (0, 0, 255))]
    path = tmp_path / "anim.gif"
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=100, loop=0)
    _, img, _ = decode(prepare_image(path).image_url)
    r, _, b = img.convert("RGB").getpixel((100, 50))
    assert r > 200 and b < 60


def test_png_with_transparency_is_flattened_on_white(tmp_path: Path):
    path = make_image(tmp_path / "t.png", mode="RGBA")
    prepared = prepare_image(path)
    head, img, _ = decode(prepared.image_url)
    assert head == "data:image/jpeg;base64" and img.mode == "RGB"
    assert img.getpixel((2, 2)) >= (250, 250, 250)  # the transparent corner is white, not black
    assert any("Transparent" in n for n in prepared.notes)


def test_exif_orientation_is_applied(tmp_path: Path):
    img = Image.new("RGB", (400, 200), (0, 200, 0))
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise to display
    path = tmp_path / "phone.jpg"
    img.save(path, "JPEG", exif=exif)
    assert inspect_image(path).width == 200
    prepared = prepare_image(path)
    _, out, _ = decode(prepared.image_url)
    assert out.size == (200, 400) and (prepared.width, prepared.height) == (200, 400)


def test_images_over_4000px_are_downscaled(tmp_path: Path):
    path = make_image(tmp_path / "huge.png", size=(10000, 2500))
    info = inspect_image(path)
    assert any("4000 px limit" in n for n in info.notes)
    prepared = prepare_image(path)
    _, img, data = decode(prepared.image_url)
    assert max(img.size) == MAX_SIDE and img.size == (4000, 1000)
    assert len(data) <= DATA_URI_CAP_BYTES


def test_data_uri_stays_under_the_cap_for_noisy_images(tmp_path: Path):
    noise = Image.effect_noise((3900, 3900), 120).convert("RGB")
    path = tmp_path / "noise.png"
    noise.save(path)
    assert path.stat().st_size > DATA_URI_CAP_BYTES
    _, _, data = decode(prepare_image(path).image_url)
    assert len(data) <= DATA_URI_CAP_BYTES


def test_web_url_passes_through_untouched():
    url = "https://example.com/cat.png?x=1"
    assert prepare_image(url).image_url == url


@pytest.mark.parametrize(
    ("content", "words"),
    [(b"", "empty"), (b"hello, I am text", "not an image"), (None, "damaged or incomplete")],
)
def test_unusable_files_are_refused_with_a_reason(tmp_path: Path, png: Path, content, words):
    path = tmp_path / "bad file ünïcode.png"
    path.write_bytes(content if content is not None else png.read_bytes()[: len(png.read_bytes()) // 2])
    with pytest.raises(ImageRejected, match=words):
        prepare_image(path)


def test_tiny_images_are_refused(tmp_path: Path):
    with pytest.raises(ImageRejected, match="1×1 px"):
        prepare_image(make_image(tmp_path / "dot.png", size=(1, 1)))


def test_missing_file_is_refused(tmp_path: Path):
    with pytest.raises(ImageRejected, match="not found"):
        prepare_image(tmp_path / "nope.jpg")


def test_paths_with_spaces_and_unicode_work(tmp_path: Path):
    folder = tmp_path / "Mes images été"
    folder.mkdir()
    path = make_image(folder / "photo de plage 🌊.png")
    assert inspect_image(path).file_name == "photo de plage 🌊.png"
    assert prepare_image(path).image_url.startswith("data:image/png;base64,")
