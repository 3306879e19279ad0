"""Request models of the JSON API: each validates requests and documents itself in
/api/v1/openapi.json (`marketplace.web.api.document`), with examples for the examples phase of
an OpenAPI fuzzer."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import ConfigDict, Field

from marketplace.web.api.contract import (
    EXAMPLE_ADDRESS,
    UINT32_MAX,
    Address,
    Amount,
    AmountText,
    Attributes,
    AttributeText,
    Body,
    Category,
    CategoryText,
    ComplaintTag,
    Description,
    FreeText,
    Name,
    NotificationId,
    Percent,
    PictureDigest,
    ProviderId,
    Query,
    Region,
    RegionText,
    Sender,
    Stars,
    Version,
    Weight,
    int_in,
)
from marketplace.web.ranking import MAX_K

CurrencyRef = (int_in(0, 255, examples=[0])
               | Annotated[str, Field(pattern="^[A-Za-z][A-Za-z0-9.]{0,31}$", examples=["ETH"])])

# ------------------------------------------------------------------ query strings


class Paging(Query):
    """page from 1, per_page from 1 to 100."""

    page: int = Field(default=1, ge=1, le=1_000_000)
    per_page: int = Field(default=20, ge=1, le=100)


class ProvidersQuery(Paging):
    """Filters of the provider directory."""

    category: CategoryText | None = None
    region: RegionText | None = None
    active: bool | None = None
    attributes: list[AttributeText] | None = Field(
        default=None, max_length=64, description="required attributes (repeat the parameter)")
    min_stars: float | None = Field(default=None, ge=0, le=5, allow_inf_nan=False)
    max_price: AmountText | None = None
    owner: Address | None = None
    currency: int | None = Field(default=None, ge=0, le=255)
    min_reliability: float | None = Field(default=None, ge=0, le=100, allow_inf_nan=False,
                                          description="percent")
    min_track_record: float | None = Field(default=None, ge=0, le=10**12, allow_inf_nan=False,
                                           description="minimum-fee ratings")


class ProviderQuery(Query):
    """`customer`: also say whether the provider is eligible under their criteria."""

    customer: Address | None = None


class BookingsQuery(Paging):
    """Bookings of a customer and/or a provider (neither: every booking, newest first)."""

    customer: Address | None = None
    provider_id: ProviderId | None = None


class NotificationsQuery(Paging):
    """`unread`: only the notifications not marked read."""

    unread: bool | None = None


# ------------------------------------------------------------------ bodies


class CriteriaBody(Body):
    """Criteria in the API's names: catalogue keys (or codes), stars, amounts in wei or with a
    unit, relative weights."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"category": "rides", "region": "helsinki", "max_price": "0.1 ether",
         "min_stars": 3.5, "required": ["electric_vehicle"], "refused": ["smoker"],
         "verified": ["electric_vehicle"], "trusted_attestors": [1], "min_track_record": 2,
         "min_reliability": 90, "score_weight": 60, "price_weight": 40}]})

    category: Category
    region: Region | None = None
    currency: CurrencyRef | None = None  # type: ignore[valid-type]
    min_stars: Stars | None = None
    max_price: Amount
    premium_per_star: Amount | None = None
    required: Attributes | None = None
    refused: Attributes | None = None
    verified: Attributes | None = Field(default=None, description=(
        "attributes that trusted attestors must have verified (required too)"))
    trusted_attestors: list[int_in(1, 32)] | None = Field(  # type: ignore[valid-type]
        default=None, max_length=32, description="attestor ids you trust (at most four)")
    min_track_record: Weight | None = Field(default=None, description=(
        "minimum rating weight in minimum-fee ratings (2.5: two and a half)"))
    min_rating_weight: int_in(0, UINT32_MAX) | None = Field(  # type: ignore[valid-type]
        default=None, description="the same in weight units (1,000 = one minimum-fee rating)")
    min_reliability: Percent | None = Field(default=None, description="percent, 0 to 100")
    score_weight: Weight | None = None
    price_weight: Weight | None = None


class MatchBody(CriteriaBody):
    """Criteria plus who asks (`customer`), how many (`k`) and what to add."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"category": "rides", "max_price": "0.1 ether", "k": 5, "explain": True}]})

    customer: Address | None = None
    k: int_in(1, MAX_K) = 20  # type: ignore[valid-type]
    personalise: bool = True
    explain: bool = False


class CriteriaTxBody(CriteriaBody, Sender):
    """setCriteria's criteria and the sender."""


