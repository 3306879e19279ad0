"""Listing pictures: what is accepted, told from the bytes alone, and how it is addressed.

A picture is PNG, JPEG or WebP, recognised by its magic numbers and its header structure (the
file name and the client's Content-Type are never trusted), at most `MAX_PICTURE_BYTES`, with
sane dimensions read from its header (nothing is decoded: no image library is needed, and no
decoder runs on untrusted pixels). SVG is refused outright: it is a document that can carry
script. A picture is addressed by the SHA-256 of its bytes (`picture_digest`); the listing's
metadata document names that digest, so the metadata hash on-chain covers the picture too.

`inspect` raises `PictureRefused` (a `FieldError` on the field `picture`) with a sentence a
person can act on and an HTTP status for the API: 413 too large, else 422 (empty, not one of the
three formats, damaged, impossible dimensions: the API's status for a request its schema accepts,
a body of bytes, that breaks a rule no schema can state).
"""

from __future__ import annotations

import hashlib
import math
import re
import struct
import zlib
from dataclasses import dataclass

from marketplace.web.errors import FieldError

FIELD = "picture"
MAX_PICTURE_BYTES = 2 * 1024 * 1024
MIN_SIDE = 16
MAX_SIDE = 8_000
MAX_PIXELS = 40_000_000
MAX_ASPECT = 5  # the longer side at most five times the shorter: cards crop to 3:2
CONTENT_TYPES = {"png": "image/png", "jpeg": "image/jpeg", "webp": "image/webp"}
DIGEST_RE = re.compile(r"^[0-9a-f]{64}$")
MEDIA_PATH = "/media/"  # pictures are served at /media/<sha256> (marketplace.web.media)

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_PNG_IEND = b"\x00\x00\x00\x00IEND\xaeB`\x82"
# JPEG start-of-frame markers (baseline, progressive, lossless, arithmetic); not DHT/JPG/DAC.
_JPEG_SOF = frozenset({0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE,
                       0xCF})
# Markers without a length: TEM, RST0-7 (SOI/EOI are handled on their own).
_JPEG_BARE = frozenset({0x01, *range(0xD0, 0xD8)})

# Formats people try that are not accepted, by their magic numbers (for a precise message).
_OTHER_FORMATS: tuple[tuple[bytes, str], ...] = (
    (b"GIF87a", "a GIF"), (b"GIF89a", "a GIF"), (b"BM", "a BMP"), (b"%PDF", "a PDF"),
    (b"II*\x00", "a TIFF"), (b"MM\x00*", "a TIFF"), (b"\x00\x00\x01\x00", "an icon"),
)


class PictureRefused(FieldError):
    """An upload that is not an acceptable picture; the message says why in plain words. Its
    code is its status's (`unprocessable`, `too_large`, `unsupported_media_type`)."""

    def __init__(self, message: str, status: int = 422) -> None:
        super().__init__(message, FIELD, status=status)


@dataclass(frozen=True)
class Picture:
    """An accepted picture: its bytes, its content type and size, and its content address."""

    data: bytes
    kind: str  # png | jpeg | webp
    width: int
    height: int

    @property
    def content_type(self) -> str:
        """The Content-Type it is served with."""
        return CONTENT_TYPES[self.kind]

    @property
    def digest(self) -> str:
        """Lower-case hex SHA-256 of the bytes: the picture's address."""
        return picture_digest(self.data)


def picture_digest(data: bytes) -> str:
    """Lower-case hex SHA-256 of `data`."""
    return hashlib.sha256(data).hexdigest()


def is_digest(text: object) -> bool:
    """Whether `text` is a picture address (64 lower-case hex digits)."""
    return isinstance(text, str) and DIGEST_RE.match(text) is not None


def picture_url(digest: str) -> str:
    """Where the picture with this digest is served."""
    return MEDIA_PATH + digest


