"""Start and stop a local Hardhat 3 node (npm `hardhat`), the second EVM node the tests use.

Hardhat 3 needs Node >= 22.13; the machine's Node may be older, so the node runs on the `node`
npm package's binary (`node_modules/node/bin/node`, a local dependency). Its configuration,
`tools/hardhat/hardhat.config.mjs`, defines two simulated networks: `cancun` (what the contracts
need) and `shanghai` (no transient storage: deploy must refuse it). Its dev accounts come from the
same mnemonic as anvil's, so the first ten accounts match.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path

from marketplace.chain.anvil import REPO_ROOT, _rpc_ready, free_port
from marketplace.errors import MarketplaceError

HARDHAT_CONFIG = REPO_ROOT / "tools" / "hardhat" / "hardhat.config.mjs"
HARDFORKS = ("cancun", "shanghai")  # the networks the config defines


class HardhatError(MarketplaceError):
    """Hardhat could not be found or did not start."""


def hardhat_command() -> list[str]:
    """`node cli.js --config ...` with the npm `node` package's Node and Hardhat's CLI script."""
    node = Path(os.environ.get("HARDHAT_NODE_BIN", REPO_ROOT / "node_modules/node/bin/node"))
    cli = REPO_ROOT / "node_modules/hardhat/dist/src/cli.js"
    for path in (node, cli):
        if not path.exists():
            raise HardhatError(
                f"{path} is missing: run `make setup` (npm ci installs hardhat "
                "and Node 22 from package-lock.json)"
            )
    return [str(node), str(cli), "--config", str(HARDHAT_CONFIG)]


@dataclass
class HardhatNode:
    """A running `hardhat node`; `url` is its JSON-RPC endpoint."""

    port: int
    process: subprocess.Popen[bytes]
    hardfork: str
    log_path: Path | None = None

    @property
    def url(self) -> str:
        """The JSON-RPC URL."""
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        """Stop the node's process group: SIGTERM, then SIGKILL if it lingers."""
        if self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)


def start_hardhat(
    hardfork: str = "cancun",
    port: int | None = None,
    timeout: float = 180.0,
    log_path: Path | None = None,
) -> HardhatNode:
    """Start `hardhat node` on 127.0.0.1 and wait (up to `timeout` s) until it answers JSON-RPC.

    Loading Hardhat takes a few seconds on an idle machine; the deadline is generous because
    a loaded one may take far longer.
    """
    if hardfork not in HARDFORKS:
        raise ValueError(f"hardfork {hardfork!r} is not one of {HARDFORKS}")
    port = port or free_port()
    args = [
        *hardhat_command(),
        "--network",
        hardfork,
        "node",
        "--hostname",
        "127.0.0.1",
        "--port",
        str(port),
    ]
    # No telemetry (nothing leaves this machine; stdout is not a terminal anyway), no colours.
    env = {**os.environ, "HARDHAT_DISABLE_TELEMETRY": "true", "NO_COLOR": "1"}
    # The child writes to its own copy of the log's descriptor; ours is closed right away.
    with open(log_path, "ab") if log_path else nullcontext(subprocess.DEVNULL) as out:
        process = subprocess.Popen(
            args,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=HARDHAT_CONFIG.parent,
            start_new_session=True,
        )
    node = HardhatNode(port=port, process=process, hardfork=hardfork, log_path=log_path)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise HardhatError(
                f"hardhat node exited with code {process.returncode} "
                f"(port {port} taken?{f' see {log_path}' if log_path else ''})"
            )
        if _rpc_ready(node.url):
            return node
        time.sleep(0.1)
    node.stop()
    raise HardhatError(f"hardhat node did not answer on {node.url} within {timeout:.0f} s")


@contextmanager
def running_hardhat(hardfork: str = "cancun", **kwargs: object) -> Iterator[HardhatNode]:
    """Context manager: a fresh Hardhat node for the duration of the block."""
    node = start_hardhat(hardfork, **kwargs)  # type: ignore[arg-type]
    try:
        yield node
    finally:
        node.stop()
