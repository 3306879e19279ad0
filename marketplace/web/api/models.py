"""Request models of the JSON API: each validates requests and documents itself in
/api/v1/openapi.json (`marketplace.web.api.document`), with examples for the examples phase of
an OpenAPI fuzzer."""

from __future__ import annotations

from pydantic import ConfigDict, Field

from marketplace.web.api.contract import (
    EXAMPLE_ADDRESS,
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
         "score_weight": 60, "price_weight": 40}]})

    category: Category
    region: Region | None = None
    min_stars: Stars | None = None
    max_price: Amount
    premium_per_star: Amount | None = None
    required: Attributes | None = None
    refused: Attributes | None = None
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
    """setBlocked(providerId, blocked)."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"from": EXAMPLE_ADDRESS, "provider_id": 1, "blocked": True}]})

    provider_id: ProviderId
    blocked: bool = True


class BookTxBody(Sender):
    """book(providerId, expectedPrice, criteriaVersion): the quote being accepted."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"from": EXAMPLE_ADDRESS, "provider_id": 1, "expected_price": "40000000000000000",
         "criteria_version": 1}]})

    provider_id: ProviderId
    expected_price: Amount
    criteria_version: Version


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
    """The listing's public fields (name and description are stored off-chain)."""

    region: Region | None = None
    attributes: Attributes | None = None
    price: Amount
    name: Name
    description: Description | None = None


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
