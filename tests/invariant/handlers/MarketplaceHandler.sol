// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {Marketplace} from "../../../contracts/Marketplace.sol";
import {IMarketplaceAdmin} from "../../../contracts/interfaces/IMarketplaceAdmin.sol";
import {IProviderRegistry} from "../../../contracts/interfaces/IProviderRegistry.sol";
import {ICriteriaRegistry} from "../../../contracts/interfaces/ICriteriaRegistry.sol";
import {IBookings} from "../../../contracts/interfaces/IBookings.sol";
import {Vm} from "../base/Vm.sol";
import {Ref} from "../base/Reference.sol";
import {ContractActor} from "../actors/Actors.sol";
import {MProvider, MCriteria, MBooking, EBooking, EProvider, Violations} from "./Model.sol";
import {IOwnable2Step} from "./HandlerState.sol";
import {InvariantChecks} from "./InvariantChecks.sol";

/// @title Stateful fuzzing handler for the Marketplace
/// @notice Every external non-view function here is a fuzz target (except `bootstrap` and `drainAll`,
///         which the test calls itself). Each one picks bounded inputs and an actor, predicts from
///         its own model whether the call must succeed, makes the call as that actor, and then
///         - counts a violation if the contract disagreed with the prediction (either way),
///         - applies the transition to its model (only when both agree on success),
///         - rebuilds a second ledger from the contract's events alone.
///         The handler never reverts (every market call is a low-level call), so the invariant
///         profile can run with fail_on_revert = true. The invariant checks live in InvariantChecks.
contract MarketplaceHandler is InvariantChecks {
    constructor(Marketplace market_, address owner_, address arbiter0_) InvariantChecks(market_, owner_, arbiter0_) {}

    // =================================================================== actions: providers

    struct RegPlan {
        address who;
        uint16 category;
        uint16 region;
        uint64 attrs;
        uint96 price;
        uint256 stake;
        bytes32 metadataHash;
    }

    function register(uint256 ownerSeed, uint256 catSeed, uint256 attrSeed, uint256 priceSeed, uint256 stakeSeed)
        external
    {
        if (mProviderCount >= MAX_PROVIDERS) return;
        RegPlan memory r;
        r.who = providerOwners[ownerSeed % providerOwners.length];
        r.category = catSeed % 16 == 0 ? 0 : uint16(1 + (catSeed >> 8) % 2);
        r.region = uint16((catSeed >> 16) % 3);
        r.attrs = uint64(attrSeed % 8);
        r.price = priceSeed % 16 == 0 ? 0 : uint96(bound(priceSeed >> 8, 1, 1000) * 1e15);
        r.stake = mMinStake + bound(stakeSeed >> 8, 0, 1 ether);
        if (stakeSeed % 8 == 0 && mMinStake > 0) r.stake = mMinStake - 1;
        r.metadataHash = keccak256(abi.encode(priceSeed));
        _register(r);
    }

    function _register(RegPlan memory r) internal {
        bool expected = !mPaused && r.stake >= mMinStake && r.category != 0 && r.price != 0;
        (bool ok, bytes memory ret) = _act(
            "register",
            r.who,
            r.stake,
            abi.encodeCall(IProviderRegistry.register, (r.category, r.region, r.attrs, r.price, r.metadataHash))
        );
        _expect(expected, ok, ret, "register", false);
        if (!(ok && expected)) return;
        uint32 pid = abi.decode(ret, (uint32));
        _check(pid == mProviderCount + 1, "register: provider id not sequential");
        mProviderCount = pid;
        MProvider storage p = mp[pid];
        p.owner = r.who;
        p.stake = uint96(r.stake);
        p.price = r.price;
        p.attributes = r.attrs;
        p.category = r.category;
        p.region = r.region;
        p.active = true;
        mStakes += r.stake;
    }

    function updateProvider(uint256 pidSeed, uint256 whoSeed, uint256 attrSeed, uint256 priceSeed) external {
        uint32 pid = _pickProvider(pidSeed);
        RegPlan memory r;
        r.who = _pickSender(whoSeed, mp[pid].owner);
        r.region = uint16(attrSeed % 3);
        r.attrs = uint64((attrSeed >> 8) % 8);
        r.price = priceSeed % 16 == 0 ? 0 : uint96(bound(priceSeed >> 8, 1, 1000) * 1e15);
        r.metadataHash = bytes32(priceSeed);
        _updateProvider(pid, r);
    }

    function _updateProvider(uint32 pid, RegPlan memory r) internal {
        MProvider storage p = mp[pid];
        bool party = p.owner != address(0) && r.who == p.owner;
        bool expected = party && r.price != 0;
        bytes memory data =
            abi.encodeCall(IProviderRegistry.updateProvider, (pid, r.region, r.attrs, r.price, r.metadataHash));
        (bool ok, bytes memory ret) = _act("updateProvider", r.who, 0, data);
        _expect(expected, ok, ret, "updateProvider", !party);
        if (!(ok && expected)) return;
        p.region = r.region;
        p.attributes = r.attrs;
        p.price = r.price;
    }

    function deactivate(uint256 pidSeed, uint256 whoSeed) external {
        uint32 pid = _pickProvider(pidSeed);
        MProvider storage p = mp[pid];
        address who = _pickSender(whoSeed, p.owner);
        bool party = p.owner != address(0) && who == p.owner;
        bool expected = party && p.active;
        (bool ok, bytes memory ret) = _act("deactivate", who, 0, abi.encodeCall(IProviderRegistry.deactivate, (pid)));
        _expect(expected, ok, ret, "deactivate", !party);
        if (!(ok && expected)) return;
        p.active = false;
        p.unlockAt = uint40(block.timestamp) + COOLDOWN;
    }

    function reactivate(uint256 pidSeed, uint256 whoSeed) external {
        uint32 pid = _pickProvider(pidSeed);
        MProvider storage p = mp[pid];
        address who = _pickSender(whoSeed, p.owner);
        bool party = p.owner != address(0) && who == p.owner;
        bool expected = party && !p.active && !mPaused && p.stake >= mMinStake;
        (bool ok, bytes memory ret) = _act("reactivate", who, 0, abi.encodeCall(IProviderRegistry.reactivate, (pid)));
        _expect(expected, ok, ret, "reactivate", !party);
        if (!(ok && expected)) return;
        p.active = true;
        p.unlockAt = 0;
    }

    function releaseStake(uint256 pidSeed, uint256 whoSeed) external {
        uint32 pid = _pickProvider(pidSeed);
        _releaseStake(pid, _pickSender(whoSeed, mp[pid].owner));
    }

    // =================================================================== actions: criteria

    function setCriteria(uint256 custSeed, uint256 a, uint256 b, uint256 c) external {
        address cust = customers[custSeed % customers.length];
        ICriteriaRegistry.CriteriaInput memory input = _criteriaFromSeeds(a, b, c);
        if ((c >> 128) % 3 == 0) _nearProvider(input, c >> 136);
        _setCriteria(cust, input);
    }

    /// @dev Put the criteria on the edge of a random provider: its category, minScore at its score
    ///      -1/0/+1 and the price ceiling at its price -1/0/+1 (off-by-one bugs live there).
    function _nearProvider(ICriteriaRegistry.CriteriaInput memory in_, uint256 seed) internal view {
        if (mProviderCount == 0) return;
        MProvider storage p = mp[uint32(1 + seed % mProviderCount)];
        in_.category = p.category;
        uint256 score = Ref.score(p.scoreCount, p.scoreSum);
        uint256 ds = (seed >> 8) % 3; // 0: score - 1, 1: score, 2: score + 1
        in_.minScore = uint16(score + ds - 1);
        uint256 dp = (seed >> 16) % 3;
        uint256 price = uint256(p.price) + dp - 1;
        if (in_.minScore < score && (seed >> 24) % 2 == 0) {
            // One star-fraction above minScore: the ceiling includes the premium, floored.
            in_.premiumPerStar = uint96(bound(seed >> 32, 0, 1 ether));
            uint256 extra = (uint256(in_.premiumPerStar) * (score - in_.minScore)) / Ref.STAR;
            in_.maxPrice = uint96(price > extra ? price - extra : 0);
        } else {
            in_.premiumPerStar = 0;
            in_.maxPrice = uint96(price);
        }
    }

    function setBlocked(uint256 custSeed, uint256 pidSeed, bool blocked) external {
        address cust = customers[custSeed % customers.length];
        _setBlocked(cust, _pickProvider(pidSeed), blocked);
    }

    // =================================================================== actions: bookings

    /// @param mode (mod 16) 0-10 eligible attempt (5-10 first rewrite the criteria to make an active
    ///             provider eligible if none is), 11-12 deliberately ineligible, 13 stale price,
    ///             14 wrong value, 15 wrong criteria version.
    function book(uint256 custSeed, uint256 pidSeed, uint256 mode) external {
        if (bookingIds.length >= MAX_BOOKINGS || mProviderCount == 0) return;
        address cust = customers[custSeed % customers.length];
        mode %= 16;
        uint32 pid;
        if (mode <= 10) {
            pid = _findProvider(cust, pidSeed, true);
            if (pid == 0 && mode >= 5) pid = _makeEligible(cust, pidSeed);
        } else if (mode <= 12) {
            pid = _findProvider(cust, pidSeed, false);
        }
        if (pid == 0) pid = _pickProvider(pidSeed);
        _book(cust, pid, mode, pidSeed);
    }

    function accept(uint256 bidSeed, uint256 whoSeed) external {
        (uint256 bid, bool exists) = _pickBooking(bidSeed, false);
        _accept(bid, _pickSender(whoSeed, exists ? mp[mb[bid].providerId].owner : address(0)));
    }

    function decline(uint256 bidSeed, uint256 whoSeed) external {
        (uint256 bid, bool exists) = _pickBooking(bidSeed, false);
        _decline(bid, _pickSender(whoSeed, exists ? mp[mb[bid].providerId].owner : address(0)));
    }

    function cancel(uint256 bidSeed, uint256 whoSeed) external {
        (uint256 bid,) = _pickBooking(bidSeed, false);
        _cancel(bid, _pickSender(whoSeed, mb[bid].customer));
    }

    function expire(uint256 bidSeed, uint256 whoSeed) external {
        (uint256 bid,) = _pickBooking(bidSeed, false);
        _expire(bid, everyone[whoSeed % everyone.length]);
    }

    function complete(uint256 bidSeed, uint256 whoSeed) external {
        (uint256 bid, bool exists) = _pickBooking(bidSeed, false);
        _complete(bid, _pickSender(whoSeed, exists ? mp[mb[bid].providerId].owner : address(0)));
    }

    function confirm(uint256 bidSeed, uint256 whoSeed) external {
        (uint256 bid,) = _pickBooking(bidSeed, false);
        _confirm(bid, _pickSender(whoSeed, mb[bid].customer));
    }

    function settle(uint256 bidSeed, uint256 whoSeed) external {
        (uint256 bid,) = _pickBooking(bidSeed, false);
        _settle(bid, everyone[whoSeed % everyone.length]);
    }

    function dispute(uint256 bidSeed, uint256 whoSeed) external {
        (uint256 bid,) = _pickBooking(bidSeed, false);
        _dispute(bid, _pickSender(whoSeed, mb[bid].customer));
    }

    function resolve(uint256 bidSeed, uint256 whoSeed, uint256 bpsSeed) external {
        (uint256 bid,) = _pickBooking(bidSeed, false);
        uint256 m = whoSeed % 8;
        address who;
        if (m <= 1) {
            // A party to the booking, made an arbiter first: it must still be refused.
            who = m == 0 ? mb[bid].customer : mp[mb[bid].providerId].owner;
            if (who == address(0)) who = stranger;
            if (!mArbiter[who]) _setArbiter(owner, who, true);
        } else if (m == 2) {
            who = everyone[(whoSeed >> 8) % everyone.length];
        } else {
            who = _someArbiter(whoSeed >> 8);
        }
        _resolve(bid, who, _refundBps(bpsSeed));
    }

    function resolveByDefault(uint256 bidSeed, uint256 whoSeed) external {
        (uint256 bid,) = _pickBooking(bidSeed, false);
        _resolveByDefault(bid, everyone[whoSeed % everyone.length]);
    }

    function rate(uint256 bidSeed, uint256 whoSeed, uint256 starsSeed) external {
        (uint256 bid,) = _pickBooking(bidSeed, true);
        _rate(bid, _pickSender(whoSeed, mb[bid].customer), uint8(starsSeed % 7), uint32(starsSeed >> 8));
    }

    /// @notice Drive a random open booking one step down its happy or unhappy path, as the right party.
    function advance(uint256 bidSeed, uint256 choice) external {
        (uint256 bid, bool exists) = _pickBooking(bidSeed | 0x0c, false); // never a fake id
        if (!exists) return;
        MBooking storage b = mb[bid];
        address prov = mp[b.providerId].owner;
        IBookings.Status s = b.status;
        uint256 c = choice % 8;
        if (s == IBookings.Status.Requested) {
            if (c == 0) _decline(bid, prov);
            else if (c == 1) _cancel(bid, b.customer);
            else _accept(bid, prov);
        } else if (s == IBookings.Status.Accepted) {
            if (c == 0) _decline(bid, prov);
            else _complete(bid, prov);
        } else if (s == IBookings.Status.Completed) {
            if (c < 4) _dispute(bid, b.customer);
            else _confirm(bid, b.customer);
        } else if (s == IBookings.Status.Disputed) {
            _resolve(bid, _someArbiter(choice >> 8), _refundBps(choice >> 16));
        } else if (s == IBookings.Status.Settled || s == IBookings.Status.Resolved) {
            _rate(bid, b.customer, uint8(1 + (choice >> 8) % 5), uint32(choice >> 16));
        }
    }

    // =================================================================== actions: money and operator

    function withdraw(uint256 whoSeed, uint256 armSeed) external {
        address who = _pickCreditor(whoSeed);
        _armAttacker(armSeed);
        _withdraw(who, who, false);
    }

    function withdrawTo(uint256 whoSeed, uint256 toSeed, uint256 armSeed) external {
        address who = _pickCreditor(whoSeed);
        uint256 t = toSeed % 16;
        address to = t == 14 ? address(0) : t == 15 ? address(market) : everyone[(toSeed >> 8) % everyone.length];
        _armAttacker(armSeed);
        _withdraw(who, to, true);
    }

    /// @notice Make sure the attacker has credit (book + cancel, or fees collected to it), then have
    ///         it withdraw, or withdraw to a third party, or be paid by someone else's withdrawTo, with
    ///         its re-entry armed against one of its own bookings, its listing and a bookable provider.
    function reenter(uint256 seed, uint256 mode) external {
        address atk = address(attacker);
        if (mCredit[atk] == 0 && !mPaused && bookingIds.length < MAX_BOOKINGS) {
            uint32 pid = _findProvider(atk, seed, true);
            if (pid == 0) pid = _makeEligible(atk, seed);
            if (pid != 0 && modelCriterion(atk, pid) == 0) {
                _book(atk, pid, 0, seed);
                uint256 bid = (uint256(uint160(atk)) << 64) | mBookingCount[atk];
                if (mb[bid].status == IBookings.Status.Requested) _cancel(bid, atk);
            }
        }
        if (mCredit[atk] == 0 && mFees != 0) _collectFees(owner, atk, mFees);
        _armAttacker(seed >> 8);
        uint256 m = mode % 4;
        if (m == 0) {
            _withdraw(atk, atk, false);
        } else if (m == 1) {
            _withdraw(atk, atk, true);
        } else if (m == 2) {
            _withdraw(atk, stranger, true);
        } else {
            address payer = _pickCreditor(seed >> 16);
            _withdraw(payer, atk, true);
        }
    }

    function collectFees(uint256 whoSeed, uint256 toSeed, uint256 amountSeed) external {
        address who = _ownerMostly(whoSeed);
        address to = toSeed % 16 == 0 ? address(0) : everyone[(toSeed >> 8) % everyone.length];
        uint256 m = amountSeed % 4;
        uint256 amount = m == 0 ? mFees : m == 1 ? mFees + 1 : bound(amountSeed >> 8, 0, mFees);
        _collectFees(who, to, amount);
    }

    function setFeeRate(uint256 whoSeed, uint256 feeSeed) external {
        address who = _ownerMostly(whoSeed);
        uint16 fee = uint16(bound(feeSeed, 0, 1_200)); // above 1000 must be refused
        if (feeSeed % 8 == 0) fee = 1_000;
        if (feeSeed % 8 == 1) fee = 1_001;
        bool party = who == owner;
        bool expected = party && fee <= market.MAX_FEE_BPS();
        (bool ok, bytes memory ret) = _act("setFeeRate", who, 0, abi.encodeCall(IMarketplaceAdmin.setFeeRate, (fee)));
        _expect(expected, ok, ret, "setFeeRate", !party);
        if (ok && expected) mFeeBps = fee;
    }

    function setPaused(uint256 whoSeed, uint256 pausedSeed) external {
        address who = _ownerMostly(whoSeed);
        bool paused_ = pausedSeed % 8 == 0;
        bool party = who == owner;
        (bool ok, bytes memory ret) = _act("setPaused", who, 0, abi.encodeCall(IMarketplaceAdmin.setPaused, (paused_)));
        _expect(party, ok, ret, "setPaused", !party);
        if (ok && party) mPaused = paused_;
    }

    function setArbiter(uint256 whoSeed, uint256 arbSeed, bool allowed) external {
        address who = _ownerMostly(whoSeed);
        address arb = arbSeed % 16 == 0 ? address(0) : everyone[(arbSeed >> 8) % everyone.length];
        _setArbiter(who, arb, allowed);
    }

    function _setArbiter(address who, address arb, bool allowed) internal {
        bool party = who == owner;
        bool expected = party && arb != address(0);
        (bool ok, bytes memory ret) =
            _act("setArbiter", who, 0, abi.encodeCall(IMarketplaceAdmin.setArbiter, (arb, allowed)));
        _expect(expected, ok, ret, "setArbiter", !party);
        if (ok && expected) mArbiter[arb] = allowed;
    }

    function setMinStake(uint256 whoSeed, uint256 stakeSeed) external {
        address who = _ownerMostly(whoSeed);
        uint96 minStake_ = uint96(bound(stakeSeed, 0, 2 ether));
        bool party = who == owner;
        (bool ok, bytes memory ret) =
            _act("setMinStake", who, 0, abi.encodeCall(IMarketplaceAdmin.setMinStake, (minStake_)));
        _expect(party, ok, ret, "setMinStake", !party);
        if (ok && party) mMinStake = minStake_;
    }

    /// @notice Non-owners try to take or drop ownership, and the owner tries to renounce (disabled:
    ///         it would strand fees); all must fail.
    function ownershipAttack(uint256 whoSeed, uint256 mode) external {
        address who = everyone[whoSeed % everyone.length];
        if (who == owner) who = stranger;
        uint256 m = mode % 4;
        if (m == 3) {
            (bool okR, bytes memory retR) =
                _act("ownershipAttack", owner, 0, abi.encodeCall(IOwnable2Step.renounceOwnership, ()));
            _expect(false, okR, retR, "renounceOwnership by the owner", false);
            return;
        }
        bytes memory data = m == 0
            ? abi.encodeCall(IOwnable2Step.transferOwnership, (who))
            : m == 1 ? abi.encodeCall(IOwnable2Step.renounceOwnership, ()) : abi.encodeCall(IOwnable2Step.acceptOwnership, ());
        (bool ok, bytes memory ret) = _act("ownershipAttack", who, 0, data);
        _expect(false, ok, ret, "ownershipAttack", true);
    }

    /// @notice Plain ether transfers and unknown calls must be refused (there is no receive/fallback).
    function sendEther(uint256 whoSeed, uint256 valueSeed) external {
        address who = everyone[whoSeed % everyone.length];
        uint256 value = bound(valueSeed, 0, 1 ether);
        bytes memory data = valueSeed % 2 == 0 ? bytes("") : abi.encodeWithSelector(bytes4(0xdeadbeef), valueSeed);
        if (who == address(attacker) || who == address(bad)) who = stranger; // exec() only forwards calldata
        (bool ok, bytes memory ret) = _act("sendEther", who, value, data);
        _expect(false, ok, ret, "sendEther", false);
    }

    /// @notice Force ether in without a call, as SELFDESTRUCT or a block reward can: it must not
    ///         disturb any ledger (the contract must never use its own balance as a ledger).
    function forceEther(uint256 valueSeed) external {
        uint256 value = bound(valueSeed, 1, 1 ether);
        vm.deal(address(market), address(market).balance + value);
        mForced += value;
        tryCount["forceEther"]++;
    }

    function setReceiverMode(uint256 mode) external {
        bad.setMode(uint8(mode % 3));
    }

    // =================================================================== actions: time

    function warp(uint256 dtSeed) external {
        uint256 dt = dtSeed % 8 == 0 ? bound(dtSeed >> 8, 0, 30 days) : bound(dtSeed >> 8, 0, 1 days);
        _warpTo(block.timestamp + dt);
    }

    /// @notice Jump exactly to an open booking's deadline, or one second past it.
    function warpToDeadline(uint256 bidSeed, uint256 offset) external {
        (uint256 bid, bool exists) = _pickBooking(bidSeed | 0x0c, false);
        if (!exists) return;
        uint256 target = uint256(mb[bid].deadline) + offset % 2;
        if (target >= block.timestamp) _warpTo(target);
    }

    /// @notice Jump to a deactivated provider's stake unlock time, minus one, exactly, or plus one.
    function warpToUnlock(uint256 pidSeed, uint256 offset) external {
        uint32 pid = _pickProvider(pidSeed);
        uint256 unlockAt = mp[pid].unlockAt;
        if (unlockAt == 0) return;
        uint256 target = unlockAt + offset % 3 - 1;
        if (target >= block.timestamp) _warpTo(target);
    }

    // =================================================================== setup helper

    /// @notice Called once by the test's setUp (excluded from the fuzz targets): a few listings and
    ///         permissive criteria, so that the first calls of every run already have something to do.
    function bootstrap() external {
        // P0, P1, P2, the attacker and the refusing receiver each own a listing from the start.
        for (uint256 i = 0; i < 5; i++) {
            RegPlan memory r;
            r.who = providerOwners[i];
            r.category = uint16(1 + i % 2);
            r.region = uint16(i % 3);
            r.attrs = uint64(i % 8);
            r.price = uint96((i + 1) * 1e17);
            r.stake = mMinStake + i * 1e16;
            r.metadataHash = keccak256(abi.encode(i));
            _register(r);
        }
        for (uint256 i = 0; i < customers.length; i++) {
            for (uint16 category = 1; category <= 2; category++) {
                ICriteriaRegistry.CriteriaInput memory in_;
                in_.category = category;
                in_.maxPrice = 1 ether;
                in_.premiumPerStar = uint96(i * 1e16);
                in_.scoreWeight = 7_000;
                in_.priceWeight = 3_000;
                _setCriteria(customers[i], in_);
            }
        }
    }

    // =================================================================== end-of-run drain

    /// @notice Called by the test after each run (excluded from the fuzz targets): use every timed
    ///         exit and every withdrawal, as the right parties, and leave the market empty.
    function drainAll() external {
        _warpTo(block.timestamp + _maxWindow() + 1);
        uint256 n = bookingIds.length;
        for (uint256 i = 0; i < n; i++) {
            uint256 bid = bookingIds[i];
            IBookings.Status s = mb[bid].status;
            if (s == IBookings.Status.Requested || s == IBookings.Status.Accepted) _expire(bid, stranger);
            else if (s == IBookings.Status.Completed) _settle(bid, stranger);
            else if (s == IBookings.Status.Disputed) _resolveByDefault(bid, stranger);
        }
        for (uint32 pid = 1; pid <= mProviderCount; pid++) {
            if (mp[pid].active) _deactivate(pid);
        }
        _warpTo(block.timestamp + COOLDOWN);
        for (uint32 pid = 1; pid <= mProviderCount; pid++) {
            if (mp[pid].stake != 0) _releaseStake(pid, mp[pid].owner);
        }
        if (mFees != 0) _collectFees(owner, treasury, mFees);
        attacker.setTargets(0, 0, 0, 0, 0, payable(address(0)));
        for (uint256 i = 0; i < everyone.length; i++) {
            address a = everyone[i];
            if (mCredit[a] == 0) continue;
            if (a == address(bad) && bad.mode() != 0) _withdraw(a, stranger, true);
            else _withdraw(a, a, false);
        }
    }

    // =================================================================== views for the invariant test

    function everyoneList() external view returns (address[] memory) {
        return everyone;
    }

    function bookingCount() external view returns (uint256) {
        return bookingIds.length;
    }

    function bookingIdAt(uint256 i) external view returns (uint256) {
        return bookingIds[i];
    }

    function bookingModel(uint256 bid) external view returns (MBooking memory) {
        return mb[bid];
    }

    function bookingEvents(uint256 bid) external view returns (EBooking memory) {
        return eb[bid];
    }

    function providerModel(uint32 pid) external view returns (MProvider memory) {
        return mp[pid];
    }

    function providerEvents(uint32 pid) external view returns (EProvider memory) {
        return ep[pid];
    }

    function criteriaModel(address cust, uint16 category) external view returns (MCriteria memory) {
        return mc[cust][category];
    }

    function violations() external view returns (Violations memory) {
        return v;
    }

    function referenceScore(uint32 pid) external view returns (uint256) {
        return Ref.score(mp[pid].scoreCount, mp[pid].scoreSum);
    }

    function customerCount() external view returns (uint256) {
        return customers.length;
    }

    // =================================================================== internal: booking transitions

    struct BookPlan {
        uint32 pid;
        uint96 price;
        uint96 quoted;
        uint256 value;
        uint32 version;
        uint8 seen;
        bool exists;
        bool tampered;
        bool expected;
    }

    function _book(address cust, uint32 pid, uint256 mode, uint256 seed) internal {
        BookPlan memory q = _planBook(cust, pid, mode, seed);
        (bool ok, bytes memory ret) =
            _act("book", cust, q.value, abi.encodeCall(IBookings.book, (pid, q.quoted, q.version)));
        if (ok && q.seen != 0) {
            v.bookedWhileIneligible++;
            _violate(string.concat("booked provider ", str(pid), " although firstFailedCriterion = ", str(q.seen)));
        }
        if (!ok && q.exists && !mPaused && !q.tampered && q.seen != 0) {
            bytes memory want = abi.encodeWithSelector(
                IBookings.MarketplaceIneligible.selector, pid, ICriteriaRegistry.Criterion(q.seen)
            );
            if (keccak256(ret) != keccak256(want)) {
                v.ineligibleWrongRevert++;
                _violate(string.concat("ineligible book reverted with ", hexOf(ret), " instead of ", hexOf(want)));
            }
        }
        _expect(q.expected, ok, ret, "book", false);
        if (ok && q.expected) _bookModel(cust, q, abi.decode(ret, (uint256)));
    }

    function _planBook(address cust, uint32 pid, uint256 mode, uint256 seed) internal returns (BookPlan memory q) {
        MProvider storage p = mp[pid];
        q.pid = pid;
        q.seen = uint8(market.firstFailedCriterion(cust, pid));
        uint8 reference_ = modelCriterion(cust, pid);
        if (q.seen != reference_) {
            v.viewVsReference++;
            _violate(
                string.concat(
                    "firstFailedCriterion ", str(q.seen), " != reference ", str(reference_), " for provider ", str(pid)
                )
            );
        }
        q.price = p.price;
        q.quoted = q.price;
        q.value = q.price;
        uint32 current = mc[cust][p.category].version;
        q.version = current;
        if (mode == 13) q.quoted = q.price + 1;
        else if (mode == 14) q.value = seed % 2 == 0 || q.price == 0 ? uint256(q.price) + 1 : uint256(q.price) - 1;
        else if (mode == 15) q.version = _wrongVersion(cust, current);
        q.tampered = q.quoted != q.price || q.value != q.price || q.version != current;
        q.exists = p.owner != address(0);
        q.expected = q.exists && !mPaused && q.seen == 0 && !q.tampered;
        if (q.exists && q.seen != 0) triedIneligible++;
    }

    function _bookModel(address cust, BookPlan memory q, uint256 returnedId) internal {
        uint64 n = ++mBookingCount[cust];
        uint256 bid = (uint256(uint160(cust)) << 64) | n;
        _check(returnedId == bid, "book: unexpected booking id");
        MBooking storage b = mb[bid];
        b.customer = cust;
        b.providerId = q.pid;
        b.price = q.price;
        b.feeBps = mFeeBps;
        b.status = IBookings.Status.Requested;
        b.deadline = uint40(block.timestamp) + RESPOND;
        b.criteriaVersion = q.version;
        b.criterionAtBooking = q.seen;
        bookingIds.push(bid);
        mEscrow += q.price;
        bookedEligible++;
    }

    function _accept(uint256 bid, address who) internal {
        MBooking storage b = mb[bid];
        bool party = b.customer != address(0) && who == mp[b.providerId].owner;
        bool expected = party && b.status == IBookings.Status.Requested && block.timestamp <= b.deadline;
        (bool ok, bytes memory ret) = _act("accept", who, 0, abi.encodeCall(IBookings.accept, (bid)));
        _expect(expected, ok, ret, "accept", !party);
        if (!(ok && expected)) return;
        b.status = IBookings.Status.Accepted;
        b.deadline = uint40(block.timestamp) + SERVICE;
    }

    function _decline(uint256 bid, address who) internal {
        MBooking storage b = mb[bid];
        bool party = b.customer != address(0) && who == mp[b.providerId].owner;
        bool expected = party && (b.status == IBookings.Status.Requested || b.status == IBookings.Status.Accepted);
        (bool ok, bytes memory ret) = _act("decline", who, 0, abi.encodeCall(IBookings.decline, (bid)));
        _expect(expected, ok, ret, "decline", !party);
        if (ok && expected) _refundModel(b, IBookings.Status.Declined);
    }

    function _cancel(uint256 bid, address who) internal {
        MBooking storage b = mb[bid];
        bool party = b.customer != address(0) && who == b.customer;
        bool expected = party && b.status == IBookings.Status.Requested;
        (bool ok, bytes memory ret) = _act("cancel", who, 0, abi.encodeCall(IBookings.cancel, (bid)));
        _expect(expected, ok, ret, "cancel", !party);
        if (ok && expected) _refundModel(b, IBookings.Status.Cancelled);
    }

    function _expire(uint256 bid, address who) internal {
        MBooking storage b = mb[bid];
        bool expected = (b.status == IBookings.Status.Requested || b.status == IBookings.Status.Accepted)
            && block.timestamp > b.deadline;
        (bool ok, bytes memory ret) = _act("expire", who, 0, abi.encodeCall(IBookings.expire, (bid)));
        _expect(expected, ok, ret, "expire", false);
        if (ok && expected) _refundModel(b, IBookings.Status.Expired);
    }

    function _complete(uint256 bid, address who) internal {
        MBooking storage b = mb[bid];
        bool party = b.customer != address(0) && who == mp[b.providerId].owner;
        bool expected = party && b.status == IBookings.Status.Accepted && block.timestamp <= b.deadline;
        (bool ok, bytes memory ret) = _act("complete", who, 0, abi.encodeCall(IBookings.complete, (bid)));
        _expect(expected, ok, ret, "complete", !party);
        if (!(ok && expected)) return;
        b.status = IBookings.Status.Completed;
        b.deadline = uint40(block.timestamp) + CONFIRM;
    }

    function _confirm(uint256 bid, address who) internal {
        MBooking storage b = mb[bid];
        bool party = b.customer != address(0) && who == b.customer;
        bool expected = party && b.status == IBookings.Status.Completed;
        (bool ok, bytes memory ret) = _act("confirm", who, 0, abi.encodeCall(IBookings.confirm, (bid)));
        _expect(expected, ok, ret, "confirm", !party);
        if (ok && expected) _settleModel(b);
    }

    function _settle(uint256 bid, address who) internal {
        MBooking storage b = mb[bid];
        bool expected = b.status == IBookings.Status.Completed && block.timestamp > b.deadline;
        (bool ok, bytes memory ret) = _act("settle", who, 0, abi.encodeCall(IBookings.settle, (bid)));
        _expect(expected, ok, ret, "settle", false);
        if (ok && expected) _settleModel(b);
    }

    function _dispute(uint256 bid, address who) internal {
        MBooking storage b = mb[bid];
        bool party = b.customer != address(0) && who == b.customer;
        bool expected = party && b.status == IBookings.Status.Completed && block.timestamp <= b.deadline;
        (bool ok, bytes memory ret) = _act("dispute", who, 0, abi.encodeCall(IBookings.dispute, (bid)));
        _expect(expected, ok, ret, "dispute", !party);
        if (!(ok && expected)) return;
        b.status = IBookings.Status.Disputed;
        b.deadline = uint40(block.timestamp) + ARBITRATION;
    }

    function _resolve(uint256 bid, address who, uint16 refundBps) internal {
        MBooking storage b = mb[bid];
        bool party = b.customer != address(0) && mArbiter[who] && who != b.customer
            && who != mp[b.providerId].owner;
        bool expected =
            party && b.status == IBookings.Status.Disputed && refundBps <= BPS && block.timestamp <= b.deadline;
        (bool ok, bytes memory ret) = _act("resolve", who, 0, abi.encodeCall(IBookings.resolve, (bid, refundBps)));
        _expect(expected, ok, ret, "resolve", !party);
        if (ok && expected) _resolveModel(b, refundBps);
    }

    function _resolveByDefault(uint256 bid, address who) internal {
        MBooking storage b = mb[bid];
        bool expected = b.status == IBookings.Status.Disputed && block.timestamp > b.deadline;
        (bool ok, bytes memory ret) =
            _act("resolveByDefault", who, 0, abi.encodeCall(IBookings.resolveByDefault, (bid)));
        _expect(expected, ok, ret, "resolveByDefault", false);
        if (ok && expected) _resolveModel(b, market.DEFAULT_REFUND_BPS());
    }

    function _rate(uint256 bid, address who, uint8 stars, uint32 tags) internal {
        MBooking storage b = mb[bid];
        bool party = b.customer != address(0) && who == b.customer;
        bool expected = party && (b.status == IBookings.Status.Settled || b.status == IBookings.Status.Resolved)
            && stars >= 1 && stars <= 5 && !b.rated;
        (bool ok, bytes memory ret) = _act("rate", who, 0, abi.encodeCall(IBookings.rate, (bid, stars, tags)));
        _expect(expected, ok, ret, "rate", !party);
        if (!(ok && expected)) return;
        b.rated = true;
        MProvider storage p = mp[b.providerId];
        p.scoreCount += 1;
        p.scoreSum += stars;
        p.ratings += 1;
        p.ratingStars += stars;
    }

    // =================================================================== internal: money

    function _refundModel(MBooking storage b, IBookings.Status terminal) internal {
        b.status = terminal;
        b.refund = b.price;
        b.payments += 1;
        mEscrow -= b.price;
        _credit(b.customer, b.price);
    }

    function _settleModel(MBooking storage b) internal {
        (uint256 payout, uint256 fee) = Ref.settle(b.price, b.feeBps);
        b.status = IBookings.Status.Settled;
        b.payout = uint96(payout);
        b.fee = uint96(fee);
        b.payments += 1;
        mEscrow -= b.price;
        mFees += fee;
        _credit(mp[b.providerId].owner, payout);
    }

    function _resolveModel(MBooking storage b, uint16 refundBps) internal {
        (uint256 refund, uint256 payout, uint256 fee) = Ref.resolve(b.price, b.feeBps, refundBps);
        b.status = IBookings.Status.Resolved;
        b.refund = uint96(refund);
        b.payout = uint96(payout);
        b.fee = uint96(fee);
        b.payments += 1;
        mEscrow -= b.price;
        mFees += fee;
        _credit(b.customer, refund);
        MProvider storage p = mp[b.providerId];
        _credit(p.owner, payout);
        if (refundBps > BPS / 2) {
            p.lost += 1;
            p.scoreCount += 1;
            p.scoreSum += 1;
        }
    }

    function _credit(address a, uint256 amount) internal {
        mCredit[a] += amount;
        mCreditedTotal[a] += amount;
    }

    function _releaseStake(uint32 pid, address who) internal {
        MProvider storage p = mp[pid];
        bool party = p.owner != address(0) && who == p.owner;
        bool expected = party && !p.active && p.stake != 0 && block.timestamp >= p.unlockAt;
        (bool ok, bytes memory ret) = _act("releaseStake", who, 0, abi.encodeCall(IProviderRegistry.releaseStake, (pid)));
        _expect(expected, ok, ret, "releaseStake", !party);
        if (!(ok && expected)) return;
        mStakes -= p.stake;
        _credit(who, p.stake);
        p.stake = 0;
    }

    function _deactivate(uint32 pid) internal {
        MProvider storage p = mp[pid];
        (bool ok, bytes memory ret) =
            _act("deactivate", p.owner, 0, abi.encodeCall(IProviderRegistry.deactivate, (pid)));
        _expect(true, ok, ret, "deactivate (drain)", false);
        if (!ok) return;
        p.active = false;
        p.unlockAt = uint40(block.timestamp) + COOLDOWN;
    }

    function _collectFees(address who, address to, uint256 amount) internal {
        bool party = who == owner;
        bool expected = party && to != address(0) && amount <= mFees;
        (bool ok, bytes memory ret) =
            _act("collectFees", who, 0, abi.encodeCall(IMarketplaceAdmin.collectFees, (to, amount)));
        _expect(expected, ok, ret, "collectFees", !party);
        if (!(ok && expected)) return;
        mFees -= amount;
        _credit(to, amount);
    }

    /// @dev withdraw() (to == who, viaTo false) or withdrawTo(to). Checks the ether that arrived.
    function _withdraw(address who, address to, bool viaTo) internal {
        uint256 amount = mCredit[who];
        bool expected = to != address(0) && amount != 0 && _accepts(to);
        uint256 expectedRelease = _expectedReentryRelease(to);
        uint256 balBefore = _received(to);
        uint256 releasedBefore = attacker.stakeReleasedInReentry();
        (bool ok, bytes memory ret) = _act(
            viaTo ? bytes32("withdrawTo") : bytes32("withdraw"),
            who,
            0,
            viaTo ? abi.encodeCall(IMarketplaceAdmin.withdrawTo, (payable(to))) : abi.encodeCall(IMarketplaceAdmin.withdraw, ())
        );
        _expect(expected, ok, ret, viaTo ? "withdrawTo" : "withdraw", false);
        if (!(ok && expected)) return;
        mCredit[who] = 0;
        mWithdrawnOwn[who] += amount;
        mPaidTo[to] += amount;
        uint256 got = _received(to) - balBefore;
        if (got != amount) {
            v.payoutMismatch++;
            _violate(string.concat("withdraw paid ", str(got), " for a credit of ", str(amount)));
        }
        _afterReentry(attacker.stakeReleasedInReentry() - releasedBefore, expectedRelease);
    }

    function _afterReentry(uint256 released, uint256 expectedRelease) internal {
        if (released != expectedRelease) {
            _violate(string.concat("re-entrant releaseStake moved ", str(released), ", expected ", str(expectedRelease)));
        }
        if (released == 0) return;
        MProvider storage p = mp[attacker.lastReleasedProvider()];
        mStakes -= p.stake;
        _credit(address(attacker), p.stake);
        p.stake = 0;
    }

    /// @dev releaseStake carries the reentrancy guard, so a re-entrant release moves nothing.
    function _expectedReentryRelease(address) internal pure returns (uint256) {
        return 0;
    }

    function _received(address a) internal view returns (uint256) {
        if (a == address(attacker)) return attacker.totalReceived();
        if (a == address(bad)) return bad.totalReceived();
        return a.balance;
    }

    function _accepts(address to) internal view returns (bool) {
        if (to == address(market)) return false; // no receive(), no fallback()
        if (to == address(bad)) return bad.mode() == 0;
        return true;
    }

    /// @dev Point the attacker's re-entry at one of its bookings, its listing, and a bookable provider.
    function _armAttacker(uint256 seed) internal {
        uint256 own = 0;
        uint256 n = bookingIds.length;
        if (n != 0) {
            uint256 start = seed % n;
            for (uint256 i = 0; i < n; i++) {
                uint256 bid = bookingIds[(start + i) % n];
                if (mb[bid].customer == address(attacker) || mp[mb[bid].providerId].owner == address(attacker)) {
                    own = bid;
                    if (_isOpen(mb[bid].status)) break;
                }
            }
        }
        uint32 ownProvider = 0;
        for (uint32 pid = 1; pid <= mProviderCount; pid++) {
            if (mp[pid].owner == address(attacker)) ownProvider = pid;
        }
        uint32 target = _findProvider(address(attacker), seed >> 8, true);
        uint96 price = target == 0 ? 0 : mp[target].price;
        uint32 ver = target == 0 ? 0 : mc[address(attacker)][mp[target].category].version;
        attacker.setArmed(seed % 8 != 0);
        attacker.setTargets(own, ownProvider, target, price, ver, payable(stranger));
    }

    // =================================================================== internal: criteria

    function _criteriaFromSeeds(uint256 a, uint256 b, uint256 c)
        internal
        pure
        returns (ICriteriaRegistry.CriteriaInput memory in_)
    {
        in_.category = a % 16 == 0 ? 0 : uint16(1 + (a >> 4) % 2);
        uint256 r = (a >> 8) % 6;
        in_.region = r < 3 ? 0 : uint16(r - 2);
        uint256 m = b % 8;
        if (m < 4) in_.minScore = 0;
        else if (m == 4) in_.minScore = 35_000;
        else if (m == 5) in_.minScore = uint16(bound(b >> 8, 0, 50_000));
        else if (m == 6) in_.minScore = (b >> 8) % 4 == 0 ? uint16(bound(b >> 8, 50_001, 65_535)) : 50_000;
        else in_.minScore = uint16(bound(b >> 8, 25_000, 40_000));
        uint256 pm = c % 4;
        if (pm == 0) in_.maxPrice = type(uint96).max;
        else if (pm == 1) in_.maxPrice = uint96(bound(c >> 8, 0, 1000) * 1e15);
        else if (pm == 2) in_.maxPrice = 0;
        else in_.maxPrice = 5e17;
        uint256 pr = (c >> 64) % 3;
        in_.premiumPerStar = pr == 0 ? 0 : pr == 1 ? uint96(bound(c >> 72, 0, 1e18)) : type(uint96).max;
        in_.requiredAttributes = (b >> 64) % 4 == 0 ? uint64((b >> 72) % 8) : 0;
        in_.refusedAttributes = (b >> 80) % 4 == 0 ? uint64((b >> 88) % 8) : 0;
        in_.scoreWeight = (a >> 16) % 5 == 0 ? 0 : uint16(bound(a >> 24, 0, 10_000));
        in_.priceWeight = (a >> 40) % 5 == 0 ? 0 : uint16(bound(a >> 48, 0, 10_000));
        if ((a >> 64) % 32 == 0) in_.priceWeight = 10_001;
    }

    function _setCriteria(address cust, ICriteriaRegistry.CriteriaInput memory in_) internal {
        bool expected = in_.category != 0 && in_.minScore <= 50_000 && in_.scoreWeight <= 10_000
            && in_.priceWeight <= 10_000 && (in_.scoreWeight != 0 || in_.priceWeight != 0)
            && (in_.requiredAttributes & in_.refusedAttributes) == 0;
        (bool ok, bytes memory ret) =
            _act("setCriteria", cust, 0, abi.encodeCall(ICriteriaRegistry.setCriteria, (in_)));
        _expect(expected, ok, ret, "setCriteria", false);
        if (!(ok && expected)) return;
        uint32 version = ++mVersion[cust];
        _check(abi.decode(ret, (uint32)) == version, "setCriteria: returned version");
        MCriteria storage c = mc[cust][in_.category];
        c.version = version;
        c.region = in_.region;
        c.minScore = in_.minScore;
        c.maxPrice = in_.maxPrice;
        c.premiumPerStar = in_.premiumPerStar;
        c.requiredAttributes = in_.requiredAttributes;
        c.refusedAttributes = in_.refusedAttributes;
        c.scoreWeight = in_.scoreWeight;
        c.priceWeight = in_.priceWeight;
    }

    function _setBlocked(address cust, uint32 pid, bool blocked) internal {
        MProvider storage p = mp[pid];
        MCriteria storage c = mc[cust][p.category];
        bool expected = p.owner != address(0) && c.version != 0 && mBlocked[cust][pid] != blocked;
        (bool ok, bytes memory ret) =
            _act("setBlocked", cust, 0, abi.encodeCall(ICriteriaRegistry.setBlocked, (pid, blocked)));
        _expect(expected, ok, ret, "setBlocked", false);
        if (!(ok && expected)) return;
        uint32 version = ++mVersion[cust];
        _check(abi.decode(ret, (uint32)) == version, "setBlocked: returned version");
        mBlocked[cust][pid] = blocked;
        c.version = version;
        c.blockedCount = blocked ? c.blockedCount + 1 : c.blockedCount - 1;
    }

    /// @dev Rewrite `cust`'s criteria (and unblock) so an active provider becomes eligible.
    function _makeEligible(address cust, uint256 seed) internal returns (uint32) {
        uint32 n = mProviderCount;
        uint32 pid = 0;
        for (uint32 i = 0; i < n; i++) {
            uint32 cand = uint32(1 + (seed % n + i) % n);
            if (mp[cand].active) {
                pid = cand;
                break;
            }
        }
        if (pid == 0) return 0;
        MProvider storage p = mp[pid];
        if (mBlocked[cust][pid]) _setBlocked(cust, pid, false);
        ICriteriaRegistry.CriteriaInput memory in_;
        in_.category = p.category;
        in_.region = (seed >> 8) % 2 == 0 ? 0 : p.region;
        uint16 score = uint16(Ref.score(p.scoreCount, p.scoreSum));
        in_.minScore = (seed >> 16) % 2 == 0 ? 0 : score; // exactly at the provider's score
        in_.maxPrice = p.price; // exactly at the ceiling
        in_.requiredAttributes = p.attributes & uint64(seed >> 24);
        in_.refusedAttributes = ~p.attributes & uint64(seed >> 32) & 7;
        in_.scoreWeight = 5_000;
        in_.priceWeight = 5_000;
        _setCriteria(cust, in_);
        return pid;
    }

    function _wrongVersion(address cust, uint32 version) internal view returns (uint32) {
        uint32 latest = market.criteriaVersionOf(cust);
        // The global version differs from the category's once another category was written later.
        return latest != version ? latest : version + 1;
    }

    // =================================================================== internal: picking

    function _pickProvider(uint256 seed) internal view returns (uint32) {
        uint32 n = mProviderCount;
        if (n == 0 || seed % 32 == 0) return n + 1; // a listing that does not exist
        return uint32(1 + (seed >> 8) % n);
    }

    /// @dev First provider (from a random start) whose reference eligibility for `cust` is `eligible`.
    function _findProvider(address cust, uint256 seed, bool eligible) internal view returns (uint32) {
        uint32 n = mProviderCount;
        for (uint32 i = 0; i < n; i++) {
            uint32 pid = uint32(1 + (seed % n + i) % n);
            if ((modelCriterion(cust, pid) == 0) == eligible) return pid;
        }
        return 0;
    }

    /// @dev A booking: sometimes a fake id, sometimes any booking (terminal ones included), mostly an
    ///      open one (or, for `rateable`, a settled/resolved one not rated yet).
    function _pickBooking(uint256 seed, bool rateable) internal view returns (uint256 bid, bool exists) {
        uint256 n = bookingIds.length;
        uint256 r = seed % 16;
        if (n == 0 || r == 0) {
            address c = customers[(seed >> 8) % customers.length];
            return ((uint256(uint160(c)) << 64) | (mBookingCount[c] + 1), false);
        }
        uint256 start = (seed >> 8) % n;
        if (r < 4) return (bookingIds[start], true);
        for (uint256 i = 0; i < n; i++) {
            uint256 id = bookingIds[(start + i) % n];
            IBookings.Status s = mb[id].status;
            bool want = rateable
                ? ((s == IBookings.Status.Settled || s == IBookings.Status.Resolved) && !mb[id].rated)
                : _isOpen(s);
            if (want) return (id, true);
        }
        return (bookingIds[start], true);
    }

    /// @dev The rightful party three times in four, otherwise anyone (possibly the rightful one).
    function _pickSender(uint256 seed, address rightful) internal view returns (address) {
        if (rightful != address(0) && seed % 4 != 0) return rightful;
        return everyone[(seed >> 8) % everyone.length];
    }

    /// @dev Three times in four an account holding credit (if any), otherwise anyone.
    function _pickCreditor(uint256 seed) internal view returns (address) {
        uint256 n = everyone.length;
        if (seed % 4 != 0) {
            for (uint256 i = 0; i < n; i++) {
                address a = everyone[(seed % n + i) % n];
                if (mCredit[a] != 0) return a;
            }
        }
        return everyone[(seed >> 8) % n];
    }

    function _ownerMostly(uint256 seed) internal view returns (address) {
        return seed % 4 != 0 ? owner : everyone[(seed >> 8) % everyone.length];
    }

    function _someArbiter(uint256 seed) internal view returns (address) {
        uint256 n = everyone.length;
        for (uint256 i = 0; i < n; i++) {
            address a = everyone[(seed % n + i) % n];
            if (mArbiter[a]) return a;
        }
        return arbiter0;
    }

    function _refundBps(uint256 seed) internal pure returns (uint16) {
        uint256 m = seed % 8;
        if (m == 0) return 0;
        if (m == 1) return 5_000;
        if (m == 2) return 5_001;
        if (m == 3) return 10_000;
        if (m == 4) return uint16(bound(seed >> 8, 10_001, 65_535));
        return uint16(bound(seed >> 8, 0, 10_000));
    }


    function _maxWindow() internal view returns (uint256 m) {
        m = RESPOND;
        if (SERVICE > m) m = SERVICE;
        if (CONFIRM > m) m = CONFIRM;
        if (ARBITRATION > m) m = ARBITRATION;
    }

    function _warpTo(uint256 t) internal {
        vm.warp(t);
        warps++;
    }

    // =================================================================== internal: calling and checking

    /// @dev Call the market as `who` with `value`, and feed the events of a successful call to the
    ///      event-sourced ledger. (forge also records logs of reverted sub-calls, so the logs of a
    ///      failed call are dropped; actor contracts bubble reverts, so a failed action is a failed call.)
    function _act(bytes32 tag, address who, uint256 value, bytes memory data)
        internal
        returns (bool ok, bytes memory ret)
    {
        tryCount[tag]++;
        calls++;
        vm.recordLogs();
        if (who == address(attacker) || who == address(bad)) {
            vm.deal(address(this), address(this).balance + value);
            (ok, ret) = who.call{value: value}(abi.encodeCall(ContractActor.exec, (data)));
            if (ok) ret = abi.decode(ret, (bytes));
        } else {
            if (value != 0) vm.deal(who, who.balance + value);
            vm.prank(who);
            (ok, ret) = address(market).call{value: value}(data);
        }
        Vm.Log[] memory logs = vm.getRecordedLogs();
        if (ok) {
            okCount[tag]++;
            _ingest(logs);
        }
    }

    function _expect(bool expected, bool ok, bytes memory ret, string memory what, bool wrongParty) internal {
        if (ok && !expected) {
            v.unexpectedSuccess++;
            if (wrongParty) v.wrongPartySuccess++;
            _violate(string.concat("unexpected success: ", what, wrongParty ? " (by a wrong party)" : ""));
        } else if (!ok && expected) {
            v.unexpectedFailure++;
            _violate(string.concat("unexpected failure: ", what, " reverted with ", hexOf(ret)));
        }
    }

    function _check(bool cond, string memory why) internal {
        if (!cond) _violate(why);
    }


    // =================================================================== event-sourced ledger

    function _ingest(Vm.Log[] memory logs) internal {
        for (uint256 i = 0; i < logs.length; i++) {
            if (logs[i].emitter != address(market)) continue;
            _ingestOne(logs[i].topics, logs[i].data);
        }
    }

    function _ingestOne(bytes32[] memory t, bytes memory d) internal {
        bytes32 sig = t[0];
        if (sig == IBookings.BookingRequested.selector) {
            _onRequested(uint256(t[1]), address(uint160(uint256(t[2]))), uint32(uint256(t[3])), d);
        } else if (sig == IBookings.BookingAccepted.selector) {
            _onMove(uint256(t[1]), IBookings.Status.Requested, IBookings.Status.Accepted, d);
        } else if (sig == IBookings.BookingCompleted.selector) {
            _onMove(uint256(t[1]), IBookings.Status.Accepted, IBookings.Status.Completed, d);
        } else if (sig == IBookings.BookingDisputed.selector) {
            _onMove(uint256(t[1]), IBookings.Status.Completed, IBookings.Status.Disputed, d);
        } else if (sig == IBookings.BookingDeclined.selector) {
            _onRefund(uint256(t[1]), IBookings.Status.Declined, d);
        } else if (sig == IBookings.BookingCancelled.selector) {
            _onRefund(uint256(t[1]), IBookings.Status.Cancelled, d);
        } else if (sig == IBookings.BookingExpired.selector) {
            _onRefund(uint256(t[1]), IBookings.Status.Expired, d);
        } else if (sig == IBookings.BookingSettled.selector) {
            (uint96 payout, uint96 fee,) = abi.decode(d, (uint96, uint96, address));
            _onRelease(uint256(t[1]), IBookings.Status.Settled, 0, payout, fee);
        } else if (sig == IBookings.DisputeResolved.selector) {
            (, uint16 bps, uint96 refund, uint96 payout, uint96 fee) =
                abi.decode(d, (address, uint16, uint96, uint96, uint96));
            _onRelease(uint256(t[1]), IBookings.Status.Resolved, refund, payout, fee);
            if (bps > BPS / 2) _onScore(eb[uint256(t[1])].providerId, 1);
        } else if (sig == IBookings.BookingRated.selector) {
            _onRated(uint256(t[1]), d);
        } else if (sig == IProviderRegistry.ProviderRegistered.selector) {
            (,,, uint96 stake,) = abi.decode(d, (uint16, uint64, uint96, uint96, bytes32));
            EProvider storage p = ep[uint32(uint256(t[1]))];
            p.owner = address(uint160(uint256(t[2])));
            p.stake = stake;
            eStakes += stake;
            eIn += stake;
        } else if (sig == IProviderRegistry.StakeReleased.selector) {
            uint96 amount = abi.decode(d, (uint96));
            EProvider storage p = ep[uint32(uint256(t[1]))];
            _eventCheck(p.stake == amount && p.owner == address(uint160(uint256(t[2]))), "StakeReleased amount/owner");
            p.stake = 0;
            eStakes = _sub(eStakes, amount, "StakeReleased more than the stakes");
            eCredit[address(uint160(uint256(t[2])))] += amount;
        } else if (sig == IMarketplaceAdmin.FeesCollected.selector) {
            uint256 amount = abi.decode(d, (uint256));
            eFees = _sub(eFees, amount, "FeesCollected more than the fees");
            eCredit[address(uint160(uint256(t[1])))] += amount;
        } else if (sig == IMarketplaceAdmin.Withdrawn.selector) {
            uint256 amount = abi.decode(d, (uint256));
            address account = address(uint160(uint256(t[1])));
            _eventCheck(eCredit[account] == amount, "Withdrawn amount != whole credit");
            eCredit[account] = _sub(eCredit[account], amount, "Withdrawn more than the credit");
            eOut += amount;
        } else if (sig == IMarketplaceAdmin.FeeRateChanged.selector) {
            (uint16 previous, uint16 next) = abi.decode(d, (uint16, uint16));
            _eventCheck(previous == eFeeBps, "FeeRateChanged previous");
            eFeeBps = next;
        }
    }

    function _onRequested(uint256 bid, address customer, uint32 pid, bytes memory d) internal {
        (uint96 price, uint16 feeBps,, uint40 respondBy) = abi.decode(d, (uint96, uint16, uint32, uint40));
        EBooking storage b = eb[bid];
        _eventCheck(b.status == IBookings.Status.None, "BookingRequested for an existing booking");
        _eventCheck(feeBps == eFeeBps, "BookingRequested fee rate != rate in force");
        b.customer = customer;
        b.providerId = pid;
        b.price = price;
        b.feeBps = feeBps;
        b.status = IBookings.Status.Requested;
        b.deadline = respondBy;
        eEscrow += price;
        eIn += price;
    }

    function _onMove(uint256 bid, IBookings.Status from, IBookings.Status to, bytes memory d) internal {
        EBooking storage b = eb[bid];
        _eventCheck(b.status == from, "transition event from the wrong state");
        b.status = to;
        b.deadline = abi.decode(d, (uint40));
    }

    function _onRefund(uint256 bid, IBookings.Status terminal, bytes memory d) internal {
        uint96 refund = abi.decode(d, (uint96));
        _onRelease(bid, terminal, refund, 0, 0);
    }

    function _onRelease(uint256 bid, IBookings.Status terminal, uint96 refund, uint96 payout, uint96 fee) internal {
        EBooking storage b = eb[bid];
        _eventCheck(_isOpen(b.status), "terminal event for a booking that is not open");
        _eventCheck(uint256(refund) + payout + fee == b.price, "terminal event: refund + payout + fee != price");
        b.status = terminal;
        b.payments += 1;
        b.refund = refund;
        b.payout = payout;
        b.fee = fee;
        eEscrow = _sub(eEscrow, b.price, "released more than the escrow");
        eFees += fee;
        eCredit[b.customer] += refund;
        eCredit[ep[b.providerId].owner] += payout;
    }

    function _onRated(uint256 bid, bytes memory d) internal {
        (uint8 stars,, uint16 newScore) = abi.decode(d, (uint8, uint32, uint16));
        EBooking storage b = eb[bid];
        _eventCheck(
            b.status == IBookings.Status.Settled || b.status == IBookings.Status.Resolved, "rated before settlement"
        );
        b.ratings += 1;
        _onScore(b.providerId, stars);
        EProvider storage p = ep[b.providerId];
        _eventCheck(newScore == Ref.score(p.scoreCount, p.scoreSum), "BookingRated newScore != reference score");
    }

    function _onScore(uint32 pid, uint8 stars) internal {
        ep[pid].scoreCount += 1;
        ep[pid].scoreSum += stars;
    }

    function _sub(uint256 a, uint256 b, string memory why) internal returns (uint256) {
        if (b <= a) return a - b;
        _eventCheck(false, why);
        return 0;
    }

    function _eventCheck(bool cond, string memory why) internal {
        if (cond) return;
        v.eventMismatch++;
        _violate(string.concat("event ledger: ", why));
    }
}
