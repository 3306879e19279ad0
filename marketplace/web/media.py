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

# Endpoints that take a picture -> their request size limit (the app's default is 64 KiB) and
# whether only a multipart form gets it (an urlencoded form is read whole into memory: it keeps
# the default limit).
UPLOAD_LIMITS: dict[str, tuple[int, bool]] = {
    "provider.register_submit": (FORM_PICTURE_REQUEST, True),
    "provider.edit_submit": (FORM_PICTURE_REQUEST, True),
    "api.upload_picture": (MAX_PICTURE_BYTES, False),
}


def _picture_limit() -> int | None:
    """The current request's own size limit, when it may carry a picture."""
    limit, multipart_only = UPLOAD_LIMITS.get(request.endpoint or "", (0, False))
    if not limit or (multipart_only and request.mimetype != "multipart/form-data"):
        return None
    return limit


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
    limit = _picture_limit()
    if limit is not None:
        request.max_content_length = limit


def too_large_for_a_picture() -> bool:
    """Whether a 413 of the current request is its body over its endpoint's picture limit (then
    the refusal names the picture; a form field over the form-field limit is not that)."""
    limit = _picture_limit()
    return limit is not None and (request.content_length or 0) > limit


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
