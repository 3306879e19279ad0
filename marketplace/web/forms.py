"""Validation of every input the web app takes, from HTML forms and JSON bodies alike.

`Inputs` reads a form (strings) or a JSON object (any JSON type) through one interface; the
parsers below turn one input into a domain value or raise `FieldError` naming the field, so
no user input reaches the chain, the store or the matching engine unchecked.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

from werkzeug.datastructures import MultiDict

from marketplace.catalogue import Entry, UnknownName, entries, entry_of, key_of, lookup, names
from marketplace.domain import (
    MAX_ATTESTORS,
    MAX_TRUSTED_ATTESTORS,
    RATING_WEIGHT_UNIT,
    STAR,
    UINT64_MAX,
    UINT88_MAX,
    UINT96_MAX,
    attestor_ids,
    attestor_mask,
)
from marketplace.matching.criteria import (
    CriteriaInput,
    InvalidCriteria,
    decimal_number,
    parse_amount,
    parse_stars,
    parse_weight,
    weights_bps,
)
from marketplace.units import ETHER_CURRENCY, Currency
from marketplace.web.errors import FieldError, FormErrors

T = TypeVar("T")

MAX_TEXT = 2_000
_HEX_ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}$")
_HEX_HASH = re.compile(r"^0x[0-9a-fA-F]{64}$")
_DIGITS = re.compile(r"^[0-9]{1,80}$")
_HEX_NUMBER = re.compile(r"^0x[0-9a-fA-F]{1,64}$")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

# Names the criteria parser uses for a field -> names the forms and the API use.
CRITERIA_FIELD_NAMES = {
    "min_score": "min_stars",
    "required_attributes": "required",
    "refused_attributes": "refused",
    "verified_attributes": "verified",
    "min_rating_weight": "min_track_record",
}


class Inputs:
    """Named inputs of one request: an HTML form's fields or a JSON object's members."""

    def __init__(self, source: MultiDict[str, str] | Mapping[str, Any] | None) -> None:
        self._form = source if isinstance(source, MultiDict) else None
        self._json: Mapping[str, Any] = (
            source if source is not None and not isinstance(source, MultiDict) else {}
        )
        if self._form is None and not isinstance(self._json, Mapping):
            raise FieldError("the request body must be a JSON object", None)

    @property
    def is_form(self) -> bool:
        """Whether the inputs come from an HTML form (amounts then default to ether)."""
        return self._form is not None

    def get(self, name: str) -> Any:
        """One input (None when absent or empty)."""
        if self._form is not None:
            value = self._form.get(name)
            return None if value is None or value.strip() == "" else value
        return self._json.get(name)

    def getlist(self, name: str) -> list[Any]:
        """A multi-valued input: repeated form fields, or a JSON list (or one value)."""
        if self._form is not None:
            return [v for v in self._form.getlist(name) if v.strip() != ""]
        value = self._json.get(name)
        if value is None:
            return []
        if isinstance(value, list):
            return value
        if isinstance(value, str):
            return [part for part in (p.strip() for p in value.split(",")) if part]
        return [value]

    def has(self, name: str) -> bool:
        """Whether the input was given at all."""
        return self.get(name) is not None

    def raw(self) -> dict[str, Any]:
        """The inputs as a plain dict (for re-filling a form after an error)."""
        if self._form is not None:
            return {k: (v if len(v) > 1 else v[0]) for k, v in self._form.lists()}
        return dict(self._json)


# ------------------------------------------------------------------ scalar parsers


def text(value: Any, field: str, *, max_len: int = MAX_TEXT, required: bool = True) -> str:
    """Trimmed text without control characters, at most `max_len` characters."""
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise FieldError("This field is required.", field)
        return ""
    if not isinstance(value, str):
        raise FieldError("Must be text.", field)
    cleaned = value.strip()
    if _CONTROL.search(cleaned):
        raise FieldError("Must not contain control characters.", field)
    if len(cleaned) > max_len:
        raise FieldError(f"Must be at most {max_len} characters.", field)
    return cleaned


def feedback_text(value: Any, field: str = "feedback_text", *, required: bool = False) -> str:
    """The customer's own words on the rating step ("" when left empty and not required)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise FieldError("Write what happened first; the tags are suggested from it.",
                             field)
        return ""
    if not isinstance(value, str):
        raise FieldError("Must be text.", field)
    if len(value) > MAX_TEXT:
        raise FieldError(f"Your text is {len(value):,} characters long; at most {MAX_TEXT:,} "
                         "are accepted. Shorten it.", field)
    return text(value, field, max_len=MAX_TEXT)


