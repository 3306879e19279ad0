"""What listing, attestation, criteria, operator and money events do to the replayed state.

Stakes (top-ups, slashes, releases), listings and their offer versions, attestations, customers'
criteria with listing and owner blocks, the timelocked parameters (fee rate, minimum stake,
dispute bond, minimum fees, arbiters, attestors, currencies), the pause, collected fees and
withdrawals. As in `booking_events`, each handler runs its event's checks (`checks`,
`compliance`) before applying it; `HANDLERS` maps event names to handlers.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from marketplace.audit import checks, compliance
from marketplace.audit.model import Invariant
from marketplace.audit.state import (
    ETHER,
    ZERO_ADDRESS,
    CriteriaState,
    CurrencyState,
    CustomerState,
    Offer,
    ProviderState,
    short_id,
)
from marketplace.chain.logs import DecodedEvent
from marketplace.domain import ChangeKind

if TYPE_CHECKING:
    from marketplace.audit.replay import Replay

Handler = Callable[["Replay", DecodedEvent], None]

# ---------------------------------------------------------------- listings


def registered(r: Replay, ev: DecodedEvent) -> None:
    """ListingRegistered: a new listing at offer version 1, and its stake."""
    a = ev.args
    checks.check_registration(r, ev)
    offer = Offer(a["offerVersion"], a["listing"], ev.block_number)
    if offer.version != 1:
        r.violate(Invariant.COMPLIANCE, ev,
                  f"listing {a['providerId']} registered at offer version {offer.version}, not 1",
                  provider=a["providerId"])
    p = ProviderState(a["providerId"], a["owner"], a["category"], offer)
    p.stake = a["stake"]
    if a["stake"] < r.min_stake:
        r.violate(Invariant.TRANSITIONS, ev,
                  f"listing {p.provider_id} registered with a stake of {a['stake']} wei, below "
                  f"the minimum {r.min_stake} wei", provider=p.provider_id)
    r.providers[p.provider_id] = p
    r.stakes += a["stake"]


def updated(r: Replay, ev: DecodedEvent) -> None:
    """ListingUpdated: the whole offer at the next version (the category cannot change)."""
    p = r.provider(ev)
    if p is None:
        return
    a = ev.args
    listing = a["listing"]
    offer = Offer(a["offerVersion"], listing, ev.block_number)
    if offer.version != p.offer.version + 1:
        r.violate(Invariant.COMPLIANCE, ev,
                  f"listing {p.provider_id} updated to offer version {offer.version}, not "
                  f"{p.offer.version + 1}", provider=p.provider_id)
    if listing["category"] != p.category:
        r.violate(Invariant.COMPLIANCE, ev,
                  f"listing {p.provider_id} changed its category from {p.category} to "
                  f"{listing['category']}", provider=p.provider_id)
    checks.check_listing_price(r, ev, p.provider_id, listing)
    p.offer = offer
    p.offers[offer.version] = offer


def _activity(active: bool) -> Handler:
    """ListingDeactivated (the stake unlocks after the cooldown) or ListingReactivated."""
    check = checks.check_reactivation if active else checks.check_deactivation

    def handle(r: Replay, ev: DecodedEvent) -> None:
        p = r.provider(ev)
        if p is not None:
            check(r, ev, p)
            p.active = active
            if not active:
                p.stake_unlock_at = ev.args["unlockAt"]
                p.locked_until = max(p.locked_until, p.stake_unlock_at)

    return handle


def topped_up(r: Replay, ev: DecodedEvent) -> None:
    """StakeToppedUp: more ether at stake."""
    a = ev.args
    amount = a["amount"]
    r.stakes += amount
    p = r.provider(ev)
    if p is None:
        return
    p.stake += amount
    if a["stake"] != p.stake:
        r.violate(Invariant.SOLVENCY, ev,
                  f"listing {p.provider_id}'s stake after a top-up of {amount} wei is stated as "
                  f"{a['stake']} wei, but it is {p.stake} wei", provider=p.provider_id,
                  stated=a["stake"], stake=p.stake)
        p.stake = a["stake"]


def slashed(r: Replay, ev: DecodedEvent) -> None:
    """StakeSlashed: part of a stake becomes someone's ether credit (a no-show's customer, or
    the arbiter of a dispute the provider lost). Whether the amount is right is checked with
    the booking event it belongs to."""
    a = ev.args
    amount, to = a["amount"], a["to"]
    r.stakes -= amount
    r.credit(to, amount, ETHER)
    p = r.provider(ev)
    if p is not None:
        if amount > p.stake:
            r.violate(Invariant.SOLVENCY, ev,
                      f"listing {p.provider_id} slashed {amount} wei of a {p.stake} wei stake",
                      provider=p.provider_id, amount=amount, stake=p.stake)
        p.stake -= amount
        p.slashed += amount
    r.slashes.setdefault(a["bookingId"], []).append((to, amount))
    if r.scope:
        r.totals["slashed"] += amount


def stake_released(r: Replay, ev: DecodedEvent) -> None:
    """StakeReleased: the stake becomes its owner's credit."""
    a = ev.args
    amount = a["amount"]
    p = r.provider(ev)
    r.stakes -= amount
    r.credit(a["owner"], amount, ETHER)
    if r.scope:
        r.totals["stakes_released"] += amount
    if p is None:
        return
    checks.check_stake_release(r, ev, p)
    p.stake -= amount


