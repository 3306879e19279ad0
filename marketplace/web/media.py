"""Listing pictures over HTTP: `/media/<sha256>` serves a stored picture, and the pages and the API
endpoint that take a picture get a request size limit of their own.

A picture never changes under its digest, so it is served with a year-long `immutable` cache
lifetime and its digest as the ETag; `nosniff` and a sandboxing CSP keep a browser from reading
it as anything but the image its stored Content-Type says. An unknown digest, or one that is not
64 lower-case hex digits, is a 404.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, request
from flask.typing import ResponseReturnValue
from werkzeug.routing import BaseConverter

from marketplace.web.context import services
from marketplace.web.db import get_picture
from marketplace.web.errors import NotFound
from marketplace.web.pictures import DIGEST_RE, MAX_PICTURE_BYTES, MEDIA_PATH

bp = Blueprint("media", __name__)

IMMUTABLE = "public, max-age=31536000, immutable"
PICTURE_CSP = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox"
FORM_ALLOWANCE = 64 * 1024  # the form's other fields beside the file
# A form may bring a picture over the limit (a phone photo): it is read and refused next to its
# field, the rest of the form kept. Beyond this the request itself is refused (413).
FORM_PICTURE_REQUEST = 6 * MAX_PICTURE_BYTES + FORM_ALLOWANCE

# Endpoints that take a picture -> their request size limit (the app's default is 64 KiB).
UPLOAD_LIMITS: dict[str, int] = {
    "provider.register_submit": FORM_PICTURE_REQUEST,
    "provider.edit_submit": FORM_PICTURE_REQUEST,
    "api.upload_picture": MAX_PICTURE_BYTES,
}


class Sha256Converter(BaseConverter):
    """A picture digest in a URL: 64 lower-case hex digits."""

    regex = DIGEST_RE.pattern.strip("^$")
    part_isolating = True


def _install_converter(state: Any) -> None:
    state.app.url_map.converters["sha256"] = Sha256Converter


bp.record_once(_install_converter)


def allow_picture_uploads() -> None:
    """Raise this request's size limit when its endpoint takes a picture (a before-request
    hook that runs before anything reads the body, the CSRF check included)."""
    limit = UPLOAD_LIMITS.get(request.endpoint or "")
    if limit is not None:
        request.max_content_length = limit


def takes_pictures() -> bool:
    """Whether the current request's endpoint takes a picture (a 413 then names it)."""
    return (request.endpoint or "") in UPLOAD_LIMITS


@bp.get(f"{MEDIA_PATH}<sha256:digest>")
def picture(digest: str) -> ResponseReturnValue:
    """A stored picture by the SHA-256 of its bytes, cacheable for ever."""
    if digest in request.if_none_match:
        response = Response(status=304)
    else:
        stored = get_picture(services().engine, digest)
        if stored is None:
            raise NotFound("There is no picture with this digest.", None)
        response = Response(stored.data, mimetype=stored.content_type)
        extension = stored.content_type.removeprefix("image/")
        response.headers["Content-Disposition"] = f'inline; filename="{digest[:16]}.{extension}"'
    response.set_etag(digest)
    response.headers["Cache-Control"] = IMMUTABLE
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = PICTURE_CSP
    return response