def integer(value: Any, field: str, *, low: int = 0, high: int = UINT96_MAX) -> int:
    """A whole number in [low, high], given as a JSON integer or decimal digits."""
    if value is None or (isinstance(value, str) and not value.strip()):
        raise FieldError("This field is required.", field)
    if isinstance(value, bool):
        raise FieldError("Must be a whole number, not true/false.", field)
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and _DIGITS.match(value.strip()):
        number = int(value.strip())
    elif isinstance(value, str) and value.strip().startswith("-") and _DIGITS.match(
        value.strip()[1:]
    ):
        number = -int(value.strip()[1:])
    else:
        raise FieldError("Must be a whole number.", field)
    if number < low:
        raise FieldError(f"Must be at least {low}.", field)
    if number > high:
        raise FieldError(f"Must be at most {high}.", field)
    return number


def optional_integer(value: Any, field: str, *, low: int = 0, high: int = UINT96_MAX) -> int | None:
    """`integer`, or None when the input is absent."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return integer(value, field, low=low, high=high)


def big_id(value: Any, field: str) -> int:
    """A uint256 id (booking ids): decimal digits, 0x hex, or a JSON integer; above zero."""
    if isinstance(value, str) and _HEX_NUMBER.match(value.strip()):
        number = int(value.strip(), 16)
        if number == 0:
            raise FieldError("Must be above zero.", field)
        return number
    return integer(value, field, low=1, high=2**256 - 1)


def address(value: Any, field: str) -> str:
    """An Ethereum address ('0x' and 40 hex digits), lower-cased."""
    if not isinstance(value, str) or not _HEX_ADDRESS.match(value.strip()):
        raise FieldError("Must be an address: 0x followed by 40 hex digits.", field)
    return value.strip().lower()


def tx_hash(value: Any, field: str = "hash") -> str:
    """A transaction hash ('0x' and 64 hex digits), lower-cased."""
    if not isinstance(value, str) or not _HEX_HASH.match(value.strip()):
        raise FieldError("Must be a transaction hash: 0x followed by 64 hex digits.", field)
    return value.strip().lower()


def boolean(value: Any, field: str, *, default: bool | None = None) -> bool:
    """true/false, 1/0, yes/no, on/off."""
    if value is None:
        if default is None:
            raise FieldError("This field is required.", field)
        return default
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        word = value.strip().lower()
        if word in {"1", "true", "yes", "on"}:
            return True
        if word in {"0", "false", "no", "off"}:
            return False
    raise FieldError("Must be true or false.", field)


def amount(value: Any, field: str, *, default_unit: str = "wei", low: int = 0) -> int:
    """An amount in wei: an integer (wei), or text with a unit ("0.05 ether", "20 gwei").

    Text without a unit is in `default_unit` (forms say ether, the API says wei).
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        raise FieldError("This field is required.", field)
    if isinstance(value, float):
        raise FieldError("Give amounts as an integer of wei or a string with a unit.", field)
    if isinstance(value, str):
        cleaned = " ".join(value.strip().split())
        if len(cleaned) > 100:
            raise FieldError("Too long for an amount.", field)
        if " " not in cleaned:
            cleaned = f"{cleaned} {default_unit}"
        value = cleaned
    if not isinstance(value, int | str) or isinstance(value, bool):
        raise FieldError("Must be an amount.", field)
    wei = _domain(parse_amount, value, field)
    if wei < low:
        raise FieldError(f"Must be at least {low} wei.", field)
    return wei


def stars(value: Any, field: str = "stars") -> int:
    """A rating: 1 to 5 whole stars."""
    return integer(value, field, low=1, high=5)


def min_stars(value: Any, field: str = "min_stars") -> int:
    """A minimum score in stars ("4.5") as basis points of a star."""
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise FieldError("Must be a number of stars from 0 to 5.", field)
    return _domain(parse_stars, value, field)


