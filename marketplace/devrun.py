"""`make run`: a local chain with the marketplace deployed and demo data, until Ctrl-C."""

from __future__ import annotations

import argparse
import signal
import socket
import sys
import threading

from eth_account.signers.local import LocalAccount

from marketplace.chain.accounts import dev_accounts
from marketplace.chain.anvil import REPO_ROOT, Anvil, free_port, start_anvil
from marketplace.chain.connection import connect
from marketplace.chain.deploy import DeployParams, deploy_marketplace
from marketplace.chain.deployment import deployment_path
from marketplace.demo import DemoSummary, seed

ROLES = (
    "operator",
    "provider",
    "provider",
    "provider",
    "customer",
    "customer",
    "customer",
    "customer",
    "arbiter",
    "stranger",
)


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        return s.connect_ex(("127.0.0.1", port)) != 0


def main(argv: list[str] | None = None) -> int:
    """Start anvil, deploy, seed, print what a user needs, and stop everything on Ctrl-C."""
    parser = argparse.ArgumentParser(prog="marketplace-devrun", description=__doc__)
    parser.add_argument("--port", type=int, default=8545, help="anvil port (a free one if taken)")
    parser.add_argument("--providers", type=int, default=12, help="demo providers to register")
    parser.add_argument("--no-wait", action="store_true", help="exit after seeding (for tests)")
    args = parser.parse_args(argv)

    port = args.port if _port_free(args.port) else free_port()
    log = REPO_ROOT / ".cache" / "anvil.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    node: Anvil = start_anvil(port=port, log_path=log)
    stop = threading.Event()
    previous = {
        sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGINT, signal.SIGTERM)
    }
    try:
        w3 = connect(node.url)
        accounts = dev_accounts(len(ROLES))
        addresses = [a.address for a in accounts]
        market, deployment = deploy_marketplace(w3, DeployParams(), deployer=addresses[0])
        market.transact("setArbiter", addresses[8], True, sender=addresses[0])
        summary = seed(market, addresses[1:4], addresses[4:8], n_providers=args.providers)
        _print_summary(node, deployment.address, deployment.start_block, accounts, summary)
        if not args.no_wait:
            print("\nRunning. Press Ctrl-C to stop.", flush=True)
            stop.wait()
    finally:
        node.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        print("Stopped anvil.", flush=True)
    return 0


def _print_summary(
    node: Anvil,
    address: str,
    start_block: int,
    accounts: list[LocalAccount],
    summary: DemoSummary,
) -> None:
    out = sys.stdout
    out.write(f"\nLocal chain   {node.url}  (chain id {node.chain_id})\n")
    out.write(f"Marketplace   {address}  (from block {start_block})\n")
    out.write(f"Deployment    {deployment_path(node.chain_id)}\n\n")
    out.write("Dev accounts (local chain only; never use these keys elsewhere):\n")
    for role, account in zip(ROLES, accounts, strict=True):
        out.write(f"  {role:<9} {account.address}  {account.key.hex()}\n")
    out.write(
        f"\nDemo: {len(summary.providers)} providers, {len(summary.customers)} customers, "
        f"{summary.bookings} settled bookings\n"
    )
    for p in summary.providers:
        out.write(
            f"  #{p.provider_id:<3} {p.name:<22} {p.category:<9} {p.region:<9} "
            f"{p.price / 10**18:.3f} ETH  {', '.join(p.attributes)}\n"
        )
    out.flush()


if __name__ == "__main__":
    raise SystemExit(main())
