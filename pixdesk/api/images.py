"""Turn what the user picked into an `image_url` the API accepts.

A local file becomes a base64 data URI of a JPEG or PNG within PixVerse's limits (4000 px a side,
under 20 MB); an http(s) URL passes through untouched. We also cap the *encoded* image at
`DATA_URI_CAP_BYTES` (8 MiB, about 11 MB once base64-encoded) so a create request uploads in seconds
rather than minutes: an image over the cap is re-encoded as JPEG and, if needed, scaled down.
Uses Pillow everywhere (also for the GUI's thumbnails). Blocking: call it off the UI thread.
"""

from __future__ import annotations

import base64
import io
import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from PIL import Image, ImageOps, UnidentifiedImageError

from pixdesk.api.errors import InputError

MAX_SIDE = 4000
MIN_SIDE = 64
MAX_SOURCE_BYTES = 20 * 1000 * 1000
DATA_URI_CAP_BYTES = 8 * 1024 * 1024
MAX_DECODE_PIXELS = 400_000_000
JPEG_QUALITY = 92
PASS_THROUGH_FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png"}


class DataUri(str):
    """A data URI we built ourselves from base64: known to be plain JSON-safe ASCII, so the request
    encoder can splice it in without scanning its megabytes (which would hold the GIL)."""


class ImageRejected(InputError, ValueError):
    """The file cannot be used; the message says why in plain words."""


@dataclass
class ImageInfo:
    """What the user sees about a picked image before anything is sent."""

    path: str
    file_name: str
    width: int
    height: int
    format: str
    file_size: int
    notes: list[str] = field(default_factory=list)


@dataclass
class PreparedImage:
    image_url: str
    width: int
    height: int
    mime: str
    payload_bytes: int
    notes: list[str] = field(default_factory=list)
    thumbnail: bytes | None = None  # a small PNG, made from the same decode


def is_web_url(value: str) -> bool:
    parts = urlsplit(value.strip())
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def _open(path: Path) -> tuple[Image.Image, int]:
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise ImageRejected(f"{path.name}: file not found.") from None
    except OSError as exc:
        raise ImageRejected(f"{path.name}: cannot be read ({exc.strerror or exc}).") from None
    if path.is_dir():
        raise ImageRejected(f"{path.name} is a folder, not an image.")
    if size == 0:
        raise ImageRejected(f"{path.name} is empty (0 bytes).")
    old_limit = Image.MAX_IMAGE_PIXELS
    try:
        Image.MAX_IMAGE_PIXELS = MAX_DECODE_PIXELS
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            img = Image.open(path)
            fmt = img.format or ""
            if fmt == "JPEG":
                img.draft("RGB", (MAX_SIDE, MAX_SIDE))
            img.load()
            img.format = fmt
    except UnidentifiedImageError:
        raise ImageRejected(f"{path.name} is not an image PixDesk can read (use JPEG, PNG or WebP).") from None
    except Image.DecompressionBombError:
        raise ImageRejected(f"{path.name} is too large to open safely.") from None
    except (OSError, SyntaxError, ValueError) as exc:
        raise ImageRejected(f"{path.name} is damaged or incomplete ({exc}).") from None
    finally:
        Image.MAX_IMAGE_PIXELS = old_limit
    return img, size


def _orientation(img: Image.Image) -> int:
    try:
        return int(img.getexif().get(0x0112, 1))
    except Exception:
        return 1


def _has_alpha(img: Image.Image) -> bool:
    return img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info)


def _plan(img: Image.Image, path: Path, size: int) -> tuple[list[str], bool]:
    """Notes for the user and whether the file must be re-encoded."""
    notes: list[str] = []
    fmt = img.format or "unknown"
    w, h = img.size
    reencode = False
    if min(w, h) < MIN_SIDE:
        raise ImageRejected(f"{path.name} is only {w}×{h} px; use an image at least {MIN_SIDE} px on each side.")
    if fmt not in PASS_THROUGH_FORMATS:
        notes.append(f"{fmt} will be converted to JPEG.")
        reencode = True
    elif getattr(img, "is_animated", False) and fmt == "PNG":
        notes.append("Animated PNG: the first frame is used.")
        reencode = True
    if _has_alpha(img):
        notes.append("Transparent areas will be filled with white.")
        reencode = True
    if _orientation(img) != 1:
        notes.append("Rotated upright as the camera recorded it.")
        reencode = True
    if max(w, h) > MAX_SIDE:
        scale = MAX_SIDE / max(w, h)
        notes.append(
            f"{w}×{h} px is over the {MAX_SIDE} px limit: it will be scaled to {round(w * scale)}×{round(h * scale)}."
        )
        reencode = True
    elif size > DATA_URI_CAP_BYTES or size >= MAX_SOURCE_BYTES:
        notes.append(f"{size / 1e6:.1f} MB will be re-encoded to upload faster.")
        reencode = True
    return notes, reencode


