"""Fixtures for the web app's test-client tests: a live anvil with the marketplace deployed,
a fresh SQLite store kept in step by the real indexer, and the Flask app over both.

Roles follow the dev accounts: 0 operator, 1-3 providers, 4-7 customers, 8 arbiter, 9 stranger.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT / "tests") not in sys.path:
    sys.path.insert(0, str(ROOT / "tests"))

from web_support import World, make_world  # noqa: E402


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    built = make_world(tmp_path_factory.mktemp("web"))
    try:
        yield built
    finally:
        built.close()