def sniff(data: bytes) -> str | None:
    """The format the bytes announce (png, jpeg, webp), or None; the magic numbers only."""
    if data.startswith(_PNG_SIGNATURE):
        return "png"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    return None


def megabytes(size: int, *, up: bool = False) -> str:
    """A byte count for people: '2 MB', '3.4 MB', '120 KB'; `up` rounds up (a size over a
    limit never reads as the limit)."""
    if size >= 1024 * 1024:
        tenths = size * 10 / (1024 * 1024)
        shown = (math.ceil(tenths) if up else round(tenths)) / 10
        return f"{shown:.1f}".removesuffix(".0") + " MB"
    return f"{max(1, math.ceil(size / 1024) if up else round(size / 1024))} KB"


def too_large(size: int | None = None) -> PictureRefused:
    """The refusal of a picture over the size limit."""
    limit = megabytes(MAX_PICTURE_BYTES)
    said = f"The picture is {megabytes(size, up=True)}" if size else "The picture is too large"
    return PictureRefused(f"{said}; at most {limit} is accepted. Save it smaller (or as a "
                          "JPEG or WebP) and choose it again.", status=413)


def inspect(data: bytes) -> Picture:
    """`data` as an accepted picture, or `PictureRefused` saying why not."""
    if not data:
        raise PictureRefused("The picture file is empty; choose the file again.")
    if len(data) > MAX_PICTURE_BYTES:
        raise too_large(len(data))
    kind = sniff(data)
    if kind is None:
        raise PictureRefused(_not_a_picture(data))
    width, height = {"png": _png_size, "jpeg": _jpeg_size, "webp": _webp_size}[kind](data)
    _check_dimensions(width, height)
    return Picture(data, kind, width, height)


def _not_a_picture(data: bytes) -> str:
    head = data[:4096].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    accepted = "Only PNG, JPEG or WebP pictures are accepted"
    if b"<svg" in head:
        return f"SVG pictures are not accepted (they can carry scripts). {accepted}."
    if head.startswith(b"<"):
        return f"This file is a web page or XML document, not a picture. {accepted}."
    for magic, name in _OTHER_FORMATS:
        if data.startswith(magic):
            return f"This file is {name}, not a PNG, JPEG or WebP picture. {accepted}."
    return f"This file is not a PNG, JPEG or WebP picture (its contents say so, whatever its " \
           f"name). {accepted}."


def _damaged(kind: str, detail: str) -> PictureRefused:
    return PictureRefused(f"The {kind} file is damaged or incomplete ({detail}); export it "
                          "again and choose the new file.")


def _check_dimensions(width: int, height: int) -> None:
    size = f"{width:,}×{height:,} pixels"
    if width < MIN_SIDE or height < MIN_SIDE:
        raise PictureRefused(f"The picture is {size}; it must be at least {MIN_SIDE} pixels "
                             "on each side.")
    if width > MAX_SIDE or height > MAX_SIDE or width * height > MAX_PIXELS:
        raise PictureRefused(f"The picture is {size}; at most {MAX_SIDE:,} pixels on each "
                             f"side and {MAX_PIXELS // 1_000_000} million pixels in all are "
                             "accepted.")
    if max(width, height) > MAX_ASPECT * min(width, height):
        raise PictureRefused(f"The picture is {size}: too long and narrow to show on a card "
                             f"(at most {MAX_ASPECT} times as wide as it is tall, or the other "
                             "way round).")


