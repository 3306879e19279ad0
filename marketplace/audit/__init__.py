"""The auditor: rebuild a deployment's whole history from its events and check every invariant.

It reads only the chain (eth_getLogs, eth_getBalance, eth_getCode) and the compiled ABI, never
the app's store. `audit_deployment(rpc, deployment)` runs an audit; `build_report(auditor)` turns
it into totals, per-provider and per-customer figures and violations (text, JSON or CSV).
`marketplace audit` is the command line (marketplace/cli/audit.py), `marketplace.audit.web` the
`/audit` pages. See docs/audit.md.
"""

from __future__ import annotations

from marketplace.audit.auditor import (
    Auditor,
    AuditTarget,
    ChainReorganised,
    NoContract,
    WrongChain,
    audit_deployment,
    marketplace_decoder,
)
from marketplace.audit.model import AuditError, Checkpoint, Invariant, Violation
from marketplace.audit.replay import Replay
from marketplace.audit.report import AuditReport, build_report

__all__ = [
    "AuditError",
    "AuditReport",
    "AuditTarget",
    "Auditor",
    "ChainReorganised",
    "Checkpoint",
    "Invariant",
    "NoContract",
    "Replay",
    "Violation",
    "WrongChain",
    "audit_deployment",
    "build_report",
    "marketplace_decoder",
]
