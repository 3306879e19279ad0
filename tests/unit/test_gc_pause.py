"""The one pause of the cyclic garbage collector that backfills and audits share."""

from __future__ import annotations

import gc

import pytest

from marketplace.gc_pause import cyclic_gc_paused


def test_a_scan_pauses_the_cyclic_collector_and_restores_it_as_it_was() -> None:
    assert gc.isenabled()
    with cyclic_gc_paused():
        assert not gc.isenabled()
    assert gc.isenabled()

    gc.disable()  # the application's own choice is kept
    try:
        with cyclic_gc_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    finally:
        gc.enable()

    with pytest.raises(RuntimeError), cyclic_gc_paused():
        raise RuntimeError("a failed scan")
    assert gc.isenabled()


def test_overlapping_scans_share_one_pause() -> None:
    """Scans (an audit, a backfill) in two threads: the collector runs again only when the
    last one ends, whichever order they end in."""
    first, second = cyclic_gc_paused(), cyclic_gc_paused()
    first.__enter__()
    second.__enter__()
    first.__exit__(None, None, None)
    assert not gc.isenabled()  # the second scan is still running
    second.__exit__(None, None, None)
    assert gc.isenabled()
