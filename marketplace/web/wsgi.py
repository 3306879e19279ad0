"""WSGI entry point: `gunicorn 'marketplace.web.wsgi:application()'`, settings from the environment.

Each worker process calls `application()` and so builds its own store engine, matching index and
chain connection; they share nothing but the store, which the indexer process writes.
"""

from __future__ import annotations

import logging

from flask import Flask

from marketplace.web import create_app


def application() -> Flask:
    """The app configured from the environment."""
    logging.basicConfig(level=logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    return create_app()
