"""/healthz: chain, payouts, store and indexer, up or not, and how far the indexer lags."""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import urlsplit

from flask import jsonify
from flask.typing import ResponseReturnValue
from sqlalchemy import text as sql_text

from marketplace.store import queries as store_queries
from marketplace.web.chainio import ChainGateway
from marketplace.web.context import services
from marketplace.web.errors import WebError
from marketplace.web.live_index import read_checkpoint


def healthz() -> ResponseReturnValue:
    """Chain, store and indexer: up or not, head, last indexed block, lag in blocks/seconds."""
    svc = services()
    report: dict[str, Any] = {"status": "ok"}
    head: int | None = None
    try:
        head = svc.chain.head()
        report["chain"] = {"ok": True, "head": head, "rpc": _redact(svc.config.settings.rpc_url)}
    except Exception as exc:  # any failure means: down
        report["chain"] = {"ok": False, "error": str(exc).splitlines()[0][:200]}
    report["payouts"] = _payouts(svc.chain) if head is not None else {
        "ok": False, "error": "the chain node does not answer"}
    try:
        with svc.engine.connect() as conn:
            conn.execute(sql_text("select 1"))
            checkpoint = read_checkpoint(conn)
        report["store"] = {"ok": True}
        if checkpoint is None:
            report["indexer"] = {"ok": False, "error": "the indexer has not run yet"}
        else:
            lag = None if head is None else max(head - checkpoint.last_block, 0)
            with svc.engine.connect() as conn:
                state = store_queries.status(conn)
            updated = float(state["updated_at"]) if state else 0.0
            report["indexer"] = {
                "ok": lag is not None and lag <= max(checkpoint.confirmations, 5),
                "chain_id": checkpoint.chain_id,
                "address": checkpoint.address,
                "last_block": checkpoint.last_block,
                "lag_blocks": lag,
                "seconds_since_commit": round(max(time.time() - updated, 0.0), 3),
            }
    except WebError:
        raise
    except Exception as exc:
        report["store"] = {"ok": False, "error": str(exc).splitlines()[0][:200]}
        report.setdefault("indexer", {"ok": False, "error": "the store does not answer"})
    index_checkpoint = svc.index.checkpoint
    report["matching"] = {
        "providers": len(svc.index.current()) if report["store"].get("ok") else None,
        "at_block": index_checkpoint.last_block if index_checkpoint else None,
    }
    healthy = all(report[part]["ok"] for part in ("chain", "payouts", "store", "indexer"))
    report["status"] = "ok" if healthy else "degraded"
    return jsonify(report), 200 if healthy else 503


def _payouts(chain: ChainGateway) -> dict[str, Any]:
    """Can the contract pay out on this chain? A chain without the EVM features it is compiled
    for (Cancun's transient storage) takes stakes and escrows it can never release."""
    try:
        support = chain.evm_support()
    except Exception as exc:  # the node went away between the two calls
        return {"ok": False, "error": str(exc).splitlines()[0][:200]}
    report = support.to_dict()
    if not support.ok:
        report["error"] = support.sentence()
    return report


def _redact(url: str) -> str:
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}"
