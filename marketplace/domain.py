"""The contract's rules that every layer restates, written once: states, transitions, money maths.

Contract v2 (docs/contract-v2.md, issues 12 and 13). Mirrors the contract's enums, constants and
pure arithmetic exactly (contracts/interfaces, contracts/libraries, contracts/Marketplace.sol):
currencies, the fee, rating weights and the weighted Bayesian score, reliability, booking ids,
deadlines, the cancellation and dispute splits, the eligibility order. The app (indexer
projections, matching, web) and the auditor import these; the contract, not our code, is the
check on them (the contract tests and the auditor's replay compare what the chain did with these).
Nothing here touches the chain, the store or the web.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import IntEnum

# ---------------------------------------------------------------- units and bounds

STAR = 10_000  # one star; scores are stars x 10,000 (five stars = 50,000)
MAX_SCORE = 5 * STAR
BPS = 10_000  # basis points are out of 10,000
MAX_FEE_BPS = 1_000  # hard cap of the fee rate (a FeeRate change above it reverts)
MAX_WEIGHT = 10_000  # ranking weights (scoreWeight, priceWeight) of criteria, basis points
MAX_WINDOW = 365 * 24 * 3600  # seconds; the longest timing window the contract accepts
HOUR = 3_600
MINUTE = 60
UINT8_MAX = 2**8 - 1
UINT16_MAX = 2**16 - 1
UINT32_MAX = 2**32 - 1
UINT40_MAX = 2**40 - 1
UINT64_MAX = 2**64 - 1
UINT80_MAX = 2**80 - 1
UINT88_MAX = 2**88 - 1
UINT96_MAX = 2**96 - 1
ZERO_ADDRESS = "0x" + "00" * 20

# ---------------------------------------------------------------- currencies

ETHER = 0
"""Currency id 0 is ether, always enabled; ids 1..255 are ERC-20 tokens the operator enables."""
MAX_CURRENCY = UINT8_MAX
MAX_PRICE = UINT88_MAX
"""A booking stores its price in 88 bits (and its fee in 80), so no listing may price above this."""
MAX_FEE = UINT80_MAX


def is_token(currency: int) -> bool:
    """Whether a currency id names an ERC-20 token (not ether)."""
    return currency != ETHER


# ---------------------------------------------------------------- the criterion order


class Criterion(IntEnum):
    """The first criterion a listing fails, in the order the contract checks them."""

    NONE = 0
    PROVIDER_INACTIVE = 1
    CRITERIA_NOT_SET = 2
    CURRENCY = 3
    REGION = 4
    BLOCKED = 5
    OWNER_BLOCKED = 6
    REQUIRED_ATTRIBUTES = 7
    REFUSED_ATTRIBUTES = 8
    VERIFIED_ATTRIBUTES = 9
    MIN_SCORE = 10
    TRACK_RECORD = 11
    RELIABILITY = 12
    MAX_PRICE = 13

    @property
    def reason(self) -> str:
        """Plain words for a customer."""
        return _CRITERION_REASONS[self]


_CRITERION_REASONS = {
    Criterion.NONE: "meets all your criteria",
    Criterion.PROVIDER_INACTIVE: "the provider is not taking bookings",
    Criterion.CRITERIA_NOT_SET: "you have no criteria for this provider's category",
    Criterion.CURRENCY: "the provider prices in another currency than your criteria",
    Criterion.REGION: "the provider is outside your region",
    Criterion.BLOCKED: "you blocked this provider",
    Criterion.OWNER_BLOCKED: "you blocked the owner of this listing",
    Criterion.REQUIRED_ATTRIBUTES: "the provider lacks an attribute you require",
    Criterion.REFUSED_ATTRIBUTES: "the provider has an attribute you refuse",
    Criterion.VERIFIED_ATTRIBUTES: (
        "an attribute you require verified is not verified by an attestor you trust"
    ),
    Criterion.MIN_SCORE: "the provider's score is below your minimum",
    Criterion.TRACK_RECORD: "the provider's track record (rating weight) is below your minimum",
    Criterion.RELIABILITY: "the provider's reliability is below your minimum",
    Criterion.MAX_PRICE: "the provider's price is above your score-adjusted ceiling",
}

# ---------------------------------------------------------------- booking states


class Status(IntEnum):
    """Booking lifecycle states, as the contract numbers them."""

    NONE = 0
    REQUESTED = 1
    ACCEPTED = 2
    COMPLETED = 3
    SETTLED = 4
    CANCELLED = 5
    DECLINED = 6
    EXPIRED = 7
    DISPUTED = 8
    RESOLVED = 9

    @property
    def is_terminal(self) -> bool:
        """Whether no further transition can happen (ratings aside)."""
        return self in TERMINAL_STATUSES

    @property
    def holds_escrow(self) -> bool:
        """Whether the booking's price is still escrowed in the contract."""
        return self in OPEN_STATUSES


