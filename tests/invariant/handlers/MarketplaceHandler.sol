// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {IMarketplace} from "../../../contracts/interfaces/IMarketplace.sol";
import {IMarketplaceAdmin} from "../../../contracts/interfaces/IMarketplaceAdmin.sol";
import {IProviderRegistry} from "../../../contracts/interfaces/IProviderRegistry.sol";
import {ICriteriaRegistry} from "../../../contracts/interfaces/ICriteriaRegistry.sol";
import {IBookings} from "../../../contracts/interfaces/IBookings.sol";
import {TestToken} from "../../../contracts/test/tokens/TestToken.sol";
import {Vm} from "../base/Vm.sol";
import {Helpers} from "../base/TestBase.sol";
import {Ref} from "../base/Reference.sol";
import {Attacker, ContractActor} from "../actors/Actors.sol";
import {MListing, MBooking, MCriteria} from "./Model.sol";

/// @title The v2 campaign's handler: every action predicts its outcome from the model, acts as the
///        chosen party, and fails the run (fail_on_revert) on any disagreement
/// @notice Every external non-view function is a fuzz target except `bootstrap` and `drainAll`.
///         Ledgers are per currency: 0 ether (escrow, credits, fees, stakes, dispute bonds) and 1
///         a plain ERC-20 (escrow, credits, fees). `checkAll` (the invariants) is in the same contract.
contract MarketplaceHandler is Helpers {
    using {isOpen} for IBookings.Status;

    IMarketplace public immutable market;
    TestToken public immutable token;
    address public immutable op;
    address public immutable arb;
    address public immutable stranger;

    uint256 internal constant N_EOA = 5;
    uint256 internal constant ATTACKER = 5; // actors[5] is the re-entering contract
    uint8 internal constant CATEGORY = 1;

    Attacker public attacker;
    address[] internal actors; // 5 EOAs + the attacker
    address[] internal everyone; // actors + arbiter + operator + stranger: every account a credit may reach

    // ---- configuration mirrors
    uint256 public mFeeBps;
    uint256[2] internal mMinFee;
    uint256 internal mMinStake;
    uint256 internal mBond;
    IMarketplaceAdmin.Windows internal w;
    bool public mPaused;
    mapping(uint256 => uint32) internal feeEta; // scheduled FeeRate changes: bps => eta (0 = none)
    uint256[] internal feePending; // their bps values

    // ---- model
    mapping(uint32 => MListing) internal ml;
    uint32 public listingCount;
    mapping(uint256 => MBooking) internal mb;
    uint256[] internal bookingIds;
    mapping(address => MCriteria) internal mc;
    mapping(address => mapping(uint32 => bool)) internal mBlocked;
    mapping(address => mapping(address => bool)) internal mOwnerBlocked;
    mapping(address => uint256[2]) internal mCredit;
    uint256[2] internal mFees;
    uint256[2] internal mEscrow;
    uint256 internal mStakes;
    uint256 internal mBonds;

    // ---- event-sourced sums (what BookingRated / DisputeResolved reported)
    uint256 public eventWeight;
    uint256 public eventWeightedStars;

    // ---- coverage
    uint256 public calls;
    mapping(bytes32 => uint256) public tries;
    mapping(bytes32 => uint256) public oks;
    uint256 public selfBookingsRefused;
    uint256 public ineligibleRefused;
    uint256 public noShows;
    uint256 public lostDisputes;
    uint256 public lateCancels;

    constructor(IMarketplace market_, TestToken token_, address op_, address arb_, IMarketplaceAdmin.Windows memory w_) {
        market = market_;
        token = token_;
        op = op_;
        arb = arb_;
        w = w_;
        stranger = makeAddr("stranger");
    }

    // =================================================================== bootstrap and views

    function bootstrap() external {
        for (uint256 i = 0; i < N_EOA; i++) {
            address a = makeAddr(string.concat("actor", str(i)));
            actors.push(a);
            token.mint(a, 1e30);
            vm.prank(a);
            token.approve(address(market), type(uint256).max);
        }
        attacker = new Attacker(market, address(this));
        actors.push(address(attacker));
        for (uint256 i = 0; i < actors.length; i++) everyone.push(actors[i]);
        everyone.push(arb);
        everyone.push(op);
        everyone.push(stranger);
        mFeeBps = market.feeRate();
        mMinFee[0] = market.minFee(0);
        mMinFee[1] = market.minFee(1);
        mMinStake = market.minStake();
        mBond = market.disputeBond();
        // Two listings and open criteria so the first calls have something to book.
        _register(actors[0], 0, uint88(mMinFee[0] * 40 + 17), false, 24, 50, true);
        _register(actors[1], 1, uint88(mMinFee[1] * 40 + 3), true, 0, 100, true);
        _register(actors[2], 0, uint88(mMinFee[0]), true, 2, 30, true);
        _register(actors[3], 1, uint88(1e9 + 1), false, 48, 10, true);
        for (uint256 i = 0; i < actors.length; i++) {
            _setCriteria(actors[i], i == ATTACKER ? 0 : uint8(i % 2), 0, type(uint88).max, 0, 0);
        }
    }

    function everyoneList() external view returns (address[] memory) {
        return everyone;
    }

    function bookingCount() external view returns (uint256) {
        return bookingIds.length;
    }

    function bookingIdAt(uint256 i) external view returns (uint256) {
        return bookingIds[i];
    }

    // =================================================================== listings

    function register(uint256 whoSeed, uint256 currencySeed, uint256 priceSeed, uint256 termsSeed) external {
        address who = actors[whoSeed % actors.length];
        uint8 cur = uint8(currencySeed % 2);
        uint88 price = _price(cur, priceSeed);
        bool valid = termsSeed % 11 != 0;
        if (!valid) price = uint88(mMinFee[cur] - 1); // below the minimum fee: refused
        _register(who, cur, price, termsSeed % 3 == 0, uint16((termsSeed >> 8) % 72), uint8((termsSeed >> 16) % 101), valid);
    }

    function _price(uint8 cur, uint256 seed) internal view returns (uint88) {
        uint256 mf = mMinFee[cur];
        uint256 kind = seed % 4;
        if (kind == 0) return uint88(mf); // the cheapest legal price: fee == price
        if (kind == 1) return uint88(bound(seed >> 8, mf, mf * 40)); // fee floored to minFee
        if (kind == 2) return uint88(bound(seed >> 8, mf * 40, 1e18)); // fee at the rate, rounded up
        return uint88(bound(seed >> 8, 1e18, 1e21));
    }

    function _register(address who, uint8 cur, uint88 price, bool instant, uint16 fch, uint8 lcp, bool valid) internal {
        uint256 stake = mMinStake + (uint256(price) % 1000);
        IProviderRegistry.ListingInput memory in_ = _input(cur, price, instant, fch, lcp);
        bool expected = valid && !mPaused;
        (bool ok, bytes memory ret) = _act("register", who, stake, abi.encodeCall(IProviderRegistry.register, (in_)));
        _expect(expected, ok, ret, "register");
        if (!ok) return;
        uint32 pid = abi.decode(ret, (uint32));
        _check(pid == listingCount + 1, "register: unexpected listing id");
        listingCount = pid;
        MListing storage l = ml[pid];
        l.owner = who;
        l.currency = cur;
        l.price = price;
        l.active = true;
        l.instant = instant;
        l.freeCancelHours = fch;
        l.lateCancelPct = lcp;
        l.offerVersion = 1;
        l.stake = stake;
        mStakes += stake;
    }

    function _input(uint8 cur, uint88 price, bool instant, uint16 fch, uint8 lcp)
        internal
        pure
        returns (IProviderRegistry.ListingInput memory in_)
    {
        in_.category = CATEGORY;
        in_.currency = cur;
        in_.price = price;
        in_.metadataHash = keccak256(abi.encode(price, fch));
        in_.instant = instant;
        in_.freeCancelHours = fch;
        in_.lateCancelPct = lcp;
    }

    function updateListing(uint256 pidSeed, uint256 whoSeed, uint256 priceSeed, uint256 termsSeed) external {
        (uint32 pid, MListing storage l) = _listing(pidSeed);
        if (pid == 0) return;
        address who = whoSeed % 4 == 0 ? actors[whoSeed % actors.length] : l.owner;
        uint88 price = _price(l.currency, priceSeed);
        bool instant = termsSeed % 3 == 0;
        uint16 fch = uint16((termsSeed >> 8) % 72);
        uint8 lcp = uint8((termsSeed >> 16) % 101);
        bool expected = who == l.owner;
        (bool ok, bytes memory ret) = _act(
            "updateListing",
            who,
            0,
            abi.encodeCall(IProviderRegistry.updateListing, (pid, _input(l.currency, price, instant, fch, lcp)))
        );
        if (mPaused && expected && !ok) return; // pausing updates is the contract's choice
        _expect(expected, ok, ret, "updateListing");
        if (!ok) return;
        l.price = price;
        l.instant = instant;
        l.freeCancelHours = fch;
        l.lateCancelPct = lcp;
        l.offerVersion += 1;
    }

    function deactivate(uint256 pidSeed, uint256 whoSeed) external {
        (uint32 pid, MListing storage l) = _listing(pidSeed);
        if (pid == 0 || (whoSeed >> 8) % 3 != 0) return; // rarely: an inactive listing books nothing
        address who = whoSeed % 5 == 0 ? actors[whoSeed % actors.length] : l.owner;
        bool expected = who == l.owner && l.active;
        (bool ok, bytes memory ret) = _act("deactivate", who, 0, abi.encodeCall(IProviderRegistry.deactivate, (pid)));
        _expect(expected, ok, ret, "deactivate");
        if (!ok) return;
        l.active = false;
        uint32 cool = uint32(block.timestamp) + w.stakeCooldown;
        if (cool > l.lockedUntil) l.lockedUntil = cool;
    }

    function reactivate(uint256 pidSeed, uint256 whoSeed) external {
        (uint32 pid, MListing storage l) = _listing(pidSeed);
        if (pid == 0) return;
        address who = whoSeed % 5 == 0 ? actors[whoSeed % actors.length] : l.owner;
        bool expected = who == l.owner && !l.active && l.stake >= mMinStake && !mPaused;
        (bool ok, bytes memory ret) = _act("reactivate", who, 0, abi.encodeCall(IProviderRegistry.reactivate, (pid)));
        _expect(expected, ok, ret, "reactivate");
        if (ok) l.active = true;
    }

    function topUpStake(uint256 pidSeed, uint256 whoSeed, uint256 amountSeed) external {
        (uint32 pid, MListing storage l) = _listing(pidSeed);
        if (pid == 0) return;
        address who = actors[whoSeed % N_EOA];
        uint256 amount = bound(amountSeed, 0, 1 ether);
        (bool ok, bytes memory ret) =
            _act("topUpStake", who, amount, abi.encodeCall(IProviderRegistry.topUpStake, (pid)));
        _expect(amount != 0, ok, ret, "topUpStake");
        if (!ok) return;
        l.stake += amount;
        mStakes += amount;
    }

    function releaseStake(uint256 pidSeed, uint256 whoSeed) external {
        (uint32 pid, MListing storage l) = _listing(pidSeed);
        if (pid == 0) return;
        address who = whoSeed % 5 == 0 ? actors[whoSeed % actors.length] : l.owner;
        bool allowed = !l.active && l.stake != 0 && block.timestamp >= l.lockedUntil;
        (bool ok, bytes memory ret) =
            _act("releaseStake", who, 0, abi.encodeCall(IProviderRegistry.releaseStake, (pid)));
        if (who == l.owner && block.timestamp != l.lockedUntil) _expect(allowed, ok, ret, "releaseStake");
        else if (ok) _check(allowed, "releaseStake: released a locked or active stake");
        if (!ok) return;
        mCredit[l.owner][0] += l.stake; // always the owner's credit, whoever triggered it
        mStakes -= l.stake;
        l.stake = 0;
    }

    // =================================================================== criteria and blocks

    function setCriteria(uint256 whoSeed, uint256 currencySeed, uint256 limitsSeed) external {
        address who = actors[whoSeed % actors.length];
        uint256 k = limitsSeed % 16; // 1..4: one demanding limit; otherwise open
        uint16 minScore = k == 1 ? uint16(bound(limitsSeed >> 8, 30_000, 40_000)) : 0;
        uint88 maxPrice = k == 2 ? uint88(bound(limitsSeed >> 16, 0, 1e18)) : type(uint88).max;
        uint32 minWeight = k == 3 ? uint32(bound(limitsSeed >> 24, 1, 5_000)) : 0;
        uint16 minRel = k == 4 ? uint16(bound(limitsSeed >> 32, 8_000, 9_500)) : 0;
        _setCriteria(who, uint8(currencySeed % 2), minScore, maxPrice, minWeight, minRel);
    }

    function _setCriteria(address who, uint8 cur, uint16 minScore, uint88 maxPrice, uint32 minWeight, uint16 minRel)
        internal
    {
        ICriteriaRegistry.CriteriaInput memory in_;
        in_.category = CATEGORY;
        in_.currency = cur;
        in_.minScore = minScore;
        in_.maxPrice = maxPrice;
        in_.minRatingWeight = minWeight;
        in_.minReliability = minRel;
        in_.scoreWeight = 5_000;
        in_.priceWeight = 5_000;
        (bool ok, bytes memory ret) =
            _act("setCriteria", who, 0, abi.encodeCall(ICriteriaRegistry.setCriteria, (in_)));
        _expect(true, ok, ret, "setCriteria");
        if (!ok) return;
        uint32 version = abi.decode(ret, (uint32));
        _check(version > mc[who].version, "setCriteria: the version did not increase");
        mc[who] = MCriteria(version, cur, minScore, maxPrice, minWeight, minRel);
    }

    function setBlocked(uint256 whoSeed, uint256 pidSeed, bool blocked) external {
        address who = actors[whoSeed % actors.length];
        (uint32 pid,) = _listing(pidSeed);
        if (pid == 0) return;
        bool expected = mc[who].version != 0 && mBlocked[who][pid] != blocked;
        (bool ok, bytes memory ret) =
            _act("setBlocked", who, 0, abi.encodeCall(ICriteriaRegistry.setBlocked, (pid, blocked)));
        _expect(expected, ok, ret, "setBlocked");
        if (!ok) return;
        mBlocked[who][pid] = blocked;
        mc[who].version = abi.decode(ret, (uint32));
    }

    function setOwnerBlocked(uint256 whoSeed, uint256 ownerSeed, bool blocked) external {
        address who = actors[whoSeed % actors.length];
        address owner_ = actors[ownerSeed % actors.length];
        bool expected = mOwnerBlocked[who][owner_] != blocked;
        (bool ok, bytes memory ret) =
            _act("setOwnerBlocked", who, 0, abi.encodeCall(ICriteriaRegistry.setOwnerBlocked, (owner_, blocked)));
        if (owner_ == who && !ok) return; // blocking oneself may be refused
        _expect(expected, ok, ret, "setOwnerBlocked");
        if (!ok) return;
        mOwnerBlocked[who][owner_] = blocked;
        if (mc[who].version != 0) {
            _check(market.getCriteria(who, CATEGORY).version >= mc[who].version, "owner block lowered a version");
            mc[who].version = market.getCriteria(who, CATEGORY).version;
        }
    }

    // =================================================================== booking

    struct Plan {
        uint32 pid;
        IBookings.BookingRequest req;
        uint256 value;
        uint256 id;
        uint8 seen;
        bool expected;
        bool self;
    }

    function book(uint256 custSeed, uint256 pidSeed, uint256 slotSeed, uint256 mode) external {
        (uint32 pid, MListing storage l) = _listing(pidSeed);
        if (pid == 0) return;
        // Mostly a customer other than the owner; 1 in 8 the owner itself (self-booking).
        address cust = mode % 8 == 7 ? l.owner : actors[custSeed % actors.length];
        if (mode % 8 < 5) {
            // mostly a listing in the customer's currency, of another owner, active
            for (uint32 i = 0; i < listingCount; i++) {
                uint32 cand = uint32(1 + (pidSeed % listingCount + i) % listingCount);
                MListing storage lc = ml[cand];
                if (lc.currency == mc[cust].currency && lc.owner != cust && lc.active) {
                    (pid, l) = (cand, lc);
                    break;
                }
            }
        }
        Plan memory q;
        q.pid = pid;
        q.req = IBookings.BookingRequest({
            providerId: pid,
            start: uint40(block.timestamp + (slotSeed % 4 == 0 ? bound(slotSeed, 1, 20 days) : bound(slotSeed, 1, 2 days))),
            durationMinutes: uint16(bound(slotSeed >> 64, 1, 600)),
            salt: uint8((slotSeed >> 128) % 4),
            offerVersion: l.offerVersion,
            criteriaVersion: market.getCriteria(cust, CATEGORY).version
        });
        q.value = l.currency == 0 ? l.price : 0;
        uint256 tamper = (mode >> 8) % 16; // 1..7 tamper with one field; the rest books honestly
        if (tamper == 7 && bookingIds.length == 0) tamper = 0;
        if (tamper == 1) q.req.criteriaVersion += 1;
        else if (tamper == 2) q.req.offerVersion += 1;
        else if (tamper == 3) q.req.start = uint40(block.timestamp);
        else if (tamper == 4) q.req.start = uint40(block.timestamp + 365 days + 1 + (slotSeed % 3));
        else if (tamper == 5) q.req.durationMinutes = 0;
        else if (tamper == 6) q.value = l.currency == 0 ? q.value + 1 : 1;
        if (tamper == 7) {
            q.req = _sameSlot(bookingIds[slotSeed % bookingIds.length]);
            pid = q.req.providerId;
            l = ml[pid];
            q.pid = pid;
            cust = mb[bookingIds[slotSeed % bookingIds.length]].customer;
            q.value = l.currency == 0 ? l.price : 0;
        }
        q.id = Ref.bookingId(cust, pid, q.req.start, q.req.durationMinutes, q.req.salt);
        q.self = cust == l.owner;
        q.seen = uint8(market.firstFailedCriterion(cust, pid));
        _check(q.seen == modelCriterion(cust, pid), "firstFailedCriterion != reference rule on the model");
        bool tampered = tamper >= 1 && tamper <= 7;
        bool tokenless = cust == address(attacker) && l.currency == 1; // the attacker holds no token
        q.expected = !tampered && !tokenless && !mPaused && !q.self && q.seen == 0 && mb[q.id].customer == address(0);
        _book(cust, q, l);
    }

    function _sameSlot(uint256 id) internal view returns (IBookings.BookingRequest memory r) {
        MBooking storage b = mb[id];
        r.providerId = b.pid;
        r.start = b.start;
        r.durationMinutes = b.duration;
        r.salt = uint8(id);
        r.offerVersion = ml[b.pid].offerVersion;
        r.criteriaVersion = market.getCriteria(b.customer, CATEGORY).version;
    }

    function _book(address cust, Plan memory q, MListing storage l) internal {
        (bool ok, bytes memory ret) = _act("book", cust, q.value, abi.encodeCall(IBookings.book, (q.req)));
        if (ok) _check(!q.self, "a listing's owner booked it");
        if (ok) _check(q.seen == 0, "booked a listing the view called ineligible");
        if (!ok && q.self && q.seen == 0 && !mPaused && q.req.offerVersion == l.offerVersion) {
            if (bytes4(ret) == IBookings.MarketplaceSelfBooking.selector) selfBookingsRefused++;
        }
        if (!ok && q.seen != 0 && !q.self) ineligibleRefused++;
        _expect(q.expected, ok, ret, "book");
        if (!ok) return;
        _check(abi.decode(ret, (uint256)) == q.id, "book: id != customer|provider|start|duration|salt");
        (uint256 fee, bool feeOk) = Ref.fee(l.price, mFeeBps, mMinFee[l.currency]);
        _check(feeOk, "book: a booking whose fee exceeds its price");
        MBooking storage b = mb[q.id];
        b.customer = cust;
        b.pid = q.pid;
        b.currency = l.currency;
        b.price = l.price;
        b.fee = uint80(fee);
        b.start = q.req.start;
        b.duration = q.req.durationMinutes;
        b.freeCancelHours = l.freeCancelHours;
        b.lateCancelPct = l.lateCancelPct;
        b.status = IBookings.Status.Requested;
        uint256 respondBy = block.timestamp + w.respond;
        b.deadline = uint32(respondBy < q.req.start ? respondBy : q.req.start);
        bookingIds.push(q.id);
        mEscrow[l.currency] += l.price;
        if (l.instant) _acceptModel(b, l);
    }

    function _acceptModel(MBooking storage b, MListing storage l) internal {
        b.status = IBookings.Status.Accepted;
        b.deadline = uint32(uint256(b.start) + uint256(b.duration) * 60 + w.serviceGrace);
        uint32 lock = b.deadline + w.confirm + w.arbitration;
        if (lock > l.lockedUntil) l.lockedUntil = lock;
    }

    function accept(uint256 bidSeed, uint256 whoSeed) external {
        (uint256 id, MBooking storage b) = _booking(bidSeed);
        if (id == 0) return;
        address who = _party(whoSeed, ml[b.pid].owner);
        bool expected =
            who == ml[b.pid].owner && b.status == IBookings.Status.Requested && block.timestamp <= b.deadline;
        (bool ok, bytes memory ret) = _act("accept", who, 0, abi.encodeCall(IBookings.accept, (id)));
        _expect(expected, ok, ret, "accept");
        if (ok) _acceptModel(b, ml[b.pid]);
    }

    function decline(uint256 bidSeed, uint256 whoSeed) external {
        (uint256 id, MBooking storage b) = _booking(bidSeed);
        if (id == 0) return;
        address who = _party(whoSeed, ml[b.pid].owner);
        bool owner_ = who == ml[b.pid].owner;
        bool requested = b.status == IBookings.Status.Requested;
        bool accepted = b.status == IBookings.Status.Accepted && block.timestamp < b.start;
        (bool ok, bytes memory ret) = _act("decline", who, 0, abi.encodeCall(IBookings.decline, (id)));
        if (owner_ && requested && block.timestamp > b.deadline) {
            if (!ok) return; // declining an expirable request: either is the spec
        } else {
            _expect(owner_ && (requested || accepted), ok, ret, "decline");
        }
        if (!ok) return;
        if (!requested) _fail(b.pid);
        _refund(b, IBookings.Status.Declined, b.price, 0);
    }

    function cancel(uint256 bidSeed, uint256 whoSeed, uint256 waitSeed) external {
        (uint256 id, MBooking storage b) = _booking(bidSeed);
        if (id == 0) return;
        address who = _party(whoSeed, b.customer);
        // Often land near the free-cancellation boundary of an accepted booking.
        if (waitSeed % 3 == 0 && b.status == IBookings.Status.Accepted) {
            uint256 edge = uint256(b.start) - uint256(b.freeCancelHours) * 3600;
            uint256 t = edge + (waitSeed >> 8) % 3; // edge, edge + 1, edge + 2
            if (t > block.timestamp && t < b.start) vm.warp(t);
        }
        bool cust = who == b.customer;
        bool requested = b.status == IBookings.Status.Requested;
        bool accepted = b.status == IBookings.Status.Accepted && block.timestamp < b.start;
        (bool ok, bytes memory ret) = _act("cancel", who, 0, abi.encodeCall(IBookings.cancel, (id)));
        if (cust && requested && block.timestamp > b.deadline) {
            if (!ok) return;
        } else {
            _expect(cust && (requested || accepted), ok, ret, "cancel");
        }
        if (!ok) return;
        (uint256 refund, uint256 comp) = requested
            ? (uint256(b.price), uint256(0))
            : Ref.cancelSplit(b.price, b.freeCancelHours, b.lateCancelPct, block.timestamp, b.start);
        if (comp != 0) lateCancels++;
        _refund(b, IBookings.Status.Cancelled, refund, comp);
    }

    function expire(uint256 bidSeed, uint256 whoSeed) external {
        (uint256 id, MBooking storage b) = _booking(bidSeed);
        if (id == 0) return;
        address who = actors[whoSeed % actors.length];
        bool due = (b.status == IBookings.Status.Requested || b.status == IBookings.Status.Accepted)
            && block.timestamp > b.deadline;
        bool noShow = b.status == IBookings.Status.Accepted;
        (bool ok, bytes memory ret) = _act("expire", who, 0, abi.encodeCall(IBookings.expire, (id)));
        _expect(due, ok, ret, "expire");
        if (!ok) return;
        if (noShow) {
            noShows++;
            MListing storage l = ml[b.pid];
            uint256 cut = Ref.slash(l.stake);
            l.stake -= cut;
            mStakes -= cut;
            mCredit[b.customer][0] += cut;
            _fail(b.pid);
        }
        _refund(b, IBookings.Status.Expired, b.price, 0);
    }

    function complete(uint256 bidSeed, uint256 whoSeed) external {
        (uint256 id, MBooking storage b) = _booking(bidSeed);
        if (id == 0) return;
        if (whoSeed % 2 == 0 && b.status == IBookings.Status.Accepted && block.timestamp < b.start) {
            vm.warp(uint256(b.start) - 1 + (whoSeed >> 8) % 2); // one second early, or exactly the start
        }
        address who = _party(whoSeed, ml[b.pid].owner);
        bool expected = who == ml[b.pid].owner && b.status == IBookings.Status.Accepted
            && block.timestamp >= b.start && block.timestamp <= b.deadline;
        (bool ok, bytes memory ret) = _act("complete", who, 0, abi.encodeCall(IBookings.complete, (id)));
        _expect(expected, ok, ret, "complete");
        if (!ok) return;
        b.status = IBookings.Status.Completed;
        b.deadline = uint32(block.timestamp + w.confirm);
    }

    function confirm(uint256 bidSeed, uint256 whoSeed) external {
        (uint256 id, MBooking storage b) = _booking(bidSeed);
        if (id == 0) return;
        address who = _party(whoSeed, b.customer);
        bool expected = who == b.customer && b.status == IBookings.Status.Completed && block.timestamp <= b.deadline;
        (bool ok, bytes memory ret) = _act("confirm", who, 0, abi.encodeCall(IBookings.confirm, (id)));
        _expect(expected, ok, ret, "confirm");
        if (ok) _settleModel(b);
    }

    function confirmAndRate(uint256 bidSeed, uint256 whoSeed, uint256 starsSeed) external {
        (uint256 id, MBooking storage b) = _booking(bidSeed);
        if (id == 0) return;
        address who = _party(whoSeed, b.customer);
        uint8 stars = uint8(starsSeed % 7); // 0 and 6 are invalid
        bool expected = who == b.customer && b.status == IBookings.Status.Completed && block.timestamp <= b.deadline
            && stars >= 1 && stars <= 5;
        (bool ok, bytes memory ret) =
            _act("confirmAndRate", who, 0, abi.encodeCall(IBookings.confirmAndRate, (id, stars, uint32(starsSeed >> 8))));
        _expect(expected, ok, ret, "confirmAndRate");
        if (!ok) return;
        _settleModel(b);
        _rateModel(b, stars);
    }

    function settle(uint256 bidSeed, uint256 whoSeed) external {
        (uint256 id, MBooking storage b) = _booking(bidSeed);
        if (id == 0) return;
        address who = actors[whoSeed % actors.length];
        bool expected = b.status == IBookings.Status.Completed && block.timestamp > b.deadline;
        (bool ok, bytes memory ret) = _act("settle", who, 0, abi.encodeCall(IBookings.settle, (id)));
        _expect(expected, ok, ret, "settle");
        if (ok) _settleModel(b);
    }

    function dispute(uint256 bidSeed, uint256 whoSeed, uint256 valueSeed) external {
        (uint256 id, MBooking storage b) = _booking(bidSeed);
        if (id == 0) return;
        address who = _party(whoSeed, b.customer);
        uint256 value = valueSeed % 6 == 0 ? mBond - 1 : (valueSeed % 6 == 1 ? mBond + 1 : mBond);
        bool expected = who == b.customer && b.status == IBookings.Status.Completed && block.timestamp <= b.deadline
            && value == mBond;
        (bool ok, bytes memory ret) = _act("dispute", who, value, abi.encodeCall(IBookings.dispute, (id)));
        _expect(expected, ok, ret, "dispute");
        if (!ok) return;
        b.status = IBookings.Status.Disputed;
        b.deadline = uint32(block.timestamp + w.arbitration);
        b.bond = uint96(mBond);
        b.everDisputed = true;
        mBonds += mBond;
    }

    function resolve(uint256 bidSeed, uint256 whoSeed, uint256 bpsSeed) external {
        (uint256 id, MBooking storage b) = _booking(bidSeed);
        if (id == 0) return;
        uint256 k = whoSeed % 6;
        address who = k == 0 ? b.customer : (k == 1 ? ml[b.pid].owner : (k == 2 ? op : arb));
        uint16 bps = uint16(bpsSeed % 5 == 0 ? 10_001 : bound(bpsSeed >> 8, 0, 10_000));
        if (bpsSeed % 7 == 1) bps = 5_000;
        if (bpsSeed % 7 == 2) bps = 5_001;
        bool party = who == b.customer || who == ml[b.pid].owner;
        bool expected = who == arb && !party && b.status == IBookings.Status.Disputed && block.timestamp <= b.deadline
            && bps <= 10_000;
        (bool ok, bytes memory ret) = _act("resolve", who, 0, abi.encodeCall(IBookings.resolve, (id, bps)));
        _expect(expected, ok, ret, "resolve");
        if (!ok) return;
        (uint256 refund, uint256 payout) = Ref.disputeSplit(b.price, b.fee, bps);
        MListing storage l = ml[b.pid];
        _pay(b, refund, payout);
        mBonds -= b.bond;
        _bump(b.pid, false);
        if (bps > 5_000) {
            lostDisputes++;
            mCredit[b.customer][0] += b.bond;
            uint256 cut = b.bond < l.stake ? b.bond : l.stake;
            l.stake -= cut;
            mStakes -= cut;
            mCredit[arb][0] += cut;
            uint256 wgt = Ref.weight(b.fee, mMinFee[b.currency]);
            l.ratingWeight += wgt;
            l.weightedStars += wgt; // one star
            b.rated = true; // the ruling is the booking's rating
            _fail(b.pid);
        } else {
            mCredit[arb][0] += b.bond;
        }
        b.bond = 0;
        b.status = IBookings.Status.Resolved;
    }

    function resolveByDefault(uint256 bidSeed, uint256 whoSeed) external {
        (uint256 id, MBooking storage b) = _booking(bidSeed);
        if (id == 0) return;
        address who = actors[whoSeed % actors.length];
        bool expected = b.status == IBookings.Status.Disputed && block.timestamp > b.deadline;
        (bool ok, bytes memory ret) = _act("resolveByDefault", who, 0, abi.encodeCall(IBookings.resolveByDefault, (id)));
        _expect(expected, ok, ret, "resolveByDefault");
        if (!ok) return;
        (uint256 refund, uint256 payout) = Ref.disputeSplit(b.price, b.fee, 5_000);
        _pay(b, refund, payout);
        mBonds -= b.bond;
        mCredit[b.customer][0] += b.bond;
        b.bond = 0;
        b.status = IBookings.Status.Resolved;
    }

    function rate(uint256 bidSeed, uint256 whoSeed, uint256 starsSeed) external {
        (uint256 id, MBooking storage b) = _booking(bidSeed);
        if (id == 0) return;
        address who = _party(whoSeed, b.customer);
        uint8 stars = uint8(starsSeed % 7);
        bool expected = who == b.customer
            && (b.status == IBookings.Status.Settled || b.status == IBookings.Status.Resolved) && !b.rated && stars >= 1
            && stars <= 5;
        (bool ok, bytes memory ret) =
            _act("rate", who, 0, abi.encodeCall(IBookings.rate, (id, stars, uint32(starsSeed >> 8))));
        _expect(expected, ok, ret, "rate");
        if (ok) _rateModel(b, stars);
    }

    /// @notice Move a random booking one step along its happy (or unhappy) path as the right party.
    function advance(uint256 bidSeed, uint256 choice) external {
        (uint256 id, MBooking storage b) = _booking(bidSeed);
        if (id == 0) return;
        IBookings.Status s = b.status;
        if (s == IBookings.Status.Requested) {
            if (choice % 5 == 0) this.decline(bidSeed, 1);
            else this.accept(bidSeed, 1);
        } else if (s == IBookings.Status.Accepted) {
            if (block.timestamp < b.start) vm.warp(b.start + (choice % 3600));
            this.complete(bidSeed, 1);
        } else if (s == IBookings.Status.Completed) {
            uint256 k = choice % 3; // disputes a third of the time: bonds, rulings, arbiter pay
            if (k == 0) this.dispute(bidSeed, 1, 2);
            else if (k == 1) this.confirm(bidSeed, 1);
            else this.confirmAndRate(bidSeed, 1, 1 + (choice >> 8) % 5);
        } else if (s == IBookings.Status.Disputed) {
            this.resolve(bidSeed, 3, choice);
        } else if (s == IBookings.Status.Settled || s == IBookings.Status.Resolved) {
            this.rate(bidSeed, 1, 1 + (choice >> 8) % 5);
        }
    }

    /// @notice Point the attacker's re-entry (on its next ether receipt) at one of its bookings, its
    ///         listing, and a bookable ether slot.
    function armAttacker(uint256 seed) external {
        uint256 own;
        for (uint256 i = 0; i < bookingIds.length; i++) {
            uint256 id = bookingIds[(seed % bookingIds.length + i) % bookingIds.length];
            if (mb[id].customer == address(attacker) || ml[mb[id].pid].owner == address(attacker)) {
                own = id;
                break;
            }
        }
        uint32 ownListing;
        for (uint32 pid = 1; pid <= listingCount; pid++) {
            if (ml[pid].owner == address(attacker)) ownListing = pid;
        }
        IBookings.BookingRequest memory req;
        uint256 price;
        (uint32 target, MListing storage l) = _listing(seed >> 8);
        if (target != 0 && l.currency == 0 && l.owner != address(attacker)) {
            req = IBookings.BookingRequest({
                providerId: target,
                start: uint40(block.timestamp + 1 days),
                durationMinutes: 60,
                salt: uint8(seed >> 16),
                offerVersion: l.offerVersion,
                criteriaVersion: market.getCriteria(address(attacker), CATEGORY).version
            });
            price = l.price;
        }
        attacker.setTargets(own, ownListing, req, price, stranger);
        attacker.setArmed(seed % 4 != 0);
    }

    // =================================================================== money

    function withdraw(uint256 whoSeed, uint256 curSeed) external {
        address who = everyone[whoSeed % everyone.length];
        uint8 cur = uint8(curSeed % 2);
        uint256 credit = mCredit[who][cur];
        uint256 before = _balanceOf(who, cur);
        (bool ok, bytes memory ret) = _act("withdraw", who, 0, abi.encodeCall(IMarketplaceAdmin.withdraw, (cur)));
        _expect(credit != 0, ok, ret, "withdraw");
        if (!ok) return;
        _check(_balanceOf(who, cur) == before + credit, "withdraw: paid != credit");
        mCredit[who][cur] = 0;
    }

    function withdrawTo(uint256 whoSeed, uint256 curSeed, uint256 toSeed) external {
        address who = everyone[whoSeed % everyone.length];
        uint8 cur = uint8(curSeed % 2);
        uint256 k = toSeed % 8;
        address to = k == 0 ? address(0) : (k == 1 ? address(market) : everyone[toSeed % everyone.length]);
        uint256 credit = mCredit[who][cur];
        (bool ok, bytes memory ret) =
            _act("withdrawTo", who, 0, abi.encodeCall(IMarketplaceAdmin.withdrawTo, (cur, to)));
        _expect(credit != 0 && k > 1, ok, ret, "withdrawTo");
        if (ok) mCredit[who][cur] = 0;
    }

    function collectFees(uint256 whoSeed, uint256 curSeed, uint256 amountSeed) external {
        address who = whoSeed % 4 == 0 ? actors[whoSeed % actors.length] : op;
        uint8 cur = uint8(curSeed % 2);
        uint256 amount = bound(amountSeed, 1, mFees[cur] + 1);
        bool expected = who == op && amount <= mFees[cur];
        (bool ok, bytes memory ret) =
            _act("collectFees", who, 0, abi.encodeCall(IMarketplaceAdmin.collectFees, (cur, op, amount)));
        _expect(expected, ok, ret, "collectFees");
        if (!ok) return;
        mFees[cur] -= amount;
        mCredit[op][cur] += amount;
    }

    // =================================================================== operator

    function setPaused(uint256 whoSeed, bool paused_) external {
        if (paused_ && whoSeed % 3 != 0) paused_ = false; // paused a third of the time at most
        address who = whoSeed % 4 == 0 ? actors[whoSeed % actors.length] : op;
        (bool ok, bytes memory ret) = _act("setPaused", who, 0, abi.encodeCall(IMarketplaceAdmin.setPaused, (paused_)));
        if (who != op) {
            _expect(false, ok, ret, "setPaused by a non-operator");
            return;
        }
        if (ok) mPaused = paused_;
        else _check(mPaused == paused_, "setPaused refused a change");
    }

    function scheduleFeeRate(uint256 whoSeed, uint256 bpsSeed) external {
        address who = whoSeed % 4 == 0 ? actors[whoSeed % actors.length] : op;
        uint256 bps = bound(bpsSeed, 0, 1_100); // above 1,000: refused
        bool expected = who == op && bps <= 1_000 && feeEta[bps] == 0;
        (bool ok, bytes memory ret) = _act(
            "scheduleChange",
            who,
            0,
            abi.encodeCall(IMarketplaceAdmin.scheduleChange, (IMarketplaceAdmin.ChangeKind.FeeRate, address(0), bps))
        );
        _expect(expected, ok, ret, "scheduleChange");
        if (!ok) return;
        uint32 eta = abi.decode(ret, (uint32));
        _check(eta == block.timestamp + market.changeDelay(), "scheduleChange: eta != now + changeDelay");
        feeEta[bps] = eta;
        feePending.push(bps);
    }

    function applyFeeRate(uint256 whoSeed, uint256 waitSeed) external {
        uint256 n = feePending.length;
        if (n == 0) return;
        uint256 k = waitSeed % n;
        uint256 bps = feePending[k];
        uint32 eta = feeEta[bps];
        if ((waitSeed >> 64) % 2 == 0 && block.timestamp < eta) vm.warp(uint256(eta) - 1 + (waitSeed >> 8) % 2);
        address who = actors[whoSeed % actors.length];
        (bool ok, bytes memory ret) = _act(
            "applyChange",
            who,
            0,
            abi.encodeCall(IMarketplaceAdmin.applyChange, (IMarketplaceAdmin.ChangeKind.FeeRate, address(0), bps))
        );
        _expect(block.timestamp >= eta, ok, ret, "applyChange");
        if (!ok) return;
        mFeeBps = bps;
        feeEta[bps] = 0;
        feePending[k] = feePending[n - 1];
        feePending.pop();
        _check(market.feeRate() == bps, "applyChange: feeRate");
    }

    // =================================================================== time

    function warp(uint256 dtSeed) external {
        vm.warp(block.timestamp + (dtSeed % 8 == 0 ? bound(dtSeed, 1, 3 days) : bound(dtSeed, 1, 6 hours)));
    }

    function warpToDeadline(uint256 bidSeed, uint256 offset) external {
        (uint256 id, MBooking storage b) = _booking(bidSeed);
        if (id == 0) return;
        uint256 t = (offset % 2 == 0 ? uint256(b.deadline) : uint256(b.start)) + (offset >> 8) % 2;
        if (t > block.timestamp) vm.warp(t);
    }

    function warpToUnlock(uint256 pidSeed, uint256 offset) external {
        (uint32 pid, MListing storage l) = _listing(pidSeed);
        if (pid == 0) return;
        uint256 t = uint256(l.lockedUntil) + offset % 2;
        if (t > block.timestamp) vm.warp(t);
    }

    // =================================================================== the end of a run

    /// @notice Every timed exit, every stake release, every fee collection and every withdrawal:
    ///         afterwards the market must hold nothing in any currency.
    function drainAll() external {
        vm.warp(block.timestamp + 400 days);
        for (uint256 i = 0; i < bookingIds.length; i++) {
            uint256 id = bookingIds[i];
            IBookings.Status s = mb[id].status;
            if (s == IBookings.Status.Requested || s == IBookings.Status.Accepted) this.expire(i, 0);
            else if (s == IBookings.Status.Completed) this.settle(i, 0);
            else if (s == IBookings.Status.Disputed) this.resolveByDefault(i, 0);
        }
        for (uint32 pid = 1; pid <= listingCount; pid++) {
            if (ml[pid].active) this.deactivate(pid - 1, 1);
        }
        uint256 latest = block.timestamp;
        for (uint32 pid = 1; pid <= listingCount; pid++) {
            if (ml[pid].lockedUntil >= latest) latest = uint256(ml[pid].lockedUntil) + 1;
        }
        vm.warp(latest);
        for (uint32 pid = 1; pid <= listingCount; pid++) {
            if (ml[pid].stake != 0) this.releaseStake(pid - 1, 1);
        }
        for (uint8 c = 0; c < 2; c++) {
            if (mFees[c] != 0) this.collectFees(1, c, mFees[c] - 1);
        }
        for (uint256 i = 0; i < everyone.length; i++) {
            for (uint8 c = 0; c < 2; c++) {
                if (mCredit[everyone[i]][c] != 0) this.withdraw(i, c);
            }
        }
    }

    // =================================================================== invariants

    /// @notice Every invariant; failure messages start with the invariant's number.
    function checkAll() external view {
        _checkSolvency();
        _checkBookings();
        _checkListings();
        _checkCompliance();
        _checkAccess();
    }

    /// 1. per-currency solvency, to the wei: balance == escrow + credits + fees (+ stakes + bonds in ether),
    ///    each term read from the contract == the model.
    function _checkSolvency() internal view {
        uint256[2] memory escrow;
        uint256 bonds;
        for (uint256 i = 0; i < bookingIds.length; i++) {
            uint256 id = bookingIds[i];
            IBookings.Booking memory b = market.getBooking(id);
            if (b.status.isOpen()) escrow[b.currency] += b.price;
            bonds += market.disputeBondOf(id);
        }
        uint256 stakes;
        for (uint32 pid = 1; pid <= listingCount; pid++) {
            stakes += market.getListing(pid).stake;
        }
        for (uint8 c = 0; c < 2; c++) {
            uint256 credits;
            uint256 modelCredits;
            for (uint256 i = 0; i < everyone.length; i++) {
                uint256 cr = market.creditOf(everyone[i], c);
                assertEq(cr, mCredit[everyone[i]][c], "1 solvency: creditOf != model", everyone[i]);
                credits += cr;
                modelCredits += mCredit[everyone[i]][c];
            }
            assertEq(escrow[c], mEscrow[c], "1 solvency: escrow of open bookings != model", c);
            assertEq(market.accruedFees(c), mFees[c], "1 solvency: accruedFees != model", c);
            uint256 held = c == 0 ? address(market).balance : token.balanceOf(address(market));
            uint256 owed = escrow[c] + credits + mFees[c] + (c == 0 ? stakes + bonds : 0);
            assertEq(held, owed, "1 solvency: balance != escrow + credits + fees (+ stakes + bonds)", c);
        }
        assertEq(stakes, mStakes, "1 solvency: stakes != model");
        assertEq(bonds, mBonds, "1 solvency: dispute bonds != model");
    }

    /// 2. every booking: stored fields == model (status transitions were all predicted), fee == the rule.
    function _checkBookings() internal view {
        for (uint256 i = 0; i < bookingIds.length; i++) {
            uint256 id = bookingIds[i];
            IBookings.Booking memory b = market.getBooking(id);
            MBooking storage m = mb[id];
            assertEq(uint256(b.status), uint256(m.status), "2 booking: status != model", id);
            assertEq(b.price, m.price, "2 booking: price", id);
            assertEq(b.fee, m.fee, "2 booking: fee != max(ceil(price x feeBps), minFee)", id);
            assertEq(b.currency, m.currency, "2 booking: currency", id);
            assertTrue(b.rated == m.rated, "2 booking: rated");
            assertEq(b.freeCancelHours, m.freeCancelHours, "2 booking: terms (hours)", id);
            assertEq(b.lateCancelPct, m.lateCancelPct, "2 booking: terms (pct)", id);
            if (m.status.isOpen()) assertEq(b.deadline, m.deadline, "2 booking: deadline", id);
            assertEq(market.disputeBondOf(id), m.bond, "2 booking: bond", id);
            assertLe(b.fee, b.price, "2 booking: fee > price");
        }
    }

    /// 3-5. ratings (weight, weightedStars, score), reliability (counters and formula), stakes, offers.
    function _checkListings() internal view {
        uint256 weights;
        uint256 stars;
        for (uint32 pid = 1; pid <= listingCount; pid++) {
            IProviderRegistry.Listing memory l = market.getListing(pid);
            MListing storage m = ml[pid];
            assertEq(l.owner, m.owner, "3 listing: owner");
            assertEq(l.ratingWeight, m.ratingWeight, "3 ratings: ratingWeight != sum of weights", pid);
            assertEq(l.weightedStars, m.weightedStars, "3 ratings: weightedStars != sum of stars x weight", pid);
            assertEq(market.scoreOf(pid), Ref.score(m.ratingWeight, m.weightedStars), "3 ratings: score formula", pid);
            assertEq(l.completed, m.completed, "4 reliability: completed", pid);
            assertEq(l.failures, m.failures, "4 reliability: failures", pid);
            assertEq(
                market.reliabilityOf(pid), Ref.reliability(m.completed, m.failures), "4 reliability: formula", pid
            );
            assertEq(l.stake, m.stake, "5 stake != model (slashes and top-ups)", pid);
            assertEq(l.offerVersion, m.offerVersion, "5 offerVersion", pid);
            assertEq(l.price, m.price, "5 price", pid);
            assertTrue(l.active == m.active, "5 active");
            assertEq(l.lockedUntil, m.lockedUntil, "5 lockedUntil", pid);
            weights += l.ratingWeight;
            stars += l.weightedStars;
        }
        assertEq(weights, eventWeight, "3 ratings: sum of ratingWeight != weights the events reported");
        assertEq(stars, eventWeightedStars, "3 ratings: sum of weightedStars != the events'");
    }

    /// 6. compliance: no booking by its listing's owner; the eligibility view == the reference rule.
    function _checkCompliance() internal view {
        for (uint256 i = 0; i < bookingIds.length; i++) {
            MBooking storage m = mb[bookingIds[i]];
            assertTrue(m.customer != ml[m.pid].owner, "6 compliance: a booking by its listing's owner");
        }
        uint256 n = listingCount;
        if (n == 0) return;
        for (uint256 i = 0; i < actors.length; i++) {
            uint32 pid = uint32(1 + (calls + i) % n);
            assertEq(
                uint256(market.firstFailedCriterion(actors[i], pid)),
                modelCriterion(actors[i], pid),
                "6 compliance: firstFailedCriterion != reference",
                pid
            );
        }
    }

    /// 7. access: no guarded re-entrant call succeeded; the attacker got exactly what it withdrew.
    function _checkAccess() internal view {
        assertEq(attacker.guardedReentrySuccesses(), 0, "7 access: a guarded call succeeded re-entrantly");
        assertEq(attacker.stakeReleasedInReentry(), 0, "7 access: a stake released re-entrantly");
    }

    /// @notice The reference rule (base/Reference.sol) on the model.
    function modelCriterion(address cust, uint32 pid) public view returns (uint8) {
        MListing storage l = ml[pid];
        MCriteria storage c = mc[cust];
        Ref.Cand memory p;
        p.active = l.active;
        p.blocked = mBlocked[cust][pid];
        p.ownerBlocked = mOwnerBlocked[cust][l.owner];
        p.currency = l.currency;
        p.score = uint16(Ref.score(l.ratingWeight, l.weightedStars));
        p.ratingWeight = l.ratingWeight;
        p.reliability = uint16(Ref.reliability(l.completed, l.failures));
        p.price = l.price;
        Ref.Crit memory k;
        k.version = c.version;
        k.currency = c.currency;
        k.minScore = c.minScore;
        k.maxPrice = c.maxPrice;
        k.minRatingWeight = c.minRatingWeight;
        k.minReliability = c.minReliability;
        return Ref.firstFailure(p, k);
    }

    // =================================================================== internals

    function _listing(uint256 seed) internal view returns (uint32 pid, MListing storage l) {
        if (listingCount == 0) return (0, ml[0]);
        pid = uint32(1 + seed % listingCount);
        l = ml[pid];
    }

    /// @dev Three times in four the first open booking from `seed` on (if any), else any booking.
    function _booking(uint256 seed) internal view returns (uint256 id, MBooking storage b) {
        uint256 n = bookingIds.length;
        if (n == 0) return (0, mb[0]);
        uint256 at = seed % n;
        if ((seed >> 128) % 4 != 0) {
            for (uint256 i = 0; i < n; i++) {
                uint256 cand = bookingIds[(at + i) % n];
                if (mb[cand].status.isOpen() || (mb[cand].status == IBookings.Status.Settled && !mb[cand].rated)) {
                    return (cand, mb[cand]);
                }
            }
        }
        id = bookingIds[at];
        b = mb[id];
    }

    /// @dev The right party 3 times in 4, else someone else (the arbiter, the operator, any actor).
    function _party(uint256 seed, address right) internal view returns (address) {
        uint256 k = seed % 8;
        if (k < 6) return right;
        if (k == 6) return arb;
        return actors[(seed >> 8) % actors.length];
    }

    function _refund(MBooking storage b, IBookings.Status s, uint256 refund, uint256 comp) internal {
        mEscrow[b.currency] -= b.price;
        mCredit[b.customer][b.currency] += refund;
        mCredit[ml[b.pid].owner][b.currency] += comp;
        _check(refund + comp == b.price, "refund + compensation != price");
        b.status = s;
    }

    function _pay(MBooking storage b, uint256 refund, uint256 payout) internal {
        _check(refund + payout + b.fee == b.price, "refund + payout + fee != price");
        mEscrow[b.currency] -= b.price;
        mFees[b.currency] += b.fee;
        mCredit[b.customer][b.currency] += refund;
        mCredit[ml[b.pid].owner][b.currency] += payout;
    }

    function _settleModel(MBooking storage b) internal {
        _pay(b, 0, b.price - b.fee);
        b.status = IBookings.Status.Settled;
        _bump(b.pid, false);
    }

    function _rateModel(MBooking storage b, uint8 stars) internal {
        uint256 wgt = Ref.weight(b.fee, mMinFee[b.currency]);
        MListing storage l = ml[b.pid];
        l.ratingWeight += wgt;
        l.weightedStars += wgt * stars;
        b.rated = true;
    }

    function _fail(uint32 pid) internal {
        _bump(pid, true);
    }

    function _bump(uint32 pid, bool failure) internal {
        MListing storage l = ml[pid];
        (l.completed, l.failures) = Ref.bump(l.completed, l.failures, failure);
    }

    function _balanceOf(address who, uint8 cur) internal view returns (uint256) {
        return cur == 0 ? who.balance : token.balanceOf(who);
    }

    function _act(bytes32 tag, address who, uint256 value, bytes memory data)
        internal
        returns (bool ok, bytes memory ret)
    {
        tries[tag]++;
        calls++;
        vm.recordLogs();
        if (who == address(attacker)) {
            vm.deal(address(this), address(this).balance + value);
            (ok, ret) = who.call{value: value}(abi.encodeCall(ContractActor.exec, (data)));
            if (ok) ret = abi.decode(ret, (bytes));
        } else {
            if (value != 0) vm.deal(who, who.balance + value);
            vm.prank(who);
            (ok, ret) = address(market).call{value: value}(data);
        }
        Vm.Log[] memory logs = vm.getRecordedLogs();
        if (!ok) return (ok, ret);
        oks[tag]++;
        _ingest(logs);
    }

    /// @dev The event-sourced rating sums and the events' own numbers against the rules.
    function _ingest(Vm.Log[] memory logs) internal {
        for (uint256 i = 0; i < logs.length; i++) {
            if (logs[i].emitter != address(market)) continue;
            bytes32 t0 = logs[i].topics[0];
            if (t0 == IBookings.BookingRated.selector) {
                (uint8 stars,, uint64 wgt,) = abi.decode(logs[i].data, (uint8, uint32, uint64, uint16));
                uint256 id = uint256(logs[i].topics[1]);
                MBooking storage b = mb[id];
                _check(wgt == Ref.weight(b.fee, mMinFee[b.currency]), "BookingRated: weight != min(fee x 1000 / minFee, 2^40)");
                eventWeight += wgt;
                eventWeightedStars += uint256(wgt) * stars;
            } else if (t0 == IBookings.DisputeResolved.selector) {
                (,,,,,, bool lost, uint64 wgt) =
                    abi.decode(logs[i].data, (address, uint16, uint88, uint88, uint80, uint96, bool, uint64));
                if (lost) {
                    eventWeight += wgt;
                    eventWeightedStars += wgt;
                }
            } else if (t0 == IBookings.BookingRequested.selector) {
                (, uint88 price, uint80 fee,,,,) =
                    abi.decode(logs[i].data, (uint8, uint88, uint80, uint32, uint32, uint8, uint32));
                uint32 pid = uint32(uint256(logs[i].topics[3]));
                (uint256 f,) = Ref.fee(price, mFeeBps, mMinFee[ml[pid].currency]);
                _check(fee == f, "BookingRequested: fee != max(ceil(price x feeBps / 10000), minFee)");
            }
        }
    }

    function _expect(bool expected, bool ok, bytes memory ret, string memory what) internal pure {
        if (ok && !expected) revert(string.concat("0 spec: unexpected success of ", what));
        if (!ok && expected) revert(string.concat("0 spec: unexpected failure of ", what, ": ", hexOf(ret)));
    }

    function _check(bool cond, string memory why) internal pure {
        if (!cond) revert(why);
    }
}

function isOpen(IBookings.Status s) pure returns (bool) {
    return s == IBookings.Status.Requested || s == IBookings.Status.Accepted || s == IBookings.Status.Completed
        || s == IBookings.Status.Disputed;
}