def _png_size(data: bytes) -> tuple[int, int]:
    """Walk the chunks: IHDR first, every length inside the file, every CRC right, IDAT
    present, IEND last."""
    offset = len(_PNG_SIGNATURE)
    seen_idat = False
    first = True
    width = height = 0
    while True:
        if offset + 12 > len(data):
            raise _damaged("PNG", "it ends inside a chunk")
        length, name = struct.unpack(">I4s", data[offset:offset + 8])
        end = offset + 12 + length
        if end > len(data):
            raise _damaged("PNG", "a chunk runs past the end of the file")
        body = data[offset + 8:offset + 8 + length]
        (crc,) = struct.unpack(">I", data[offset + 8 + length:end])
        if zlib.crc32(name + body) != crc:
            raise _damaged("PNG", f"the checksum of a {name.decode('latin-1')!r} chunk is "
                                  "wrong")
        if first:
            if name != b"IHDR" or length != 13:
                raise _damaged("PNG", "the header chunk is missing")
            width, height = struct.unpack(">II", body[:8])
            first = False
        seen_idat = seen_idat or name == b"IDAT"
        offset = end
        if name == b"IEND":
            break
    if not seen_idat:
        raise _damaged("PNG", "it holds no image data")
    if data[offset:].strip(b"\x00"):
        raise _damaged("PNG", "there is data after its end")
    return width, height


def _jpeg_size(data: bytes) -> tuple[int, int]:
    """Walk the marker segments up to the scan: a frame header (SOFn) must come first; the
    end-of-image marker must follow the scan."""
    offset = 2
    size: tuple[int, int] | None = None
    while True:
        if offset + 4 > len(data):
            raise _damaged("JPEG", "it ends before the image data")
        if data[offset] != 0xFF:
            raise _damaged("JPEG", "a segment marker is missing")
        marker = data[offset + 1]
        if marker == 0xFF:  # fill byte
            offset += 1
            continue
        if marker in _JPEG_BARE:
            offset += 2
            continue
        if marker in (0xD8, 0xD9):
            raise _damaged("JPEG", "it ends before the image data")
        (length,) = struct.unpack(">H", data[offset + 2:offset + 4])
        if length < 2 or offset + 2 + length > len(data):
            raise _damaged("JPEG", "a segment runs past the end of the file")
        if marker in _JPEG_SOF:
            if length < 8:
                raise _damaged("JPEG", "the frame header is too short")
            height, width = struct.unpack(">HH", data[offset + 5:offset + 9])
            size = (width, height)
        if marker == 0xDA:  # start of scan: the entropy-coded data follows
            break
        offset += 2 + length
    if size is None:
        raise _damaged("JPEG", "there is no frame header before the image data")
    if b"\xff\xd9" not in data[offset:]:
        raise _damaged("JPEG", "the end-of-image marker is missing")
    if size[1] == 0:
        raise _damaged("JPEG", "the height is defined later in the file, which is not "
                               "supported")
    return size


def _webp_size(data: bytes) -> tuple[int, int]:
    """The RIFF size must be the file's; the first chunk is VP8, VP8L or VP8X."""
    (riff_size,) = struct.unpack("<I", data[4:8])
    if riff_size + 8 != len(data) or riff_size % 2:
        raise _damaged("WebP", "its size field does not match the file")
    if len(data) < 30:
        raise _damaged("WebP", "it ends inside its header")
    chunk, length = data[12:16], struct.unpack("<I", data[16:20])[0]
    if 20 + length > len(data):
        raise _damaged("WebP", "a chunk runs past the end of the file")
    body = data[20:20 + length]
    if chunk == b"VP8 ":
        if len(body) < 10 or body[3:6] != b"\x9d\x01\x2a":
            raise _damaged("WebP", "the lossy frame header is wrong")
        width, height = struct.unpack("<HH", body[6:10])
        return width & 0x3FFF, height & 0x3FFF
    if chunk == b"VP8L":
        if len(body) < 5 or body[0] != 0x2F:
            raise _damaged("WebP", "the lossless header is wrong")
        (bits,) = struct.unpack("<I", body[1:5])
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if chunk == b"VP8X":
        if len(body) < 10:
            raise _damaged("WebP", "the extended header is too short")
        width = int.from_bytes(body[4:7], "little") + 1
        height = int.from_bytes(body[7:10], "little") + 1
        return width, height
    raise _damaged("WebP", "its first chunk is not an image")
