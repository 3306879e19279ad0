"""Gas used on anvil per marketplace operation (section `gas` of bench/results.json).

    python -m bench.gas [--update-baseline]

The measurement itself is tests/support/gas.py, shared with the gas snapshot test.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from bench.results import write_section
from tests.support.gas import BASELINE, TARGETS, measure_fresh


def main() -> int:
    """Measure, compare with the targets, write the section and print it.

    `--update-baseline` rewrites tests/support/gas-baseline.json (commit it with the change that
    moved it).
    """
    gas = measure_fresh()
    if "--update-baseline" in sys.argv[1:]:
        BASELINE.write_text(json.dumps(gas, indent=2, sort_keys=True) + "\n")
    section: dict[str, Any] = dict(gas)
    section["targets"] = TARGETS
    section["meets_targets"] = all(gas[k] <= v for k, v in TARGETS.items())
    write_section("gas", section)
    print(json.dumps(section, indent=2))
    return 0 if section["meets_targets"] else 1


if __name__ == "__main__":
    sys.exit(main())
