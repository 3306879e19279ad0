"""Locations of the repository and of the directories generated in it."""

from __future__ import annotations

import os
from pathlib import Path

ARTIFACTS_ENV = "MARKETPLACE_ARTIFACTS"


def repo_root() -> Path:
    """Return the repository root: the checkout holding this package, else the working directory."""
    checkout = Path(__file__).resolve().parent.parent
    if (checkout / "pyproject.toml").is_file():
        return checkout
    return Path.cwd()


def artifacts_dir(root: Path | None = None) -> Path:
    """Return the artifacts directory: `$MARKETPLACE_ARTIFACTS`, else `<repo root>/artifacts`."""
    configured = os.environ.get(ARTIFACTS_ENV)
    if configured:
        return Path(configured).resolve()
    return (root or repo_root()) / "artifacts"