def attested(r: Replay, ev: DecodedEvent) -> None:
    """AttributesAttested: an attestor's record for a listing, replacing its previous one."""
    a = ev.args
    attestor_id, attestor = a["attestorId"], a["attestor"]
    named = r.attestors.get(attestor_id)
    if named is None or named[0] != attestor or not named[1]:
        r.violate(Invariant.ROLES, ev,
                  f"{attestor} attested listing {a['providerId']} as attestor {attestor_id}, "
                  "which it is not (or no longer)", provider=a["providerId"], account=attestor)
    p = r.provider(ev)
    if p is None:
        return
    if a["attributes"]:
        p.attested[attestor_id] = a["attributes"]
    else:
        p.attested.pop(attestor_id, None)


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
    c.values = dict(values)


def block_changed(r: Replay, ev: DecodedEvent) -> None:
    """ProviderBlockChanged: a listing (un)blocked in its category, at a new version."""
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


def owner_block_changed(r: Replay, ev: DecodedEvent) -> None:
    """OwnerBlockChanged: every listing of an owner, present and future, in every category."""
    a = ev.args
    customer, owner, blocked = a["customer"], a["owner"], a["blocked"]
    state = _next_version(r, ev, customer, a["version"])
    if (owner in state.blocked_owners) == blocked:
        r.violate(Invariant.COMPLIANCE, ev,
                  f"customer {customer}'s owner block change should have been refused: owner "
                  f"{owner} was already {'un' * (not blocked)}blocked", account=customer)
    # The customer's version moves on; a category's criteria keep the version of their last
    # change (a booking names that one), and eligibility reads the owner blocks directly.
    if blocked:
        state.blocked_owners.add(owner)
    else:
        state.blocked_owners.discard(owner)


# ---------------------------------------------------------------- operator: the timelock


def _change_key(ev: DecodedEvent) -> tuple[int, str, int]:
    a = ev.args
    return int(a["kind"]), a["account"], a["value"]


def change_scheduled(r: Replay, ev: DecodedEvent) -> None:
    """ChangeScheduled: a change that may apply from its eta."""
    key = _change_key(ev)
    eta = ev.args["eta"]
    ts = ev.block_timestamp
    if r.change_delay is not None and ts is not None and eta != ts + r.change_delay:
        r.violate(Invariant.TIMELOCK, ev,
                  f"{_describe(key)} scheduled for {checks.when(eta)}, not now plus the "
                  f"{r.change_delay} s change delay", eta=eta)
    r.pending[key] = (eta, ev)


def change_cancelled(r: Replay, ev: DecodedEvent) -> None:
    """ChangeCancelled: a scheduled change that will not apply."""
    key = _change_key(ev)
    if r.pending.pop(key, None) is None:
        r.violate(Invariant.TIMELOCK, ev, f"{_describe(key)} cancelled, but it was not scheduled")


def change_applied(r: Replay, ev: DecodedEvent) -> None:
    """ChangeApplied: after its eta, a scheduled, uncancelled change takes effect (the
    constructor's changes apply at once, in the deployment transaction)."""
    key = _change_key(ev)
    kind, account, value = key
    scheduled = r.pending.pop(key, None)
    ts = ev.block_timestamp
    consequence = (scheduled is None and key == (ChangeKind.DEFAULT_ARBITER, ZERO_ADDRESS, 0)
                   and ev.tx_hash == r.default_arbiter_reset_tx)
    if consequence:  # the contract's own reset after removing the default arbiter
        r.default_arbiter_reset_tx = None
    elif ev.tx_hash != r.constructor_tx:
        if scheduled is None:
            r.violate(Invariant.TIMELOCK, ev,
                      f"{_describe(key)} applied without being scheduled (or after it was "
                      "cancelled)", account=account)
        elif ts is not None and ts < scheduled[0]:
            r.violate(Invariant.TIMELOCK, ev,
                      f"{_describe(key)} applied at {checks.when(ts)}, before its eta "
                      f"{checks.when(scheduled[0])}", account=account, eta=scheduled[0])
    if r.scope:
        r.totals["changes_applied"] += 1
    _apply(r, ev, kind, account, value)


def _describe(key: tuple[int, str, int]) -> str:
    kind, account, value = key
    try:
        name = ChangeKind(kind).name
    except ValueError:
        name = str(kind)
    return f"change {name}({account}, {value})"


