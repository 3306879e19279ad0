"""The API's request contract: pydantic types and models that both validate requests and
generate the OpenAPI document, so the two cannot drift apart.

Body models are strict (JSON types as documented: `{"granted": 0}` is not a boolean); query
models are lax only in that query strings arrive as text ("5" is the integer 5). A request the
models refuse is a 400 naming the field. A request they accept but that breaks a rule no JSON
Schema can state (an attribute both required and refused, a stake under the market's minimum,
a zero price) is a 422 naming the field: see `semantic`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any, TypeVar, get_args, get_origin

from flask import request
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    WithJsonSchema,
)
from werkzeug.routing import BaseConverter

from marketplace.catalogue import ATTRIBUTES, CATEGORIES, COMPLAINT_TAGS, REGIONS, Entry
from marketplace.domain import UINT96_MAX
from marketplace.language.errors import MAX_TEXT_CHARS
from marketplace.web.errors import FieldError
from marketplace.web.forms import Inputs
from marketplace.web.pictures import DIGEST_RE

M = TypeVar("M", bound=BaseModel)

UINT32_MAX = 2**32 - 1
ADDRESS_RE = r"0x[0-9a-fA-F]{40}"
TX_HASH_RE = r"0x[0-9a-fA-F]{64}"
# A uint256 as 0x hex or decimal digits (77 digits always fit in 256 bits).
BOOKING_ID_RE = r"0x[0-9a-fA-F]{1,64}|[0-9]{1,77}"
# Wei digits, or a decimal with a unit; the digit limits keep every value inside uint96.
AMOUNT_RE = (r"^(?:[0-9]{1,28}(?: wei)?|[0-9]{1,10}(?:\.[0-9]{1,18})? ether"
             r"|[0-9]{1,19}(?:\.[0-9]{1,9})? gwei)$")
STARS_RE = r"^(?:[0-4](?:\.[0-9]{1,4})?|5(?:\.0{1,4})?)$"
WEIGHT_RE = r"^[0-9]{1,9}(?:\.[0-9]{1,6})?$"
PERCENT_RE = r"^(?:100(?:\.0{1,2})?|[0-9]{1,2}(?:\.[0-9]{1,2})?)$"
# Names: one line, not blank; descriptions may hold tabs and line breaks.
NAME_RE = r"^[^\x00-\x1f\x7f]*[^\s\x00-\x1f\x7f][^\x00-\x1f\x7f]*$"
DESCRIPTION_RE = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$"

EXAMPLE_ADDRESS = "0x15d34aaf54267db7d7c367839aaf71a00a2c6a65"  # the dev chain's account 4



def _integral(value: Any) -> Any:
    """JSON Schema counts 5.0 as an integer; so does the API (5.5 stays invalid)."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def int_in(low: int, high: int, **field: Any) -> Any:
    """A JSON integer in [low, high]: 5 or 5.0, never "5" or true (bodies are strict)."""
    return Annotated[int, Field(ge=low, le=high, **field), BeforeValidator(_integral)]


Address = Annotated[str, Field(pattern=f"^{ADDRESS_RE}$", examples=[EXAMPLE_ADDRESS])]
TxHash = Annotated[str, Field(pattern=f"^{TX_HASH_RE}$", examples=["0x" + "ab" * 32])]
BookingId = Annotated[str, Field(pattern=f"^(?:{BOOKING_ID_RE})$", examples=["0x1"])]
ProviderId = int_in(1, UINT32_MAX, examples=[1])
NotificationId = int_in(1, 2**53, examples=[1])
Version = int_in(1, UINT32_MAX, examples=[1])
Amount = (int_in(0, UINT96_MAX)
          | Annotated[str, Field(pattern=AMOUNT_RE, examples=["0.05 ether"])])
AmountText = Annotated[str, Field(pattern=AMOUNT_RE, examples=["0.05 ether"])]
Stars = (Annotated[float, Field(ge=0, le=5, allow_inf_nan=False)]
         | Annotated[str, Field(pattern=STARS_RE)])
Weight = (Annotated[float, Field(ge=0, le=10**9, allow_inf_nan=False)]
          | Annotated[str, Field(pattern=WEIGHT_RE)])
Percent = (Annotated[float, Field(ge=0, le=100, allow_inf_nan=False)]
           | Annotated[str, Field(pattern=PERCENT_RE)])
Name = Annotated[str, Field(max_length=80, pattern=NAME_RE, examples=["Aino's Rides"])]
Description = Annotated[str, Field(max_length=1000, pattern=DESCRIPTION_RE)]
PictureDigest = Annotated[str, Field(
    pattern=DIGEST_RE.pattern, examples=["9f86d081884c7d659a2feaa0c55ad015"
                                         "a3bf4f1b2b0b822cd15d6c15b0f00a08"],
    description="the SHA-256 (hex) of a picture uploaded with POST /pictures")]


def _not_blank(text: str) -> str:
    # Python's idea of whitespace (str.strip, as the interpreters use): pydantic's own pattern
    # engine reads `\S` slightly differently, and its message would quote the regex.
    if not text.strip():
        raise ValueError("text is blank; write a few words")
    return text


# A customer's own words for the language model: not blank (the documented pattern: some
# character that is not whitespace), refused rather than cut when longer than is accepted.
FreeText = Annotated[str, Field(min_length=1, max_length=MAX_TEXT_CHARS,
                                json_schema_extra={"pattern": r"\S"}), AfterValidator(_not_blank)]


