"""Listing pictures: told from their bytes, refused in words for each bad kind, addressed by
SHA-256, stored alike on SQLite and PostgreSQL, named in the metadata the chain's hash covers,
and the demo's drawn deterministically."""

from __future__ import annotations

import hashlib
import os
import struct
import uuid
import zlib
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, create_engine, text, update
from sqlalchemy.exc import OperationalError

from marketplace.web import demo_pictures
from marketplace.web.actions import metadata_document
from marketplace.web.db import (
    create_web_schema,
    get_picture,
    metadata_hash,
    picture_info,
    pictures,
    prune_pictures,
    put_metadata,
    put_picture,
)
from marketplace.web.demo_pictures import demo_picture
from marketplace.web.pictures import (
    MAX_PICTURE_BYTES,
    PictureRefused,
    inspect,
    is_digest,
    picture_digest,
    sniff,
)

POSTGRES_URL = os.environ.get(
    "MARKETPLACE_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


# ------------------------------------------------------------------ minimal valid files


def _chunk(name: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + name + body + struct.pack(">I", zlib.crc32(name + body))


def png(width: int = 40, height: int = 30, *, idat: bool = True, tail: bytes = b"") -> bytes:
    raw = b"".join(b"\x00" + b"\x80" * (width * 3) for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n"
            + _chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + (_chunk(b"IDAT", zlib.compress(raw)) if idat else b"")
            + _chunk(b"IEND", b"") + tail)


def jpeg(width: int = 64, height: int = 48, *, frame: bool = True, end: bool = True) -> bytes:
    app0 = b"\xff\xe0" + struct.pack(">H", 16) + b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    sof = b"\xff\xc0" + struct.pack(">HBHHB", 11, 8, height, width, 1) + b"\x01\x11\x00"
    sos = b"\xff\xda" + struct.pack(">HB", 8, 1) + b"\x01\x00\x00\x3f\x00"
    return (b"\xff\xd8" + app0 + (sof if frame else b"") + sos + b"\x12\x34\x56"
            + (b"\xff\xd9" if end else b""))


def webp(chunk: bytes, body: bytes) -> bytes:
    if len(body) % 2:
        body += b"\x00"
    inner = b"WEBP" + chunk + struct.pack("<I", len(body)) + body
    return b"RIFF" + struct.pack("<I", len(inner)) + inner


def webp_lossless(width: int, height: int) -> bytes:
    bits = (width - 1) | (height - 1) << 14
    return webp(b"VP8L", b"\x2f" + struct.pack("<I", bits) + b"\x00" * 8)


def webp_lossy(width: int, height: int) -> bytes:
    return webp(b"VP8 ", b"\x00\x00\x00\x9d\x01\x2a" + struct.pack("<HH", width, height)
                + b"\x00" * 8)


def webp_extended(width: int, height: int) -> bytes:
    return webp(b"VP8X", b"\x00\x00\x00\x00" + (width - 1).to_bytes(3, "little")
                + (height - 1).to_bytes(3, "little"))


SVG = b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'


# ------------------------------------------------------------------ sniffing and digests


@pytest.mark.parametrize(("data", "kind", "content_type", "size"), [
    (png(40, 30), "png", "image/png", (40, 30)),
    (jpeg(64, 48), "jpeg", "image/jpeg", (64, 48)),
    (webp_lossless(100, 80), "webp", "image/webp", (100, 80)),
    (webp_lossy(120, 90), "webp", "image/webp", (120, 90)),
    (webp_extended(300, 200), "webp", "image/webp", (300, 200)),
], ids=["png", "jpeg", "webp-lossless", "webp-lossy", "webp-extended"])
def test_an_accepted_picture_is_told_from_its_bytes_with_its_type_and_size(
    data: bytes, kind: str, content_type: str, size: tuple[int, int],
) -> None:
    picture = inspect(data)

    assert sniff(data) == kind
    assert (picture.kind, picture.content_type) == (kind, content_type)
    assert (picture.width, picture.height) == size
    assert picture.digest == hashlib.sha256(data).hexdigest() == picture_digest(data)
    assert is_digest(picture.digest)


def test_sniffing_ignores_names_and_claims_and_reads_only_magic_numbers() -> None:
    assert sniff(b"GIF89a" + b"\x00" * 20) is None
    assert sniff(SVG) is None
    assert sniff(b"RIFF\x10\x00\x00\x00WAVEfmt ") is None  # RIFF, but a sound
    assert sniff(png()[:8]) == "png"


def test_a_digest_is_64_lower_case_hex_digits() -> None:
    digest = picture_digest(b"x")
    assert is_digest(digest)
    assert not is_digest(digest.upper())
    assert not is_digest(digest[:-1])
    assert not is_digest("0x" + digest[2:])
    assert not is_digest(None)


# ------------------------------------------------------------------ every bad kind, in words


def _refusal(data: bytes) -> PictureRefused:
    with pytest.raises(PictureRefused) as caught:
        inspect(data)
    error = caught.value
    assert error.field == "picture" and error.message.endswith(".")
    return error


@pytest.mark.parametrize(("data", "status", "words"), [
    (b"", 422, "empty"),
    (SVG, 422, "SVG pictures are not accepted (they can carry scripts)"),
    (b"\xef\xbb\xbf  <svg viewBox='0 0 1 1'/>", 422, "SVG"),
    (b"<!doctype html><html><script>x</script>", 422, "web page"),
    (b"GIF89a" + b"\x00" * 40, 422, "This file is a GIF"),
    (b"%PDF-1.7 ...", 422, "a PDF"),
    (b"hello, not a picture at all", 422, "not a PNG, JPEG or WebP picture"),
], ids=["empty", "svg", "svg-bom", "html", "gif", "pdf", "text"])
def test_what_is_not_a_picture_is_refused_by_what_it_is(
    data: bytes, status: int, words: str,
) -> None:
    error = _refusal(data)
    assert (error.status, words in error.message) == (status, True), error.message


def test_a_picture_over_the_limit_is_refused_with_both_sizes() -> None:
    data = png() + b"\x00" * (MAX_PICTURE_BYTES + 1 - len(png()))
    error = _refusal(data)
    assert error.status == 413 and "at most 2 MB" in error.message
    assert "The picture is 2.1 MB" in error.message  # rounded up: never "2 MB; at most 2 MB"
    assert len(png()) < MAX_PICTURE_BYTES and inspect(png())


@pytest.mark.parametrize(("data", "words"), [
    (png()[:-20], "PNG file is damaged"),
    (png(idat=False), "holds no image data"),
    (png(tail=b"<script>alert(1)</script>"), "data after its end"),
    (png()[:30] + bytes([png()[30] ^ 0xFF]) + png()[31:], "checksum"),
    (b"\x89PNG\r\n\x1a\n" + _chunk(b"tEXt", b"hi") + png()[8:], "header chunk is missing"),
    (jpeg(frame=False), "no frame header"),
    (jpeg(end=False), "end-of-image marker is missing"),
    (jpeg()[:20], "JPEG file is damaged"),
    (jpeg(64, 0), "height is defined later"),
    (webp_lossless(50, 50)[:-2], "size field does not match"),
    (webp(b"ALPH", b"\x00" * 20), "first chunk is not an image"),
    (webp(b"VP8 ", b"\x00" * 12), "lossy frame header is wrong"),
], ids=["png-truncated", "png-no-idat", "png-trailing", "png-crc", "png-no-ihdr",
        "jpeg-no-sof", "jpeg-no-eoi", "jpeg-truncated", "jpeg-dnl", "webp-size", "webp-chunk",
        "webp-vp8"])
def test_a_damaged_file_is_refused_as_damaged(data: bytes, words: str) -> None:
    error = _refusal(data)
    assert error.status == 422 and "damaged or incomplete" in error.message
    assert words in error.message, error.message


@pytest.mark.parametrize(("data", "words"), [
    (png(8, 40), "at least 16 pixels on each side"),
    (webp_extended(9000, 400), "at most 8,000 pixels on each side"),
    (webp_extended(8000, 6000), "40 million pixels"),
    (png(200, 20), "too long and narrow"),
    (jpeg(20, 120), "too long and narrow"),
], ids=["tiny", "too-wide", "too-many-pixels", "panorama", "tower"])
def test_impossible_dimensions_are_refused_with_the_pictures_size(
    data: bytes, words: str,
) -> None:
    error = _refusal(data)
    assert error.status == 422 and words in error.message and "×" in error.message


# ------------------------------------------------------------------ the store, both backends


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest, tmp_path: os.PathLike[str]) -> Iterator[Engine]:
    if request.param == "sqlite":
        found = create_engine(f"sqlite:///{tmp_path}/web.db")
        create_web_schema(found)
        yield found
        found.dispose()
        return
    schema = f"pictures_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    try:
        admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT",
                              connect_args={"connect_timeout": 3})
        with admin.connect() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    except OperationalError as exc:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"PostgreSQL unreachable: {exc}")
        pytest.skip("no PostgreSQL server answers")
    separator = "&" if "?" in POSTGRES_URL else "?"
    found = create_engine(f"{POSTGRES_URL}{separator}options=-csearch_path%3D{schema}")
    create_web_schema(found)
    try:
        yield found
    finally:
        found.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


