"""WSGI entry point: `gunicorn 'marketplace.web.wsgi:application()'`, settings from the environment.

Each worker process calls `application()` and so builds its own store engine, matching index and
chain connection; they share nothing but the store, which the indexer process writes. Each also
warms up the language model in a background thread (`api.interpret.warm_up`), so the first
feedback request it serves does not pay for training the classifier. Do not run gunicorn with
`--preload`: the app would be built, and the warm-up started, before the workers fork.
"""

from __future__ import annotations

import logging

from flask import Flask

from marketplace.web import create_app


def application(*, warm_up: bool = True) -> Flask:
    """The app configured from the environment; `warm_up` starts the language model's
    background warm-up (off where the app is only built to check the settings)."""
    logging.basicConfig(level=logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    app = create_app()
    if warm_up:
        from marketplace.web.api.interpret import warm_up as start_warm_up

        start_warm_up()
    return app
