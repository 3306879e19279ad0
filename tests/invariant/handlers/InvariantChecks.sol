// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {Marketplace} from "../../../contracts/Marketplace.sol";
import {IProviderRegistry} from "../../../contracts/interfaces/IProviderRegistry.sol";
import {ICriteriaRegistry} from "../../../contracts/interfaces/ICriteriaRegistry.sol";
import {IBookings} from "../../../contracts/interfaces/IBookings.sol";
import {Ref} from "../base/Reference.sol";
import {MProvider, MCriteria, MBooking, EBooking} from "./Model.sol";
import {HandlerState, IOwnable2Step} from "./HandlerState.sol";

/// @title The six invariants of DESIGN.md, as views over the contract, the model and the events
/// @notice `checkAll` reverts with "<n> <invariant>: <detail> [<id>]: <got> != <want>" on the first
///         failure. The checks live in the handler so they read the model and the event ledger
///         straight from storage, and read every booking, credit and provider from the contract
///         once per call (this is what keeps 25,600 checked calls within the time budget).
///         Wherever the brief says "read back from the contract" the number is a contract read; the
///         handler's model and the ledger rebuilt from events are two independent expectations.
///         Hot loops compare with one boolean expression and only run the asserts (to name the
///         culprit) when it fails. `rotation` picks the slice of the per-(customer, provider) and
///         other rarely-changing checks done on this call; `full` does all of them.
abstract contract InvariantChecks is HandlerState {
    /// @dev The contract's state, read once per check.
    struct Reads {
        IBookings.Booking[] bookings; // same order as bookingIds
        uint256[] credits; // same order as everyone
        IProviderRegistry.Provider[] providers; // index = provider id - 1
        uint256 escrow; // sum of the prices of open bookings
        uint256 creditSum;
        uint256 stakeSum;
    }

    constructor(Marketplace market_, address owner_, address arbiter0_) HandlerState(market_, owner_, arbiter0_) {}

    /// @notice Every invariant; see the sections below.
    function checkAll(uint256 rotation, bool full) external view {
        checkPredictions();
        Reads memory r = _read();
        _checkSolvency(r);
        _checkBookings(r, rotation);
        _checkCompliance(rotation, full);
        _checkRatings(r, rotation);
        _checkFees();
        _checkAccess(r, rotation, full);
    }

    function _read() internal view returns (Reads memory r) {
        uint256 n = bookingIds.length;
        r.bookings = new IBookings.Booking[](n);
        for (uint256 i = 0; i < n; i++) {
            IBookings.Booking memory b = market.getBooking(bookingIds[i]);
            r.bookings[i] = b;
            if (_isOpen(b.status)) r.escrow += b.price;
        }
        n = everyone.length;
        r.credits = new uint256[](n);
        for (uint256 i = 0; i < n; i++) {
            uint256 c = market.creditOf(everyone[i]);
            r.credits[i] = c;
            r.creditSum += c;
        }
        uint32 np = market.providerCount();
        assertEq(np, mProviderCount, "1 solvency: providerCount != model");
        r.providers = new IProviderRegistry.Provider[](np);
        for (uint32 pid = 1; pid <= np; pid++) {
            IProviderRegistry.Provider memory p = market.getProvider(pid);
            r.providers[pid - 1] = p;
            r.stakeSum += p.stake;
        }
    }

    // ====================================================================== 0. handler predictions

    /// @notice Every call the handler made did what the spec says: allowed calls succeeded, forbidden
    ///         ones reverted, amounts and ether received matched. (Violations are classified below.)
    function checkPredictions() public view {
        if (v.total == 0) return;
        string memory inv = v.bookedWhileIneligible + v.ineligibleWrongRevert + v.viewVsReference != 0
            ? "3 compliance"
            : v.wrongPartySuccess != 0
                ? "6 access"
                : v.payoutMismatch != 0 ? "6 re-entrancy/payout" : v.eventMismatch != 0 ? "2 events" : "0 spec";
        revert(string.concat(inv, ": ", str(v.total), " violation(s), first: ", firstViolation));
    }

    // ====================================================================== 1. solvency

    /// @notice balance == open escrow + every credit + accrued fees + every stake, each term read
    ///         back from the contract, and each term (and each account's credit and each provider's
    ///         stake) equal to the model and to the event ledger.
    function _checkSolvency(Reads memory r) internal view {
        for (uint256 i = 0; i < r.credits.length; i++) {
            address a = everyone[i];
            uint256 c = r.credits[i];
            if (c != mCredit[a] || c != eCredit[a]) {
                assertEq(c, mCredit[a], "1 solvency: creditOf != model", a);
                assertEq(c, eCredit[a], "1 solvency: creditOf != events", a);
            }
        }
        for (uint32 pid = 1; pid <= r.providers.length; pid++) {
            uint96 s = r.providers[pid - 1].stake;
            if (s != mp[pid].stake || s != ep[pid].stake) {
                assertEq(s, mp[pid].stake, "1 solvency: stake != model", pid);
                assertEq(s, ep[pid].stake, "1 solvency: stake != events", pid);
            }
        }
        uint256 fees = market.accruedFees();
        uint256 ledger = r.escrow + r.creditSum + fees + r.stakeSum;
        // mForced: ether pushed in without a call (SELFDESTRUCT, block reward), outside every ledger.
        assertEq(address(market).balance, ledger + mForced, "1 solvency: balance != escrow + credits + fees + stakes");
        assertEq(r.escrow, mEscrow, "1 solvency: open escrow != model");
        assertEq(r.escrow, eEscrow, "1 solvency: open escrow != events");
        assertEq(fees, mFees, "1 solvency: accruedFees != model");
        assertEq(fees, eFees, "1 solvency: accruedFees != events");
        assertEq(r.stakeSum, mStakes, "1 solvency: stakes != model");
        assertEq(r.stakeSum, eStakes, "1 solvency: stakes != events");
        assertEq(eIn, eOut + ledger, "1 solvency: ether in != ether out + ledger (events)");
    }

    // ====================================================================== 2 (and per booking 3, 4, 5)

    /// @notice Every booking: stored fields == model == events; a terminal booking was paid exactly
    ///         once with payout + fee + refund == price (settled: fee == price * feeBps / 10000 at the
    ///         snapshotted rate; resolved: fee on the provider's part; refunded: all back, no fee);
    ///         terminal states never change (the model leaves a state only by a transition allowed
    ///         from an open state, and the stored status must equal the model's after every call);
    ///         at most one rating, only once settled or resolved.
    function _checkBookings(Reads memory r, uint256 rotation) internal view {
        uint256 n = bookingIds.length;
        uint16 cap = market.MAX_FEE_BPS();
        for (uint256 i = 0; i < n; i++) {
            uint256 bid = bookingIds[i];
            IBookings.Booking memory b = r.bookings[i];
            if (!_bookingOk(bid, b, mb[bid], eb[bid], cap)) {
                _checkBooking(bid, b, mb[bid], eb[bid], cap);
                revert("2 booking: fast check failed but no detailed assert did");
            }
        }
        address c = customers[rotation % customers.length];
        assertEq(market.bookingCountOf(c), mBookingCount[c], "2 booking: bookingCountOf", c);
        if (n != 0) {
            uint256 bid = bookingIds[rotation % n];
            assertEq(market.customerOf(bid), mb[bid].customer, "2 booking: customerOf");
        }
    }

    function _bookingOk(uint256 bid, IBookings.Booking memory b, MBooking storage m, EBooking storage e, uint16 cap)
        internal
        view
        returns (bool ok)
    {
        ok = b.status == m.status && b.status == e.status && b.price == m.price && b.price == e.price
            && b.providerId == m.providerId && b.providerId == e.providerId && b.deadline == m.deadline
            && b.deadline == e.deadline && b.criteriaVersion == m.criteriaVersion
            && address(uint160(bid >> 64)) == m.customer && e.customer == m.customer && m.criterionAtBooking == 0
            && b.feeBps == m.feeBps && b.feeBps == e.feeBps && b.feeBps <= cap && e.ratings <= 1
            && (e.ratings == 1) == b.rated && b.rated == m.rated;
        if (!ok) return false;
        if (_isOpen(b.status)) {
            return m.payments == 0 && e.payments == 0 && e.payout == 0 && e.fee == 0 && e.refund == 0;
        }
        ok = m.payments == 1 && e.payments == 1 && uint256(e.payout) + e.fee + e.refund == b.price
            && e.payout == m.payout && e.fee == m.fee && e.refund == m.refund;
        if (!ok) return false;
        if (b.status == IBookings.Status.Settled) {
            return e.fee == (uint256(b.price) * b.feeBps) / 10_000 && e.refund == 0;
        }
        if (b.status == IBookings.Status.Resolved) {
            return e.fee == ((uint256(b.price) - e.refund) * b.feeBps) / 10_000;
        }
        return e.refund == b.price && e.fee == 0 && !b.rated;
    }

    function _checkBooking(
        uint256 bid,
        IBookings.Booking memory b,
        MBooking storage m,
        EBooking storage e,
        uint16 cap
    ) internal view {
        assertEq(uint8(b.status), uint8(m.status), "2 booking: status != model", bid);
        assertEq(uint8(b.status), uint8(e.status), "2 booking: status != events", bid);
        assertEq(b.price, m.price, "2 booking: price changed", bid);
        assertEq(b.price, e.price, "2 booking: price != BookingRequested", bid);
        assertEq(b.providerId, m.providerId, "2 booking: provider changed", bid);
        assertEq(b.providerId, e.providerId, "2 booking: provider != BookingRequested", bid);
        assertEq(b.deadline, m.deadline, "2 booking: deadline != model", bid);
        assertEq(b.deadline, e.deadline, "2 booking: deadline != events", bid);
        assertEq(b.criteriaVersion, m.criteriaVersion, "2 booking: criteria version", bid);
        assertEq(address(uint160(bid >> 64)), m.customer, "2 booking: customer encoded in the id");
        assertEq(e.customer, m.customer, "2 booking: BookingRequested customer");
        assertEq(m.criterionAtBooking, 0, "3 compliance: booked while firstFailedCriterion != None", bid);
        assertEq(b.feeBps, m.feeBps, "5 fees: booking fee rate != the rate in force at booking", bid);
        assertEq(b.feeBps, e.feeBps, "5 fees: booking fee rate != BookingRequested", bid);
        assertLe(b.feeBps, cap, "5 fees: booking fee rate above the cap");
        assertLe(e.ratings, 1, "4 ratings: more than one rating for a booking");
        assertEq(e.ratings, b.rated ? 1 : 0, "4 ratings: rated flag != BookingRated events", bid);
        assertEq(b.rated ? 1 : 0, m.rated ? 1 : 0, "4 ratings: rated flag != model", bid);
        if (_isOpen(b.status)) {
            assertEq(uint256(m.payments) + e.payments, 0, "2 booking: open booking paid", bid);
            assertEq(uint256(e.payout) + e.fee + e.refund, 0, "2 booking: open booking released money", bid);
            return;
        }
        assertEq(m.payments, 1, "2 booking: terminal booking not paid exactly once (model)", bid);
        assertEq(e.payments, 1, "2 booking: terminal booking not paid exactly once (events)", bid);
        assertEq(uint256(e.payout) + e.fee + e.refund, b.price, "2 booking: payout + fee + refund != price", bid);
        assertEq(e.payout, m.payout, "2 booking: payout != expected", bid);
        assertEq(e.fee, m.fee, "2 booking: fee != expected", bid);
        assertEq(e.refund, m.refund, "2 booking: refund != expected", bid);
        if (b.status == IBookings.Status.Settled) {
            assertEq(e.fee, (uint256(b.price) * b.feeBps) / 10_000, "5 fees: settled fee != price * feeBps / 10000", bid);
            assertEq(e.refund, 0, "2 booking: settled booking refunded", bid);
        } else if (b.status == IBookings.Status.Resolved) {
            assertEq(e.fee, ((uint256(b.price) - e.refund) * b.feeBps) / 10_000, "5 fees: resolved fee", bid);
        } else {
            // Cancelled, Declined, Expired: the whole price back, no fee, never rated.
            assertEq(e.refund, b.price, "2 booking: partial refund of a cancelled/declined/expired booking", bid);
            assertEq(e.fee, 0, "5 fees: fee on a refunded booking", bid);
            assertFalse(b.rated, "4 ratings: a refunded booking was rated");
        }
    }

    // ====================================================================== 3. compliance

    /// @notice The handler's book-time records (the view said None before every successful book;
    ///         every book the view called ineligible reverted with MarketplaceIneligible(provider,
    ///         criterion)) and, for one customer per call (all when `full`), the on-chain
    ///         firstFailedCriterion against the reference rule on the model for every provider,
    ///         the stored criteria and the blocked flags.
    function checkCompliance(uint256 rotation, bool full) external view {
        _checkCompliance(rotation, full);
    }

    function _checkCompliance(uint256 rotation, bool full) internal view {
        assertEq(v.bookedWhileIneligible, 0, "3 compliance: booked while the view said ineligible");
        assertEq(v.ineligibleWrongRevert, 0, "3 compliance: ineligible book without MarketplaceIneligible");
        assertEq(v.viewVsReference, 0, "3 compliance: firstFailedCriterion != reference rule at booking");
        uint256 nc = customers.length;
        uint256 np = uint256(mProviderCount) + 1; // + one id that does not exist
        // Stored criteria: one customer per call (all when full).
        for (uint256 i = full ? 0 : rotation % nc; i < (full ? nc : rotation % nc + 1); i++) {
            address c = customers[i];
            assertEq(market.criteriaVersionOf(c), mVersion[c], "3 compliance: criteriaVersionOf", c);
            _checkCriteria(c, 1);
            _checkCriteria(c, 2);
        }
        // The (customer, provider) matrix: PAIRS_PER_CALL pairs per call in rotation (every pair
        // within a few calls), all of them when full. (Every book attempt also checks its own pair.)
        uint256 pairs = nc * np;
        uint256 count = full ? pairs : (PAIRS_PER_CALL < pairs ? PAIRS_PER_CALL : pairs);
        uint256 start = full ? 0 : (rotation * PAIRS_PER_CALL) % pairs;
        for (uint256 k = 0; k < count; k++) {
            uint256 idx = (start + k) % pairs;
            _checkPair(customers[idx / np], uint32(1 + idx % np));
        }
    }

    uint256 internal constant PAIRS_PER_CALL = 4;

    function _checkPair(address c, uint32 pid) internal view {
        uint8 got = uint8(market.firstFailedCriterion(c, pid));
        uint8 want = modelCriterion(c, pid);
        if (got != want) {
            revert(
                string.concat(
                    "3 compliance: firstFailedCriterion(", str(c), ", ", str(pid), ") = ", str(got),
                    ", reference rule on the model = ", str(want)
                )
            );
        }
        if (market.isBlocked(c, pid) != mBlocked[c][pid]) revert("3 compliance: isBlocked != model");
    }

    function _checkCriteria(address c, uint16 category) internal view {
        ICriteriaRegistry.Criteria memory got = market.getCriteria(c, category);
        MCriteria storage m = mc[c][category];
        if (
            got.version == m.version && got.region == m.region && got.minScore == m.minScore
                && got.maxPrice == m.maxPrice && got.premiumPerStar == m.premiumPerStar
                && got.requiredAttributes == m.requiredAttributes && got.refusedAttributes == m.refusedAttributes
                && got.scoreWeight == m.scoreWeight && got.priceWeight == m.priceWeight
                && got.blockedCount == m.blockedCount
        ) return;
        assertEq(got.version, m.version, "3 compliance: criteria version", c);
        assertEq(got.region, m.region, "3 compliance: criteria region", c);
        assertEq(got.minScore, m.minScore, "3 compliance: criteria minScore", c);
        assertEq(got.maxPrice, m.maxPrice, "3 compliance: criteria maxPrice", c);
        assertEq(got.premiumPerStar, m.premiumPerStar, "3 compliance: criteria premiumPerStar", c);
        assertEq(got.requiredAttributes, m.requiredAttributes, "3 compliance: criteria requiredAttributes", c);
        assertEq(got.refusedAttributes, m.refusedAttributes, "3 compliance: criteria refusedAttributes", c);
        assertEq(got.scoreWeight, m.scoreWeight, "3 compliance: criteria scoreWeight", c);
        assertEq(got.priceWeight, m.priceWeight, "3 compliance: criteria priceWeight", c);
        assertEq(got.blockedCount, m.blockedCount, "3 compliance: criteria blockedCount", c);
    }

    // ====================================================================== 4. ratings

    /// @notice Every provider's scoreCount / scoreSum == accepted ratings + lost disputes (one star
    ///         each), from the model and from the events; 0 < score <= 50000 (Bayesian reference);
    ///         provider ratings == rated bookings. Registry fields == model.
    function _checkRatings(Reads memory r, uint256 rotation) internal view {
        uint256 ratedBookings = 0;
        for (uint256 i = 0; i < r.bookings.length; i++) {
            if (r.bookings[i].rated) ratedBookings++;
        }
        uint256 ratings = 0;
        uint32 np = uint32(r.providers.length);
        for (uint32 pid = 1; pid <= np; pid++) {
            IProviderRegistry.Provider memory p = r.providers[pid - 1];
            MProvider storage m = mp[pid];
            ratings += m.ratings;
            if (_providerOk(pid, p, m)) continue;
            assertEq(p.scoreCount, m.scoreCount, "4 ratings: scoreCount != model", pid);
            assertEq(p.scoreSum, m.scoreSum, "4 ratings: scoreSum != model", pid);
            assertEq(p.scoreCount, ep[pid].scoreCount, "4 ratings: scoreCount != rating + dispute events", pid);
            assertEq(p.scoreSum, ep[pid].scoreSum, "4 ratings: scoreSum != rating + dispute events", pid);
            assertEq(m.scoreCount, uint256(m.ratings) + m.lost, "4 ratings: count != ratings + lost disputes", pid);
            assertEq(m.scoreSum, uint256(m.ratingStars) + m.lost, "4 ratings: sum != stars + lost disputes", pid);
            assertEq(p.disputesLost, m.lost, "4 ratings: disputesLost", pid);
            uint256 score = Ref.score(p.scoreCount, p.scoreSum);
            assertGt(score, 0, "4 ratings: score is zero");
            assertLe(score, 50_000, "4 ratings: score above five stars");
            _checkProviderFields(pid, p, m);
            revert("4 ratings: fast check failed but no detailed assert did");
        }
        assertEq(ratings, ratedBookings, "4 ratings: provider ratings != rated bookings");
        // scoreOf: one provider per call (the same formula over the fields compared above).
        if (np != 0) {
            uint32 pid = uint32(1 + rotation % np);
            assertEq(market.scoreOf(pid), Ref.score(mp[pid].scoreCount, mp[pid].scoreSum), "4 ratings: scoreOf", pid);
        }
    }

    function _providerOk(uint32 pid, IProviderRegistry.Provider memory p, MProvider storage m)
        internal
        view
        returns (bool)
    {
        uint256 score = Ref.score(p.scoreCount, p.scoreSum);
        return p.scoreCount == m.scoreCount && p.scoreSum == m.scoreSum && p.scoreCount == ep[pid].scoreCount
            && p.scoreSum == ep[pid].scoreSum && m.scoreCount == uint256(m.ratings) + m.lost
            && m.scoreSum == uint256(m.ratingStars) + m.lost && p.disputesLost == m.lost && score > 0
            && score <= 50_000 && p.owner == m.owner && ep[pid].owner == m.owner && p.price == m.price
            && p.attributes == m.attributes && p.category == m.category && p.region == m.region
            && p.active == m.active && p.stakeUnlockAt == m.unlockAt;
    }

    function _checkProviderFields(uint32 pid, IProviderRegistry.Provider memory p, MProvider storage m)
        internal
        view
    {
        assertEq(p.owner, m.owner, "provider owner != model");
        assertEq(ep[pid].owner, m.owner, "provider owner != ProviderRegistered");
        assertEq(p.price, m.price, "provider price != model", pid);
        assertEq(p.attributes, m.attributes, "provider attributes != model", pid);
        assertEq(p.category, m.category, "provider category != model", pid);
        assertEq(p.region, m.region, "provider region != model", pid);
        assertEq(p.active, m.active, "provider active != model");
        assertEq(p.stakeUnlockAt, m.unlockAt, "provider stakeUnlockAt != model", pid);
    }

    // ====================================================================== 5. fees

    /// @notice The cap is 10% and the rate never exceeds it; the rate equals the model and the last
    ///         FeeRateChanged event. (Per-booking fee checks are in _checkBookings.)
    function _checkFees() internal view {
        uint16 cap = market.MAX_FEE_BPS();
        assertEq(cap, 1_000, "5 fees: hard cap changed");
        uint16 rate = market.feeRate();
        assertLe(rate, cap, "5 fees: fee rate above the cap");
        assertEq(rate, mFeeBps, "5 fees: fee rate != model");
        assertEq(rate, eFeeBps, "5 fees: fee rate != last FeeRateChanged");
    }

    // ====================================================================== 6. access and re-entrancy

    /// @notice No wrong party ever succeeded; no guarded re-entrant call ever succeeded; nobody (the
    ///         attacker included) got more than was credited to it; operator state changed only by
    ///         the owner.
    function _checkAccess(Reads memory r, uint256 rotation, bool full) internal view {
        assertEq(v.wrongPartySuccess, 0, "6 access: a wrong party succeeded");
        assertEq(v.unexpectedSuccess, 0, "6 access: an action the spec forbids succeeded");
        assertEq(v.payoutMismatch, 0, "6 re-entrancy: ether paid != credit withdrawn");
        assertEq(attacker.guardedReentrySuccesses(), 0, "6 re-entrancy: a guarded re-entrant call succeeded");
        assertEq(attacker.totalReceived(), mPaidTo[address(attacker)], "6 re-entrancy: attacker received != paid to it");
        assertEq(bad.totalReceived(), mPaidTo[address(bad)], "6 access: bad receiver received != paid to it");
        for (uint256 i = 0; i < everyone.length; i++) {
            address a = everyone[i];
            // credited == withdrawn + still credited: nothing paid twice, nothing lost.
            if (mCreditedTotal[a] != mWithdrawnOwn[a] + r.credits[i]) {
                assertEq(mCreditedTotal[a], mWithdrawnOwn[a] + r.credits[i], "6 re-entrancy: credited != withdrawn + credit", a);
            }
            if (full || i == rotation % everyone.length) {
                if (market.isArbiter(a) != mArbiter[a]) revert(string.concat("6 access: arbiter set ", str(a)));
            }
        }
        assertEq(IOwnable2Step(address(market)).owner(), owner, "6 access: owner changed");
        assertEq(IOwnable2Step(address(market)).pendingOwner(), address(0), "6 access: pending owner set");
        assertEq(market.paused() ? 1 : 0, mPaused ? 1 : 0, "6 access: paused flag != model");
        assertEq(market.minStake(), mMinStake, "6 access: minStake != model");
    }
}
