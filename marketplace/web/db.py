"""The web app's own tables (prefixed `web_`), beside the store's and the profile's.

- `web_siwe_nonces`: sign-in nonces, each usable once and only until it expires. Kept in the
  database, not in process memory, so any worker can check a nonce another worker issued.
- `web_provider_metadata`: providers' off-chain metadata (name, description, and the picture's
  digest when the listing has one), addressed by the keccak-256 of its canonical JSON, the
  `metadataHash` the contract stores.
- `web_pictures`: listing pictures (PNG, JPEG, WebP; checked by `marketplace.web.pictures`),
  addressed by the SHA-256 of their bytes, the digest the metadata document names.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from eth_utils.crypto import keccak
from sqlalchemy import (
    Column,
    Connection,
    Engine,
    Float,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    delete,
    exists,
    insert,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError, OperationalError, ProgrammingError

if TYPE_CHECKING:
    from marketplace.web.pictures import Picture

log = logging.getLogger(__name__)

web_metadata = MetaData()

siwe_nonces = Table(
    "web_siwe_nonces",
    web_metadata,
    Column("nonce", String(64), primary_key=True),
    Column("issued_at", Float, nullable=False),
    Column("expires_at", Float, nullable=False),
    Column("used_at", Float, nullable=True),
)

provider_metadata = Table(
    "web_provider_metadata",
    web_metadata,
    Column("hash", String(66), primary_key=True),
    Column("document", Text, nullable=False),
    Column("stored_at", Float, nullable=False),
)

pictures = Table(
    "web_pictures",
    web_metadata,
    Column("sha256", String(64), primary_key=True),
    Column("content_type", String(32), nullable=False),
    Column("width", Integer, nullable=False),
    Column("height", Integer, nullable=False),
    Column("size", Integer, nullable=False),
    Column("data", LargeBinary, nullable=False),
    Column("stored_at", Float, nullable=False),
    Column("stored_by", String(42), nullable=True),  # the signed-in account that uploaded it
)


def create_web_schema(engine: Engine) -> None:
    """Create the web tables that are missing (safe when several workers start at once)."""
    for attempt in range(5):
        try:
            web_metadata.create_all(engine)
            return
        except (OperationalError, ProgrammingError):  # another worker created them meanwhile
            if attempt == 4:
                raise
            time.sleep(0.05 * (attempt + 1))


# ------------------------------------------------------------------ sign-in nonces


def issue_nonce(engine: Engine, nonce: str, ttl: float, now: float | None = None) -> float:
    """Store a fresh nonce valid for `ttl` seconds; returns its expiry time. Old ones are purged."""
    now = time.time() if now is None else now
    with engine.begin() as conn:
        conn.execute(delete(siwe_nonces).where(siwe_nonces.c.expires_at < now - 3600))
        conn.execute(insert(siwe_nonces).values(
            nonce=nonce, issued_at=now, expires_at=now + ttl, used_at=None))
    return now + ttl


def consume_nonce(engine: Engine, nonce: str, now: float | None = None) -> bool:
    """Mark the nonce used if it exists, is unused and has not expired; whether it was.

    One UPDATE with every condition in its WHERE clause: of two concurrent sign-ins with the
    same nonce (in any workers), exactly one succeeds.
    """
    now = time.time() if now is None else now
    statement = (
        update(siwe_nonces)
        .where(
            siwe_nonces.c.nonce == nonce,
            siwe_nonces.c.used_at.is_(None),
            siwe_nonces.c.expires_at >= now,
        )
        .values(used_at=now)
    )
    with engine.begin() as conn:
        return conn.execute(statement).rowcount == 1


# ------------------------------------------------------------------ provider metadata


def canonical_json(document: Mapping[str, Any]) -> bytes:
    """Sorted keys, no spaces, UTF-8: the bytes the metadata hash is taken of."""
    return json.dumps(document, sort_keys=True, separators=(",", ":")).encode()


def metadata_hash(document: Mapping[str, Any]) -> str:
    """0x-hex keccak-256 of the canonical JSON: the content address of a provider's metadata."""
    return "0x" + keccak(canonical_json(document)).hex()


def put_metadata(engine: Engine, document: Mapping[str, Any]) -> str:
    """Store a metadata document under its hash (idempotent); returns the hash."""
    digest = metadata_hash(document)
    _UNKNOWN.pop(digest, None)
    try:
        with engine.begin() as conn:
            conn.execute(insert(provider_metadata).values(
                hash=digest, document=canonical_json(document).decode(), stored_at=time.time()))
    except IntegrityError:  # stored before: same hash, same content
        pass
    return digest


def get_metadata(engine: Engine, digest: str) -> dict[str, Any] | None:
    """The document stored under `digest`, or None if unknown."""
    with engine.connect() as conn:
        row = conn.execute(
            select(provider_metadata.c.document).where(provider_metadata.c.hash == digest.lower())
        ).first()
    if row is None:
        return None
    loaded: dict[str, Any] = json.loads(row[0])
    return loaded


def get_metadata_many(engine: Engine, digests: list[str]) -> dict[str, dict[str, Any]]:
    """Documents by hash for the digests that are known."""
    if not digests:
        return {}
    wanted = sorted({d.lower() for d in digests})
    out: dict[str, dict[str, Any]] = {}
    with engine.connect() as conn:
        for start in range(0, len(wanted), 500):
            rows = conn.execute(
                select(provider_metadata.c.hash, provider_metadata.c.document).where(
                    provider_metadata.c.hash.in_(wanted[start:start + 500]))
            ).all()
            for digest, document in rows:
                out[digest] = json.loads(document)
    return out


