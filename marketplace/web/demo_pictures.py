"""Pictures for the demo market, drawn here: a flat illustration per category (a car, soap bubbles,
books, a house, a parcel) in a few colour variants, as PNG written with zlib and struct only.

Deterministic (the same bytes on every machine and run, so the same SHA-256) and offline: nothing
is downloaded and no image library is needed. `demo_picture(category, variant)` is cached; the
demo seeding gives most listings one of these (listings share them: content addressing stores
each once).
"""

from __future__ import annotations

import struct
import zlib
from functools import lru_cache

WIDTH, HEIGHT = 360, 240
VARIANTS = 4

Colour = tuple[int, int, int]

# Per category: sky top, sky bottom, ground, and the motif's main and second colours.
PALETTES: dict[str, tuple[Colour, Colour, Colour, Colour, Colour]] = {
    "rides": ((214, 230, 250), (150, 190, 240), (92, 104, 124), (31, 95, 191), (250, 200, 60)),
    "cleaning": ((220, 244, 238), (160, 222, 206), (120, 170, 160), (43, 122, 104),
                 (255, 255, 255)),
    "tutoring": ((240, 230, 250), (205, 180, 232), (150, 120, 170), (123, 74, 166),
                 (232, 120, 70)),
    "repairs": ((252, 236, 220), (240, 196, 150), (130, 110, 90), (163, 90, 31), (60, 70, 90)),
    "delivery": ((252, 228, 228), (238, 170, 170), (140, 100, 100), (168, 59, 59),
                 (240, 200, 140)),
}


class Canvas:
    """An RGB raster with the few shapes the illustrations need (spans, not pixels)."""

    def __init__(self, width: int, height: int) -> None:
        self.width, self.height = width, height
        self.pixels = bytearray(width * height * 3)

    def span(self, y: int, x0: int, x1: int, colour: Colour) -> None:
        """Fill row `y` from x0 (inclusive) to x1 (exclusive), clipped to the canvas."""
        if not 0 <= y < self.height:
            return
        x0, x1 = max(0, x0), min(self.width, x1)
        if x1 > x0:
            start = (y * self.width + x0) * 3
            self.pixels[start:start + (x1 - x0) * 3] = bytes(colour) * (x1 - x0)

    def gradient(self, top: Colour, bottom: Colour) -> None:
        """A vertical gradient over the whole canvas."""
        for y in range(self.height):
            t = y / max(1, self.height - 1)
            colour = tuple(round(a + (b - a) * t) for a, b in zip(top, bottom, strict=True))
            self.span(y, 0, self.width, colour)  # type: ignore[arg-type]

    def rect(self, x: int, y: int, w: int, h: int, colour: Colour) -> None:
        """A filled rectangle."""
        for row in range(y, y + h):
            self.span(row, x, x + w, colour)

    def circle(self, cx: int, cy: int, r: int, colour: Colour) -> None:
        """A filled disc."""
        for row in range(cy - r, cy + r + 1):
            dy = row - cy
            half = int((r * r - dy * dy) ** 0.5)
            self.span(row, cx - half, cx + half + 1, colour)

    def triangle(self, apex: tuple[int, int], base_y: int, half_width: int,
                 colour: Colour) -> None:
        """An isosceles triangle pointing up, from `apex` down to a base at `base_y`."""
        ax, ay = apex
        for row in range(ay, base_y + 1):
            half = round(half_width * (row - ay) / max(1, base_y - ay))
            self.span(row, ax - half, ax + half + 1, colour)

    def png(self) -> bytes:
        """The canvas as a PNG (8-bit RGB, no filter, deflate level 9)."""
        stride = self.width * 3
        raw = b"".join(b"\x00" + bytes(self.pixels[y * stride:(y + 1) * stride])
                       for y in range(self.height))

        def chunk(name: bytes, body: bytes) -> bytes:
            return (struct.pack(">I", len(body)) + name + body
                    + struct.pack(">I", zlib.crc32(name + body)))

        header = struct.pack(">IIBBBBB", self.width, self.height, 8, 2, 0, 0, 0)
        return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
                + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


def _shade(colour: Colour, factor: float) -> Colour:
    r, g, b = (min(255, max(0, round(c * factor))) for c in colour)
    return (r, g, b)


