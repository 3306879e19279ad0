// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {V2Base} from "./V2Base.t.sol";
import {IMarketplaceAdmin} from "../../contracts/interfaces/IMarketplaceAdmin.sol";
import {IProviderRegistry} from "../../contracts/interfaces/IProviderRegistry.sol";
import {ICriteriaRegistry} from "../../contracts/interfaces/ICriteriaRegistry.sol";
import {IBookings} from "../../contracts/interfaces/IBookings.sol";

/// @notice Refuses every ether payment (for MarketplaceTransferFailed).
contract V2Refuser {
    receive() external payable {
        revert("no");
    }
}

/// @title Contract v2: the remaining custom errors, and fuzzed rules (booking id, fee, weight,
///        score, reliability) against their statements in docs/contract-v2.md
contract V2Rules is V2Base {
    // ================================================================ remaining errors

    function test_zeroAddress_collectFees_and_ownerBlock() public {
        vm.expectRevert(IMarketplaceAdmin.MarketplaceZeroAddress.selector);
        vm.prank(operator);
        m.collectFees(0, address(0), 0);
        vm.expectRevert(IMarketplaceAdmin.MarketplaceZeroAddress.selector);
        vm.prank(customer);
        m.setOwnerBlocked(address(0), true);
    }

    function test_transferFailed_keepsTheCredit() public {
        uint32 pid = _listing();
        _setCriteria(customer, _openCriteria(0));
        uint256 id = _book(pid);
        vm.prank(customer);
        m.cancel(id);
        V2Refuser refuser = new V2Refuser();
        vm.expectRevert(
            abi.encodeWithSelector(IMarketplaceAdmin.MarketplaceTransferFailed.selector, address(refuser), PRICE)
        );
        vm.prank(customer);
        m.withdrawTo(0, address(refuser));
        assertEq(m.creditOf(customer, 0), PRICE, "credit kept");
    }

    function test_idsExhausted_33rdAttestor() public {
        for (uint256 i = 2; i <= 32; ++i) {
            vm.prank(operator);
            m.scheduleChange(IMarketplaceAdmin.ChangeKind.Attestor, address(uint160(0xA000 + i)), 1);
        }
        vm.prank(operator);
        m.scheduleChange(IMarketplaceAdmin.ChangeKind.Attestor, address(0xA0FF), 1);
        vm.warp(block.timestamp + DELAY);
        for (uint256 i = 2; i <= 32; ++i) {
            m.applyChange(IMarketplaceAdmin.ChangeKind.Attestor, address(uint160(0xA000 + i)), 1);
        }
        assertEq(m.namedAttestors(), type(uint32).max, "32 attestors");
        vm.expectRevert(
            abi.encodeWithSelector(
                IMarketplaceAdmin.MarketplaceIdsExhausted.selector, IMarketplaceAdmin.ChangeKind.Attestor
            )
        );
        m.applyChange(IMarketplaceAdmin.ChangeKind.Attestor, address(0xA0FF), 1);
    }

    function test_stakeTooLarge() public {
        uint32 pid = _listing();
        uint256 big = uint256(type(uint96).max);
        vm.deal(stranger, big);
        vm.expectRevert(abi.encodeWithSelector(IProviderRegistry.MarketplaceStakeTooLarge.selector, big + MIN_STAKE));
        vm.prank(stranger);
        m.topUpStake{value: big}(pid);
    }

    function test_setBlocked_needsCriteria_andAListing() public {
        uint32 pid = _listing();
        vm.expectRevert(
            abi.encodeWithSelector(ICriteriaRegistry.MarketplaceCriteriaNotSet.selector, customer, uint16(1))
        );
        vm.prank(customer);
        m.setBlocked(pid, true);
        vm.expectRevert(abi.encodeWithSelector(IProviderRegistry.MarketplaceProviderNotFound.selector, uint32(77)));
        vm.prank(customer);
        m.setBlocked(77, true);
    }

    function test_noDefaultArbiter_disputeEndsByDefaultOnly() public {
        _change(IMarketplaceAdmin.ChangeKind.Arbiter, arb, 0); // removing the default clears it
        assertEq(m.defaultArbiter(), 0, "no default arbiter");
        uint32 pid = _listing();
        _setCriteria(customer, _openCriteria(0));
        uint256 id = _disputed(pid);
        assertEq(m.getBooking(id).arbiterId, 0, "booked without arbiter");
        vm.expectRevert(abi.encodeWithSelector(IBookings.MarketplaceNotArbiter.selector, id, arb));
        vm.prank(arb);
        m.resolve(id, 0);
        vm.warp(m.getBooking(id).deadline + 1);
        m.resolveByDefault(id);
        assertTrue(m.getBooking(id).status == IBookings.Status.Resolved, "resolved by default");
    }

    // ================================================================ fuzzed rules

    function testFuzz_bookingId_roundTrip(address c, uint32 p, uint40 s, uint16 d, uint8 salt) public view {
        uint256 id = m.encodeBookingId(c, p, s, d, salt);
        assertEq(
            id,
            (uint256(uint160(c)) << 96) | (uint256(p) << 64) | (uint256(s) << 24) | (uint256(d) << 8) | salt,
            "layout"
        );
        (address c2, uint32 p2, uint40 s2,,) = m.decodeBookingId(id);
        assertTrue(c == c2 && p == p2 && s == s2, "round trip: customer, listing, start");
        (,,, uint16 d2, uint8 salt2) = m.decodeBookingId(id);
        assertTrue(d == d2 && salt == salt2, "round trip: duration, salt");
    }

    function testFuzz_fee_weight_score(uint88 price, uint8 stars) public {
        price = uint88(MIN_FEE + (uint256(price) % (10_000 ether)));
        stars = uint8(1 + (stars % 5));
        vm.deal(customer, uint256(price) + 1 ether);
        uint32 pid = _register(provider, _input(0, price, false));
        _setCriteria(customer, _openCriteria(0));
        uint256 id = _settled(pid);
        uint256 fee = m.getBooking(id).fee;
        uint256 ceilFee = (uint256(price) * FEE_BPS + 9_999) / 10_000;
        assertEq(fee, ceilFee > MIN_FEE ? ceilFee : MIN_FEE, "fee = max(ceil(price x bps), minFee)");
        vm.prank(customer);
        m.rate(id, stars, 0);
        uint256 w = (fee * 1_000) / MIN_FEE;
        if (w > 2 ** 40) w = 2 ** 40;
        IProviderRegistry.Listing memory l = m.getListing(pid);
        assertEq(l.ratingWeight, w, "weight");
        assertEq(l.weightedStars, w * stars, "weighted stars");
        assertEq(m.scoreOf(pid), (20_000 * 35_000 + w * stars * 10_000) / (20_000 + w), "score");
        assertEq(m.reliabilityOf(pid), (uint256(1) + 9) * 10_000 / (1 + 0 + 10), "reliability after one completion");
    }

    function testFuzz_cancellationSplit(uint8 pct, uint16 hoursBefore) public {
        pct = uint8(pct % 101);
        hoursBefore = uint16(hoursBefore % 72);
        IProviderRegistry.ListingInput memory input = _input(0, PRICE, false);
        input.lateCancelPct = pct;
        input.freeCancelHours = 24;
        uint32 pid = _register(provider, input);
        _setCriteria(customer, _openCriteria(0));
        uint40 start = uint40(block.timestamp + 3 days);
        uint256 id = _bookAt(pid, start, 0);
        _accept(id);
        vm.warp(uint256(start) - uint256(hoursBefore) * 1 hours - 1);
        vm.prank(customer);
        m.cancel(id);
        bool free = block.timestamp + 24 hours <= start;
        uint256 comp = free ? 0 : (uint256(PRICE) * pct) / 100;
        assertEq(m.creditOf(provider, 0), comp, "compensation");
        assertEq(m.creditOf(customer, 0), PRICE - comp, "refund");
    }

    function testFuzz_resolveSplit(uint16 bps) public {
        bps = uint16(bps % 10_001);
        uint32 pid = _listing();
        _setCriteria(customer, _openCriteria(0));
        uint256 id = _disputed(pid);
        vm.prank(arb);
        m.resolve(id, bps);
        uint256 fee = m.getBooking(id).fee;
        uint256 refund = ((PRICE - fee) * bps) / 10_000;
        bool lost = bps > 5_000;
        assertEq(m.accruedFees(0), fee, "fee whatever the ruling");
        assertEq(m.creditOf(customer, 0), refund + (lost ? BOND : 0), "customer");
        assertEq(m.creditOf(provider, 0), PRICE - fee - refund, "provider");
        assertEq(m.creditOf(arb, 0), BOND, "arbiter paid by the bond or the stake");
        uint256 held = m.creditOf(customer, 0) + m.creditOf(provider, 0) + m.creditOf(arb, 0) + m.accruedFees(0);
        assertEq(address(m).balance, held + m.getListing(pid).stake, "solvency: credits + fees + stake");
        assertEq(m.getListing(pid).stake, lost ? MIN_STAKE - BOND : MIN_STAKE, "stake pays the arbiter on a loss");
    }
}
