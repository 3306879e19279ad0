"""What provider, criteria, operator and money events do to the replayed state.

Stakes, listings, customers' criteria and blocks, the fee rate, the pause, arbiters, collected
fees and withdrawals. As in `booking_events`, each handler runs its event's checks (`checks`,
`compliance`) before applying it; `HANDLERS` maps event names to handlers.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from marketplace.audit import checks, compliance
from marketplace.audit.state import CriteriaState, CustomerState, ProviderState
from marketplace.chain.logs import DecodedEvent

if TYPE_CHECKING:
    from marketplace.audit.replay import Replay

Handler = Callable[["Replay", DecodedEvent], None]

# ---------------------------------------------------------------- providers


def registered(r: Replay, ev: DecodedEvent) -> None:
    """ProviderRegistered: a new listing and its stake."""
    a = ev.args
    checks.check_registration(r, ev)
    p = ProviderState(a["providerId"], a["owner"], a["category"], ev.block_number)
    p.region = a["region"]
    p.attributes = a["attributes"]
    p.price = a["price"]
    p.stake = a["stake"]
    p.metadata_hash = a["metadataHash"]
    r.providers[p.provider_id] = p
    r.stakes += a["stake"]


def updated(r: Replay, ev: DecodedEvent) -> None:
    """ProviderUpdated: the listing's region, attributes, price and metadata."""
    p = r.provider(ev)
    if p is not None:
        a = ev.args
        p.region = a["region"]
        p.attributes = a["attributes"]
        p.price = a["price"]
        p.metadata_hash = a["metadataHash"]


def _activity(active: bool) -> Handler:
    """ProviderDeactivated (the stake unlocks after the cooldown) or ProviderReactivated."""
    check = checks.check_reactivation if active else checks.check_deactivation

    def handle(r: Replay, ev: DecodedEvent) -> None:
        p = r.provider(ev)
        if p is not None:
            check(r, ev, p)
            p.active = active
            p.stake_unlock_at = 0 if active else ev.args["stakeUnlockAt"]

    return handle


def stake_released(r: Replay, ev: DecodedEvent) -> None:
    """StakeReleased: the stake becomes its owner's credit."""
    a = ev.args
    amount = a["amount"]
    p = r.provider(ev)
    r.stakes -= amount
    r.credit(a["owner"], amount)
    if r.scope:
        r.totals["stakes_released"] += amount
    if p is None:
        return
    checks.check_stake_release(r, ev, p)
    p.stake -= amount


# ---------------------------------------------------------------- criteria


def _next_version(r: Replay, ev: DecodedEvent, customer: str, version: int) -> CustomerState:
    state = r.customer(customer)
    compliance.check_version(r, ev, state, version)
    state.criteria_version = max(state.criteria_version, version)
    if r.scope:
        state.criteria_changes += 1
    return state


def criteria_set(r: Replay, ev: DecodedEvent) -> None:
    """CriteriaSet: the customer's whole criteria for one category, at a new version."""
    a = ev.args
    customer, category, version, values = a["customer"], a["category"], a["version"], a["criteria"]
    _next_version(r, ev, customer, version)
    compliance.check_criteria(r, ev)
    key = (customer, category)
    c = r.criteria.get(key)
    if c is None:
        c = r.criteria[key] = CriteriaState(category)
    c.version = version
    c.region = values["region"]
    c.min_score = values["minScore"]
    c.max_price = values["maxPrice"]
    c.premium_per_star = values["premiumPerStar"]
    c.required = values["requiredAttributes"]
    c.refused = values["refusedAttributes"]
    c.score_weight = values["scoreWeight"]
    c.price_weight = values["priceWeight"]
    c.changed()


def block_changed(r: Replay, ev: DecodedEvent) -> None:
    """ProviderBlockChanged: a provider (un)blocked in a category, at a new version."""
    a = ev.args
    customer, provider_id, category = a["customer"], a["providerId"], a["category"]
    _next_version(r, ev, customer, a["version"])
    c = r.criteria.get((customer, category))
    compliance.check_block_change(r, ev, c)
    if c is None:
        c = r.criteria[(customer, category)] = CriteriaState(category)
    c.version = a["version"]
    if a["blocked"]:
        c.blocked.add(provider_id)
    else:
        c.blocked.discard(provider_id)
    c.changed()


# ---------------------------------------------------------------- operator and money


def fee_rate_changed(r: Replay, ev: DecodedEvent) -> None:
    """FeeRateChanged: the rate new bookings snapshot."""
    checks.check_fee_rate(r, ev)
    r.fee_bps = ev.args["newFeeBps"]


def min_stake_changed(r: Replay, ev: DecodedEvent) -> None:
    """MinStakeChanged."""
    r.min_stake = ev.args["newMinStake"]


def pause_changed(r: Replay, ev: DecodedEvent) -> None:
    """PauseChanged: no bookings, registrations or reactivations while paused."""
    r.paused = ev.args["paused"]


def arbiter_changed(r: Replay, ev: DecodedEvent) -> None:
    """ArbiterChanged: the allowlist of arbiters."""
    a = ev.args
    if a["allowed"]:
        r.arbiters.add(a["arbiter"])
    else:
        r.arbiters.discard(a["arbiter"])


def ownership_transferred(r: Replay, ev: DecodedEvent) -> None:
    """OwnershipTransferred."""
    r.owner = ev.args["newOwner"]


def fees_collected(r: Replay, ev: DecodedEvent) -> None:
    """FeesCollected: accrued fees become the collector's credit."""
    a = ev.args
    amount = a["amount"]
    checks.check_fees_collected(r, ev)
    r.accrued_fees -= amount
    r.credit(a["to"], amount)
    if r.scope:
        r.totals["fees_collected"] += amount
    r.fees_collected += amount


def withdrawn(r: Replay, ev: DecodedEvent) -> None:
    """Withdrawn: a credit leaves the contract."""
    a = ev.args
    account, amount = a["account"], a["amount"]
    checks.check_withdrawal(r, ev)
    r.credits[account] = r.credits.get(account, 0) - amount
    r.total_credits -= amount
    r.withdrawn += amount
    if r.scope:
        r.totals["withdrawn"] += amount


HANDLERS: dict[str, Handler] = {
    "ProviderRegistered": registered,
    "ProviderUpdated": updated,
    "ProviderDeactivated": _activity(active=False),
    "ProviderReactivated": _activity(active=True),
    "StakeReleased": stake_released,
    "CriteriaSet": criteria_set,
    "ProviderBlockChanged": block_changed,
    "FeeRateChanged": fee_rate_changed,
    "MinStakeChanged": min_stake_changed,
    "PauseChanged": pause_changed,
    "ArbiterChanged": arbiter_changed,
    "FeesCollected": fees_collected,
    "Withdrawn": withdrawn,
    "OwnershipTransferred": ownership_transferred,
}
