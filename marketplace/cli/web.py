"""`marketplace web`: serve the web app with gunicorn (or Flask's debug server with --debug).

Options become environment variables before the app is created, so every gunicorn worker builds
the same app from them (`marketplace.web.wsgi`).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import click

from marketplace.cli.exits import ExitCode, epilog, reported_as_exit_status
from marketplace.cli.options import database_option, deployment_option, rpc_option


class _Gunicorn:
    """A gunicorn application that creates the Flask app in each worker."""

    @staticmethod
    def run(bind: str, workers: int, threads: int, worker_class: str, timeout: int,
            access_log: bool) -> None:
        """Serve until interrupted (SIGINT/SIGTERM stop the workers gracefully)."""
        from gunicorn.app.base import BaseApplication  # type: ignore[import-untyped]

        class Application(BaseApplication):  # type: ignore[misc]
            def load_config(self) -> None:
                settings: dict[str, Any] = {
                    "bind": bind,
                    "workers": workers,
                    "threads": threads,
                    "worker_class": worker_class,
                    "timeout": timeout,
                    "graceful_timeout": 5,
                    "keepalive": 5,
                    "accesslog": "-" if access_log else None,
                    "errorlog": "-",
                    "loglevel": "info",
                    "proc_name": "marketplace-web",
                    # gunicorn's control socket sits at one fixed path per user: a second
                    # instance would take it over and delete it on exit. We use signals instead.
                    "control_socket_disable": True,
                }
                for key, value in settings.items():
                    if value is not None:
                        self.cfg.set(key, value)

            def load(self) -> Any:
                from marketplace.web.wsgi import application

                return application()

        Application().run()


@click.command("web", epilog=epilog(ExitCode.OK, ExitCode.USAGE, ExitCode.FAILED))
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=5000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--workers", default=2, show_default=True, type=click.IntRange(1, 64),
              help="gunicorn worker processes.")
@click.option("--threads", default=4, show_default=True, type=click.IntRange(1, 64),
              help="Threads per worker (gthread); 1 uses the sync worker.")
@rpc_option
@database_option
@deployment_option
@click.option("--dev-accounts/--no-dev-accounts", default=None,
              help="Let the server sign for the dev accounts (local chains only) "
                   "[env MARKETPLACE_DEV_ACCOUNTS].")
@click.option("--dev-account-count", type=click.IntRange(1, 200),
              help="How many dev accounts the switcher offers [env MARKETPLACE_DEV_ACCOUNT_COUNT].")
@click.option("--access-log/--no-access-log", default=False, help="Log every request.")
@click.option("--debug", is_flag=True, help="Flask's single-process debug server instead.")
def web(host: str, port: int, workers: int, threads: int, rpc_url: str | None,
        database_url: str | None, deployment_path: Path | None, dev_accounts: bool | None,
        dev_account_count: int | None, access_log: bool, debug: bool) -> None:
    """Serve the marketplace web app and JSON API (default http://127.0.0.1:5000)."""
    overrides = {
        "MARKETPLACE_RPC_URL": rpc_url,
        "DATABASE_URL": database_url,
        "MARKETPLACE_DEPLOYMENT": str(deployment_path) if deployment_path else None,
        "MARKETPLACE_DEV_ACCOUNTS": None if dev_accounts is None else str(int(dev_accounts)),
        "MARKETPLACE_DEV_ACCOUNT_COUNT": str(dev_account_count) if dev_account_count else None,
    }
    for name, value in overrides.items():
        if value is not None:
            os.environ[name] = value
    from marketplace.web.wsgi import application

    with reported_as_exit_status():
        # Fail here, once, on bad settings rather than in every worker. Only the debug server
        # serves from this process; gunicorn's workers build (and warm up) their own apps.
        app = application(warm_up=debug)
    if debug:
        app.run(host=host, port=port, debug=True, use_reloader=False, threaded=True)
        return
    app.extensions["marketplace"].engine.dispose()
    worker_class = "gthread" if threads > 1 else "sync"
    _Gunicorn.run(f"{host}:{port}", workers, threads, worker_class, 60, access_log)