def percent_bps(value: Any, field: str) -> int:
    """A share in percent (0-100, up to two decimals) as basis points."""
    if value is None or (isinstance(value, str) and not value.strip()):
        raise FieldError("This field is required.", field)
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise FieldError("Must be a percentage from 0 to 100.", field)
    try:
        number = decimal_number(value)
    except InvalidOperation:
        raise FieldError("Must be a percentage from 0 to 100.", field) from None
    if not number.is_finite() or not 0 <= number <= 100:
        raise FieldError("Must be a percentage from 0 to 100.", field)
    bps = number * 100
    if bps != bps.to_integral_value():
        raise FieldError("At most two decimals.", field)
    return int(bps)


def choice(value: Any, field: str, kind: str, *, allow_any: bool) -> int:
    """A catalogue entry of `kind` by key ('rides') or code (1); 0 for 'any' when allowed."""
    if value is None or (isinstance(value, str) and value.strip().lower() in {"", "any"}):
        if allow_any:
            return 0
        raise FieldError("Choose one.", field)
    if isinstance(value, bool):
        raise FieldError("Must be a name from the catalogue.", field)
    entry = _catalogue_entry(kind, value)
    if entry is not None:
        return entry.code
    if allow_any and _catalogue_code(value) == 0:
        return 0
    known = ", ".join(entry.key for entry in entries(kind))
    raise FieldError(f"Unknown choice; pick one of: {known}.", field)


def category(value: Any, field: str = "category") -> int:
    """A service category (required)."""
    return choice(value, field, "category", allow_any=False)


def region(value: Any, field: str = "region") -> int:
    """A region, or 0 for any/unspecified."""
    return choice(value, field, "region", allow_any=True)


def attribute_mask(values: Iterable[Any], field: str) -> int:
    """Attribute keys ('pet_friendly') or bit numbers as a 64-bit mask."""
    return _mask(values, field, "attribute", UINT64_MAX)


def complaint_mask(values: Iterable[Any], field: str = "complaint_tags") -> int:
    """Complaint tag keys ('late') or bit numbers as a 32-bit mask."""
    return _mask(values, field, "complaint tag", 2**32 - 1)


def _mask(values: Iterable[Any], field: str, kind: str, limit: int) -> int:
    mask = 0
    items = list(values)
    if len(items) > 64:
        raise FieldError("Too many values.", field)
    for item in items:
        if isinstance(item, bool):
            raise FieldError("Must be names from the catalogue.", field)
        entry = _catalogue_entry(kind, item)
        if entry is None:
            shown = str(item)[:40]
            raise FieldError(f"Unknown value {shown!r}.", field)
        mask |= 1 << entry.code
    if mask > limit:
        raise FieldError("Too many values.", field)
    return mask


def _catalogue_code(value: Any) -> int | None:
    """A code as given: a JSON integer or decimal digits; None for anything else."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and _DIGITS.match(value.strip()):  # ASCII: int() refuses "²"
        return int(value.strip())
    return None


def _catalogue_entry(kind: str, value: Any) -> Entry | None:
    """The catalogue entry a request names by code or (case-insensitive) key, if any."""
    code = _catalogue_code(value)
    if code is not None:
        return entry_of(kind, code)
    if isinstance(value, str):
        try:
            return lookup(kind, value.strip().lower())
        except UnknownName:
            return None
    return None


def page_args(inputs: Inputs, *, max_per_page: int = 100) -> tuple[int, int]:
    """(page, per_page): page from 1, per_page from 1 to `max_per_page` (default 20)."""
    page = integer(inputs.get("page") or 1, "page", low=1, high=1_000_000)
    per_page = integer(inputs.get("per_page") or 20, "per_page", low=1, high=max_per_page)
    return page, per_page


def _domain(parse: Callable[[Any, str], T], value: Any, field: str) -> T:
    """`parse` from the criteria rules, its `InvalidCriteria` as this field's `FieldError`."""
    try:
        return parse(value, field)
    except InvalidCriteria as exc:
        raise FieldError(_sentence(exc.message), field) from None


def _sentence(message: str) -> str:
    text_ = message.strip()
    return text_[:1].upper() + text_[1:] + ("" if text_.endswith(".") else ".")


# ------------------------------------------------------------------ criteria

# The largest relative weight a request may give: an input limit, not a criteria rule.
MAX_WEIGHT_INPUT = 10**9


