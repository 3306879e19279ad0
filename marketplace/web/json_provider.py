"""JSON responses serialised by orjson: the same JSON values as Flask's encoder, several times
faster (a ranking's twenty matches with their reasons are most of what `/api/v1/match` spends
after the ranking itself).

Only compact responses (`jsonify` outside debug mode) take the fast path, and only for what
orjson encodes exactly as the standard library would: str, int within 64 bits, float, bool,
None, lists, tuples and dicts. Anything else (dates, decimals, dataclasses, integers beyond 64
bits, non-string keys) falls back to Flask's own encoder, and so does `dumps` for templates
(`tojson`). The bytes differ from Flask's encoder only in that non-ASCII characters are sent as
UTF-8 rather than as \\u escapes, which a JSON parser reads as the same string, and in how a
float is spelled (1e-05 or 1e-5: the same number). A NaN or an infinity, which JSON cannot
hold and no response of ours carries, would read null where Flask writes NaN.
"""

from __future__ import annotations

from typing import Any

import orjson
from flask.json.provider import DefaultJSONProvider
from werkzeug.sansio.response import Response

__all__ = ["FastJSONProvider"]


class FastJSONProvider(DefaultJSONProvider):
    """Flask's JSON provider with orjson for compact responses."""

    def response(self, *args: Any, **kwargs: Any) -> Response:
        """`jsonify`: the body serialised by orjson when it can, else by Flask's encoder."""
        if (self.compact is None and self._app.debug) or self.compact is False:
            return super().response(*args, **kwargs)  # indented: Flask's encoder
        obj = self._prepare_response_obj(args, kwargs)
        option = orjson.OPT_APPEND_NEWLINE | orjson.OPT_PASSTHROUGH_DATACLASS | (
            orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_SUBCLASS)
        if self.sort_keys:
            option |= orjson.OPT_SORT_KEYS
        try:
            body = orjson.dumps(obj, option=option)
        except TypeError:  # orjson.JSONEncodeError: a type it does not take as Flask would
            return super().response(obj)
        return self._app.response_class(body, mimetype=self.mimetype)  # type: ignore[arg-type]