def _rides(c: Canvas, main: Colour, second: Colour, ground_y: int) -> None:
    c.rect(70, ground_y - 70, 220, 45, main)                     # body
    c.circle(70, ground_y - 48, 22, main)
    c.circle(290, ground_y - 48, 22, main)
    c.rect(120, ground_y - 110, 120, 45, _shade(main, 0.85))     # cabin
    c.rect(132, ground_y - 102, 44, 30, (225, 238, 252))         # windows
    c.rect(184, ground_y - 102, 44, 30, (225, 238, 252))
    c.rect(282, ground_y - 62, 14, 10, second)                   # headlight
    for x in (115, 245):                                          # wheels
        c.circle(x, ground_y - 22, 24, (40, 44, 52))
        c.circle(x, ground_y - 22, 10, (190, 196, 206))


def _cleaning(c: Canvas, main: Colour, second: Colour, ground_y: int) -> None:
    c.rect(135, ground_y - 80, 90, 80, main)                      # bucket
    c.rect(125, ground_y - 88, 110, 12, _shade(main, 0.8))
    for cx, cy, r in ((150, ground_y - 120, 26), (200, ground_y - 140, 34),
                      (250, ground_y - 112, 20), (110, ground_y - 150, 16),
                      (280, ground_y - 165, 14)):
        c.circle(cx, cy, r, _shade(second, 0.92))
        c.circle(cx - r // 3, cy - r // 3, max(3, r // 4), second)


def _tutoring(c: Canvas, main: Colour, second: Colour, ground_y: int) -> None:
    books = ((main, 200), (second, 180), (_shade(main, 0.7), 210), ((70, 130, 180), 170))
    y = ground_y
    for colour, width in books:
        y -= 30
        c.rect(180 - width // 2, y, width, 26, colour)
        c.rect(180 - width // 2 + 8, y + 4, width - 16, 4, (250, 248, 240))
    c.rect(240, y - 60, 8, 60, (60, 60, 70))                      # a pencil
    c.triangle((244, y - 76), y - 60, 4, (60, 60, 70))


def _repairs(c: Canvas, main: Colour, second: Colour, ground_y: int) -> None:
    c.rect(110, ground_y - 100, 140, 100, (250, 246, 238))       # house
    c.triangle((180, ground_y - 170), ground_y - 100, 90, main)  # roof
    c.rect(160, ground_y - 60, 40, 60, _shade(main, 0.75))       # door
    c.rect(122, ground_y - 85, 28, 24, (180, 210, 240))
    c.rect(210, ground_y - 85, 28, 24, (180, 210, 240))
    c.rect(270, ground_y - 90, 14, 90, second)                   # a wrench's handle
    c.circle(277, ground_y - 96, 16, second)
    c.circle(277, ground_y - 104, 7, (240, 196, 150))


def _delivery(c: Canvas, main: Colour, second: Colour, ground_y: int) -> None:
    c.rect(120, ground_y - 110, 120, 110, second)                 # parcel
    c.rect(172, ground_y - 110, 16, 110, _shade(second, 0.8))    # tape
    c.rect(120, ground_y - 62, 120, 12, _shade(second, 0.8))
    c.rect(40, ground_y - 150, 60, 14, main)                      # speed lines
    c.rect(20, ground_y - 120, 80, 14, main)
    c.rect(50, ground_y - 90, 50, 14, main)
    c.triangle((300, ground_y - 160), ground_y - 120, 24, main)  # an arrow up
    c.rect(292, ground_y - 120, 16, 60, main)


DRAW = {"rides": _rides, "cleaning": _cleaning, "tutoring": _tutoring, "repairs": _repairs,
        "delivery": _delivery}


@lru_cache(maxsize=64)
def demo_picture(category: str, variant: int = 0) -> bytes:
    """The demo PNG of a category (a catalogue key) in one of `VARIANTS` colourings."""
    top, bottom, ground, main, second = PALETTES.get(category, PALETTES["rides"])
    variant %= VARIANTS
    tint = (1.0, 0.9, 1.08, 0.8)[variant]
    canvas = Canvas(WIDTH, HEIGHT)
    canvas.gradient(_shade(top, min(1.0, tint + 0.1)), _shade(bottom, tint))
    sun_x = (60, 300, 180, 90)[variant]
    canvas.circle(sun_x, 44, 22, (255, 236, 170))
    ground_y = HEIGHT - 36
    canvas.rect(0, ground_y, WIDTH, HEIGHT - ground_y, ground)
    DRAW.get(category, _rides)(canvas, _shade(main, tint), second, ground_y)
    return canvas.png()
