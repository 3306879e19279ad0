"""Run the indexer and the web app as child processes next to a local chain (for `make run`).

`start_services` launches `marketplace index --follow` and `marketplace web` (gunicorn, 2
workers, dev accounts on) for one deployment and store, waits until the web app answers, and
returns a handle whose `stop()` ends both (SIGTERM, then SIGKILL after a grace period).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from marketplace.errors import MarketplaceError


class ServiceFailed(MarketplaceError):
    """A child service exited or did not come up."""


@dataclass
class Services:
    """The running indexer and web processes."""

    url: str
    processes: list[subprocess.Popen[bytes]]
    logs: list[Path]

    def stop(self, grace: float = 10.0) -> None:
        """Stop every process: SIGTERM first, SIGKILL after `grace` seconds."""
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + grace
        for process in self.processes:
            try:
                process.wait(timeout=max(deadline - time.monotonic(), 0.1))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)

    def check(self) -> None:
        """Raise ServiceFailed if a process has exited."""
        for process, log in zip(self.processes, self.logs, strict=True):
            if process.poll() is not None:
                raise ServiceFailed(f"{log.stem} exited with {process.returncode}; see {log}")


def start_services(
    *,
    rpc_url: str,
    deployment_path: Path,
    database_url: str,
    log_dir: Path,
    host: str = "127.0.0.1",
    port: int = 5000,
    workers: int = 2,
    dev_accounts: int = 10,
    dev_roles: Sequence[str] = (),
    extra_env: dict[str, str] | None = None,
    timeout: float = 60.0,
) -> Services:
    """Start the indexer (following the head) and the web app; wait until the app answers."""
    log_dir.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "PYTHONUNBUFFERED": "1", **(extra_env or {})}
    if dev_roles:
        env["MARKETPLACE_DEV_ACCOUNT_ROLES"] = ",".join(dev_roles)
    common = ["--rpc", rpc_url, "--deployment", str(deployment_path), "--database", database_url]
    commands = {
        "indexer": [sys.executable, "-m", "marketplace.cli", "index", "--follow",
                    *common, "--confirmations", "2", "--poll-interval", "0.2", "-q"],
        "web": [sys.executable, "-m", "marketplace.cli", "web", "--host", host, "--port",
                str(port), "--workers", str(workers), "--dev-accounts",
                "--dev-account-count", str(dev_accounts), *common],
    }
    processes: list[subprocess.Popen[bytes]] = []
    logs: list[Path] = []
    for name, command in commands.items():
        log = log_dir / f"{name}.log"
        # The child writes to its own copy of the descriptor; ours is closed right away.
        with open(log, "ab") as out:
            processes.append(subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT,
                                              env=env, start_new_session=True))
        logs.append(log)
    services = Services(f"http://{host}:{port}", processes, logs)
    try:
        _wait_until_up(services, timeout)
    except BaseException:
        services.stop()
        raise
    return services


def _wait_until_up(services: Services, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        services.check()
        try:
            with urllib.request.urlopen(services.url + "/healthz", timeout=2) as response:
                response.read()
                return
        except urllib.error.HTTPError:
            return  # it answers (503 while the indexer catches up is fine)
        except OSError:
            time.sleep(0.2)
    raise ServiceFailed(f"the web app did not answer at {services.url} within {timeout:.0f} s")
