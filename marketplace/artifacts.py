"""Read the compiled contract artifacts that `make build` writes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from marketplace._paths import artifacts_dir
from marketplace.errors import ArtifactNotFoundError

MANIFEST = "manifest.json"

__all__ = ["artifacts_dir", "load_artifact", "load_manifest"]


def _read(path: Path, what: str) -> dict[str, Any]:
    if not path.is_file():
        raise ArtifactNotFoundError(
            f"{what} not found at {path}: run `make build` to compile the contracts"
        )
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def load_artifact(name: str) -> dict[str, Any]:
    """Return the artifact of contract `name` (abi, bytecode, deployedBytecode, compiler...).

    Raises `ArtifactNotFoundError` when the contract has not been compiled.
    """
    if not name.isidentifier():
        raise ArtifactNotFoundError(f"{name!r} is not a contract name")
    return _read(artifacts_dir() / f"{name}.json", f"artifact for contract {name!r}")


def load_manifest() -> dict[str, Any]:
    """Return the build manifest: compiler, settings, source hashes and the list of contracts."""
    return _read(artifacts_dir() / MANIFEST, "artifact manifest")