def test_a_picture_is_stored_once_under_its_sha256_and_read_back_byte_for_byte(
    engine: Engine,
) -> None:
    picture = inspect(demo_picture("repairs", 1))

    digest = put_picture(engine, picture, "0x" + "ab" * 20)
    again = put_picture(engine, inspect(bytes(picture.data)), None)
    stored = get_picture(engine, digest)
    info = picture_info(engine, digest)

    assert digest == again == hashlib.sha256(picture.data).hexdigest()
    assert stored is not None and stored.data == picture.data
    assert (stored.content_type, stored.width, stored.height) == ("image/png", 360, 240)
    assert info is not None and info.size == len(picture.data) and info.data == b""
    with engine.connect() as conn:
        assert conn.execute(text("select count(*) from web_pictures")).scalar() == 1
    assert get_picture(engine, "0" * 64) is None and picture_info(engine, "0" * 64) is None


def test_a_stored_picture_whose_bytes_were_altered_is_not_served(engine: Engine) -> None:
    digest = put_picture(engine, inspect(png()))
    with engine.begin() as conn:
        conn.execute(update(pictures).where(pictures.c.sha256 == digest)
                     .values(data=png(41, 30)))

    assert get_picture(engine, digest) is None
    assert picture_info(engine, digest) is not None  # the row is there; its bytes are wrong


