"""Fixtures for the web app's test-client tests: a live anvil with the marketplace deployed,
a fresh SQLite store kept in step by the real indexer, and the Flask app over both.

Roles follow the dev accounts: 0 operator, 1-3 providers, 4-7 customers, 8 arbiter, 9 stranger.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.world import World, make_world


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    built = make_world(tmp_path_factory.mktemp("web"))
    try:
        yield built
    finally:
        built.close()
