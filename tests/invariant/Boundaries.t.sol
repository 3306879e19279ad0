// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {V2Base} from "./V2Base.t.sol";
import {FeeOnTransferToken} from "../../contracts/test/tokens/FeeOnTransferToken.sol";
import {Marketplace} from "../../contracts/Marketplace.sol";
import {MarketplaceModule} from "../../contracts/MarketplaceModule.sol";
import {IMarketplaceAdmin} from "../../contracts/interfaces/IMarketplaceAdmin.sol";
import {IProviderRegistry} from "../../contracts/interfaces/IProviderRegistry.sol";
import {ICriteriaRegistry} from "../../contracts/interfaces/ICriteriaRegistry.sol";
import {IBookings} from "../../contracts/interfaces/IBookings.sol";

/// @title Contract v2, deterministic edges: the slot, the offer, currencies and tokens, permits,
///        fees, every deadline exactly and one second past it, cancellation terms, no-shows, stake
///        locks, disputes, the timelock and withdrawals (docs/contract-v2.md).
contract Boundaries is V2Base {
    // ================================================================ slot and offer

    function test_slotInPast_andNow_revert() public {
        uint32 pid = _listing();
        _setCriteria(customer, _openCriteria(0));
        IBookings.BookingRequest memory r = _req(customer, pid, uint40(block.timestamp), 0);
        vm.expectRevert(abi.encodeWithSelector(IBookings.MarketplaceSlotInPast.selector, uint40(block.timestamp)));
        vm.prank(customer);
        m.book{value: PRICE}(r);
        r.start = uint40(block.timestamp - 1);
        vm.expectRevert(abi.encodeWithSelector(IBookings.MarketplaceSlotInPast.selector, r.start));
        vm.prank(customer);
        m.book{value: PRICE}(r);
    }

    function test_slotTooFar_oneSecondPastMaxAdvance() public {
        uint32 pid = _listing();
        _setCriteria(customer, _openCriteria(0));
        uint40 latest = uint40(block.timestamp + 365 days);
        IBookings.BookingRequest memory r = _req(customer, pid, latest + 1, 0);
        vm.expectRevert(abi.encodeWithSelector(IBookings.MarketplaceSlotTooFar.selector, latest + 1, latest));
        vm.prank(customer);
        m.book{value: PRICE}(r);
        r.start = latest;
        vm.prank(customer);
        m.book{value: PRICE}(r); // exactly MAX_ADVANCE ahead: allowed
        assertEq(m.MAX_ADVANCE(), 365 days, "MAX_ADVANCE");
    }

    function test_zeroDuration_reverts() public {
        uint32 pid = _listing();
        _setCriteria(customer, _openCriteria(0));
        IBookings.BookingRequest memory r = _req(customer, pid, uint40(block.timestamp + 1 days), 0);
        r.durationMinutes = 0;
        vm.expectRevert(IBookings.MarketplaceInvalidDuration.selector);
        vm.prank(customer);
        m.book{value: PRICE}(r);
    }

    function test_offerChanged_reverts_andBookingRecordsVersion() public {
        uint32 pid = _listing();
        _setCriteria(customer, _openCriteria(0));
        IBookings.BookingRequest memory r = _req(customer, pid, uint40(block.timestamp + 1 days), 0);
        IProviderRegistry.ListingInput memory input = _input(0, PRICE * 2, false);
        vm.prank(provider);
        m.updateListing(pid, input);
        assertEq(m.getListing(pid).offerVersion, 2, "version bumped");
        vm.expectRevert(abi.encodeWithSelector(IBookings.MarketplaceOfferChanged.selector, uint32(1), uint32(2)));
        vm.prank(customer);
        m.book{value: PRICE}(r);
        r.offerVersion = 2;
        vm.prank(customer);
        uint256 id = m.book{value: PRICE * 2}(r);
        assertEq(m.getBooking(id).price, PRICE * 2, "new price");
    }

    function test_updateListing_cannotChangeCategory_orBeStrangers() public {
        uint32 pid = _listing();
        IProviderRegistry.ListingInput memory input = _input(0, PRICE, false);
        input.category = 2;
        vm.expectRevert(IProviderRegistry.MarketplaceInvalidCategory.selector);
        vm.prank(provider);
        m.updateListing(pid, input);
        input.category = 1;
        vm.expectRevert(abi.encodeWithSelector(IProviderRegistry.MarketplaceNotProviderOwner.selector, pid, stranger));
        vm.prank(stranger);
        m.updateListing(pid, input);
    }

    function test_selfBooking_reverts() public {
        uint32 pid = _listing();
        _setCriteria(provider, _openCriteria(0));
        IBookings.BookingRequest memory r = _req(provider, pid, uint40(block.timestamp + 1 days), 0);
        vm.expectRevert(abi.encodeWithSelector(IBookings.MarketplaceSelfBooking.selector, pid));
        vm.prank(provider);
        m.book{value: PRICE}(r);
    }

    function test_bookingId_encodesParts_existsReverts_saltRebooks() public {
        uint32 pid = _listing();
        _setCriteria(customer, _openCriteria(0));
        uint40 start = uint40(block.timestamp + 2 days);
        uint256 id = _bookAt(pid, start, 0);
        (address c, uint32 p, uint40 s, uint16 d, uint8 salt) = m.decodeBookingId(id);
        assertTrue(c == customer && p == pid && s == start && d == 60 && salt == 0, "decoded");
        assertEq(m.encodeBookingId(customer, pid, start, 60, 0), id, "encode");
        IBookings.BookingRequest memory r = _req(customer, pid, start, 0);
        vm.expectRevert(abi.encodeWithSelector(IBookings.MarketplaceBookingExists.selector, id));
        vm.prank(customer);
        m.book{value: PRICE}(r);
        uint256 id2 = _bookAt(pid, start, 1);
        assertTrue(id2 != id, "salted id differs");
    }

    function test_valueMismatch_criteriaVersionMismatch_paused_unknownListing() public {
        uint32 pid = _listing();
        _setCriteria(customer, _openCriteria(0));
        IBookings.BookingRequest memory r = _req(customer, pid, uint40(block.timestamp + 1 days), 0);
        vm.expectRevert(abi.encodeWithSelector(IBookings.MarketplaceValueMismatch.selector, PRICE - 1, PRICE));
        vm.prank(customer);
        m.book{value: PRICE - 1}(r);
        r.criteriaVersion = 9;
        vm.expectRevert(
            abi.encodeWithSelector(IBookings.MarketplaceCriteriaVersionMismatch.selector, uint32(9), uint32(1))
        );
        vm.prank(customer);
        m.book{value: PRICE}(r);
        r.criteriaVersion = 1;
        r.providerId = 99;
        vm.expectRevert(abi.encodeWithSelector(IProviderRegistry.MarketplaceProviderNotFound.selector, uint32(99)));
        vm.prank(customer);
        m.book{value: PRICE}(r);
        r.providerId = pid;
        vm.prank(operator);
        m.setPaused(true);
        vm.expectRevert(IMarketplaceAdmin.MarketplacePaused.selector);
        vm.prank(customer);
        m.book{value: PRICE}(r);
    }

    // ================================================================ currencies and tokens

    function test_tokenBooking_perCurrencyLedger_andWithdraw() public {
        uint32 pid = _register(provider, _input(1, USD_PRICE, false));
        _setCriteria(customer, _openCriteria(1));
        uint256 before = usd.balanceOf(customer);
        uint256 id = _settled(pid);
        assertEq(before - usd.balanceOf(customer), USD_PRICE, "pulled the price");
        uint256 fee = m.getBooking(id).fee;
        assertEq(fee, 500_000, "fee = 2.5% of 20 USD");
        assertEq(m.creditOf(provider, 1), USD_PRICE - fee, "provider credit in USD");
        assertEq(m.creditOf(provider, 0), 0, "no ether credit");
        assertEq(m.accruedFees(1), fee, "USD fees");
        assertEq(m.accruedFees(0), 0, "no ether fees");
        vm.prank(provider);
        m.withdraw(1);
        assertEq(usd.balanceOf(provider), USD_PRICE - fee, "withdrawn in USD");
        assertEq(usd.balanceOf(address(m)), fee, "solvency: the fee stays");
    }

    function test_tokenBooking_withEther_reverts() public {
        uint32 pid = _register(provider, _input(1, USD_PRICE, false));
        _setCriteria(customer, _openCriteria(1));
        IBookings.BookingRequest memory r = _req(customer, pid, uint40(block.timestamp + 1 days), 0);
        vm.expectRevert(abi.encodeWithSelector(IBookings.MarketplaceValueMismatch.selector, 1, 0));
        vm.prank(customer);
        m.book{value: 1}(r);
    }

    function test_currencyDisabled_refusesNewListingsAndBookings_escrowStillSettles() public {
        uint32 pid = _register(provider, _input(1, USD_PRICE, false));
        _setCriteria(customer, _openCriteria(1));
        uint256 open = _book(pid);
        _change(IMarketplaceAdmin.ChangeKind.Currency, address(usd), 0);
        (, bool enabled,) = m.currency(1);
        assertTrue(!enabled, "disabled");
        IBookings.BookingRequest memory r = _req(customer, pid, uint40(block.timestamp + 1 days), 0);
        vm.expectRevert(abi.encodeWithSelector(IMarketplaceAdmin.MarketplaceCurrencyDisabled.selector, uint8(1)));
        vm.prank(customer);
        m.book(r);
        vm.expectRevert(abi.encodeWithSelector(IMarketplaceAdmin.MarketplaceCurrencyDisabled.selector, uint8(1)));
        vm.prank(provider);
        m.register{value: MIN_STAKE}(_input(1, USD_PRICE, false));
        vm.expectRevert(abi.encodeWithSelector(IMarketplaceAdmin.MarketplaceCurrencyDisabled.selector, uint8(7)));
        vm.prank(provider);
        m.register{value: MIN_STAKE}(_input(7, USD_PRICE, false));
        // the open booking still settles and pays out
        vm.prank(customer);
        m.cancel(open);
        vm.prank(customer);
        m.withdraw(1);
        assertEq(m.creditOf(customer, 1), 0, "withdrawn");
    }

    function test_tokenShortfall_reverts() public {
        FeeOnTransferToken short = new FeeOnTransferToken(); // keeps 1 %
        vm.startPrank(operator);
        m.scheduleChange(IMarketplaceAdmin.ChangeKind.MinFee, address(short), 10);
        m.scheduleChange(IMarketplaceAdmin.ChangeKind.Currency, address(short), 1);
        vm.stopPrank();
        vm.warp(block.timestamp + DELAY);
        m.applyChange(IMarketplaceAdmin.ChangeKind.MinFee, address(short), 10);
        m.applyChange(IMarketplaceAdmin.ChangeKind.Currency, address(short), 1);
        uint8 cid = m.currencyId(address(short));
        assertEq(cid, 2, "second token currency");
        uint32 pid = _register(provider, _input(cid, 1_000, false));
        _setCriteria(customer, _openCriteria(cid));
        short.mint(customer, 10_000);
        vm.prank(customer);
        short.approve(address(m), type(uint256).max);
        IBookings.BookingRequest memory r = _req(customer, pid, uint40(block.timestamp + 1 days), 0);
        vm.expectRevert(abi.encodeWithSelector(IBookings.MarketplaceTokenShortfall.selector, 1_000, 990));
        vm.prank(customer);
        m.book(r);
    }

    function _permit(uint256 value, uint256 deadline) internal view returns (uint8 v, bytes32 r, bytes32 s) {
        bytes32 structHash = keccak256(
            abi.encode(
                keccak256("Permit(address owner,address spender,uint256 value,uint256 nonce,uint256 deadline)"),
                customer,
                address(m),
                value,
                usd.nonces(customer),
                deadline
            )
        );
        bytes32 digest = keccak256(abi.encodePacked("\x19\x01", usd.DOMAIN_SEPARATOR(), structHash));
        return vm.sign(customerKey, digest);
    }

    function _permitSetup() internal returns (uint32 pid, IBookings.BookingRequest memory r) {
        pid = _register(provider, _input(1, USD_PRICE, false));
        _setCriteria(customer, _openCriteria(1));
        vm.prank(customer);
        usd.approve(address(m), 0);
        r = _req(customer, pid, uint40(block.timestamp + 1 days), 0);
    }

    function test_bookWithPermit_oneTransaction() public {
        (, IBookings.BookingRequest memory r) = _permitSetup();
        uint256 deadline = block.timestamp + 1 hours;
        (uint8 v, bytes32 rr, bytes32 s) = _permit(USD_PRICE, deadline);
        vm.prank(customer);
        uint256 id = m.bookWithPermit(r, deadline, v, rr, s);
        assertTrue(_status(id) == IBookings.Status.Requested, "booked");
        assertEq(usd.balanceOf(address(m)), USD_PRICE, "escrowed");
    }

    function test_bookWithPermit_expired_reverts() public {
        (, IBookings.BookingRequest memory r) = _permitSetup();
        uint256 deadline = block.timestamp - 1;
        (uint8 v, bytes32 rr, bytes32 s) = _permit(USD_PRICE, deadline);
        vm.expectRevert(IBookings.MarketplacePermitFailed.selector);
        vm.prank(customer);
        m.bookWithPermit(r, deadline, v, rr, s);
    }

    function test_bookWithPermit_wrongAmount_reverts() public {
        (, IBookings.BookingRequest memory r) = _permitSetup();
        uint256 deadline = block.timestamp + 1 hours;
        (uint8 v, bytes32 rr, bytes32 s) = _permit(USD_PRICE - 1, deadline);
        vm.expectRevert(IBookings.MarketplacePermitFailed.selector);
        vm.prank(customer);
        m.bookWithPermit(r, deadline, v, rr, s);
    }

    function test_bookWithPermit_frontRunPermit_stillBooks() public {
        (, IBookings.BookingRequest memory r) = _permitSetup();
        uint256 deadline = block.timestamp + 1 hours;
        (uint8 v, bytes32 rr, bytes32 s) = _permit(USD_PRICE, deadline);
        vm.prank(stranger);
        usd.permit(customer, address(m), USD_PRICE, deadline, v, rr, s); // front-run
        vm.prank(customer);
        uint256 id = m.bookWithPermit(r, deadline, v, rr, s);
        assertTrue(_status(id) == IBookings.Status.Requested, "booked anyway");
    }

    function test_bookWithPermit_etherListing_reverts() public {
        uint32 pid = _listing();
        _setCriteria(customer, _openCriteria(0));
        IBookings.BookingRequest memory r = _req(customer, pid, uint40(block.timestamp + 1 days), 0);
        vm.expectRevert(abi.encodeWithSelector(IBookings.MarketplaceValueMismatch.selector, 0, PRICE));
        vm.prank(customer);
        m.bookWithPermit(r, block.timestamp, 0, bytes32(0), bytes32(0));
    }

    // ================================================================ fees

    function test_fee_isMaxOfCeilAndMinFee() public {
        // ceil: 4,000,001 wei x 2.5 % = 100,000.025 -> 100,001 (below the min fee -> min fee)
        uint32 pid = _register(provider, _input(0, MIN_FEE, false));
        _setCriteria(customer, _openCriteria(0));
        uint256 id = _book(pid);
        assertEq(m.getBooking(id).fee, MIN_FEE, "fee = price = minFee");
        uint88 odd = 0.01 ether + 1; // x 250 / 10,000 = 2.5e14 + 0.025 -> ceil
        vm.prank(provider);
        m.updateListing(pid, _input(0, odd, false));
        uint256 id2 = _bookAt(pid, uint40(block.timestamp + 2 days), 0);
        assertEq(m.getBooking(id2).fee, 2.5e14 + 1, "rounded up");
    }

    function test_priceBelowMinFee_register_update_book() public {
        vm.expectRevert(
            abi.encodeWithSelector(IProviderRegistry.MarketplacePriceBelowMinFee.selector, MIN_FEE - 1, MIN_FEE)
        );
        vm.prank(provider);
        m.register{value: MIN_STAKE}(_input(0, MIN_FEE - 1, false));
        uint32 pid = _register(provider, _input(0, MIN_FEE, false));
        vm.expectRevert(
            abi.encodeWithSelector(IProviderRegistry.MarketplacePriceBelowMinFee.selector, MIN_FEE - 1, MIN_FEE)
        );
        vm.prank(provider);
        m.updateListing(pid, _input(0, MIN_FEE - 1, false));
        vm.expectRevert(IProviderRegistry.MarketplaceZeroPrice.selector);
        vm.prank(provider);
        m.updateListing(pid, _input(0, 0, false));
        // the minimum fee rises above an existing listing's price: booking it reverts
        _change(IMarketplaceAdmin.ChangeKind.MinFee, address(0), MIN_FEE + 1);
        _setCriteria(customer, _openCriteria(0));
        IBookings.BookingRequest memory r = _req(customer, pid, uint40(block.timestamp + 1 days), 0);
        vm.expectRevert(
            abi.encodeWithSelector(IProviderRegistry.MarketplacePriceBelowMinFee.selector, MIN_FEE, MIN_FEE + 1)
        );
        vm.prank(customer);
        m.book{value: MIN_FEE}(r);
    }

    function test_lateCancelPctAbove100_reverts() public {
        IProviderRegistry.ListingInput memory input = _input(0, PRICE, false);
        input.lateCancelPct = 101;
        vm.expectRevert(abi.encodeWithSelector(IProviderRegistry.MarketplaceInvalidCancelTerms.selector, uint8(101)));
        vm.prank(provider);
        m.register{value: MIN_STAKE}(input);
    }

    function test_register_stakeAndCategory() public {
        vm.expectRevert(
            abi.encodeWithSelector(IProviderRegistry.MarketplaceInsufficientStake.selector, MIN_STAKE - 1, MIN_STAKE)
        );
        vm.prank(provider);
        m.register{value: MIN_STAKE - 1}(_input(0, PRICE, false));
        IProviderRegistry.ListingInput memory input = _input(0, PRICE, false);
        input.category = 0;
        vm.expectRevert(IProviderRegistry.MarketplaceInvalidCategory.selector);
        vm.prank(provider);
        m.register{value: MIN_STAKE}(input);
    }

    // ================================================================ criteria, one per Criterion

    function _expectIneligible(uint32 pid, ICriteriaRegistry.Criterion c) internal {
        assertEq(uint8(m.firstFailedCriterion(customer, pid)), uint8(c), "view agrees");
        IBookings.BookingRequest memory r = _req(customer, pid, uint40(block.timestamp + 1 days), 9);
        vm.expectRevert(abi.encodeWithSelector(IBookings.MarketplaceIneligible.selector, pid, c));
        vm.prank(customer);
        m.book{value: PRICE}(r);
    }

    function test_criterion_inactive_notSet_currency_region() public {
        uint32 pid = _listing();
        _expectIneligible(pid, ICriteriaRegistry.Criterion.CriteriaNotSet);
        ICriteriaRegistry.CriteriaInput memory c = _openCriteria(1);
        _setCriteria(customer, c);
        _expectIneligible(pid, ICriteriaRegistry.Criterion.Currency);
        c.currency = 0;
        c.region = 8;
        _setCriteria(customer, c);
        _expectIneligible(pid, ICriteriaRegistry.Criterion.Region);
        vm.prank(provider);
        m.deactivate(pid);
        _expectIneligible(pid, ICriteriaRegistry.Criterion.ProviderInactive);
        assertEq(uint8(m.firstFailedCriterion(customer, 999)), 1, "unknown listing: inactive");
    }

    function test_criterion_blocked_and_ownerBlocked_followsNewListings() public {
        uint32 pid = _listing();
        _setCriteria(customer, _openCriteria(0));
        vm.prank(customer);
        uint32 v = m.setBlocked(pid, true);
        assertEq(m.getCriteria(customer, 1).version, v, "category version bumped");
        _expectIneligible(pid, ICriteriaRegistry.Criterion.Blocked);
        vm.expectRevert(abi.encodeWithSelector(ICriteriaRegistry.MarketplaceBlockUnchanged.selector, pid, true));
        vm.prank(customer);
        m.setBlocked(pid, true);
        vm.prank(customer);
        m.setBlocked(pid, false);
        vm.prank(customer);
        uint32 v2 = m.setOwnerBlocked(provider, true);
        assertEq(m.criteriaVersionOf(customer), v2, "customer version bumped");
        assertTrue(m.isOwnerBlocked(customer, provider), "owner blocked");
        _expectIneligible(pid, ICriteriaRegistry.Criterion.OwnerBlocked);
        // escape by re-registering does not work
        uint32 fresh = _listing();
        _expectIneligible(fresh, ICriteriaRegistry.Criterion.OwnerBlocked);
        vm.expectRevert(
            abi.encodeWithSelector(ICriteriaRegistry.MarketplaceOwnerBlockUnchanged.selector, provider, true)
        );
        vm.prank(customer);
        m.setOwnerBlocked(provider, true);
        vm.prank(customer);
        m.setOwnerBlocked(provider, false);
        assertEq(uint8(m.firstFailedCriterion(customer, fresh)), 0, "unblocked");
    }

    function test_ownerBlock_countsInEveryCategory_presentAndFuture() public {
        // the owner block comes first, the criteria later (and in a second category)
        vm.prank(customer);
        m.setOwnerBlocked(provider, true);
        uint32 pid = _listing();
        _setCriteria(customer, _openCriteria(0));
        assertEq(m.getCriteria(customer, 1).blockedCount, 1, "a new criteria set inherits the owner blocks");
        _expectIneligible(pid, ICriteriaRegistry.Criterion.OwnerBlocked);
        ICriteriaRegistry.CriteriaInput memory c2 = _openCriteria(0);
        c2.category = 2;
        _setCriteria(customer, c2);
        IProviderRegistry.ListingInput memory input = _input(0, PRICE, false);
        input.category = 2;
        uint32 other = _register(provider, input);
        assertEq(
            uint8(m.firstFailedCriterion(customer, other)), uint8(ICriteriaRegistry.Criterion.OwnerBlocked), "cat 2"
        );
        vm.prank(customer);
        m.setBlocked(pid, true);
        assertEq(m.getCriteria(customer, 1).blockedCount, 2, "listing + owner block");
        vm.prank(customer);
        m.setOwnerBlocked(provider, false);
        assertEq(m.getCriteria(customer, 1).blockedCount, 1, "owner block lifted");
        assertEq(m.getCriteria(customer, 2).blockedCount, 0, "owner block lifted in cat 2");
        _expectIneligible(pid, ICriteriaRegistry.Criterion.Blocked);
        assertEq(uint8(m.firstFailedCriterion(customer, other)), 0, "cat 2 eligible");
        // rewriting criteria keeps the count
        _setCriteria(customer, _openCriteria(0));
        assertEq(m.getCriteria(customer, 1).blockedCount, 1, "kept");
    }

    function test_criterion_requiredRefused() public {
        uint32 pid = _listing(); // attributes 0x5
        ICriteriaRegistry.CriteriaInput memory c = _openCriteria(0);
        c.requiredAttributes = 0x2;
        _setCriteria(customer, c);
        _expectIneligible(pid, ICriteriaRegistry.Criterion.RequiredAttributes);
        c.requiredAttributes = 0x1;
        c.refusedAttributes = 0x4;
        _setCriteria(customer, c);
        _expectIneligible(pid, ICriteriaRegistry.Criterion.RefusedAttributes);
    }

    function test_criterion_verifiedAttributes_trustedUntrustedRevokedRemoved() public {
        uint32 pid = _listing(); // attributes 0x5; attestor id 1 = att
        address other = _actor("other attestor");
        _change(IMarketplaceAdmin.ChangeKind.Attestor, other, 1); // id 2
        ICriteriaRegistry.CriteriaInput memory c = _openCriteria(0);
        c.requiredAttributes = 0x5;
        c.verifiedAttributes = 0x4;
        c.trustedAttestors = 0x1; // only attestor 1
        _setCriteria(customer, c);
        _expectIneligible(pid, ICriteriaRegistry.Criterion.VerifiedAttributes);
        vm.prank(other); // untrusted attestor verifies: does not count
        m.attest(pid, 0x4);
        _expectIneligible(pid, ICriteriaRegistry.Criterion.VerifiedAttributes);
        vm.prank(att); // trusted attestor verifies
        m.attest(pid, 0x4);
        assertEq(uint8(m.firstFailedCriterion(customer, pid)), 0, "verified");
        assertEq(m.verifiedAttributesOf(pid, 0x1), 0x4, "verified view");
        vm.prank(att); // revoked
        m.attest(pid, 0);
        _expectIneligible(pid, ICriteriaRegistry.Criterion.VerifiedAttributes);
        vm.prank(att);
        m.attest(pid, 0x4);
        // the listing stops claiming the attribute: only claimed bits count (fails Required first)
        IProviderRegistry.ListingInput memory input = _input(0, PRICE, false);
        input.attributes = 0x1;
        vm.prank(provider);
        m.updateListing(pid, input);
        _expectIneligible(pid, ICriteriaRegistry.Criterion.RequiredAttributes);
        assertEq(m.verifiedAttributesOf(pid, 0x1), 0, "unclaimed bits are not verified");
        vm.prank(provider);
        m.updateListing(pid, _input(0, PRICE, false));
        // the attestor is removed by the operator: its record no longer counts
        _change(IMarketplaceAdmin.ChangeKind.Attestor, att, 0);
        _expectIneligible(pid, ICriteriaRegistry.Criterion.VerifiedAttributes);
        vm.expectRevert(abi.encodeWithSelector(IProviderRegistry.MarketplaceNotAttestor.selector, att));
        vm.prank(att);
        m.attest(pid, 0x4);
        vm.expectRevert(abi.encodeWithSelector(IProviderRegistry.MarketplaceNotAttestor.selector, stranger));
        vm.prank(stranger);
        m.attest(pid, 0x4);
    }

    function test_criterion_minScore_trackRecord_reliability_maxPrice() public {
        uint32 pid = _listing(); // score 35,000, weight 0, reliability 9,000
        ICriteriaRegistry.CriteriaInput memory c = _openCriteria(0);
        c.minScore = 35_001;
        _setCriteria(customer, c);
        _expectIneligible(pid, ICriteriaRegistry.Criterion.MinScore);
        c.minScore = 35_000;
        c.minRatingWeight = 1;
        _setCriteria(customer, c);
        _expectIneligible(pid, ICriteriaRegistry.Criterion.TrackRecord);
        c.minRatingWeight = 0;
        c.minReliability = 9_001;
        _setCriteria(customer, c);
        _expectIneligible(pid, ICriteriaRegistry.Criterion.Reliability);
        c.minReliability = 9_000;
        c.maxPrice = PRICE - 1;
        _setCriteria(customer, c);
        _expectIneligible(pid, ICriteriaRegistry.Criterion.MaxPrice);
        assertEq(m.priceCeiling(customer, 1, 35_000), PRICE - 1, "ceiling at minScore");
        c.premiumPerStar = 1 ether;
        c.minScore = 34_999; // one ten-thousandth of a star above: + 1e14 wei
        _setCriteria(customer, c);
        assertEq(m.priceCeiling(customer, 1, 35_000), PRICE - 1 + 1e14, "premium");
        assertEq(uint8(m.firstFailedCriterion(customer, pid)), 0, "eligible with the premium");
    }

    function test_setCriteria_errors() public {
        ICriteriaRegistry.CriteriaInput memory c = _openCriteria(0);
        c.trustedAttestors = 0x1F;
        vm.expectRevert(abi.encodeWithSelector(ICriteriaRegistry.MarketplaceTooManyAttestors.selector, uint32(0x1F)));
        vm.prank(customer);
        m.setCriteria(c);
        c.trustedAttestors = 0xF;
        c.verifiedAttributes = 0x3;
        c.requiredAttributes = 0x1;
        vm.expectRevert(abi.encodeWithSelector(ICriteriaRegistry.MarketplaceVerifiedNotRequired.selector, uint64(0x2)));
        vm.prank(customer);
        m.setCriteria(c);
        c.verifiedAttributes = 0x1;
        c.refusedAttributes = 0x1;
        vm.expectRevert(
            abi.encodeWithSelector(ICriteriaRegistry.MarketplaceConflictingAttributes.selector, uint64(0x1))
        );
        vm.prank(customer);
        m.setCriteria(c);
        c.refusedAttributes = 0;
        c.minReliability = 10_001;
        vm.expectRevert(
            abi.encodeWithSelector(ICriteriaRegistry.MarketplaceInvalidMinReliability.selector, uint16(10_001))
        );
        vm.prank(customer);
        m.setCriteria(c);
        c.minReliability = 0;
        c.minScore = 50_001;
        vm.expectRevert(abi.encodeWithSelector(ICriteriaRegistry.MarketplaceInvalidMinScore.selector, uint16(50_001)));
        vm.prank(customer);
        m.setCriteria(c);
        c.minScore = 0;
        c.scoreWeight = 0;
        c.priceWeight = 0;
        vm.expectRevert(
            abi.encodeWithSelector(ICriteriaRegistry.MarketplaceInvalidWeights.selector, uint16(0), uint16(0))
        );
        vm.prank(customer);
        m.setCriteria(c);
        c.scoreWeight = 1;
        vm.prank(customer);
        m.setCriteria(c); // four trusted attestors are fine
    }

    // ================================================================ deadlines

    function test_respondBy_isMinOfWindowAndStart_acceptAtDeadline_expireAfter() public {
        uint32 pid = _listing();
        _setCriteria(customer, _openCriteria(0));
        uint40 soon = uint40(block.timestamp + 1 hours);
        uint256 id = _bookAt(pid, soon, 0);
        assertEq(m.getBooking(id).deadline, soon, "respondBy = start when sooner");
        uint256 later = _bookAt(pid, uint40(block.timestamp + 30 days), 0);
        assertEq(m.getBooking(later).deadline, block.timestamp + RESPOND, "respondBy = now + window");
        vm.warp(soon);
        vm.expectRevert(abi.encodeWithSelector(IBookings.MarketplaceDeadlineNotReached.selector, id, uint32(soon)));
        m.expire(id);
        _accept(id);
        vm.warp(block.timestamp + RESPOND + 1);
        vm.expectRevert(
            abi.encodeWithSelector(IBookings.MarketplaceDeadlinePassed.selector, later, uint32(T0 + RESPOND))
        );
        vm.prank(provider);
        m.accept(later);
        vm.prank(stranger);
        m.expire(later);
        assertTrue(_status(later) == IBookings.Status.Expired, "expired");
        assertEq(m.creditOf(customer, 0), PRICE, "full refund");
        assertEq(m.reliabilityOf(pid), 9_000, "a request never accepted is no failure");
    }

    function test_complete_fromStart_untilServiceBy() public {
        uint32 pid = _listing();
        _setCriteria(customer, _openCriteria(0));
        uint256 id = _book(pid);
        _accept(id);
        uint40 start = _startOf(id);
        uint32 serviceBy = uint32(start + 60 minutes + GRACE);
        assertEq(m.getBooking(id).deadline, serviceBy, "serviceBy");
        assertEq(m.getListing(pid).lockedUntil, serviceBy + CONFIRM + ARBITRATION, "stake locked");
        vm.warp(start - 1);
        vm.expectRevert(abi.encodeWithSelector(IBookings.MarketplaceTooEarly.selector, start));
        vm.prank(provider);
        m.complete(id);
        vm.warp(serviceBy + 1);
        vm.expectRevert(abi.encodeWithSelector(IBookings.MarketplaceDeadlinePassed.selector, id, serviceBy));
        vm.prank(provider);
        m.complete(id);
        vm.warp(serviceBy);
        vm.prank(provider);
        m.complete(id); // exactly at serviceBy
    }

    function test_confirm_afterWindow_refused_settleThen() public {
        uint32 pid = _listing();
        _setCriteria(customer, _openCriteria(0));
        uint256 id = _book(pid);
        _accept(id);
        _complete(id);
        uint32 confirmBy = m.getBooking(id).deadline;
        vm.expectRevert(abi.encodeWithSelector(IBookings.MarketplaceDeadlineNotReached.selector, id, confirmBy));
        m.settle(id);
        vm.warp(confirmBy + 1);
        vm.expectRevert(abi.encodeWithSelector(IBookings.MarketplaceDeadlinePassed.selector, id, confirmBy));
        vm.prank(customer);
        m.confirm(id);
        vm.expectRevert(abi.encodeWithSelector(IBookings.MarketplaceDeadlinePassed.selector, id, confirmBy));
        vm.prank(customer);
        m.dispute{value: BOND}(id);
        vm.prank(stranger);
        m.settle(id);
        uint256 fee = m.getBooking(id).fee;
        assertEq(m.creditOf(provider, 0), PRICE - fee, "payout");
        assertEq(m.accruedFees(0), fee, "fee");
        assertEq(m.getListing(pid).completed, 1, "completed");
    }

    function test_wrongParties() public {
        uint32 pid = _listing();
        _setCriteria(customer, _openCriteria(0));
        uint256 id = _book(pid);
        vm.expectRevert(abi.encodeWithSelector(IProviderRegistry.MarketplaceNotProviderOwner.selector, pid, stranger));
        vm.prank(stranger);
        m.accept(id);
        vm.expectRevert(abi.encodeWithSelector(IBookings.MarketplaceNotCustomer.selector, id, stranger));
        vm.prank(stranger);
        m.cancel(id);
        vm.expectRevert(abi.encodeWithSelector(IBookings.MarketplaceBookingNotFound.selector, id + 1));
        m.expire(id + 1);
        vm.expectRevert(
            abi.encodeWithSelector(IBookings.MarketplaceInvalidStatus.selector, id, IBookings.Status.Requested)
        );
        vm.prank(provider);
        m.complete(id);
    }

    // ================================================================ cancellation terms

    function test_cancel_requested_fullRefund() public {
        uint32 pid = _listing();
        _setCriteria(customer, _openCriteria(0));
        uint256 id = _book(pid);
        vm.prank(customer);
        m.cancel(id);
        assertEq(m.creditOf(customer, 0), PRICE, "full refund");
    }

    function test_cancel_accepted_freeUntilTermsThenLate() public {
        uint32 pid = _listing(); // 24 h free, then 50 %
        _setCriteria(customer, _openCriteria(0));
        uint40 start = uint40(block.timestamp + 3 days);
        uint256 free = _bookAt(pid, start, 0);
        uint256 late = _bookAt(pid, start, 1);
        _accept(free);
        _accept(late);
        vm.warp(start - 24 hours); // now + 24 h == start: still free
        vm.prank(customer);
        m.cancel(free);
        assertEq(m.creditOf(customer, 0), PRICE, "free cancellation");
        vm.warp(start - 24 hours + 1);
        vm.prank(customer);
        m.cancel(late);
        assertEq(m.creditOf(customer, 0), PRICE + PRICE / 2, "half refunded");
        assertEq(m.creditOf(provider, 0), PRICE / 2, "half compensates the provider");
        assertEq(m.accruedFees(0), 0, "no fee on cancellations");
        assertEq(m.reliabilityOf(pid), 9_000, "customer cancellations are no failures");
    }

    function test_cancel_afterStart_refused() public {
        uint32 pid = _listing();
        _setCriteria(customer, _openCriteria(0));
        uint256 id = _book(pid);
        _accept(id);
        vm.warp(_startOf(id));
        vm.expectRevert(abi.encodeWithSelector(IBookings.MarketplaceSlotStarted.selector, _startOf(id)));
        vm.prank(customer);
        m.cancel(id);
        vm.expectRevert(abi.encodeWithSelector(IBookings.MarketplaceSlotStarted.selector, _startOf(id)));
        vm.prank(provider);
        m.decline(id);
    }

    function test_providerCancel_afterAcceptance_fullRefund_failure() public {
        uint32 pid = _listing();
        _setCriteria(customer, _openCriteria(0));
        uint256 requested = _book(pid);
        vm.prank(provider);
        m.decline(requested);
        assertEq(m.getListing(pid).failures, 0, "declining a request is no failure");
        uint256 id = _bookAt(pid, uint40(block.timestamp + 2 days), 0);
        _accept(id);
        vm.prank(provider);
        m.decline(id);
        assertEq(m.creditOf(customer, 0), 2 * PRICE, "full refunds");
        assertEq(m.getListing(pid).failures, 1, "failure");
        assertEq(m.reliabilityOf(pid), 8_181, "(0 + 9) x 10,000 / (0 + 1 + 10)");
    }

    // ================================================================ no-show and stake

    function test_noShow_refund_slash_failure() public {
        uint32 pid = _listing();
        _setCriteria(customer, _openCriteria(0));
        uint256 id = _book(pid);
        _accept(id);
        uint32 serviceBy = m.getBooking(id).deadline;
        vm.warp(serviceBy);
        vm.expectRevert(abi.encodeWithSelector(IBookings.MarketplaceDeadlineNotReached.selector, id, serviceBy));
        m.expire(id);
        vm.warp(serviceBy + 1);
        vm.prank(stranger);
        m.expire(id);
        assertEq(m.creditOf(customer, 0), PRICE + MIN_STAKE / 10, "refund + 10 % of the stake");
        assertEq(m.getListing(pid).stake, MIN_STAKE - MIN_STAKE / 10, "stake slashed");
        assertEq(m.getListing(pid).failures, 1, "no-show is a failure");
    }

    function test_stake_lockedUntil_thenReleased_andTopUp() public {
        uint32 pid = _listing();
        _setCriteria(customer, _openCriteria(0));
        vm.expectRevert(abi.encodeWithSelector(IProviderRegistry.MarketplaceStakeLocked.selector, pid, uint32(0)));
        vm.prank(provider);
        m.releaseStake(pid);
        vm.prank(stranger);
        m.topUpStake{value: 1 ether}(pid);
        assertEq(m.getListing(pid).stake, MIN_STAKE + 1 ether, "topped up");
        vm.expectRevert(IProviderRegistry.MarketplaceZeroValue.selector);
        m.topUpStake(pid);
        uint256 id = _bookAt(pid, uint40(block.timestamp + 30 days), 0);
        _accept(id);
        uint32 lockedUntil = m.getListing(pid).lockedUntil;
        vm.prank(provider);
        m.deactivate(pid);
        assertEq(m.getListing(pid).lockedUntil, lockedUntil, "cooldown ends before the lock");
        vm.warp(block.timestamp + COOLDOWN + 1); // cooldown over, lock not
        vm.expectRevert(abi.encodeWithSelector(IProviderRegistry.MarketplaceStakeLocked.selector, pid, lockedUntil));
        vm.prank(provider);
        m.releaseStake(pid);
        vm.warp(lockedUntil - 1);
        vm.expectRevert(abi.encodeWithSelector(IProviderRegistry.MarketplaceStakeLocked.selector, pid, lockedUntil));
        vm.prank(provider);
        m.releaseStake(pid);
        vm.warp(lockedUntil);
        vm.prank(provider);
        m.releaseStake(pid);
        assertEq(m.creditOf(provider, 0), MIN_STAKE + 1 ether, "released");
    }

    function test_deactivate_cooldown_reactivate() public {
        uint32 pid = _listing();
        vm.prank(provider);
        m.deactivate(pid);
        assertEq(m.getListing(pid).lockedUntil, block.timestamp + COOLDOWN, "cooldown");
        vm.expectRevert(
            abi.encodeWithSelector(IProviderRegistry.MarketplaceProviderStateUnchanged.selector, pid, false)
        );
        vm.prank(provider);
        m.deactivate(pid);
        vm.prank(provider);
        m.reactivate(pid);
        assertTrue(m.getListing(pid).active, "active again");
    }

    // ================================================================ ratings and counters

    function test_rate_weightedByFee_bayesian() public {
        uint32 pid = _listing();
        _setCriteria(customer, _openCriteria(0));
        uint256 id = _settled(pid);
        vm.expectRevert(abi.encodeWithSelector(IBookings.MarketplaceInvalidStars.selector, uint8(6)));
        vm.prank(customer);
        m.rate(id, 6, 0);
        vm.expectRevert(abi.encodeWithSelector(IBookings.MarketplaceNotCustomer.selector, id, stranger));
        vm.prank(stranger);
        m.rate(id, 5, 0);
        vm.prank(customer);
        m.rate(id, 5, 0);
        IProviderRegistry.Listing memory l = m.getListing(pid);
        assertEq(l.ratingWeight, 2_500, "weight = fee x 1000 / minFee");
        assertEq(l.weightedStars, 12_500, "stars x weight");
        assertEq(m.scoreOf(pid), 36_666, "weighted Bayesian: (20,000 x 35,000 + 12,500 x 10,000) / 22,500");
        vm.expectRevert(abi.encodeWithSelector(IBookings.MarketplaceAlreadyRated.selector, id));
        vm.prank(customer);
        m.rate(id, 5, 0);
    }

    function test_instant_lifecycle_confirmAndRate() public {
        uint32 pid = _register(provider, _input(0, PRICE, true));
        _setCriteria(customer, _openCriteria(0));
        uint256 id = _book(pid);
        assertTrue(_status(id) == IBookings.Status.Accepted, "accepted on booking");
        assertTrue(m.getListing(pid).lockedUntil > 0, "stake locked");
        _complete(id);
        vm.prank(customer);
        m.confirmAndRate(id, 4, 0x3);
        assertTrue(_status(id) == IBookings.Status.Settled && m.getBooking(id).rated, "settled and rated");
    }

    function test_weightCap_2pow40() public {
        uint88 huge = 5_000_000 ether; // fee 1.25e23 wei: 1.25e12 weight units before the cap
        vm.deal(customer, huge + 1 ether);
        uint32 pid = _register(provider, _input(0, huge, false));
        _setCriteria(customer, _openCriteria(0));
        uint256 id = _settled(pid);
        vm.prank(customer);
        m.rate(id, 5, 0);
        assertEq(m.getListing(pid).ratingWeight, 2 ** 40, "capped");
        assertEq(m.MAX_RATING_WEIGHT(), 2 ** 40, "constant");
    }

    function test_feeAbove80Bits_revertsNeverTruncates() public {
        uint88 huge = 50_000_000 ether; // fee 1.25e24 > 2^80 - 1
        vm.deal(customer, huge + 1 ether);
        uint32 pid = _register(provider, _input(0, huge, false));
        _setCriteria(customer, _openCriteria(0));
        IBookings.BookingRequest memory r = _req(customer, pid, uint40(block.timestamp + 1 days), 0);
        vm.expectRevert(
            abi.encodeWithSignature("SafeCastOverflowedUintDowncast(uint8,uint256)", uint8(80), uint256(huge) / 40)
        );
        vm.prank(customer);
        m.book{value: huge}(r);
    }

    function test_counters_halveAt65535() public {
        uint32 pid = _listing();
        _setCriteria(customer, _openCriteria(0));
        _setCounters(pid, 65_535, 7);
        _settled(pid);
        IProviderRegistry.Listing memory l = m.getListing(pid);
        assertEq(l.completed, 32_768, "halved then counted");
        assertEq(l.failures, 3, "halved");
        _setCounters(pid, 100, 65_535);
        uint256 id = _book(pid);
        _accept(id);
        vm.prank(provider);
        m.decline(id);
        l = m.getListing(pid);
        assertEq(l.completed, 50, "halved");
        assertEq(l.failures, 32_768, "halved then counted");
    }

    // ================================================================ disputes

    function test_dispute_wrongBond_reverts() public {
        uint32 pid = _listing();
        _setCriteria(customer, _openCriteria(0));
        uint256 id = _book(pid);
        _accept(id);
        _complete(id);
        vm.expectRevert(abi.encodeWithSelector(IBookings.MarketplaceValueMismatch.selector, BOND - 1, BOND));
        vm.prank(customer);
        m.dispute{value: BOND - 1}(id);
    }

    function test_dispute_providerLoses() public {
        uint32 pid = _listing();
        _setCriteria(customer, _openCriteria(0));
        uint256 id = _disputed(pid);
        assertEq(m.disputeBondOf(id), BOND, "bond held");
        assertEq(m.getBooking(id).arbiterId, 1, "arbiter fixed at booking");
        vm.prank(arb);
        m.resolve(id, 6_000);
        uint256 fee = m.getBooking(id).fee;
        uint256 refund = ((PRICE - fee) * 6_000) / 10_000;
        assertEq(m.creditOf(customer, 0), refund + BOND, "refund + bond back");
        assertEq(m.creditOf(provider, 0), PRICE - fee - refund, "rest to the provider");
        assertEq(m.accruedFees(0), fee, "fee taken regardless");
        assertEq(m.creditOf(arb, 0), BOND, "arbiter paid from the stake");
        IProviderRegistry.Listing memory l = m.getListing(pid);
        assertEq(l.stake, MIN_STAKE - BOND, "stake paid the arbiter");
        assertEq(l.ratingWeight, 2_500, "one-star rating at the booking's weight");
        assertEq(l.weightedStars, 2_500, "one star");
        assertEq(l.failures, 1, "failure");
        assertEq(l.completed, 1, "resolved counts as completed");
        assertEq(m.disputeBondOf(id), 0, "bond released");
    }

    function test_dispute_customerLoses_bondPaysArbiter() public {
        uint32 pid = _listing();
        _setCriteria(customer, _openCriteria(0));
        uint256 id = _disputed(pid);
        vm.prank(arb);
        m.resolve(id, 5_000);
        uint256 fee = m.getBooking(id).fee;
        assertEq(m.creditOf(arb, 0), BOND, "bond pays the arbiter");
        assertEq(m.creditOf(customer, 0), (PRICE - fee) / 2, "half of price - fee");
        assertEq(m.getListing(pid).stake, MIN_STAKE, "stake untouched");
        assertEq(m.getListing(pid).failures, 0, "no failure");
        assertEq(m.getListing(pid).ratingWeight, 0, "no rating");
    }

    function test_dispute_default_afterArbitrateBy() public {
        uint32 pid = _listing();
        _setCriteria(customer, _openCriteria(0));
        uint256 id = _disputed(pid);
        uint32 by = m.getBooking(id).deadline;
        vm.warp(by);
        vm.expectRevert(abi.encodeWithSelector(IBookings.MarketplaceDeadlineNotReached.selector, id, by));
        m.resolveByDefault(id);
        vm.warp(by + 1);
        vm.expectRevert(abi.encodeWithSelector(IBookings.MarketplaceDeadlinePassed.selector, id, by));
        vm.prank(arb);
        m.resolve(id, 10_000);
        vm.prank(stranger);
        m.resolveByDefault(id);
        uint256 fee = m.getBooking(id).fee;
        assertEq(m.creditOf(customer, 0), (PRICE - fee) / 2 + BOND, "half + bond back");
        assertEq(m.creditOf(arb, 0), 0, "arbiter unpaid");
        IProviderRegistry.Listing memory l = m.getListing(pid);
        assertTrue(l.completed == 0 && l.failures == 0 && l.ratingWeight == 0, "no effect");
    }

    function test_resolve_onlyTheBookingsArbiter_neverAParty() public {
        uint32 pid = _listing();
        _setCriteria(customer, _openCriteria(0));
        uint256 id = _disputed(pid);
        address other = _actor("other arbiter");
        _change(IMarketplaceAdmin.ChangeKind.Arbiter, other, 1);
        _change(IMarketplaceAdmin.ChangeKind.DefaultArbiter, other, 0);
        vm.expectRevert(abi.encodeWithSelector(IBookings.MarketplaceNotArbiter.selector, id, other));
        vm.prank(other);
        m.resolve(id, 0); // not this booking's arbiter, although now the default
        vm.expectRevert(abi.encodeWithSelector(IBookings.MarketplaceInvalidRefundBps.selector, uint16(10_001)));
        vm.prank(arb);
        m.resolve(id, 10_001);
        // the provider's owner as arbiter of its own booking
        _change(IMarketplaceAdmin.ChangeKind.Arbiter, provider, 1);
        _change(IMarketplaceAdmin.ChangeKind.DefaultArbiter, provider, 0);
        uint256 own = _disputed(pid);
        vm.expectRevert(abi.encodeWithSelector(IBookings.MarketplaceNotArbiter.selector, own, provider));
        vm.prank(provider);
        m.resolve(own, 0);
        // a removed arbiter cannot resolve
        _change(IMarketplaceAdmin.ChangeKind.Arbiter, arb, 0);
        vm.expectRevert(abi.encodeWithSelector(IBookings.MarketplaceNotArbiter.selector, id, arb));
        vm.prank(arb);
        m.resolve(id, 0);
    }

    // ================================================================ timelock

    function test_timelock_beforeAfterEta_cancel() public {
        vm.expectRevert();
        vm.prank(stranger);
        m.scheduleChange(IMarketplaceAdmin.ChangeKind.FeeRate, address(0), 500);
        vm.prank(operator);
        uint32 eta = m.scheduleChange(IMarketplaceAdmin.ChangeKind.FeeRate, address(0), 500);
        assertEq(eta, block.timestamp + DELAY, "eta");
        assertEq(m.changeEta(IMarketplaceAdmin.ChangeKind.FeeRate, address(0), 500), eta, "eta view");
        vm.expectRevert(
            abi.encodeWithSelector(
                IMarketplaceAdmin.MarketplaceChangeAlreadyScheduled.selector,
                IMarketplaceAdmin.ChangeKind.FeeRate,
                address(0),
                500,
                eta
            )
        );
        vm.prank(operator);
        m.scheduleChange(IMarketplaceAdmin.ChangeKind.FeeRate, address(0), 500);
        vm.warp(eta - 1);
        vm.expectRevert(abi.encodeWithSelector(IMarketplaceAdmin.MarketplaceChangeNotReady.selector, eta));
        m.applyChange(IMarketplaceAdmin.ChangeKind.FeeRate, address(0), 500);
        vm.warp(eta);
        vm.prank(stranger); // anyone applies
        m.applyChange(IMarketplaceAdmin.ChangeKind.FeeRate, address(0), 500);
        assertEq(m.feeRate(), 500, "applied");
        vm.expectRevert(
            abi.encodeWithSelector(
                IMarketplaceAdmin.MarketplaceChangeNotScheduled.selector,
                IMarketplaceAdmin.ChangeKind.FeeRate,
                address(0),
                500
            )
        );
        m.applyChange(IMarketplaceAdmin.ChangeKind.FeeRate, address(0), 500);
        vm.prank(operator);
        m.scheduleChange(IMarketplaceAdmin.ChangeKind.MinStake, address(0), 1 ether);
        vm.prank(operator);
        m.cancelChange(IMarketplaceAdmin.ChangeKind.MinStake, address(0), 1 ether);
        vm.warp(block.timestamp + DELAY);
        vm.expectRevert(
            abi.encodeWithSelector(
                IMarketplaceAdmin.MarketplaceChangeNotScheduled.selector,
                IMarketplaceAdmin.ChangeKind.MinStake,
                address(0),
                1 ether
            )
        );
        m.applyChange(IMarketplaceAdmin.ChangeKind.MinStake, address(0), 1 ether);
        assertEq(m.minStake(), MIN_STAKE, "unchanged");
    }

    function test_timelock_invalidValues() public {
        vm.startPrank(operator);
        vm.expectRevert(abi.encodeWithSelector(IMarketplaceAdmin.MarketplaceFeeAboveCap.selector, 1_001, 1_000));
        m.scheduleChange(IMarketplaceAdmin.ChangeKind.FeeRate, address(0), 1_001);
        vm.expectRevert(
            abi.encodeWithSelector(
                IMarketplaceAdmin.MarketplaceInvalidChange.selector, IMarketplaceAdmin.ChangeKind.MinFee, address(0), 0
            )
        );
        m.scheduleChange(IMarketplaceAdmin.ChangeKind.MinFee, address(0), 0);
        vm.expectRevert(
            abi.encodeWithSelector(
                IMarketplaceAdmin.MarketplaceInvalidChange.selector, IMarketplaceAdmin.ChangeKind.Arbiter, address(0), 1
            )
        );
        m.scheduleChange(IMarketplaceAdmin.ChangeKind.Arbiter, address(0), 1);
        vm.expectRevert(
            abi.encodeWithSelector(
                IMarketplaceAdmin.MarketplaceInvalidChange.selector,
                IMarketplaceAdmin.ChangeKind.Currency,
                address(usd),
                2
            )
        );
        m.scheduleChange(IMarketplaceAdmin.ChangeKind.Currency, address(usd), 2);
        // enabling a token without a minimum fee: refused at apply
        m.scheduleChange(IMarketplaceAdmin.ChangeKind.Currency, address(0xBEEF), 1);
        vm.stopPrank();
        vm.warp(block.timestamp + DELAY);
        vm.expectRevert(
            abi.encodeWithSelector(
                IMarketplaceAdmin.MarketplaceInvalidChange.selector,
                IMarketplaceAdmin.ChangeKind.Currency,
                address(0xBEEF),
                1
            )
        );
        m.applyChange(IMarketplaceAdmin.ChangeKind.Currency, address(0xBEEF), 1);
    }

    function test_setPaused_immediate_and_renounceDisabled() public {
        vm.prank(operator);
        m.setPaused(true);
        assertTrue(m.paused(), "paused");
        vm.expectRevert(IMarketplaceAdmin.MarketplacePaused.selector);
        vm.prank(provider);
        m.register{value: MIN_STAKE}(_input(0, PRICE, false));
        vm.expectRevert(IMarketplaceAdmin.MarketplaceRenounceDisabled.selector);
        vm.prank(operator);
        market.renounceOwnership();
    }

    // ================================================================ withdrawals and fees

    function test_withdrawTo_selfOrZero_refused_nothingToWithdraw() public {
        uint32 pid = _listing();
        _setCriteria(customer, _openCriteria(0));
        uint256 id = _book(pid);
        vm.prank(customer);
        m.cancel(id);
        vm.expectRevert(abi.encodeWithSelector(IMarketplaceAdmin.MarketplaceInvalidRecipient.selector, address(m)));
        vm.prank(customer);
        m.withdrawTo(0, address(m));
        vm.expectRevert(abi.encodeWithSelector(IMarketplaceAdmin.MarketplaceInvalidRecipient.selector, address(0)));
        vm.prank(customer);
        m.withdrawTo(0, address(0));
        vm.prank(customer);
        m.withdrawTo(0, stranger);
        assertEq(stranger.balance, 1_000 ether + PRICE, "paid to stranger");
        vm.expectRevert(
            abi.encodeWithSelector(IMarketplaceAdmin.MarketplaceNothingToWithdraw.selector, customer, uint8(0))
        );
        vm.prank(customer);
        m.withdraw(0);
    }

    function test_collectFees_perCurrency() public {
        uint32 pid = _listing();
        _setCriteria(customer, _openCriteria(0));
        uint256 id = _settled(pid);
        uint256 fee = m.getBooking(id).fee;
        vm.expectRevert(
            abi.encodeWithSelector(IMarketplaceAdmin.MarketplaceInsufficientFees.selector, uint8(0), fee + 1, fee)
        );
        vm.prank(operator);
        m.collectFees(0, operator, fee + 1);
        vm.prank(operator);
        m.collectFees(0, operator, fee);
        assertEq(m.creditOf(operator, 0), fee, "credited");
    }

    // ================================================================ deployment and the module

    function test_deployment_settings_andModuleLockedDown() public {
        assertEq(m.feeRate(), FEE_BPS, "fee");
        assertEq(m.minFee(0), MIN_FEE, "ether min fee");
        assertEq(m.minFee(1), USD_MIN_FEE, "usd min fee");
        assertEq(m.disputeBond(), BOND, "bond");
        assertEq(m.defaultArbiter(), 1, "default arbiter");
        assertEq(m.namedAttestors(), 1, "attestor 1");
        assertEq(m.changeDelay(), DELAY, "delay");
        assertEq(m.windows().serviceGrace, GRACE, "windows");
        (address token, bool enabled, uint80 mf) = m.currency(1);
        assertTrue(token == address(usd) && enabled && mf == USD_MIN_FEE, "currency 1");
        MarketplaceModule module = MarketplaceModule(market.MODULE());
        vm.expectRevert(MarketplaceModule.MarketplaceNotConstructing.selector);
        module.initialize(_setup(address(0), 0));
        vm.expectRevert(MarketplaceModule.MarketplaceNotConstructing.selector);
        MarketplaceModule(address(m)).initialize(_setup(address(0), 0));
        (bool ok,) = address(m).call{value: 1}("");
        assertTrue(!ok, "plain ether refused");
    }

    function test_constructor_invalidWindow() public {
        IMarketplaceAdmin.Setup memory s = _setup(address(0), 0);
        s.windows.confirm = 0;
        vm.expectRevert(IMarketplaceAdmin.MarketplaceInvalidWindow.selector);
        new Marketplace(s);
        s.windows.confirm = 366 days;
        vm.expectRevert(IMarketplaceAdmin.MarketplaceInvalidWindow.selector);
        new Marketplace(s);
    }
}
