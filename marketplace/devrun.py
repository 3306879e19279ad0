"""`make run`: a local chain, the marketplace, a realistic demo, the indexer and the web app on
127.0.0.1:5000, until Ctrl-C."""

from __future__ import annotations

import argparse
import signal
import socket
import sys
import threading

from eth_account.signers.local import LocalAccount

from marketplace.chain.accounts import dev_accounts
from marketplace.chain.anvil import REPO_ROOT, Anvil, free_port, start_anvil
from marketplace.chain.connection import connected
from marketplace.chain.deploy import DeployParams, deploy_marketplace, fund_dev_accounts
from marketplace.chain.deployment import Deployment, deployment_path
from marketplace.config import load_settings
from marketplace.store.engine import init_db, open_engine
from marketplace.web.demo import DemoMarket, seed_market
from marketplace.web.devstack import start_services

DEV_ACCOUNTS = 40  # operator, 12 provider owners, 24 customers, arbiter, attestor, stranger
OWNERS, CUSTOMERS = 12, 24
ARBITER, ATTESTOR = 1 + OWNERS + CUSTOMERS, 2 + OWNERS + CUSTOMERS
DEMO_CHANGE_DELAY = 300  # seconds: a dev chain's operator sees a scheduled change apply soon


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        return s.connect_ex(("127.0.0.1", port)) != 0


def main(argv: list[str] | None = None) -> int:
    """Start anvil, deploy, seed, print what a user needs, and stop everything on Ctrl-C."""
    parser = argparse.ArgumentParser(prog="marketplace-devrun", description=__doc__)
    parser.add_argument("--port", type=int, default=8545, help="anvil port (a free one if taken)")
    parser.add_argument("--providers", type=int, default=320, help="demo providers to register")
    parser.add_argument("--web-port", type=int, default=5000,
                        help="web app port (a free one if taken)")
    parser.add_argument("--no-wait", action="store_true", help="exit after seeding (for tests)")
    args = parser.parse_args(argv)

    port = args.port if _port_free(args.port) else free_port()
    log = REPO_ROOT / ".cache" / "anvil.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    node: Anvil = start_anvil(port=port, accounts=DEV_ACCOUNTS, log_path=log)
    stop = threading.Event()
    previous = {
        sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGINT, signal.SIGTERM)
    }
    try:
        accounts = dev_accounts(DEV_ACCOUNTS)
        addresses = [a.address for a in accounts]
        database_url = load_settings().database_url
        with connected(node.url) as w3:
            params = DeployParams(
                arbiter=addresses[ARBITER],
                attestor=addresses[ATTESTOR],
                demo_token=True,
                change_delay=DEMO_CHANGE_DELAY,
            )
            market, deployment = deploy_marketplace(w3, params, deployer=addresses[0])
            token = str(deployment.currencies[0]["token"])
            fund_dev_accounts(w3, token, addresses, minter=addresses[0])
            engine = open_engine(database_url)
            try:
                init_db(engine, reset=True)  # a fresh chain: the old store's deployment is gone
                demo = seed_market(market, addresses, engine, n_providers=args.providers,
                                   n_owners=OWNERS, n_customers=CUSTOMERS,
                                   progress=lambda m: print(f"demo: {m}", flush=True))
            finally:
                engine.dispose()
        web_port = args.web_port if _port_free(args.web_port) else free_port()
        services = start_services(
            rpc_url=node.url, deployment_path=deployment_path(node.chain_id),
            database_url=database_url, log_dir=REPO_ROOT / ".cache", port=web_port,
            dev_accounts=DEV_ACCOUNTS, dev_roles=demo.roles)
        try:
            _print_summary(node, deployment, accounts, demo, services.url)
            if not args.no_wait:
                print("\nRunning. Press Ctrl-C to stop.", flush=True)
                while not stop.wait(1.0):
                    services.check()
        finally:
            services.stop()
            print("Stopped the web app and the indexer.", flush=True)
    finally:
        node.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        print("Stopped anvil.", flush=True)
    return 0


def _print_summary(
    node: Anvil,
    deployment: Deployment,
    accounts: list[LocalAccount],
    demo: DemoMarket,
    web_url: str,
) -> None:
    out = sys.stdout
    out.write(f"\nWeb app       {web_url}\n")
    out.write(f"Local chain   {node.url}  (chain id {node.chain_id})\n")
    out.write(f"Marketplace   {deployment.address}  (from block {deployment.start_block})\n")
    for currency in deployment.all_currencies()[1:]:
        out.write(
            f"Currency {currency.id}    {currency.symbol} ({currency.decimals} decimals) at "
            f"{currency.token}; every dev account holds 10,000 {currency.symbol}\n"
        )
    out.write(f"Deployment    {deployment_path(node.chain_id)}\n\n")
    out.write("Dev accounts (local chain only; never use these keys elsewhere):\n")
    for role, account in zip(demo.roles, accounts, strict=True):
        story = "  <- the demo story" if account.address.lower() == demo.story_customer else ""
        out.write(f"  {role:<9} {account.address}  {account.key.hex()}{story}\n")
    out.write(
        f"\nDemo: {len(demo.providers)} listings, {len(demo.customers)} customers, "
        f"{demo.bookings} rated bookings ({demo.complaints} with complaints), "
        f"{demo.disputes} disputes, {demo.open_bookings} open, {demo.attested} attested\n"
    )
    out.flush()


if __name__ == "__main__":
    raise SystemExit(main())
