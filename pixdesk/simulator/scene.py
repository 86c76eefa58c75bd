"""A picture drawn from a prompt, for text-to-video in demo mode: deterministic from the prompt and the seed.

Words of the prompt pick the palette ("night", "ocean", "forest"...), the seed the layout; the prompt's own
words are written into the scene, so each demo clip shows what it was asked for.
"""

from __future__ import annotations

import colorsys
import hashlib
import random
import re

from PIL import Image, ImageDraw, ImageFont

Colour = tuple[int, int, int]
# (sky top, sky bottom, land) by a word of the prompt; the first word found wins.
PALETTES: tuple[tuple[tuple[str, ...], tuple[Colour, Colour, Colour]], ...] = (
    (("night", "moon", "star", "stars", "space", "galaxy"), ((8, 12, 40), (48, 46, 110), (18, 20, 46))),
    (("sunset", "sunrise", "dusk", "dawn", "evening"), ((92, 40, 120), (255, 150, 70), (60, 30, 50))),
    (
        ("ocean", "sea", "water", "underwater", "river", "lake", "fish", "koi", "wave", "waves"),
        ((30, 110, 180), (0, 40, 90), (10, 70, 110)),
    ),
    (
        ("forest", "jungle", "tree", "trees", "garden", "grass", "meadow"),
        ((150, 210, 235), (200, 230, 190), (40, 110, 50)),
    ),
    (("desert", "sand", "dune", "dunes", "canyon"), ((120, 180, 230), (250, 215, 160), (205, 150, 80))),
    (
        ("snow", "ice", "winter", "mountain", "mountains", "glacier"),
        ((150, 190, 235), (235, 242, 250), (190, 205, 225)),
    ),
    (("fire", "dragon", "lava", "volcano", "flames", "explosion"), ((60, 10, 10), (255, 110, 30), (40, 15, 10))),
    (("city", "cyberpunk", "neon", "street", "robot", "future"), ((30, 15, 60), (200, 40, 160), (25, 25, 40))),
)
_FILLER = (
    "a an and the of in on at to from with into onto over under its it is are as by for then that this his her "
    "their they we you our camera moves scene video shot slowly very"
)
STOP_WORDS = frozenset(_FILLER.split())


def words_of(prompt: str) -> list[str]:
    return re.findall(r"[^\W\d_][\w'-]*", prompt.lower())


def palette(prompt: str, rng: random.Random) -> tuple[Colour, Colour, Colour]:
    for word in words_of(prompt):  # the first word that names a palette, in the prompt's order
        for keys, colours in PALETTES:
            if word in keys:
                return colours
    hue = int(hashlib.sha256(prompt.encode("utf-8", "replace")).hexdigest()[:6], 16) / 0xFFFFFF

    def rgb(h: float, s: float, v: float) -> Colour:
        r, g, b = colorsys.hsv_to_rgb(h % 1.0, s, v)
        return round(r * 255), round(g * 255), round(b * 255)

    shift = rng.uniform(-0.04, 0.04)
    return rgb(hue + shift, 0.55, 0.55), rgb(hue + 0.08 + shift, 0.35, 0.95), rgb(hue + 0.5, 0.5, 0.35)


def key_words(prompt: str, count: int = 4) -> list[str]:
    """The prompt's words worth showing: the longest distinct ones that are not filler, in prompt order."""
    seen: dict[str, None] = {}
    for word in words_of(prompt):
        if word not in STOP_WORDS and len(word) > 2:
            seen.setdefault(word, None)
    longest = sorted(seen, key=len, reverse=True)[:count]
    return [w for w in seen if w in longest]


def _mix(a: Colour, b: Colour, t: float) -> Colour:
    return (round(a[0] + (b[0] - a[0]) * t), round(a[1] + (b[1] - a[1]) * t), round(a[2] + (b[2] - a[2]) * t))


def draw_scene(prompt: str, seed: int | None, size: tuple[int, int]) -> Image.Image:
    """A landscape of `size` for `prompt`: a sky, a sun or moon, rolling hills, a few bright subjects, and the
    prompt's key words. Same prompt and seed, same picture."""
    width, height = size
    rng = random.Random(f"{prompt}\0{seed}")
    top, bottom, land = palette(prompt, rng)
    sky = Image.new("RGB", (1, 2))
    sky.putpixel((0, 0), top)
    sky.putpixel((0, 1), bottom)
    img = sky.resize((width, height), Image.Resampling.BILINEAR)
    draw = ImageDraw.Draw(img)
    # A sun (or moon) somewhere in the upper sky.
    r = height * rng.uniform(0.07, 0.12)
    sx, sy = width * rng.uniform(0.15, 0.85), height * rng.uniform(0.12, 0.35)
    draw.ellipse((sx - r, sy - r, sx + r, sy + r), fill=_mix(bottom, (255, 250, 220), 0.8))
    # Three layers of hills, darker toward the front.
    for layer in range(3):
        base = height * (0.55 + 0.12 * layer)
        points = [(0.0, float(height))]
        steps = 8 + 4 * layer
        for i in range(steps + 1):
            points.append((width * i / steps, base - height * rng.uniform(0.0, 0.12)))
        points.append((float(width), float(height)))
        draw.polygon(points, fill=_mix(land, bottom, 0.45 - 0.2 * layer))
    # A few bright subjects: circles, triangles and diamonds in the complementary colour.
    accent = _mix((255 - top[0], 255 - top[1], 255 - top[2]), (255, 255, 255), 0.25)
    for _ in range(rng.randint(3, 6)):
        cx, cy = width * rng.uniform(0.2, 0.8), height * rng.uniform(0.4, 0.8)
        s = height * rng.uniform(0.03, 0.07)
        shape = rng.randrange(3)
        if shape == 0:
            draw.ellipse((cx - s, cy - s, cx + s, cy + s), fill=accent)
        elif shape == 1:
            draw.polygon([(cx, cy - s), (cx + s, cy + s), (cx - s, cy + s)], fill=accent)
        else:
            draw.polygon([(cx, cy - s), (cx + s, cy), (cx, cy + s), (cx - s, cy)], fill=accent)
    # The prompt's words, large, inside the part of the scene every camera move keeps in view.
    words = key_words(prompt) or ["…"]
    size_px = max(12, min(width, height) // 9)
    font = ImageFont.load_default(size_px)
    while size_px > 12 and max(font.getlength(w) for w in words) > width * 0.55:
        size_px = max(12, size_px * 4 // 5)
        font = ImageFont.load_default(size_px)
    for i, word in enumerate(words):
        y = height * (0.3 + 0.4 * i / max(1, len(words)))
        tw = font.getlength(word)
        x = width * 0.5 - tw / 2 + width * rng.uniform(-0.12, 0.12)
        x = min(max(width * 0.2, x), max(width * 0.2, width * 0.8 - tw))
        draw.text((x + 2, y + 2), word, font=font, fill=(0, 0, 0))
        draw.text((x, y), word, font=font, fill=(255, 255, 255))
    return img


__all__ = ["draw_scene", "key_words", "palette"]
