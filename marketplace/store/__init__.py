"""The store: SQLAlchemy Core schema on SQLite (default) or PostgreSQL (`DATABASE_URL`).

The indexer is its only writer; the web app and the matching engine read it, preferably through
`marketplace.store.queries`. The auditor never does: it trusts only the chain (import-linter
enforces it, pyproject.toml).
"""

from marketplace.store.engine import (
    StoreError,
    StoreUnreachable,
    check_schema,
    describe_url,
    init_db,
    open_engine,
)
from marketplace.store.schema import metadata

__all__ = [
    "StoreError",
    "StoreUnreachable",
    "check_schema",
    "describe_url",
    "init_db",
    "metadata",
    "open_engine",
]
