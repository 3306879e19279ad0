"""Listing pictures: upload one, then name its digest as `picture` when building register or
update (the digest goes into the listing's metadata document, so the metadata hash covers it)."""

from __future__ import annotations

from flask import jsonify, request
from flask.typing import ResponseReturnValue

from marketplace.web.api import bp
from marketplace.web.auth import require_account
from marketplace.web.context import services
from marketplace.web.db import put_picture
from marketplace.web.pictures import PictureRefused, inspect, picture_url


@bp.post("/pictures")
def upload_picture() -> ResponseReturnValue:
    """Store a listing picture sent as the raw request body (PNG, JPEG or WebP, told from the
    bytes; at most 2 MB); signed in only. Returns its SHA-256 and where it is served."""
    account = require_account()
    if request.mimetype.startswith("multipart/") or request.mimetype in (
            "application/x-www-form-urlencoded", "application/json"):
        raise PictureRefused("Send the picture's bytes as the request body (for example "
                             "Content-Type: image/png), not a form or JSON.", status=415)
    picture = inspect(request.get_data(cache=False))
    digest = put_picture(services().engine, picture, account)
    return jsonify({"picture": digest, "url": picture_url(digest),
                    "content_type": picture.content_type, "width": picture.width,
                    "height": picture.height, "bytes": len(picture.data)}), 201