_CACHE: dict[str, dict[str, Any]] = {}
_UNKNOWN: dict[str, float] = {}  # hash -> when to look again (metadata may arrive later)
_CACHE_LIMIT = 200_000
UNKNOWN_TTL = 30.0


def cached_metadata_many(engine: Engine, digests: list[str]) -> dict[str, dict[str, Any]]:
    """`get_metadata_many` through a process cache: a document never changes under its hash,
    and a hash with no document is asked for again only after `UNKNOWN_TTL` seconds."""
    now = time.monotonic()
    wanted = {d.lower() for d in digests}
    found = {d: _CACHE[d] for d in wanted if d in _CACHE}
    missing = sorted(d for d in wanted - found.keys() if _UNKNOWN.get(d, 0.0) <= now)
    if missing:
        loaded = get_metadata_many(engine, missing)
        if len(_CACHE) + len(loaded) > _CACHE_LIMIT:
            _CACHE.clear()
        if len(_UNKNOWN) > _CACHE_LIMIT:
            _UNKNOWN.clear()
        _CACHE.update(loaded)
        found.update(loaded)
        for digest in missing:
            if digest not in loaded:
                _UNKNOWN[digest] = now + UNKNOWN_TTL
    return found


# ------------------------------------------------------------------ listing pictures


@dataclass(frozen=True)
class StoredPicture:
    """A picture as stored: what it is, without its bytes unless read for serving."""

    sha256: str
    content_type: str
    width: int
    height: int
    size: int
    data: bytes = b""


def put_picture(engine: Engine, picture: Picture, stored_by: str | None = None) -> str:
    """Store an accepted picture under the SHA-256 of its bytes (idempotent); the digest."""
    digest = picture.digest
    try:
        with engine.begin() as conn:
            conn.execute(insert(pictures).values(
                sha256=digest, content_type=picture.content_type, width=picture.width,
                height=picture.height, size=len(picture.data), data=picture.data,
                stored_at=time.time(), stored_by=stored_by))
    except IntegrityError:  # stored before: same digest, same bytes; uploaded again now
        with engine.begin() as conn:
            conn.execute(update(pictures).where(pictures.c.sha256 == digest)
                         .values(stored_at=time.time()))
    return digest


def picture_info(engine: Engine, digest: str) -> StoredPicture | None:
    """What is stored under `digest` (without the bytes), or None."""
    columns = (pictures.c.sha256, pictures.c.content_type, pictures.c.width,
               pictures.c.height, pictures.c.size)
    with engine.connect() as conn:
        row = conn.execute(select(*columns).where(pictures.c.sha256 == digest)).first()
    return None if row is None else StoredPicture(*row)


def get_picture(engine: Engine, digest: str) -> StoredPicture | None:
    """The picture stored under `digest`, bytes included; None if unknown, or if its bytes no
    longer hash to its digest (an altered row is never served)."""
    with engine.connect() as conn:
        row = conn.execute(select(
            pictures.c.sha256, pictures.c.content_type, pictures.c.width, pictures.c.height,
            pictures.c.size, pictures.c.data).where(pictures.c.sha256 == digest)).first()
    if row is None:
        return None
    stored = StoredPicture(row[0], row[1], row[2], row[3], row[4], bytes(row[5]))
    if hashlib.sha256(stored.data).hexdigest() != digest:
        log.error("picture %s: its stored bytes do not match its digest; not served", digest)
        return None
    return stored


@dataclass(frozen=True)
class PrunedPictures:
    """What `prune_pictures` removed (or, on a dry run, would remove)."""

    digests: tuple[str, ...]
    size: int  # bytes of picture data
    kept: int  # pictures left: named by a metadata document, or younger than the grace time


def prune_pictures(engine: Engine, grace_s: float, now: float | None = None,
                   dry_run: bool = False) -> PrunedPictures:
    """Delete the pictures no stored metadata document names that were stored more than
    `grace_s` seconds ago: uploads whose listing was never registered or was given another
    picture. A document is kept for ever (an on-chain metadataHash may name it), so a picture
    any listing ever showed is kept too. The grace time covers an upload whose register or
    update transaction is still on its way; the DELETE repeats both conditions, so a picture
    named or uploaded again meanwhile stays."""
    now = time.time() if now is None else now
    cutoff = now - grace_s
    with engine.begin() as conn:
        named = _named_pictures(conn)
        rows = conn.execute(select(pictures.c.sha256, pictures.c.size, pictures.c.stored_at)).all()
    doomed = {digest: size for digest, size, stored_at in rows
              if digest not in named and stored_at < cutoff}
    removed: list[str] = []
    for digest in sorted(doomed):
        if dry_run:
            removed.append(digest)
            continue
        # One statement per picture with both conditions again: a document naming it, or an
        # upload of it, that arrived after the scan above keeps it.
        still_unnamed = ~exists().where(
            provider_metadata.c.document.contains(f'"picture":"{digest}"'))
        with engine.begin() as conn:
            if conn.execute(delete(pictures).where(
                    pictures.c.sha256 == digest, pictures.c.stored_at < cutoff,
                    still_unnamed)).rowcount == 1:
                removed.append(digest)
    return PrunedPictures(tuple(removed), sum(doomed[d] for d in removed),
                          len(rows) - len(removed))


def _named_pictures(conn: Connection) -> set[str]:
    """The picture digests the stored metadata documents name."""
    named: set[str] = set()
    documents = conn.execute(select(provider_metadata.c.document).where(
        provider_metadata.c.document.contains('"picture":'))).scalars()
    for document in documents:
        picture = json.loads(document).get("picture")
        if isinstance(picture, str):
            named.add(picture.lower())
    return named