class BlockTxBody(Sender):
    """setBlocked(providerId, blocked) with `provider_id`; setOwnerBlocked(owner, blocked)
    with `owner` (every listing of that owner, present and future). Give one of the two."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"from": EXAMPLE_ADDRESS, "provider_id": 1, "blocked": True},
        {"from": EXAMPLE_ADDRESS, "owner": "0x70997970c51812dc3a010c7d01b50e0d17dc79c8",
         "blocked": True}]})

    provider_id: ProviderId | None = None
    owner: Address | None = None
    blocked: bool = True


class RateTxBody(Sender):
    """rate(bookingId, stars, complaintTags)."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"stars": 4, "complaint_tags": ["late"]}]})

    stars: int_in(1, 5)  # type: ignore[valid-type]
    complaint_tags: list[ComplaintTag] | None = Field(
        default=None, max_length=32)


class ResolveTxBody(Sender):
    """resolve(bookingId, refundBps): the arbiter's refund share in percent."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"refund_percent": 25}]})

    refund_percent: Percent


class ListingBody(Sender):
    """The listing's public fields (name, description and picture are stored off-chain): the
    price is in `currency` (an id: 0 ether, else an allowlisted token; its smallest units, or a
    decimal with the unit), the cancellation terms are locked into each booking; `picture` is
    the SHA-256 of a picture uploaded first with POST /pictures (none: no picture)."""

    region: Region | None = None
    attributes: Attributes | None = None
    currency: int_in(0, 255) | None = None  # type: ignore[valid-type]
    price: Amount
    instant: bool | None = None
    free_cancel_hours: int_in(0, 65_535) | None = None  # type: ignore[valid-type]
    late_cancel_pct: int_in(0, 100) | None = None  # type: ignore[valid-type]
    name: Name
    description: Description | None = None
    picture: PictureDigest | None = None


class RegisterTxBody(ListingBody):
    """register(...) with the stake as the value."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"category": "repairs", "region": "tampere", "attributes": ["certified"],
         "price": "0.03 ether", "stake": "0.001 ether", "name": "Otso Fixes",
         "description": "Pipes and sockets"}]})

    category: Category
    stake: Amount


class UpdateTxBody(ListingBody):
    """updateProvider(...)."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"region": "espoo", "price": "0.02 ether", "name": "Aino's Rides"}]})


class ConsentBody(Body):
    """Grant (true) or withdraw (false) consent to personalised matching."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"granted": True}]})

    granted: bool


class FeedbackTextBody(Body):
    """A rating's free text and the booking's category, for complaint tags."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"category": "rides", "text": "The suspension was too stiff and he was 20 minutes late."}]})

    category: Category
    text: FreeText


class CriteriaTextBody(Body):
    """A criteria sentence; `category` applies when the sentence names none."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"text": "A quiet electric car in Tampere, no smokers, at least 4 stars"},
        {"text": "someone in Espoo under 0.05 ether", "category": "cleaning"}]})

    text: FreeText
    category: Category | None = None


class ReadNotificationsBody(Body):
    """Mark these notification ids read; no `ids`: every notification."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"ids": [1, 2]}, {}]})

    ids: list[NotificationId] | None = Field(default=None, max_length=100, description=(
        "notification ids (from GET /notifications); absent: all of them"))


# ------------------------------------------------------------------ contract v2: availability

DAY = Annotated[str, Field(pattern="^(?:mon|tue|wed|thu|fri|sat|sun)$", examples=["mon"])]
CLOCK = Annotated[str, Field(pattern="^(?:(?:[01][0-9]|2[0-3]):[0-5][0-9]|24:00)$",
                             examples=["09:00"])]
TimeZoneName = Annotated[str, Field(min_length=1, max_length=64,
                                    pattern=r"^[A-Za-z][A-Za-z0-9_+\-]*(?:/[A-Za-z0-9_+\-]+)*$",
                                    examples=["Europe/Helsinki"])]
UNIX_MAX = 2**40 - 1  # a booking id holds the start in 40 bits


class OpenHours(Body):
    """One window of weekly hours, wall-clock time in the schedule's zone; `to` 24:00 ends at
    midnight."""

    model_config = ConfigDict(populate_by_name=True)

    day: DAY
    start: CLOCK = Field(alias="from")
    end: CLOCK = Field(alias="to")


class AvailabilityBody(Body):
    """A listing's weekly hours in an IANA time zone (replaces what was published)."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"time_zone": "Europe/Helsinki",
         "hours": [{"day": "mon", "from": "09:00", "to": "17:00"},
                   {"day": "sat", "from": "10:00", "to": "14:00"}]}]})

    time_zone: TimeZoneName
    hours: list[OpenHours] = Field(max_length=84)


