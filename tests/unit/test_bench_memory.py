"""The benchmarks' peak memory is the measured process's own, not its forking parent's."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from bench.memory import peak_rss_mb

ROOT = Path(__file__).resolve().parents[2]


def test_a_child_reports_its_own_peak_not_the_parents() -> None:
    held = bytearray(300 * 1024 * 1024)
    held[::4096] = b"\x01" * len(held[::4096])  # touch every page: resident in this process
    child = subprocess.run(
        [sys.executable, "-c", "from bench.memory import peak_rss_mb; print(peak_rss_mb())"],
        capture_output=True, text=True, check=True, cwd=ROOT)

    assert peak_rss_mb() >= 300
    assert float(child.stdout) < 150  # an interpreter alone; ru_maxrss said >= 300 here
    del held