# ------------------------------------------------------------------ pruning unnamed uploads

DAY = 86_400.0


def _age(engine: Engine, digest: str, stored_at: float) -> None:
    with engine.begin() as conn:
        conn.execute(update(pictures).where(pictures.c.sha256 == digest)
                     .values(stored_at=stored_at))


def _stored(engine: Engine) -> set[str]:
    with engine.connect() as conn:
        return set(conn.execute(text("select sha256 from web_pictures")).scalars())


def test_only_old_pictures_no_metadata_document_names_are_pruned(engine: Engine) -> None:
    now = 10 * DAY
    named, abandoned, young = (put_picture(engine, inspect(png(40 + i, 30))) for i in range(3))
    put_metadata(engine, metadata_document({"name": "A", "description": "d", "picture": named}))
    put_metadata(engine, metadata_document({"name": "B", "description": "no picture"}))
    for digest, stored_at in ((named, 0.0), (abandoned, 0.0), (young, now - 3600)):
        _age(engine, digest, stored_at)

    dry = prune_pictures(engine, grace_s=DAY, now=now, dry_run=True)
    assert dry.digests == (abandoned,) and _stored(engine) == {named, abandoned, young}

    pruned = prune_pictures(engine, grace_s=DAY, now=now)
    assert pruned.digests == (abandoned,) and pruned.kept == 2
    assert pruned.size == len(png(41, 30))
    assert _stored(engine) == {named, young}
    assert prune_pictures(engine, grace_s=0.0, now=now).digests == (young,)


def test_an_upload_again_restarts_the_grace_time(engine: Engine) -> None:
    digest = put_picture(engine, inspect(png()))
    _age(engine, digest, 0.0)

    put_picture(engine, inspect(png()))  # the same bytes chosen again for a new listing

    assert prune_pictures(engine, grace_s=DAY).digests == ()
    assert _stored(engine) == {digest}


def test_a_document_naming_the_picture_after_the_scan_still_keeps_it(
    engine: Engine, monkeypatch: pytest.MonkeyPatch,
) -> None:
    digest = put_picture(engine, inspect(png()))
    _age(engine, digest, 0.0)
    put_metadata(engine, metadata_document({"name": "A", "description": "d", "picture": digest}))
    # As if the document had been stored between the scan and the DELETE.
    monkeypatch.setattr("marketplace.web.db._named_pictures", lambda conn: set())

    assert prune_pictures(engine, grace_s=DAY, now=DAY * 2).digests == ()
    assert _stored(engine) == {digest}


# ------------------------------------------------------------------ metadata covers the picture


def test_the_metadata_document_names_the_picture_so_its_hash_covers_it() -> None:
    values = {"name": "Aino's Rides", "description": "Quiet electric car"}
    without = metadata_document({**values, "picture": ""})
    first = metadata_document({**values, "picture": picture_digest(png())})
    second = metadata_document({**values, "picture": picture_digest(png(41, 30))})

    assert without == values  # no picture: the two-member document, the same hash as before
    assert metadata_hash(without) == metadata_hash(dict(values))
    assert first["picture"] == picture_digest(png())
    assert len({metadata_hash(without), metadata_hash(first), metadata_hash(second)}) == 3


# ------------------------------------------------------------------ demo pictures


def test_the_demo_draws_a_valid_distinct_png_per_category_and_variant_the_same_every_time(
) -> None:
    drawn = {(c, v): demo_picture(c, v) for c in demo_pictures.PALETTES
             for v in range(demo_pictures.VARIANTS)}
    demo_picture.cache_clear()
    redrawn = {key: demo_picture(*key) for key in drawn}

    assert redrawn == drawn
    assert len({picture_digest(d) for d in drawn.values()}) == len(drawn)
    for data in drawn.values():
        picture = inspect(data)
        assert (picture.kind, picture.width, picture.height) == ("png", 360, 240)
        assert len(data) < 20_000
