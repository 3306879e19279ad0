"""Shared names of the browser tests (a module of its own: test files import it, not conftest)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.support.world import World

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
SCREENSHOTS = ROOT / "reports" / "screenshots"
ETH = 10**18


@dataclass
class Stack:
    """The running processes and where to reach them."""

    world: World
    base_url: str
    processes: list[Any]
    logs: Path

    def url(self, path: str) -> str:
        """An absolute URL on the live server."""
        return self.base_url + path