def _apply(r: Replay, ev: DecodedEvent, kind: int, account: str, value: int) -> None:
    if kind == ChangeKind.FEE_RATE:
        checks_fee_rate(r, ev, value)
        r.fee_bps = value
    elif kind == ChangeKind.MIN_STAKE:
        r.min_stake = value
    elif kind == ChangeKind.DISPUTE_BOND:
        r.dispute_bond = value
    elif kind == ChangeKind.MIN_FEE:
        currency = r.currency_of_token.get(account)
        if currency is None:  # the token's CurrencySet may follow in the same transaction
            r.token_min_fees[account] = value
            return
        if value == 0:
            r.violate(Invariant.FEE_CAP, ev,
                      f"minimum fee of currency {currency} set to 0 (it must stay > 0)")
        r.currency(currency).min_fee = value
    elif kind == ChangeKind.DEFAULT_ARBITER:
        if account == ZERO_ADDRESS:  # no default arbiter: disputes of new bookings end by default
            r.default_arbiter = 0
            return
        ids = [i for i, (who, allowed) in r.arbiters.items() if who == account and allowed]
        if not ids:
            r.violate(Invariant.ROLES, ev,
                      f"{account} made the default arbiter, but it is not a named arbiter",
                      account=account)
        r.default_arbiter = ids[0] if ids else 0
    # Arbiter, Attestor and Currency changes are applied by their *Set events.


def checks_fee_rate(r: Replay, ev: DecodedEvent, value: int) -> None:
    """A fee rate within the cap."""
    from marketplace.domain import MAX_FEE_BPS

    if value > MAX_FEE_BPS:
        r.violate(Invariant.FEE_CAP, ev,
                  f"fee rate set to {value} bps, above the {MAX_FEE_BPS} bps cap", fee_bps=value)


def arbiter_set(r: Replay, ev: DecodedEvent) -> None:
    """ArbiterSet: an arbiter id named or removed."""
    a = ev.args
    r.arbiters[a["id"]] = (a["account"], a["allowed"])
    if not a["allowed"] and r.default_arbiter == a["id"]:
        r.default_arbiter = 0
        r.default_arbiter_reset_tx = ev.tx_hash


def attestor_set(r: Replay, ev: DecodedEvent) -> None:
    """AttestorSet: an attestor id named or removed."""
    a = ev.args
    r.set_attestor(a["id"], a["account"], a["allowed"])


def currency_set(r: Replay, ev: DecodedEvent) -> None:
    """CurrencySet: a token enabled (a new id on first enabling) or disabled."""
    a = ev.args
    cid, token, enabled = a["id"], a["token"], a["enabled"]
    known = r.currency_of_token.get(token)
    if known is not None and known != cid:
        r.violate(Invariant.TIMELOCK, ev,
                  f"token {token} named currency {cid}, but it was currency {known} (ids are "
                  "never reused)", account=token)
    c = r.currencies.get(cid)
    if c is None:
        c = r.currencies[cid] = CurrencyState(cid, token, enabled)
    elif c.token not in (token, ZERO_ADDRESS):
        r.violate(Invariant.TIMELOCK, ev,
                  f"currency {cid} reassigned from token {c.token} to {token}", account=token)
    c.token = token
    c.enabled = enabled
    r.currency_of_token[token] = cid
    if token in r.token_min_fees:
        c.min_fee = r.token_min_fees.pop(token)


def pause_changed(r: Replay, ev: DecodedEvent) -> None:
    """PauseChanged: no bookings, registrations or reactivations while paused (immediate)."""
    r.paused = ev.args["paused"]


def ownership_transferred(r: Replay, ev: DecodedEvent) -> None:
    """OwnershipTransferred."""
    r.owner = ev.args["newOwner"]


# ---------------------------------------------------------------- money


def fees_collected(r: Replay, ev: DecodedEvent) -> None:
    """FeesCollected: accrued fees of one currency become the collector's credit."""
    a = ev.args
    amount, currency = a["amount"], a["currency"]
    checks.check_fees_collected(r, ev, currency, amount)
    c = r.currency(currency)
    c.accrued_fees -= amount
    c.fees_collected += amount
    r.credit(a["to"], amount, currency)


def withdrawn(r: Replay, ev: DecodedEvent) -> None:
    """Withdrawn: a credit of one currency leaves the contract."""
    a = ev.args
    account, amount, currency = a["account"], a["amount"], a["currency"]
    checks.check_withdrawal(r, ev, account, currency, amount)
    key = (account, currency)
    r.credits[key] = r.credits.get(key, 0) - amount
    c = r.currency(currency)
    c.credits -= amount
    c.withdrawn += amount


HANDLERS: dict[str, Handler] = {
    "ListingRegistered": registered,
    "ListingUpdated": updated,
    "ListingDeactivated": _activity(active=False),
    "ListingReactivated": _activity(active=True),
    "StakeToppedUp": topped_up,
    "StakeSlashed": slashed,
    "StakeReleased": stake_released,
    "AttributesAttested": attested,
    "CriteriaSet": criteria_set,
    "ProviderBlockChanged": block_changed,
    "OwnerBlockChanged": owner_block_changed,
    "ChangeScheduled": change_scheduled,
    "ChangeCancelled": change_cancelled,
    "ChangeApplied": change_applied,
    "ArbiterSet": arbiter_set,
    "AttestorSet": attestor_set,
    "CurrencySet": currency_set,
    "PauseChanged": pause_changed,
    "FeesCollected": fees_collected,
    "Withdrawn": withdrawn,
    "OwnershipTransferred": ownership_transferred,
}

__all__ = ["HANDLERS", "short_id"]