def inspect_image(path: str | os.PathLike[str]) -> ImageInfo:
    """Open, check and describe a local image (for the drop zone); raises ImageRejected."""
    p = Path(path)
    img, size = _open(p)
    with img:
        notes, _ = _plan(img, p, size)
        w, h = img.size
        if _orientation(img) in (5, 6, 7, 8):
            w, h = h, w
        return ImageInfo(str(p), p.name, w, h, img.format or "unknown", size, notes)


def _flatten(img: Image.Image) -> Image.Image:
    if _has_alpha(img):
        rgba = img.convert("RGBA")
        background = Image.new("RGB", rgba.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    return img.convert("RGB") if img.mode != "RGB" else img


def _encode_jpeg(img: Image.Image) -> bytes:
    quality = JPEG_QUALITY
    while True:
        buf = io.BytesIO()
        img.save(buf, "JPEG", quality=quality)  # no optimize=True: it holds the GIL for 100+ ms
        data = buf.getvalue()
        if len(data) <= DATA_URI_CAP_BYTES:
            return data
        if quality > 80:
            quality -= 6
        else:
            img = img.resize((max(1, int(img.width * 0.8)), max(1, int(img.height * 0.8))), Image.Resampling.LANCZOS)


def prepare_image(source: str | os.PathLike[str], thumbnail_side: int = 0) -> PreparedImage:
    """The `image_url` for `source` (and a thumbnail when asked); raises ImageRejected with a reason."""
    text = os.fspath(source)
    if isinstance(source, str) and is_web_url(text):
        return PreparedImage(text.strip(), 0, 0, "", 0, [])
    if text.startswith("data:image/"):
        return PreparedImage(text, 0, 0, text[5 : text.find(";")], len(text), [])
    p = Path(text)
    img, size = _open(p)
    with img:
        notes, reencode = _plan(img, p, size)
        upright = _flatten(ImageOps.exif_transpose(img) if _orientation(img) != 1 else img)
        if not reencode:
            mime = PASS_THROUGH_FORMATS[img.format or "JPEG"]
            data = p.read_bytes()
        else:
            if max(upright.size) > MAX_SIDE:
                upright.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.LANCZOS)
            data = _encode_jpeg(upright)
            mime = "image/jpeg"
        w, h = upright.size
        thumb = _thumbnail(upright, thumbnail_side) if thumbnail_side else None
    uri = DataUri(f"data:{mime};base64," + _b64(data))
    return PreparedImage(uri, w, h, mime, len(data), notes, thumb)


def _b64(data: bytes, chunk: int = 3 * 256 * 1024) -> str:
    """Base64 in slices (a multiple of 3 bytes), so other threads, the UI's among them, get the GIL."""
    return "".join(base64.b64encode(data[i : i + chunk]).decode("ascii") for i in range(0, len(data), chunk))


def _thumbnail(img: Image.Image, max_side: int) -> bytes:
    small = img.copy()
    small.draft("RGB", (max_side, max_side))
    small.thumbnail((max_side, max_side), Image.Resampling.BILINEAR, reducing_gap=2.0)
    buf = io.BytesIO()
    small.save(buf, "PNG", compress_level=1)
    return buf.getvalue()


def thumbnail_png(source: str | os.PathLike[str], max_side: int = 160) -> bytes:
    """A small PNG thumbnail (for the queue and the history); raises ImageRejected."""
    p = Path(source)
    img, _ = _open(p)
    with img:
        return _thumbnail(_flatten(ImageOps.exif_transpose(img) if _orientation(img) != 1 else img), max_side)
