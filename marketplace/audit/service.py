"""A live audit for the web pages: one incremental `Auditor` per process, caught up on demand.

`AuditService.view()` holds the service's lock, brings the audit up to the node's head when the
last refresh is older than `refresh_seconds`, and yields the current `AuditState`. If the chain
reorganised under blocks already audited, the audit starts over; if the node does not answer,
the last state is shown with the error (or the error alone when there is nothing yet).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from marketplace.audit.auditor import Auditor, AuditTarget, ChainReorganised, Rpc
from marketplace.audit.model import AuditError, Violation
from marketplace.audit.replay import Replay
from marketplace.audit.report import AuditReport, build_report
from marketplace.chain.rpc import RpcError
from marketplace.errors import MarketplaceError

log = logging.getLogger("marketplace.audit")


@dataclass
class AuditState:
    """What the pages read: the auditor, its replay, the report and indexes over them."""

    auditor: Auditor
    report: AuditReport
    error: str | None = None
    violations_at: dict[tuple[int, int], list[Violation]] = field(default_factory=dict)

    @property
    def replay(self) -> Replay:
        """The rebuilt history."""
        return self.auditor.replay


class AuditUnavailable(MarketplaceError):
    """Nothing could be audited (the node does not answer, wrong chain, no contract, ...)."""


class AuditService:
    """Keeps one deployment's audit up to date for the `/audit` pages."""

    def __init__(
        self,
        rpc: Rpc,
        target: AuditTarget,
        *,
        refresh_seconds: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.rpc = rpc
        self.target = target
        self.refresh_seconds = refresh_seconds
        self.clock = clock
        self._lock = threading.RLock()
        self._auditor: Auditor | None = None
        self._state: AuditState | None = None
        self._refreshed_at: float | None = None

    def _new_auditor(self) -> Auditor:
        return Auditor(self.rpc, self.target, keep_events=True)

    def refresh(self) -> AuditState:
        """Audit up to the head now; raises AuditUnavailable when there is nothing to show."""
        with self._lock:
            error: str | None = None
            try:
                self._advance()
            except ChainReorganised:
                self._auditor = None
                try:
                    self._advance()
                except (AuditError, RpcError, MarketplaceError) as exc:
                    error = str(exc)
            except (AuditError, RpcError, MarketplaceError) as exc:
                error = str(exc)
            self._refreshed_at = self.clock()
            if self._auditor is None or self._auditor.head is None:
                raise AuditUnavailable(error or "the audit has not run")
            self._state = self._build_state(self._auditor)
            self._state.error = error
            return self._state

    def _advance(self) -> None:
        auditor = self._auditor
        if auditor is None:
            auditor = self._new_auditor()
            end = auditor.check_target()
            auditor.advance(end)
            self._auditor = auditor
            return
        head = int(self.rpc.call("eth_blockNumber"), 16)
        auditor.head = head
        auditor.advance(head)

    @staticmethod
    def _build_state(auditor: Auditor) -> AuditState:
        report = build_report(auditor)
        at: dict[tuple[int, int], list[Violation]] = {}
        for violation in report.violations:
            if violation.log_index is not None:
                at.setdefault((violation.block, violation.log_index), []).append(violation)
        return AuditState(auditor, report, violations_at=at)

    @contextmanager
    def view(self) -> Iterator[AuditState]:
        """The current state, refreshed when stale; the lock is held while the caller reads."""
        with self._lock:
            stale = (
                self._refreshed_at is None
                or self.clock() - self._refreshed_at >= self.refresh_seconds
            )
            state = self.refresh() if stale or self._state is None else self._state
            yield state

    def warm_up(self) -> threading.Thread:
        """Run the first audit on a background thread, so the first page need not wait for it
        (a long history takes seconds); a failure is left for the pages to report."""

        def run() -> None:
            try:
                self.refresh()
            except AuditUnavailable as exc:
                log.warning("audit warm-up: %s", exc)

        thread = threading.Thread(target=run, name="audit-warm-up", daemon=True)
        thread.start()
        return thread

    def describe(self) -> dict[str, Any]:
        """Where the service points."""
        return {
            "rpc_url": self.rpc.url,
            "chain_id": self.target.chain_id,
            "address": self.target.address,
            "start_block": self.target.start_block,
        }