def weight(value: Any, field: str) -> Decimal:
    """A relative weight for ranking: any number from 0 up (1 when absent)."""
    if value is None:
        return Decimal(1)
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise FieldError("Must be a number from 0 up (a relative weight).", field)
    number = _domain(parse_weight, value, field)
    if number > MAX_WEIGHT_INPUT:
        raise FieldError(f"Must be at most {MAX_WEIGHT_INPUT:,} (a relative weight).", field)
    return number


def criteria_json(c: CriteriaInput) -> dict[str, Any]:
    """Criteria in the API's field names: catalogue keys, stars, amounts in the smallest unit of
    the criteria's currency as decimal strings; attestor ids; the track record in weight units,
    reliability in basis points."""
    return {
        "currency": c.currency,
        "verified": names("attribute", c.verified_attributes),
        "trusted_attestors": attestor_ids(c.trusted_attestors),
        "min_rating_weight": c.min_rating_weight,
        "min_reliability": f"{Decimal(c.min_reliability) / 100:f}",
        "category": key_of("category", c.category) or c.category,
        "region": key_of("region", c.region) or (c.region if c.region else "any"),
        "min_stars": str(Decimal(c.min_score) / STAR),
        "max_price": str(c.max_price),
        "premium_per_star": str(c.premium_per_star),
        "required": names("attribute", c.required_attributes),
        "refused": names("attribute", c.refused_attributes),
        "score_weight": c.score_weight,
        "price_weight": c.price_weight,
    }


def currency_id(value: Any, field: str, known: Mapping[int, Currency]) -> int:
    """A currency by id ("1") or symbol ("DUSD"); 0 (ether) when absent."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return 0
    if isinstance(value, int) and not isinstance(value, bool):
        ident = value
    elif isinstance(value, str) and _DIGITS.match(value.strip()):
        ident = int(value.strip())
    elif isinstance(value, str):
        wanted = value.strip().lower()
        found = [c.id for c in known.values() if c.symbol.lower() == wanted]
        if not found:
            raise FieldError(f"Unknown currency; one of: "
                             f"{', '.join(c.symbol for c in known.values())}.", field)
        ident = found[0]
    else:
        raise FieldError("Must be a currency id or symbol.", field)
    if ident not in known:
        raise FieldError(f"Currency #{ident} is not accepted by the marketplace now; one of: "
                         f"{', '.join(c.symbol for c in known.values())}.", field)
    return ident


def attestor_list(values: Iterable[Any], field: str = "trusted_attestors") -> int:
    """Attestor ids (1..32, at most four) as the contract's mask (bit id - 1)."""
    ids: list[int] = []
    for value in values:
        if isinstance(value, str) and not value.strip():
            continue
        ids.append(integer(value, field, low=1, high=MAX_ATTESTORS))
    if len(set(ids)) > MAX_TRUSTED_ATTESTORS:
        raise FieldError(f"Trust at most {MAX_TRUSTED_ATTESTORS} attestors.", field)
    return attestor_mask(ids)


