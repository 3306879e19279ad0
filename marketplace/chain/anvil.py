"""Start and stop a local anvil node (the npm `@foundry-rs/anvil` binary) on a free port."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path

from marketplace.errors import MarketplaceError

REPO_ROOT = Path(__file__).resolve().parents[2]
DEV_MNEMONIC = "test test test test test test test test test test test junk"


class AnvilError(MarketplaceError):
    """anvil could not be found or did not start."""


def anvil_binary() -> str:
    """Path of the real anvil binary: $ANVIL_BIN, the npm package's binary, or `anvil` on PATH.

    The npm package's binary is preferred over its node wrapper, which forwards only SIGINT/SIGTERM.
    """
    explicit = os.environ.get("ANVIL_BIN")
    if explicit:
        return explicit
    packaged = REPO_ROOT / "node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil"
    if packaged.exists():
        return str(packaged)
    found = shutil.which("anvil")
    if found:
        return found
    raise AnvilError("anvil not found: run `make setup` (it installs @foundry-rs/anvil from npm)")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Anvil:
    """A running anvil process; `url` is its JSON-RPC endpoint."""

    port: int
    process: subprocess.Popen[bytes]
    chain_id: int
    args: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        """Stop the node: SIGTERM, then SIGKILL if it lingers."""
        if self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)


def _rpc_ready(url: str) -> bool:
    body = b'{"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":[]}'
    request = urllib.request.Request(url, body, {"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=0.5) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def start_anvil(
    port: int | None = None,
    chain_id: int = 31337,
    accounts: int = 10,
    block_time: float | None = None,
    extra_args: list[str] | None = None,
    timeout: float = 15.0,
    log_path: Path | None = None,
    mnemonic: str = DEV_MNEMONIC,
) -> Anvil:
    """Start anvil on 127.0.0.1 and wait until it answers JSON-RPC.

    Gas price is zeroed (`--base-fee 0`-style settings are left to anvil defaults) so gas
    measurements equal `gasUsed`; deterministic dev accounts come from the standard mnemonic
    (another `mnemonic` gives accounts the app holds no keys for, as on ganache).
    """
    port = port or free_port()
    args = [
        anvil_binary(),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--chain-id",
        str(chain_id),
        "--accounts",
        str(accounts),
        "--mnemonic",
        mnemonic,
        "--silent",
    ]
    if block_time:
        args += ["--block-time", str(block_time)]
    args += extra_args or []
    # The child writes to its own copy of the log's descriptor; ours is closed right away.
    with open(log_path, "ab") if log_path else nullcontext(subprocess.DEVNULL) as out:
        process = subprocess.Popen(
            args, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    node = Anvil(port=port, process=process, chain_id=chain_id, args=args)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AnvilError(f"anvil exited with code {process.returncode} (port {port} taken?)")
        if _rpc_ready(node.url):
            return node
        time.sleep(0.05)
    node.stop()
    raise AnvilError(f"anvil did not answer on {node.url} within {timeout:.0f} s")


@contextmanager
def running_anvil(**kwargs: object) -> Iterator[Anvil]:
    """Context manager: a fresh anvil for the duration of the block."""
    node = start_anvil(**kwargs)  # type: ignore[arg-type]
    try:
        yield node
    finally:
        node.stop()
