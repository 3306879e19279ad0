"""Fast profile: schemathesis over /api/v1/openapi.json finds nothing, anonymous and signed in.

Every phase (examples, coverage, fuzzing, stateful) with `--checks all` and a fixed seed, against
the live app over anvil and a seeded store: no 5xx, no response outside the document, no
schema-valid request refused as invalid, no invalid one accepted, every 405 with `Allow`. The
deep profile (>= 5,000 cases) runs in `make bench-reliability`.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from marketplace.web.api.interpret import warm_up
from tests.support.api_schemathesis import (
    SCHEMATHESIS,
    Run,
    live_server,
    run,
    seed_market,
    signed_in_headers,
)
from tests.support.world import CUSTOMERS, World, make_world

FAST_EXAMPLES = 3
SEED = 20_261_202
MIN_CASES = 1_000


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[World, str]]:
    if not SCHEMATHESIS.exists():
        pytest.fail("schemathesis is not installed: run `make schemathesis`")
    world = make_world(Path(tmp_path_factory.mktemp("schemathesis")))
    try:
        seed_market(world)
        # As a served process does (wsgi.application): the feedback model is trained before
        # the first request, so no case's response time includes the training.
        warm_up().join()
        with live_server(world.app) as url:
            yield world, url
    finally:
        world.close()


def _report(result: Run) -> str:
    return "\n".join(result.failure_titles[:20]) + "\n" + result.output[-15_000:]


def test_schemathesis_finds_no_failure_anonymous_or_signed_in(
        live: tuple[World, str], tmp_path: Path) -> None:
    world, url = live

    anonymous = run(url, max_examples=FAST_EXAMPLES, seed=SEED, report_dir=tmp_path / "anon")
    signed = run(url, max_examples=FAST_EXAMPLES, seed=SEED, report_dir=tmp_path / "signed",
                 headers=signed_in_headers(world, CUSTOMERS[0]))

    print(f"schemathesis: {anonymous.cases} cases anonymous, {signed.cases} signed in")
    for result in (anonymous, signed):
        assert result.failures == 0 and result.returncode == 0, _report(result)
        assert result.server_errors == 0, result.statuses
    assert anonymous.cases + signed.cases >= MIN_CASES, (anonymous.cases, signed.cases)
    # Signed in, the profile endpoints answer (anonymous, they are all 401s).
    assert signed.statuses[200] > anonymous.statuses[200]
