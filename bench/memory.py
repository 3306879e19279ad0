"""Peak resident memory of this process image, for the benchmarks' `peak_rss_mb` keys.

`getrusage(RUSAGE_SELF).ru_maxrss` is wrong for a benchmark child started with fork and exec:
Linux carries the forked copy's high-water mark across exec, so a child of a parent holding
450 MB reports 450 MB whatever it used itself. `VmHWM` in /proc/self/status is the high-water
mark of the current address space only. Where /proc is missing, ru_maxrss is the fallback.
"""

from __future__ import annotations

import resource
import sys
from pathlib import Path


def peak_rss_mb() -> float:
    """This process's peak resident set size in MiB, rounded to 0.1."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return round(peak / (1024 * 1024 if sys.platform == "darwin" else 1024), 1)
