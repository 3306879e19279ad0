"""CSRF tokens, security headers and the session cookie's settings.

CSRF: every session gets a random token; every state-changing request (POST, PUT, PATCH,
DELETE) that carries a session cookie must echo it, as the `csrf_token` form field or the
`X-CSRF-Token` header. A request without a session cookie carries no ambient authority (nothing
is signed in), so API clients that do not keep cookies need no token.
"""

from __future__ import annotations

import hmac
import secrets

from flask import Flask, Response, request, session

from marketplace.web.errors import WebError

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"

CONTENT_SECURITY_POLICY = "; ".join((
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "font-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
))


class CsrfError(WebError):
    """The request lacks the session's CSRF token."""

    status = 403
    code = "csrf_failed"


def csrf_token() -> str:
    """The session's CSRF token, created on first use."""
    token = session.get("csrf")
    if not isinstance(token, str) or len(token) < 32:
        token = secrets.token_urlsafe(32)
        session["csrf"] = token
    return token


def rotate_csrf_token() -> str:
    """A new token (after signing in or out, so a token seen before does not carry over)."""
    token = secrets.token_urlsafe(32)
    session["csrf"] = token
    return token


def check_csrf() -> None:
    """Refuse an unsafe request that carries a session cookie but not the session's token."""
    if request.method not in UNSAFE_METHODS:
        return
    app_cookie = request.cookies.get(_cookie_name())
    if not app_cookie:
        return
    expected = session.get("csrf")
    given = request.headers.get(CSRF_HEADER) or request.form.get(CSRF_FIELD)
    if not isinstance(expected, str) or not isinstance(given, str) or not hmac.compare_digest(
        expected.encode(), given.encode()
    ):
        raise CsrfError(
            "This form has expired or did not come from this site; reload the page and try "
            "again.",
            None,
        )


def _cookie_name() -> str:
    from flask import current_app

    return str(current_app.config.get("SESSION_COOKIE_NAME", "session"))


def add_security_headers(response: Response) -> Response:
    """CSP and the usual hardening headers on every response."""
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    headers.setdefault("Cross-Origin-Resource-Policy", "same-origin")
    headers.setdefault(
        "Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()"
    )
    if request.is_secure:
        headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
    if request.path.startswith("/api/") or (
        request.cookies.get(_cookie_name()) and session.get("account")):
        headers.setdefault("Cache-Control", "no-store")
    return response


def configure_session(app: Flask, *, secure: bool, hours: int) -> None:
    """Signed cookie sessions: HttpOnly, SameSite=Lax, Secure unless local dev over http."""
    from datetime import timedelta

    app.config.update(
        SESSION_COOKIE_NAME="mkt_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=secure,
        PERMANENT_SESSION_LIFETIME=timedelta(hours=hours),
    )
