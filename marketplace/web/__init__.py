"""The web product: customer and provider pages, the JSON API, sign-in, and /healthz.

`create_app(config=None)` only wires things together: settings, the store engine, the
per-process matching index, the chain gateway, the living profiles, blueprints, security and
error handlers. `config` maps web settings (see `marketplace.web.config`) or store/chain settings
(`rpc_url`, `database_url`, `deployment_path`, ...) over the environment's.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from flask import Flask, Response, jsonify, make_response, render_template, request
from flask.typing import ResponseReturnValue
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from werkzeug.exceptions import HTTPException, MethodNotAllowed
from werkzeug.routing import IntegerConverter

from marketplace.availability import create_availability_schema
from marketplace.profile.service import ProfileService
from marketplace.profile.sql import SqlProfileRepository, create_profile_schema
from marketplace.store.engine import init_db, open_engine
from marketplace.web.chainio import ChainGateway
from marketplace.web.config import WebConfig, resolve_secret_key
from marketplace.web.context import EXTENSION, Services
from marketplace.web.db import create_web_schema
from marketplace.web.errors import STATUS_CODES, WebError
from marketplace.web.json_provider import FastJSONProvider
from marketplace.web.live_index import LiveIndex, read_checkpoint
from marketplace.web.media import too_large_for_a_picture
from marketplace.web.pictures import too_large
from marketplace.web.security import (
    add_security_headers,
    check_csrf,
    configure_session,
    csrf_token,
)

log = logging.getLogger("marketplace.web")

__all__ = ["create_app"]


class ProviderIdConverter(IntegerConverter):
    """Provider ids in URLs: 1 to 2**32 - 1 (a uint32 on-chain); anything else is a 404."""

    def __init__(self, map: Any) -> None:  # noqa: A002 - werkzeug's parameter name
        super().__init__(map, min=1, max=2**32 - 1)


def create_app(config: Mapping[str, Any] | WebConfig | None = None) -> Flask:
    """The Flask app for `config` over the environment's settings."""
    if isinstance(config, WebConfig):
        web_config = config
    else:
        web_config = WebConfig.from_env()
        if config:
            web_config = web_config.with_overrides(config)
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=resolve_secret_key(web_config),
        MAX_CONTENT_LENGTH=web_config.max_content_length,
        MAX_FORM_MEMORY_SIZE=web_config.max_content_length,
        MAX_FORM_PARTS=200,
        TESTING=web_config.testing,
    )
    app.json = FastJSONProvider(app)
    app.json.sort_keys = False  # keep the documented order
    configure_session(app, secure=web_config.cookies_secure, hours=web_config.session_hours)
    app.extensions[EXTENSION] = _services(web_config)

    from marketplace.audit.web import init_app as init_audit
    from marketplace.web import api, auth, customer, media, provider

    app.url_map.converters["pid"] = ProviderIdConverter
    from marketplace.web.present import install_filters

    app.register_blueprint(customer.bp)
    app.register_blueprint(provider.bp)
    app.register_blueprint(auth.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(media.bp)
    # The auditor's pages read the chain directly (never this app's store): same node, same record.
    app.config.setdefault("AUDIT_RPC_URL", web_config.settings.rpc_url)
    if web_config.settings.deployment_path is not None:
        app.config.setdefault("AUDIT_DEPLOYMENT", str(web_config.settings.deployment_path))
    init_audit(app)
    app.add_url_rule("/healthz", "healthz", api.healthz)
    app.add_url_rule("/favicon.ico", "favicon", _favicon)
    install_filters(app)
    app.jinja_env.globals.update(csrf_token=csrf_token)
    app.context_processor(customer.page_context)
    app.before_request(media.allow_picture_uploads)  # before anything reads the body
    app.before_request(check_csrf)
    app.after_request(add_security_headers)
    _error_handlers(app)
    if web_config.proxy_hops:
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = web_config.proxy_hops  # trust exactly this many proxies' X-Forwarded-* headers
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops)
    return app


