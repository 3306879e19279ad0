"""The services one web process shares between requests, kept in `app.extensions`."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app
from sqlalchemy import Engine

from marketplace.profile.service import ProfileService
from marketplace.profile.sql import SqlProfileRepository
from marketplace.web.chainio import ChainGateway
from marketplace.web.config import WebConfig
from marketplace.web.live_index import LiveIndex

EXTENSION = "marketplace"


@dataclass
class Services:
    """Store engine, matching index, chain gateway and living profiles of one process."""

    config: WebConfig
    engine: Engine
    index: LiveIndex
    chain: ChainGateway
    profile_repository: SqlProfileRepository
    profiles: ProfileService

    def close(self) -> None:
        """Release the store's pooled connections and the node's (whoever ends the app calls
        it; a process that exits needs not)."""
        self.chain.close()
        self.engine.dispose()


def services() -> Services:
    """The services of the app handling the current request."""
    found: Services = current_app.extensions[EXTENSION]
    return found