class SlotsQuery(Query):
    """Free start times of `duration` minutes between `from` and `to` (Unix seconds; default
    the next 14 days), every `step` minutes."""

    model_config = ConfigDict(populate_by_name=True)

    since: int | None = Field(default=None, alias="from", ge=0, le=UNIX_MAX)
    until: int | None = Field(default=None, alias="to", ge=0, le=UNIX_MAX)
    duration: int = Field(default=60, ge=1, le=65_535)
    step: int = Field(default=30, ge=5, le=1_440)


# ------------------------------------------------------------------ contract v2: bookings

Signature = Annotated[str, Field(pattern="^0x[0-9a-fA-F]{130}$")]


class BookTxBody(Sender):
    """A booking of a slot: what `book(BookingRequest)` (ether, or a token after an approval)
    or `bookWithPermit` (a token) takes. `currency` must be the listing's (an id or a symbol);
    `offer_version` the listing's current one; `criteria_version` defaults to the customer's
    current; `salt` (0..255) to a random free one. For a token, `payment` says how: `permit`
    (default: typed data to sign with eth_signTypedData_v4), `approve` (an approve transaction
    first) or `allowance` (the approval is done: the book transaction)."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"from": EXAMPLE_ADDRESS, "provider_id": 1, "start": 1_796_371_200, "duration": 60,
         "offer_version": 1, "currency": "ETH"}]})

    provider_id: ProviderId
    start: int_in(1, UNIX_MAX, description="Unix seconds")  # type: ignore[valid-type]
    duration: int_in(1, 65_535, description="minutes")  # type: ignore[valid-type]
    offer_version: Version
    currency: CurrencyRef  # type: ignore[valid-type]
    criteria_version: int_in(0, UINT32_MAX) | None = None  # type: ignore[valid-type]
    salt: int_in(0, 255) | None = None  # type: ignore[valid-type]
    payment: Literal["permit", "approve", "allowance"] = "permit"


class PermitBookTxBody(BookTxBody):
    """bookWithPermit: the booking as prepared, the permit's `deadline` and the wallet's
    65-byte `signature`; `value` is the amount the permit was signed for (the price)."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"from": EXAMPLE_ADDRESS, "provider_id": 1, "start": 1_796_371_200, "duration": 60,
         "offer_version": 1, "currency": "DUSD", "salt": 7, "criteria_version": 1,
         "deadline": 1_796_300_000, "signature": "0x" + "11" * 65}]})

    deadline: int_in(0, 2**64 - 1)  # type: ignore[valid-type]
    signature: Signature
    value: Amount | None = None


class CancellationQuery(Query):
    """`at`: when the cancellation would be sent (Unix seconds; default now, chain time)."""

    at: int | None = Field(default=None, ge=0, le=UNIX_MAX)


class TopUpTxBody(Sender):
    """topUpStake(providerId): `amount` (wei) added to the listing's stake."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"from": EXAMPLE_ADDRESS, "amount": "0.01 ether"}]})

    amount: Amount


class AttestTxBody(Sender):
    """attest(providerId, attributes): the attributes this attestor verified (replaces its
    record; an empty list revokes it)."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"from": EXAMPLE_ADDRESS, "provider_id": 1, "attributes": ["electric_vehicle"]}]})

    provider_id: ProviderId
    attributes: Attributes


class WithdrawTxBody(Sender):
    """withdraw(currency): the whole credit in one currency (0: ether)."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"from": EXAMPLE_ADDRESS, "currency": 0}]})

    currency: int_in(0, 255) = 0  # type: ignore[valid-type]


CHANGE_KINDS = ("fee-rate", "min-stake", "dispute-bond", "min-fee", "arbiter",
                "default-arbiter", "attestor", "currency")


class ChangeTxBody(Sender):
    """The operator's timelocked change: `step` schedule (operator), apply (anyone, after the
    eta) or cancel (operator) of (kind, account, value). Kinds: fee-rate (bps), min-stake and
    dispute-bond (wei), min-fee (account = token, zero for ether), arbiter and attestor (value 1
    names, 0 removes), default-arbiter, currency (account = token; 1 enables, 0 disables)."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"from": EXAMPLE_ADDRESS, "step": "schedule", "kind": "fee-rate", "value": 300}]})

    step: Literal["schedule", "apply", "cancel"]
    kind: Literal["fee-rate", "min-stake", "dispute-bond", "min-fee", "arbiter",
                  "default-arbiter", "attestor", "currency"]
    account: Address | None = None
    value: int_in(0, 2**256 - 1) | Annotated[  # type: ignore[valid-type]
        str, Field(pattern="^[0-9]{1,78}$")]


class ChangesQuery(Query):
    """`status`: only the scheduled, applied or cancelled changes."""

    status: Literal["scheduled", "applied", "cancelled"] | None = None