def _favicon() -> ResponseReturnValue:
    """Browsers ask for /favicon.ico whatever the page links: send them to the SVG icon."""
    from flask import redirect, url_for

    return redirect(url_for("static", filename="favicon.svg"), code=301)


def _services(config: WebConfig) -> Services:
    engine = open_engine(config.settings.database_url)
    _prepare_schema(engine)
    repository = SqlProfileRepository(engine)

    def store_deployment() -> tuple[int, str] | None:
        try:
            with engine.connect() as conn:
                checkpoint = read_checkpoint(conn)
        except SQLAlchemyError:
            return None
        return None if checkpoint is None else (checkpoint.chain_id, checkpoint.address)

    return Services(
        config=config,
        engine=engine,
        index=LiveIndex(engine, config.index_refresh),
        chain=ChainGateway(
            config.settings,
            dev_mode=config.dev_accounts,
            dev_account_count=config.dev_account_count,
            store_deployment=store_deployment,
        ),
        profile_repository=repository,
        profiles=ProfileService(repository),
    )


def _prepare_schema(engine: Any) -> None:
    """Create missing tables (store, profile, web, availability); concurrent workers may race,
    so retry."""
    for attempt in range(5):
        try:
            init_db(engine)
            create_profile_schema(engine)
            create_web_schema(engine)
            create_availability_schema(engine)
            return
        except (OperationalError, SQLAlchemyError) as exc:
            if attempt == 4:
                raise
            log.info("schema creation raced another process (%s); retrying", exc)
            import time

            time.sleep(0.1 * (attempt + 1))


def wants_json() -> bool:
    """Whether the client wants the JSON error shape rather than an HTML page."""
    if request.path.startswith("/api/") or request.path in ("/healthz",):
        return True
    if request.path.startswith("/auth/") and request.path != "/auth/signin":
        return request.is_json or _prefers_json()
    return request.is_json or _prefers_json()


def _prefers_json() -> bool:
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json" and request.accept_mimetypes["application/json"] > (
        request.accept_mimetypes["text/html"])


def error_response(error: WebError) -> ResponseReturnValue:
    """The shared error shape, as JSON or as an HTML page with the same words."""
    body = error.to_dict()
    if wants_json():
        response: Response = jsonify(body)
        response.status_code = error.status
        return response
    return render_template("error.html", error=body, status=error.status), error.status


def _error_handlers(app: Flask) -> None:
    @app.errorhandler(WebError)
    def web_error(error: WebError) -> ResponseReturnValue:
        return error_response(error)

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> ResponseReturnValue:
        status = error.code or 500
        code = STATUS_CODES.get(status, "http_error")
        message = {
            404: "There is no such page.",
            405: "This address does not take that method.",
            413: "The request is too large.",
        }.get(status, error.description or error.name)
        shown = WebError(str(message), None, status=status, code=code)
        if status == 413 and too_large_for_a_picture():
            shown = too_large()  # the body is mostly the picture: say so, next to its field
        response = error_response(shown)
        if isinstance(error, MethodNotAllowed) and error.valid_methods:
            # RFC 9110: a 405 names the methods the address does take.
            response = make_response(response)
            response.headers["Allow"] = ", ".join(error.valid_methods)
        return response

    @app.errorhandler(OperationalError)
    def store_down(error: OperationalError) -> ResponseReturnValue:
        log.error("store error: %s", str(error).splitlines()[0])
        return error_response(WebError("The store does not answer right now; try again soon.",
                                       None, status=503, code="unavailable"))

    @app.errorhandler(Exception)
    def unexpected(error: Exception) -> ResponseReturnValue:
        log.exception("unexpected error on %s %s", request.method, request.path)
        return error_response(WebError("Something went wrong on our side.", None, status=500,
                                       code="internal_error"))