OPEN_STATUSES = frozenset({Status.REQUESTED, Status.ACCEPTED, Status.COMPLETED, Status.DISPUTED})
TERMINAL_STATUSES = frozenset(
    {Status.SETTLED, Status.CANCELLED, Status.DECLINED, Status.EXPIRED, Status.RESOLVED}
)

# ---------------------------------------------------------------- events (v2 names)

BOOKING_REQUESTED = "BookingRequested"
BOOKING_ACCEPTED = "BookingAccepted"
BOOKING_DECLINED = "BookingDeclined"
BOOKING_CANCELLED = "BookingCancelled"
BOOKING_EXPIRED = "BookingExpired"
BOOKING_COMPLETED = "BookingCompleted"
BOOKING_SETTLED = "BookingSettled"
BOOKING_DISPUTED = "BookingDisputed"
DISPUTE_RESOLVED = "DisputeResolved"
BOOKING_RATED = "BookingRated"

BOOKING_EVENTS = (
    BOOKING_REQUESTED,
    BOOKING_ACCEPTED,
    BOOKING_DECLINED,
    BOOKING_CANCELLED,
    BOOKING_EXPIRED,
    BOOKING_COMPLETED,
    BOOKING_SETTLED,
    BOOKING_DISPUTED,
    DISPUTE_RESOLVED,
    BOOKING_RATED,
)
LISTING_EVENTS = (
    "ListingRegistered",
    "ListingUpdated",
    "ListingDeactivated",
    "ListingReactivated",
    "StakeToppedUp",
    "StakeReleased",
    "StakeSlashed",
)
CRITERIA_EVENTS = ("CriteriaSet", "ProviderBlockChanged", "OwnerBlockChanged")
ATTESTATION_EVENTS = ("AttributesAttested",)
ADMIN_EVENTS = (
    "ChangeScheduled",
    "ChangeApplied",
    "ChangeCancelled",
    "ArbiterSet",
    "AttestorSet",
    "CurrencySet",
    "PauseChanged",
    "FeesCollected",
    "Withdrawn",
)
EVENT_NAMES = BOOKING_EVENTS + LISTING_EVENTS + CRITERIA_EVENTS + ATTESTATION_EVENTS + ADMIN_EVENTS
"""Every event the v2 contract emits (v1's FeeRateChanged, ArbiterChanged, MinStakeChanged are
gone: fee rate, minimum stake, arbiters, attestors, currencies change through the timelock;
v1's Provider* listing events are Listing* events carrying the whole ListingInput)."""

TRANSITIONS: dict[str, tuple[frozenset[Status], Status]] = {
    BOOKING_REQUESTED: (frozenset({Status.NONE}), Status.REQUESTED),
    BOOKING_ACCEPTED: (frozenset({Status.REQUESTED}), Status.ACCEPTED),
    BOOKING_COMPLETED: (frozenset({Status.ACCEPTED}), Status.COMPLETED),
    BOOKING_CANCELLED: (frozenset({Status.REQUESTED, Status.ACCEPTED}), Status.CANCELLED),
    BOOKING_DECLINED: (frozenset({Status.REQUESTED, Status.ACCEPTED}), Status.DECLINED),
    BOOKING_EXPIRED: (frozenset({Status.REQUESTED, Status.ACCEPTED}), Status.EXPIRED),
    BOOKING_SETTLED: (frozenset({Status.COMPLETED}), Status.SETTLED),
    BOOKING_DISPUTED: (frozenset({Status.COMPLETED}), Status.DISPUTED),
    DISPUTE_RESOLVED: (frozenset({Status.DISPUTED}), Status.RESOLVED),
}
"""Each booking event: the states it may follow and the state it leaves. An instant listing's
booking emits BookingRequested then BookingAccepted in one transaction; `confirmAndRate` emits
BookingSettled then BookingRated. `BookingRated` changes no state: see RATEABLE_STATUSES."""

