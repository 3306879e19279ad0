"""Merge one benchmark section into bench/results.json without losing the others.

Sections (`gas`, ...) run as separate processes, possibly in parallel (`make -j bench`), so the
read-merge-write happens under a file lock and the file is replaced atomically.
"""

from __future__ import annotations

import fcntl
import json
import os
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results.json"


def read_results(path: Path = RESULTS) -> dict[str, Any]:
    """Return every section recorded so far ({} when there is no results file yet)."""
    try:
        data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    return data


def write_section(name: str, data: dict[str, Any], path: Path = RESULTS) -> None:
    """Store `data` as section `name` of the results file, keeping the other sections."""
    if not name or not isinstance(data, dict):
        raise ValueError("a section needs a non-empty name and a dict of results")
    encoded = json.dumps(data, sort_keys=True)  # fail before touching the file
    lock = path.with_name(f"{path.stem}.lock.tmp")
    with open(lock, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        results = read_results(path)
        results[name] = json.loads(encoded)
        tmp = path.with_name(f"{path.stem}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(results, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        os.replace(tmp, path)
