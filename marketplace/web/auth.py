"""Who is using the app: Sign-In with Ethereum (EIP-4361), and the dev-account switcher.

Sign-in: the page asks for a challenge for an address (`POST /auth/nonce`); the server stores a
fresh nonce (single use, five minutes) in the database and in the session, and returns the
EIP-4361 message with this site's domain, URI and the chain's id. The wallet signs it
(`personal_sign`); `POST /auth/verify` checks domain, URI, chain id, expiry, that the nonce is
this session's and unused (consumed atomically, so a replay fails in every worker), and the
signature. The session then holds the address and the signer "wallet": transactions are built by
the server and signed in the wallet.

Dev accounts (local chains, `MARKETPLACE_DEV_ACCOUNTS=1` only): the switcher puts a dev address in
the session with the signer "dev", and the server signs its transactions.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, jsonify, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from siwe import SiweMessage, VerificationError

from marketplace.web import db
from marketplace.web.context import services
from marketplace.web.errors import FieldError, Forbidden, Unauthorized, WebError
from marketplace.web.forms import Inputs, address, integer, text
from marketplace.web.security import rotate_csrf_token

bp = Blueprint("auth", __name__, url_prefix="/auth")

SIGNER_DEV = "dev"
SIGNER_WALLET = "wallet"
STATEMENT = "Sign in to the curated marketplace. This signature costs nothing and moves no funds."


class SignInFailed(WebError):
    """The sign-in message or signature did not check out."""

    status = 401
    code = "sign_in_failed"


def current_account() -> str | None:
    """The signed-in address (lower case), or None."""
    account = session.get("account")
    return account if isinstance(account, str) else None


def require_account() -> str:
    """The signed-in address; Unauthorized when nobody is signed in."""
    account = current_account()
    if account is None:
        raise Unauthorized("Sign in first: with your wallet, or pick a dev account.", None)
    return account


def signer() -> str | None:
    """How the current account signs: 'dev' (the server) or 'wallet' (the browser)."""
    value = session.get("signer")
    return value if value in (SIGNER_DEV, SIGNER_WALLET) else None


def _sign_in(account: str, how: str) -> None:
    session.clear()
    session.permanent = True
    session["account"] = account.lower()
    session["signer"] = how
    rotate_csrf_token()


def _json_inputs() -> Inputs:
    if request.is_json:
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            raise FieldError("The body must be a JSON object.", None)
        return Inputs(body)
    return Inputs(request.form)


def _expected_domain() -> str:
    configured = services().config.siwe_domain
    return configured or request.host


def _expected_uri() -> str:
    return request.host_url.rstrip("/")


@bp.get("/signin")
def signin() -> ResponseReturnValue:
    """The sign-in page: connect a wallet, or (dev mode) pick a dev account."""
    svc = services()
    accounts: list[dict[str, Any]] = []
    if svc.chain.dev_mode:
        try:
            accounts = [
                {"index": a.index, "address": a.address.lower(),
                 "role": svc.config.role_of(a.index)}
                for a in svc.chain.dev_accounts()
            ]
        except WebError:
            accounts = []
    return render_template("signin.html", dev_accounts=accounts,
                           next=_safe_next(request.args.get("next")))


@bp.post("/nonce")
def nonce() -> ResponseReturnValue:
    """A single-use EIP-4361 challenge for `address` on this site and chain."""
    inputs = _json_inputs()
    account = address(inputs.get("address"), "address")
    svc = services()
    chain_id = svc.chain.chain_id()
    value = secrets.token_hex(16)
    now = datetime.now(UTC)
    expires = db.issue_nonce(svc.engine, value, svc.config.siwe_ttl, now.timestamp())
    message = SiweMessage(
        domain=_expected_domain(),
        address=_checksum(account),
        statement=STATEMENT,
        uri=_expected_uri(),
        version="1",
        chain_id=chain_id,
        nonce=value,
        issued_at=_iso(now),
        expiration_time=_iso(datetime.fromtimestamp(expires, UTC)),
    )
    session["siwe_nonce"] = value
    return jsonify({"nonce": value, "message": message.prepare_message(), "chain_id": chain_id,
                    "expires_at": _iso(datetime.fromtimestamp(expires, UTC))})


@bp.post("/verify")
def verify() -> ResponseReturnValue:
    """Check a signed EIP-4361 message and sign its address in."""
    inputs = _json_inputs()
    raw_message = text(inputs.get("message"), "message", max_len=4_000)
    signature = text(inputs.get("signature"), "signature", max_len=1_000)
    try:
        message = SiweMessage.from_message(raw_message)
    except Exception:  # the parser raises several kinds of errors for malformed text
        raise FieldError("This is not a Sign-In with Ethereum message.", "message") from None
    svc = services()
    expected_nonce = session.get("siwe_nonce")
    if not isinstance(expected_nonce, str) or message.nonce != expected_nonce:
        raise SignInFailed("This sign-in request was not issued to this browser; start again.",
                           "message")
    try:
        message.verify(
            signature,
            domain=_expected_domain(),
            uri=_expected_uri(),
            chain_id=svc.chain.chain_id(),
            nonce=expected_nonce,
            strict=True,
        )
    except VerificationError as exc:
        raise SignInFailed(_verification_message(exc), "signature") from None
    if not db.consume_nonce(svc.engine, message.nonce):
        raise SignInFailed("This sign-in request was already used or has expired; start again.",
                           "message")
    _sign_in(message.address, SIGNER_WALLET)
    return jsonify({"account": current_account(), "signer": SIGNER_WALLET,
                    "csrf_token": session["csrf"]})


@bp.post("/dev")
def dev_switch() -> ResponseReturnValue:
    """Act as dev account `account` (an index or an address); dev mode on local chains only."""
    svc = services()
    if not svc.chain.dev_signing_available():
        raise Forbidden("Dev accounts exist only on a local chain in dev mode.", None)
    inputs = _json_inputs()
    raw = inputs.get("account")
    dev = {a.index: a.address.lower() for a in svc.chain.dev_accounts()}
    if isinstance(raw, str) and raw.strip().startswith("0x"):
        chosen = address(raw, "account")
        if chosen not in dev.values():
            raise FieldError("Not a dev account.", "account")
    else:
        index = integer(raw, "account", low=0, high=max(dev, default=0))
        if index not in dev:
            raise FieldError("That dev account holds no ether on this chain.", "account")
        chosen = dev[index]
    _sign_in(chosen, SIGNER_DEV)
    if request.is_json:
        return jsonify({"account": chosen, "signer": SIGNER_DEV, "csrf_token": session["csrf"]})
    return redirect(_safe_next(request.form.get("next")) or url_for("customer.index"))


@bp.post("/signout")
def signout() -> ResponseReturnValue:
    """Forget the signed-in account."""
    session.clear()
    rotate_csrf_token()
    if request.is_json:
        return jsonify({"account": None})
    return redirect(url_for("customer.index"))


@bp.get("/session")
def session_info() -> ResponseReturnValue:
    """Who is signed in, how they sign, and the CSRF token for state-changing calls."""
    from marketplace.web.security import csrf_token

    return jsonify({"account": current_account(), "signer": signer(),
                    "csrf_token": csrf_token()})


def _safe_next(target: str | None) -> str:
    """`target` if it is a path on this site, else '' (no open redirects)."""
    if not target or not isinstance(target, str) or len(target) > 500:
        return ""
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return ""
    if "\\" in target or any(ord(c) < 32 for c in target):
        return ""
    return target


def safe_next(target: str | None) -> str:
    """Public form of `_safe_next` for the other blueprints."""
    return _safe_next(target)


def _checksum(account: str) -> str:
    from eth_utils.address import to_checksum_address

    return str(to_checksum_address(account))


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _verification_message(exc: VerificationError) -> str:
    name = type(exc).__name__
    return {
        "DomainMismatch": "The message is for another site.",
        "UriMismatch": "The message is for another address of this site.",
        "ChainIdMismatch": "The message is for another chain.",
        "NonceMismatch": "The message's nonce is not the one issued.",
        "ExpiredMessage": "The sign-in message has expired; start again.",
        "NotYetValidMessage": "The sign-in message is not valid yet.",
        "InvalidSignature": "The signature does not match the message and address.",
    }.get(name, "The sign-in message did not verify.")