def track_record(value: Any, field: str = "min_track_record") -> int:
    """A minimum track record in minimum-fee ratings ("2.5") as rating-weight units (2,500)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return 0
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise FieldError("Must be a number of ratings from 0 up.", field)
    try:
        number = decimal_number(value)
    except InvalidOperation:
        raise FieldError("Must be a number of ratings from 0 up.", field) from None
    if not number.is_finite() or number < 0:
        raise FieldError("Must be a number of ratings from 0 up.", field)
    units = number * RATING_WEIGHT_UNIT
    if units != units.to_integral_value():
        raise FieldError("At most three decimals.", field)
    if units > UINT64_MAX:
        raise FieldError("That track record is larger than any listing can have.", field)
    return int(units)


def parse_criteria_inputs(inputs: Inputs,
                          known: Mapping[int, Currency] | None = None) -> CriteriaInput:
    """Every criteria field validated; `FormErrors` lists each bad field with its message.

    Names: category, region, currency, min_stars, max_price, premium_per_star, required,
    refused, verified, trusted_attestors, min_track_record (ratings; JSON may give
    min_rating_weight in weight units), min_reliability (percent), score_weight, price_weight.
    Amounts are in the criteria's currency: on forms in its units (ether, DUSD), in JSON in its
    smallest unit unless a unit is given; weights are any two non-negative numbers (scaled to
    basis points summing to 10,000).

    Each input is parsed once, into the value the contract takes; the rules that relate fields
    (weights not both zero, nothing both required and refused, verified a subset of required)
    are `CriteriaInput`'s, checked when it is built, so the form and the domain cannot disagree.
    """
    currencies = dict(known or {0: ETHER_CURRENCY})
    currencies.setdefault(0, ETHER_CURRENCY)
    errors: dict[str, str] = {}
    try:
        chosen = currencies[currency_id(inputs.get("currency"), "currency", currencies)]
    except FieldError as exc:
        errors["currency"] = exc.message
        chosen = ETHER_CURRENCY

    def money(name: str, default: Any = None) -> Callable[[Inputs], Any]:
        def parse(i: Inputs) -> Any:
            raw = i.get(name)
            if raw is None and default is not None:
                raw = default
            if chosen.is_ether:
                unit = "ether" if inputs.is_form else "wei"
                return amount(raw, name, default_unit=unit)
            from marketplace.web.money import parse_amount as parse_money

            if not inputs.is_form and not (isinstance(raw, str) and not raw.strip().isdigit()):
                return integer(raw, name, low=0, high=UINT88_MAX)  # the smallest unit
            return parse_money(raw, name, chosen)  # "12.5" on forms, "12.5 dUSD" in JSON
        return parse

    def reliability_bps(i: Inputs) -> int:
        raw = i.get("min_reliability")
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            return 0
        return percent_bps(raw, "min_reliability")

    def rating_weight(i: Inputs) -> int:
        if i.get("min_rating_weight") is not None and not inputs.is_form:
            return integer(i.get("min_rating_weight"), "min_rating_weight", low=0,
                           high=UINT64_MAX)
        return track_record(i.get("min_track_record"))

    parsers: dict[str, Callable[[Inputs], Any]] = {
        "category": lambda i: category(i.get("category")),
        "region": lambda i: region(i.get("region")),
        "min_stars": lambda i: min_stars(i.get("min_stars")),
        "max_price": money("max_price"),
        "premium_per_star": money("premium_per_star", 0),
        "required": lambda i: attribute_mask(i.getlist("required"), "required"),
        "refused": lambda i: attribute_mask(i.getlist("refused"), "refused"),
        "verified": lambda i: attribute_mask(i.getlist("verified"), "verified"),
        "trusted_attestors": lambda i: attestor_list(i.getlist("trusted_attestors")),
        "min_track_record": rating_weight,
        "min_reliability": reliability_bps,
        "score_weight": lambda i: weight(i.get("score_weight"), "score_weight"),
        "price_weight": lambda i: weight(i.get("price_weight"), "price_weight"),
    }
    values: dict[str, Any] = {}
    for name, parse in parsers.items():
        try:
            values[name] = parse(inputs)
        except FieldError as exc:
            errors[name] = exc.message
    if values.get("verified") and values.get("trusted_attestors") == 0:
        errors["trusted_attestors"] = ("Name at least one attestor you trust to verify the "
                                       "attributes you want verified.")
    if errors:
        raise FormErrors(errors)
    # A verified attribute must be required too: tick it there as well, as a person means it.
    required = values["required"] | values["verified"]
    score_bps, price_bps = weights_bps(values["score_weight"], values["price_weight"])
    try:
        return CriteriaInput(
            category=values["category"],
            region=values["region"],
            currency=chosen.id,
            min_score=values["min_stars"],
            max_price=values["max_price"],
            premium_per_star=values["premium_per_star"],
            required_attributes=required,
            refused_attributes=values["refused"],
            verified_attributes=values["verified"],
            trusted_attestors=values["trusted_attestors"],
            min_rating_weight=values["min_track_record"],
            min_reliability=values["min_reliability"],
            score_weight=score_bps,
            price_weight=price_bps,
        )
    except InvalidCriteria as exc:
        name = CRITERIA_FIELD_NAMES.get(exc.field, exc.field)
        raise FieldError(_sentence(exc.message), name) from None


def weights_percent(criteria: CriteriaInput) -> tuple[int, int]:
    """The criteria's weights as whole percentages (for the editor's inputs)."""
    score = round(100 * criteria.score_weight / max(criteria.score_weight + criteria.price_weight,
                                                    1))
    return score, 100 - score