def choice(entries: tuple[Entry, ...], *, allow_any: bool = False, text: bool = False) -> Any:
    """A catalogue entry by key or code; `text` for query strings and paths (codes as digits).

    The JSON Schema enum and the validator are built from the same catalogue tuple."""
    keys: list[str] = [e.key for e in entries] + (["any"] if allow_any else [])
    codes: list[int] = [e.code for e in entries] + ([0] if allow_any else [])
    allowed: list[str | int] = [*keys, *(str(c) for c in codes)] if text else [*keys, *codes]

    def check(value: str | int) -> str | int:
        if isinstance(value, bool) or value not in allowed:
            raise ValueError(f"unknown choice; pick one of: {', '.join(keys)}")
        return int(value) if isinstance(value, str) and value.isdigit() else value

    base: Any = str if text else str | int
    return Annotated[base, AfterValidator(check), WithJsonSchema({"enum": allowed})]


Category = choice(CATEGORIES)
Region = choice(REGIONS, allow_any=True)
Attribute = choice(ATTRIBUTES)
ComplaintTag = choice(COMPLAINT_TAGS)
CategoryText = choice(CATEGORIES, text=True)
RegionText = choice(REGIONS, allow_any=True, text=True)
AttributeText = choice(ATTRIBUTES, text=True)
Attributes = Annotated[list[Attribute], Field(max_length=64)]  # type: ignore[valid-type]


class Body(BaseModel):
    """A JSON request body: JSON types exactly as documented; unknown members are ignored."""

    model_config = ConfigDict(strict=True, extra="ignore", populate_by_name=True)


class Query(BaseModel):
    """Query parameters (text converted to the documented types)."""

    model_config = ConfigDict(extra="ignore")


class Sender(Body):
    """`from`: the sending address; optional when signed in (the session's account)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"from": EXAMPLE_ADDRESS}]})

    sender: Address | None = Field(default=None, alias="from")


# ------------------------------------------------------------------ reading requests


def parse_body(model: type[M]) -> M:
    """The request's JSON body validated by `model` (no body counts as `{}`)."""
    raw = request.get_data(cache=True)
    data: Any = {}
    if raw:
        if not request.is_json:
            raise FieldError("Send a JSON object with Content-Type: application/json.", None,
                             status=415, code="unsupported_media_type")
        try:
            data = request.get_json(silent=True)
        except RecursionError:  # absurdly deep nesting: the JSON parser gives up
            data = None
        if not isinstance(data, dict):
            raise FieldError("The body must be a JSON object.", None, code="invalid_json")
    return validate(model, data)


def parse_query(model: type[M]) -> M:
    """The query string validated by `model` (list fields take every repeated value)."""
    data: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        key = info.alias or name
        if key not in request.args:
            continue
        data[key] = (request.args.getlist(key) if _is_list(info.annotation)
                     else request.args.get(key))
    return validate(model, data)


def _is_list(annotation: Any) -> bool:
    """Whether a field takes a list (`list[...]`, also inside `... | None`)."""
    if get_origin(annotation) is list:
        return True
    return any(_is_list(arg) for arg in get_args(annotation))


def validate(model: type[M], data: Any) -> M:
    """`model` over `data`; a 400 naming every bad field (the first one as `field`)."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        errors: dict[str, str] = {}
        for error in exc.errors(include_url=False):
            loc = error.get("loc", ())
            name = str(loc[0]) if loc else "body"
            errors.setdefault(name, _sentence(error))
        first = next(iter(errors))
        raise FieldError(errors[first], None if first == "body" else first,
                         fields=errors if len(errors) > 1 else None) from None


def _sentence(error: Any) -> str:
    if error.get("type") == "missing":
        return "This field is required."
    message = str(error.get("msg", "is invalid"))
    message = re.sub(r"^Value error, ", "", message)
    message = message[:1].upper() + message[1:]
    return message if message.endswith(".") else message + "."


def inputs_of(model: BaseModel) -> Inputs:
    """A validated model as the `Inputs` the shared intent builders read (JSON names)."""
    return Inputs(model.model_dump(by_alias=True, exclude_none=True))


@contextmanager
def semantic() -> Iterator[None]:
    """Rules beyond the document: a FieldError (400) raised inside becomes a 422, since the
    request already matched the document's schema."""
    try:
        yield
    except FieldError as exc:
        if exc.status == 400:
            exc.status = 422
            exc.code = "unprocessable"
        raise


# ------------------------------------------------------------------ path converters


def any_of(values: list[str]) -> str:
    """A werkzeug `any(...)` converter over `values` (quoted: digits would become integers)."""
    return "any({})".format(",".join(f'"{v}"' for v in values))


def _converter(name: str, pattern: str) -> type[BaseConverter]:
    return type(name, (BaseConverter,), {"regex": f"(?:{pattern})", "part_isolating": True})


CONVERTERS: dict[str, type[BaseConverter]] = {
    "address": _converter("AddressConverter", ADDRESS_RE),
    "txhash": _converter("TxHashConverter", TX_HASH_RE),
    "bookingid": _converter("BookingIdConverter", BOOKING_ID_RE),
}


def booking_number(ref: str) -> int:
    """A booking id path value (0x hex or decimal, as the converter matched it) as a number."""
    return int(ref, 16) if ref[:2].lower() == "0x" else int(ref)


def schema_of(annotation: Any) -> dict[str, Any]:
    """The JSON Schema of one annotated type (for path parameters)."""
    schema: dict[str, Any] = TypeAdapter(annotation).json_schema()
    return schema

