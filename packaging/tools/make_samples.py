"""Draw the sample images in resources/samples (made by the project, no downloaded pictures)."""

from __future__ import annotations

import math
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter

OUT = Path(__file__).resolve().parents[2] / "resources" / "samples"


def gradient(size: tuple[int, int], top: tuple[int, int, int], bottom: tuple[int, int, int]) -> Image.Image:
    w, h = size
    img = Image.new("RGB", size)
    draw = ImageDraw.Draw(img)
    for y in range(h):
        t = y / (h - 1)
        draw.line([(0, y), (w, y)], fill=tuple(int(a + (b - a) * t) for a, b in zip(top, bottom, strict=True)))
    return img


def mountains() -> Image.Image:
    img = gradient((1600, 900), (255, 148, 92), (70, 40, 110))
    draw = ImageDraw.Draw(img)
    draw.ellipse((1020, 380, 1260, 620), fill=(255, 226, 140))
    for layer, (color, base, amp) in enumerate(
        [((92, 52, 120), 640, 140), ((58, 34, 90), 720, 110), ((30, 20, 55), 800, 80)]
    ):
        pts = [(0, 900)]
        for x in range(0, 1601, 20):
            y = base - amp * abs(math.sin(x / (180 + 60 * layer) + layer)) - 30 * math.sin(x / 47.0)
            pts.append((x, y))
        pts.append((1600, 900))
        draw.polygon(pts, fill=color)
    return img.filter(ImageFilter.SMOOTH)


def portrait() -> Image.Image:
    img = gradient((900, 1200), (120, 190, 220), (30, 80, 120))
    draw = ImageDraw.Draw(img)
    draw.ellipse((170, 820, 730, 1400), fill=(200, 60, 70))  # shoulders
    draw.rectangle((390, 700, 510, 860), fill=(236, 188, 150))  # neck
    draw.ellipse((250, 250, 650, 760), fill=(244, 200, 162))  # face
    draw.chord((230, 190, 670, 620), 180, 360, fill=(70, 40, 30))  # hair
    for x in (350, 550):
        draw.ellipse((x - 35, 450, x + 35, 500), fill=(255, 255, 255))
        draw.ellipse((x - 16, 458, x + 16, 492), fill=(60, 90, 60))
    draw.arc((370, 560, 530, 660), 20, 160, fill=(170, 60, 70), width=10)  # smile
    return img.filter(ImageFilter.SMOOTH)


def robot() -> Image.Image:
    img = Image.new("RGBA", (1024, 1024), (0, 0, 0, 0))
    draw = ImageDraw.Draw(img)
    draw.rounded_rectangle(
        (262, 300, 762, 760), radius=90, fill=(170, 180, 200, 255), outline=(60, 70, 90, 255), width=14
    )
    draw.ellipse((360, 440, 460, 540), fill=(40, 220, 255, 255))
    draw.ellipse((564, 440, 664, 540), fill=(40, 220, 255, 255))
    draw.rectangle((412, 620, 612, 660), fill=(60, 70, 90, 255))
    draw.line((512, 300, 512, 190), fill=(60, 70, 90, 255), width=14)
    draw.ellipse((482, 150, 542, 210), fill=(255, 90, 90, 255))
    return img


if __name__ == "__main__":
    OUT.mkdir(parents=True, exist_ok=True)
    mountains().save(OUT / "sunset-mountains.jpg", quality=90)
    portrait().save(OUT / "portrait.png")
    robot().save(OUT / "robot-transparent.png")
    print("wrote", *sorted(p.name for p in OUT.iterdir()))