STATUS_AFTER: dict[str, Status] = {name: after for name, (_, after) in TRANSITIONS.items()}
"""The state a booking is in after each booking event."""

RATEABLE_STATUSES = frozenset({Status.SETTLED, Status.RESOLVED})
"""A booking may be rated once, by its customer, in one of these states."""


def counts_as_failure(event: str, status_before: Status) -> bool:
    """Whether a booking event is a reliability failure of the listing.

    A decline after acceptance (a cancellation by the provider) and an expiry after acceptance (a
    no-show) are failures; a decline or expiry of a requested booking is not (the provider never
    committed). A lost dispute is a failure too: see `lost_dispute`.
    """
    return event in (BOOKING_DECLINED, BOOKING_EXPIRED) and status_before is Status.ACCEPTED


def is_no_show(event: str, status_before: Status) -> bool:
    """Whether an expiry is a no-show (it slashes the stake): an accepted booking expired."""
    return event == BOOKING_EXPIRED and status_before is Status.ACCEPTED


# ---------------------------------------------------------------- the fee

FEE_DENOMINATOR = BPS


def booking_fee(price: int, fee_bps: int, min_fee: int) -> int:
    """`max(ceil(price * feeBps / 10,000), minFee[currency])`, computed at booking.

    A booking whose fee would exceed its price reverts (`fee_exceeds_price`).
    """
    return max(-(-price * fee_bps // BPS), min_fee)


def fee_exceeds_price(price: int, fee_bps: int, min_fee: int) -> bool:
    """Whether a price is too low to bear its fee (`MarketplacePriceBelowMinFee`): such a listing
    cannot be registered or updated, and such a booking reverts."""
    return booking_fee(price, fee_bps, min_fee) > price


def settlement_split(price: int, fee: int) -> tuple[int, int]:
    """(payout, fee) of a settlement: the stored fee is taken, the provider gets the rest."""
    return price - fee, fee


# ---------------------------------------------------------------- rating weight and score

RATING_WEIGHT_UNIT = 1_000
"""The weight of a minimum-fee booking's rating."""
MAX_RATING_WEIGHT = 2**40
PRIOR_WEIGHT = 20_000  # twenty minimum-fee ratings
PRIOR_SCORE = 35_000  # 3.5 stars
NEW_LISTING_SCORE = PRIOR_SCORE
LOST_DISPUTE_STARS = 1
"""A lost dispute adds a rating of this many stars, at the booking's weight."""


def rating_weight(fee: int, min_fee: int) -> int:
    """`min(fee * 1,000 / minFee[currency], MAX_RATING_WEIGHT)`: the weight of a booking's rating.

    `min_fee` is the currency's minimum fee when the booking was made (always > 0).
    """
    return min(fee * RATING_WEIGHT_UNIT // min_fee, MAX_RATING_WEIGHT)


def weighted_score(rating_weight_sum: int, weighted_stars: int) -> int:
    """A listing's score: `(PRIOR_WEIGHT * PRIOR_SCORE + weightedStars * 10,000) /
    (PRIOR_WEIGHT + ratingWeight)`, integer division.

    `rating_weight_sum` = sum of weights, `weighted_stars` = sum of stars x weight, both including
    lost disputes (a one-star rating at the booking's weight).
    """
    return (PRIOR_WEIGHT * PRIOR_SCORE + weighted_stars * STAR) // (
        PRIOR_WEIGHT + rating_weight_sum
    )


def add_rating(
    rating_weight_sum: int, weighted_stars: int, stars: int, weight: int
) -> tuple[int, int]:
    """The (ratingWeight, weightedStars) aggregate after one more rating of `stars` at `weight`."""
    return rating_weight_sum + weight, weighted_stars + stars * weight


def lost_dispute(refund_bps: int) -> bool:
    """Whether a resolution with this refund share is a dispute the provider lost (> 50 %).

    The provider pays: a one-star rating at the booking's weight, a reliability failure, the
    arbiter's pay from its stake. The 50/50 default (`resolveByDefault`) is not a loss.
    """
    return refund_bps * 2 > BPS


# ---------------------------------------------------------------- reliability

NEW_LISTING_RELIABILITY = 9_000
RELIABILITY_COUNTER_MAX = UINT16_MAX


def reliability(completed: int, failures: int) -> int:
    """`(completed + 9) * 10,000 / (completed + failures + 10)` in basis points (new: 9,000)."""
    return (completed + 9) * BPS // (completed + failures + 10)


def count_outcome(completed: int, failures: int, *, failure: bool) -> tuple[int, int]:
    """(completed, failures) after one more outcome; when the counter to grow would pass 65,535,
    both are halved (floored) first."""
    grows = failures if failure else completed
    if grows + 1 > RELIABILITY_COUNTER_MAX:
        completed, failures = completed // 2, failures // 2
    return (completed, failures + 1) if failure else (completed + 1, failures)


def count_resolution(completed: int, failures: int, *, provider_lost: bool) -> tuple[int, int]:
    """(completed, failures) after an arbiter's resolution: it counts as a completion, and a
    dispute the provider lost also as a failure (in that order). `resolveByDefault` counts
    nothing; a settlement is `count_outcome(..., failure=False)`."""
    completed, failures = count_outcome(completed, failures, failure=False)
    if provider_lost:
        completed, failures = count_outcome(completed, failures, failure=True)
    return completed, failures


SLASH_BPS = 1_000
"""A no-show moves this share (10 %) of the listing's stake to the customer's ether credit."""


def no_show_slash(stake: int) -> int:
    """The part of the stake a no-show moves to the customer (`stake * SLASH_BPS / 10,000`)."""
    return stake * SLASH_BPS // BPS


# ---------------------------------------------------------------- booking ids

MAX_ADVANCE = 365 * 24 * 3600
"""A slot's start may be at most this far ahead of the booking (seconds)."""


@dataclass(frozen=True)
class BookingKey:
    """What a booking id packs: `customer << 96 | providerId << 64 | start << 24 |
    durationMinutes << 8 | salt` (160 + 32 + 40 + 16 + 8 bits)."""

    customer: str  # lower-case hex address
    provider_id: int
    start: int  # Unix seconds
    duration_minutes: int
    salt: int = 0

    @property
    def booking_id(self) -> int:
        """The packed id."""
        return booking_id(
            self.customer, self.provider_id, self.start, self.duration_minutes, self.salt
        )

    @property
    def end(self) -> int:
        """When the slot ends (Unix seconds)."""
        return self.start + self.duration_minutes * MINUTE


def booking_id(
    customer: str, provider_id: int, start: int, duration_minutes: int, salt: int = 0
) -> int:
    """The id of a booking: `customer << 96 | providerId << 64 | start << 24 | durationMinutes << 8
    | salt`. Raises ValueError when a field does not fit its bits."""
    for name, value, bits in (
        ("provider id", provider_id, 32),
        ("start", start, 40),
        ("duration (minutes)", duration_minutes, 16),
        ("salt", salt, 8),
    ):
        if not 0 <= value < 1 << bits:
            raise ValueError(f"{name} {value} does not fit in {bits} bits")
    return int(customer, 16) << 96 | provider_id << 64 | start << 24 | duration_minutes << 8 | salt


def decode_booking_id(booking: int) -> BookingKey:
    """Split a booking id into its fields (the contract's `decodeBookingId`)."""
    return BookingKey(
        customer=customer_of(booking),
        provider_id=booking >> 64 & UINT32_MAX,
        start=booking >> 24 & UINT40_MAX,
        duration_minutes=booking >> 8 & UINT16_MAX,
        salt=booking & UINT8_MAX,
    )


def customer_of(booking: int) -> str:
    """The customer address encoded in a booking id (lower-case hex)."""
    return "0x" + format(booking >> 96, "040x")


def provider_of(booking: int) -> int:
    """The listing id encoded in a booking id."""
    return booking >> 64 & UINT32_MAX


# ---------------------------------------------------------------- deadlines


@dataclass(frozen=True)
class Windows:
    """The contract's timing windows, seconds (set at deployment, in the Setup)."""

    respond: int
    service_grace: int
    confirm: int
    arbitration: int
    stake_cooldown: int


def respond_by(now: int, start: int, respond_window: int) -> int:
    """Requested: the provider answers by `min(now + respondWindow, start)`; then it expires."""
    return min(now + respond_window, start)


def service_by(start: int, duration_minutes: int, service_grace: int) -> int:
    """Accepted: `complete` from `start` until `start + duration + serviceGrace`; then a no-show."""
    return start + duration_minutes * MINUTE + service_grace


def confirm_by(now: int, confirm_window: int) -> int:
    """Completed: the customer confirms or disputes until `now + confirmWindow`; then settled."""
    return now + confirm_window


def arbitrate_by(now: int, arbitration_window: int) -> int:
    """Disputed: the booking's arbiter resolves until `now + arbitrationWindow`; then default."""
    return now + arbitration_window


def stake_locked_until(
    locked_until: int, start: int, duration_minutes: int, windows: Windows
) -> int:
    """A listing's `lockedUntil` after an acceptance: `max(lockedUntil, serviceBy + confirmWindow +
    arbitrationWindow)`; the stake cannot be released before it."""
    latest = (
        service_by(start, duration_minutes, windows.service_grace)
        + windows.confirm
        + windows.arbitration
    )
    return max(locked_until, latest)


def slot_problem(now: int, start: int, duration_minutes: int) -> str | None:
    """Why the contract would refuse this slot (None if it accepts it): in the past, too far
    ahead, or a zero duration."""
    if duration_minutes < 1:
        return "the duration must be at least one minute"
    if duration_minutes > UINT16_MAX:
        return f"the duration must be at most {UINT16_MAX} minutes"
    if start <= now:
        return "the slot starts in the past"
    if start > now + MAX_ADVANCE:
        return "the slot starts more than 365 days ahead"
    return None


# ---------------------------------------------------------------- cancellation


@dataclass(frozen=True)
class CancelTerms:
    """A listing's cancellation terms, locked into each booking."""

    free_cancel_hours: int = 0
    late_cancel_pct: int = 0  # 0..100


MAX_LATE_CANCEL_PCT = 100


def free_cancellation(now: int, start: int, free_cancel_hours: int) -> bool:
    """Whether a cancellation now is free: `now + freeCancelHours * 3600 <= start`."""
    return now + free_cancel_hours * HOUR <= start


def cancellation_split(
    price: int, status: Status, now: int, start: int, terms: CancelTerms
) -> tuple[int, int]:
    """(refund, compensation) of a customer's cancellation; no fee is taken.

    Requested: full refund. Accepted (before start): full refund while free, otherwise
    `lateCancelPct` % of the price goes to the provider and the rest is refunded.
    """
    if status is Status.REQUESTED or free_cancellation(now, start, terms.free_cancel_hours):
        return price, 0
    compensation = price * terms.late_cancel_pct // 100
    return price - compensation, compensation


# ---------------------------------------------------------------- disputes

DEFAULT_REFUND_BPS = 5_000


@dataclass(frozen=True)
class Resolution:
    """Where a resolved dispute's money goes. `refund + payout + fee == price`; the bond (ether)
    goes back to the customer or to the arbiter; `arbiter_from_stake` leaves the listing's
    stake for the arbiter."""

    refund: int
    payout: int
    fee: int
    bond_to_customer: int
    bond_to_arbiter: int
    arbiter_from_stake: int
    provider_lost: bool


def resolution_split(price: int, fee: int, refund_bps: int) -> tuple[int, int, int]:
    """(refund, payout, fee) of a dispute resolution: the booking's fee is always taken, `refund =
    (price - fee) * refundBps / 10,000` to the customer, the rest to the provider."""
    refund = (price - fee) * refund_bps // BPS
    return refund, price - fee - refund, fee


def resolve_dispute(price: int, fee: int, refund_bps: int, bond: int, stake: int) -> Resolution:
    """An arbiter's `resolve(id, refundBps)`. Above 5,000 bps the provider lost: the bond goes back
    to the customer and the arbiter is paid `min(bond, stake)` from the listing's stake; otherwise
    the bond pays the arbiter. `bond` is the one the customer paid; `stake` the listing's now."""
    refund, payout, fee = resolution_split(price, fee, refund_bps)
    if lost_dispute(refund_bps):
        return Resolution(refund, payout, fee, bond, 0, min(bond, stake), True)
    return Resolution(refund, payout, fee, 0, bond, 0, False)


def resolve_by_default(price: int, fee: int, bond: int) -> Resolution:
    """`resolveByDefault` after `arbitrateBy`: 50/50 of `price - fee`, the bond back to the
    customer, the arbiter unpaid, no score or reliability effect."""
    refund, payout, fee = resolution_split(price, fee, DEFAULT_REFUND_BPS)
    return Resolution(refund, payout, fee, bond, 0, 0, False)


# ---------------------------------------------------------------- attestations

MAX_ATTESTORS = 32  # attestor ids are 1..32
MAX_TRUSTED_ATTESTORS = 4


def attestor_bit(attestor_id: int) -> int:
    """The bit of an attestor id (1..32) in a `trustedAttestors` or `namedAttestors` mask:
    `1 << (attestorId - 1)`."""
    if not 1 <= attestor_id <= MAX_ATTESTORS:
        raise ValueError(f"attestor id {attestor_id} is not in 1..{MAX_ATTESTORS}")
    return 1 << (attestor_id - 1)


def attestor_mask(attestor_ids: Iterable[int]) -> int:
    """The `trustedAttestors` mask of these attestor ids."""
    mask = 0
    for attestor_id in attestor_ids:
        mask |= attestor_bit(attestor_id)
    return mask


def attestor_ids(mask: int) -> list[int]:
    """The attestor ids set in a `trustedAttestors` (or `namedAttestors`) mask."""
    return [i for i in range(1, MAX_ATTESTORS + 1) if mask >> (i - 1) & 1]


def verified_bits(
    listing_attributes: int,
    attestations: Mapping[int, int],
    trusted_attestors: int,
    named_attestors: frozenset[int] | None = None,
) -> int:
    """The attribute bits of a listing verified by at least one trusted, still-named attestor.

    `attestations`: attestor id -> the bits it attested (its latest record). `trusted_attestors`:
    bit (id - 1) per trusted attestor. Only bits the listing still claims count (`attested &
    listing.attributes`). `named_attestors`: ids still named by the operator (None: all of them;
    `attestor_ids(namedAttestors())` from the chain).
    """
    verified = 0
    for attestor, bits in attestations.items():
        if not 1 <= attestor <= MAX_ATTESTORS or not trusted_attestors >> (attestor - 1) & 1:
            continue
        if named_attestors is not None and attestor not in named_attestors:
            continue
        verified |= bits
    return verified & listing_attributes


# ---------------------------------------------------------------- eligibility


@dataclass(frozen=True)
class ListingFacts:
    """What eligibility reads of a listing (plain data from the chain or the store)."""

    provider_id: int
    owner: str
    category: int
    region: int
    attributes: int
    currency: int
    price: int
    active: bool
    rating_weight: int = 0
    weighted_stars: int = 0
    completed: int = 0
    failures: int = 0
    attestations: Mapping[int, int] = field(default_factory=dict)  # attestor id -> bits

    @property
    def score(self) -> int:
        """The weighted Bayesian score, stars x 10,000."""
        return weighted_score(self.rating_weight, self.weighted_stars)

    @property
    def reliability(self) -> int:
        """Reliability in basis points."""
        return reliability(self.completed, self.failures)


@dataclass(frozen=True)
class CriteriaFacts:
    """A customer's stored criteria for one category (version 0 = never set) and its blocks."""

    category: int
    region: int = 0
    currency: int = ETHER
    min_score: int = 0
    max_price: int = 0
    premium_per_star: int = 0
    required_attributes: int = 0
    refused_attributes: int = 0
    verified_attributes: int = 0
    trusted_attestors: int = 0
    min_rating_weight: int = 0
    min_reliability: int = 0
    score_weight: int = 5_000
    price_weight: int = 5_000
    version: int = 0
    blocked: frozenset[int] = frozenset()  # listing ids blocked in this category
    blocked_owners: frozenset[str] = frozenset()  # lower-case owner addresses


def price_ceiling(criteria: CriteriaFacts, score: int) -> int:
    """`maxPrice + premiumPerStar * (score - minScore) / 10,000` in the criteria's currency; 0
    below the minimum score."""
    if score < criteria.min_score:
        return 0
    return criteria.max_price + criteria.premium_per_star * (score - criteria.min_score) // STAR


def first_failed_criterion(
    listing: ListingFacts,
    criteria: CriteriaFacts | None,
    named_attestors: frozenset[int] | None = None,
) -> Criterion:
    """The first criterion `listing` fails under `criteria`, in the contract's order, or NONE.

    `named_attestors`: attestor ids the operator still names (None: every id in the listing's
    attestations counts as named).
    """
    if not listing.active:
        return Criterion.PROVIDER_INACTIVE
    if criteria is None or criteria.version == 0 or criteria.category != listing.category:
        return Criterion.CRITERIA_NOT_SET
    if listing.currency != criteria.currency:
        return Criterion.CURRENCY
    if criteria.region != 0 and criteria.region != listing.region:
        return Criterion.REGION
    if listing.provider_id in criteria.blocked:
        return Criterion.BLOCKED
    if listing.owner.lower() in criteria.blocked_owners:
        return Criterion.OWNER_BLOCKED
    required = criteria.required_attributes
    if listing.attributes & required != required:
        return Criterion.REQUIRED_ATTRIBUTES
    if listing.attributes & criteria.refused_attributes:
        return Criterion.REFUSED_ATTRIBUTES
    wanted = criteria.verified_attributes
    verified = verified_bits(
        listing.attributes, listing.attestations, criteria.trusted_attestors, named_attestors
    )
    if verified & wanted != wanted:
        return Criterion.VERIFIED_ATTRIBUTES
    score = listing.score
    if score < criteria.min_score:
        return Criterion.MIN_SCORE
    if listing.rating_weight < criteria.min_rating_weight:
        return Criterion.TRACK_RECORD
    if listing.reliability < criteria.min_reliability:
        return Criterion.RELIABILITY
    if listing.price > price_ceiling(criteria, score):
        return Criterion.MAX_PRICE
    return Criterion.NONE


def is_eligible(
    listing: ListingFacts,
    criteria: CriteriaFacts | None,
    named_attestors: frozenset[int] | None = None,
) -> bool:
    """Whether the contract would accept a booking of `listing` under `criteria`."""
    return first_failed_criterion(listing, criteria, named_attestors) is Criterion.NONE


def criteria_problem(criteria: CriteriaFacts) -> str | None:
    """Why `setCriteria` would revert on these criteria (None if valid), in the contract's words."""
    if criteria.min_score > MAX_SCORE:
        return "the minimum score is above five stars"
    if (
        criteria.score_weight > MAX_WEIGHT
        or criteria.price_weight > MAX_WEIGHT
        or (criteria.score_weight == 0 and criteria.price_weight == 0)
    ):
        return "weights must each be at most 10,000 and not both zero"
    if criteria.required_attributes & criteria.refused_attributes:
        return "an attribute cannot be both required and refused"
    if criteria.verified_attributes & ~criteria.required_attributes:
        return "verified attributes must also be required"
    if bin(criteria.trusted_attestors).count("1") > MAX_TRUSTED_ATTESTORS:
        return f"at most {MAX_TRUSTED_ATTESTORS} trusted attestors"
    if criteria.min_reliability > BPS:
        return "the minimum reliability is above 10,000 basis points"
    return None


# ---------------------------------------------------------------- operator changes (timelock)


class ChangeKind(IntEnum):
    """What `scheduleChange(kind, account, value)` changes, as the contract numbers it."""

    FEE_RATE = 0  # value = bps <= MAX_FEE_BPS
    MIN_STAKE = 1  # value = wei
    DISPUTE_BOND = 2  # value = wei
    MIN_FEE = 3  # account = token (zero: ether), value = smallest units
    ARBITER = 4  # account = arbiter, value 1 names, 0 removes
    DEFAULT_ARBITER = 5  # account = arbiter
    ATTESTOR = 6  # account = attestor, value 1 names, 0 removes
    CURRENCY = 7  # account = token, value 1 enables, 0 disables

    @property
    def key(self) -> str:
        """The CLI's name of the kind ('fee-rate')."""
        return self.name.lower().replace("_", "-")


def change_kind(key: str) -> ChangeKind:
    """The kind named `key` ('fee-rate', 'min_fee', 'Arbiter'); ValueError naming the known ones."""
    normal = key.strip().lower().replace("_", "-")
    for kind in ChangeKind:
        if kind.key == normal:
            return kind
    raise ValueError(f"unknown change kind {key!r}; known: {', '.join(k.key for k in ChangeKind)}")
