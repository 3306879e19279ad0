"""Fixtures for the reliability tests: the same anvil + store + indexer + app as tests/web."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
for folder in (ROOT / "tests", ROOT / "tests" / "reliability", ROOT / "tests" / "integration"):
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))
