// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {IMarketplace} from "../../contracts/interfaces/IMarketplace.sol";
import {IMarketplaceAdmin} from "../../contracts/interfaces/IMarketplaceAdmin.sol";
import {IProviderRegistry} from "../../contracts/interfaces/IProviderRegistry.sol";
import {ICriteriaRegistry} from "../../contracts/interfaces/ICriteriaRegistry.sol";
import {IBookings} from "../../contracts/interfaces/IBookings.sol";
import {MarketFixture} from "./base/MarketFixture.sol";
import {Attacker, BadReceiver} from "./actors/Actors.sol";

interface IOwnable {
    function owner() external view returns (address);
    function renounceOwnership() external;
}

/// @title Deterministic edge cases: every deadline exactly and one second past it, the stake
///        cooldown, pause, re-entrancy and refusing receivers, plus the design doubts of the report
///        (tests named test_doubt_* pass: they document behaviour, they do not assert it is wrong).
contract Boundaries is MarketFixture {
    uint96 internal constant PRICE = 1 ether;

    function _requested() internal returns (uint256 bid, uint32 pid) {
        pid = _register(providerOwner, 1, 0, 0, PRICE);
        _openCriteria(customer, 1, type(uint96).max);
        bid = _book(customer, pid);
    }

    function _expectDeadlinePassed(uint256 bid) internal {
        vm.expectRevert(
            abi.encodeWithSelector(IBookings.MarketplaceDeadlinePassed.selector, bid, market.getBooking(bid).deadline)
        );
    }

    function _expectNotReached(uint256 bid) internal {
        vm.expectRevert(
            abi.encodeWithSelector(IBookings.MarketplaceDeadlineNotReached.selector, bid, market.getBooking(bid).deadline)
        );
    }

    // ================================================================ deadlines

    function test_respondWindow_acceptAtDeadline_expireOneSecondLater() public {
        (uint256 bid,) = _requested();
        uint40 d = market.getBooking(bid).deadline;
        assertEq(d, block.timestamp + RESPOND, "respondBy");
        vm.warp(d);
        _expectNotReached(bid);
        market.expire(bid);
        vm.prank(providerOwner);
        market.accept(bid); // exactly at the deadline: still open
        assertEq(_status(bid), uint8(IBookings.Status.Accepted), "accepted at the deadline");
    }

    function test_respondWindow_acceptOneSecondLate_reverts_thenExpires() public {
        (uint256 bid,) = _requested();
        vm.warp(market.getBooking(bid).deadline + 1);
        _expectDeadlinePassed(bid);
        vm.prank(providerOwner);
        market.accept(bid);
        vm.prank(stranger);
        market.expire(bid);
        assertEq(_status(bid), uint8(IBookings.Status.Expired), "expired");
        assertEq(market.creditOf(customer), PRICE, "full refund");
    }

    function test_serviceWindow_completeAtDeadline_expireAfter() public {
        (uint256 bid,) = _requested();
        vm.prank(providerOwner);
        market.accept(bid);
        uint40 d = market.getBooking(bid).deadline;
        assertEq(d, block.timestamp + SERVICE, "serviceBy");
        vm.warp(d);
        _expectNotReached(bid);
        market.expire(bid);
        uint256 snap = _snapshotComplete(bid);
        assertEq(snap, uint8(IBookings.Status.Completed), "completed at the deadline");
    }

    function _snapshotComplete(uint256 bid) internal returns (uint256) {
        vm.prank(providerOwner);
        market.complete(bid);
        return _status(bid);
    }

    function test_serviceWindow_completeOneSecondLate_reverts_thenExpires() public {
        (uint256 bid,) = _requested();
        vm.prank(providerOwner);
        market.accept(bid);
        vm.warp(market.getBooking(bid).deadline + 1);
        _expectDeadlinePassed(bid);
        vm.prank(providerOwner);
        market.complete(bid);
        market.expire(bid);
        assertEq(market.creditOf(customer), PRICE, "accepted-but-never-delivered booking refunded");
    }

    function test_confirmWindow_disputeAtDeadline_settleOnlyAfter() public {
        (uint256 bid,) = _completedBooking(PRICE);
        uint40 d = market.getBooking(bid).deadline;
        vm.warp(d);
        _expectNotReached(bid);
        market.settle(bid);
        vm.prank(customer);
        market.dispute(bid);
        assertEq(_status(bid), uint8(IBookings.Status.Disputed), "disputed at the deadline");
    }

    function test_confirmWindow_disputeOneSecondLate_reverts_settleWorks() public {
        (uint256 bid,) = _completedBooking(PRICE);
        vm.warp(market.getBooking(bid).deadline + 1);
        _expectDeadlinePassed(bid);
        vm.prank(customer);
        market.dispute(bid);
        vm.prank(stranger);
        market.settle(bid);
        assertEq(_status(bid), uint8(IBookings.Status.Settled), "settled by anyone after the window");
    }

    function test_arbitrationWindow_resolveAtDeadline_defaultOnlyAfter() public {
        (uint256 bid,) = _completedBooking(PRICE);
        vm.prank(customer);
        market.dispute(bid);
        vm.warp(market.getBooking(bid).deadline);
        _expectNotReached(bid);
        market.resolveByDefault(bid);
        vm.prank(arbiter);
        market.resolve(bid, 10_000);
        assertEq(market.creditOf(customer), PRICE, "full refund by the arbiter");
    }

    function test_arbitrationWindow_resolveOneSecondLate_reverts_defaultSplitsEvenly() public {
        (uint256 bid,) = _completedBooking(PRICE);
        vm.prank(customer);
        market.dispute(bid);
        vm.warp(market.getBooking(bid).deadline + 1);
        _expectDeadlinePassed(bid);
        vm.prank(arbiter);
        market.resolve(bid, 10_000);
        vm.prank(stranger);
        market.resolveByDefault(bid);
        assertEq(market.creditOf(customer), PRICE / 2, "default refund is half");
        assertEq(market.getProvider(market.getBooking(bid).providerId).disputesLost, 0, "an even split is not lost");
    }

    function test_stakeCooldown_releaseAtUnlockNotBefore() public {
        uint32 pid = _register(providerOwner, 1, 0, 0, PRICE);
        vm.prank(providerOwner);
        market.deactivate(pid);
        uint40 unlockAt = market.getProvider(pid).stakeUnlockAt;
        assertEq(unlockAt, block.timestamp + COOLDOWN, "unlockAt");
        vm.warp(unlockAt - 1);
        vm.expectRevert(abi.encodeWithSelector(IProviderRegistry.MarketplaceStakeLocked.selector, pid, unlockAt));
        vm.prank(providerOwner);
        market.releaseStake(pid);
        vm.warp(unlockAt);
        vm.prank(providerOwner);
        market.releaseStake(pid);
        assertEq(market.creditOf(providerOwner), MIN_STAKE, "stake credited");
        vm.expectRevert(abi.encodeWithSelector(IProviderRegistry.MarketplaceStakeLocked.selector, pid, unlockAt));
        vm.prank(providerOwner);
        market.releaseStake(pid); // only once
    }

    // ================================================================ access

    function test_wrongParties_cannotMoveABooking() public {
        (uint256 bid,) = _requested();
        vm.expectRevert(abi.encodeWithSelector(IProviderRegistry.MarketplaceNotProviderOwner.selector, 1, customer));
        vm.prank(customer);
        market.accept(bid);
        vm.expectRevert(abi.encodeWithSelector(IBookings.MarketplaceNotCustomer.selector, bid, providerOwner));
        vm.prank(providerOwner);
        market.cancel(bid);
        vm.prank(providerOwner);
        market.accept(bid);
        vm.prank(providerOwner);
        market.complete(bid);
        vm.expectRevert(abi.encodeWithSelector(IBookings.MarketplaceNotCustomer.selector, bid, stranger));
        vm.prank(stranger);
        market.confirm(bid);
        vm.prank(customer);
        market.dispute(bid);
        // An arbiter who is a party may not resolve.
        vm.prank(owner);
        market.setArbiter(customer, true);
        vm.expectRevert(abi.encodeWithSelector(IBookings.MarketplaceNotArbiter.selector, bid, customer));
        vm.prank(customer);
        market.resolve(bid, 10_000);
        vm.expectRevert(abi.encodeWithSelector(IBookings.MarketplaceNotArbiter.selector, bid, stranger));
        vm.prank(stranger);
        market.resolve(bid, 0);
    }

    function test_pause_stopsBookingsAndRegistrations_notRefundsOrWithdrawals() public {
        (uint256 bid, uint32 pid) = _requested();
        vm.prank(owner);
        market.setPaused(true);
        vm.deal(customer, PRICE);
        vm.expectRevert(IMarketplaceAdmin.MarketplacePaused.selector);
        vm.prank(customer);
        market.book{value: PRICE}(pid, PRICE, 1);
        vm.deal(providerOwner, MIN_STAKE);
        vm.expectRevert(IMarketplaceAdmin.MarketplacePaused.selector);
        vm.prank(providerOwner);
        market.register{value: MIN_STAKE}(1, 0, 0, PRICE, bytes32(0));
        vm.prank(customer);
        market.cancel(bid);
        uint256 before = customer.balance;
        vm.prank(customer);
        market.withdraw();
        assertEq(customer.balance - before, PRICE, "withdrawal works while paused");
    }

    // ================================================================ re-entrancy and refusing receivers

    function test_reentrancy_attackerGetsExactlyItsCredit() public {
        Attacker atk = new Attacker(IMarketplace(address(market)), address(this));
        uint32 pid = _register(providerOwner, 1, 0, 0, PRICE);
        _openCriteria(address(atk), 1, type(uint96).max);
        vm.deal(address(this), 2 * PRICE);
        uint256 b1 = abi.decode(
            atk.exec{value: PRICE}(abi.encodeCall(IBookings.book, (pid, PRICE, 1))), (uint256)
        );
        uint256 b2 = abi.decode(
            atk.exec{value: PRICE}(abi.encodeCall(IBookings.book, (pid, PRICE, 1))), (uint256)
        );
        atk.exec(abi.encodeCall(IBookings.cancel, (b1)));
        atk.setTargets(b2, 0, pid, PRICE, 1, payable(stranger));
        uint256 marketBefore = address(market).balance;
        atk.exec(abi.encodeCall(IMarketplaceAdmin.withdraw, ()));
        assertEq(atk.reentryAttempts(), 1, "the attacker re-entered");
        assertEq(atk.guardedReentrySuccesses(), 0, "no guarded re-entrant call succeeded");
        assertEq(atk.totalReceived(), PRICE, "received exactly its credit");
        assertEq(marketBefore - address(market).balance, PRICE, "market paid exactly once");
        assertEq(_status(b2), uint8(IBookings.Status.Requested), "the other booking untouched");
        assertEq(market.creditOf(address(atk)), 0, "credit spent");
    }

    function test_refusingReceiver_keepsCredit_withdrawToWorks() public {
        BadReceiver bad = new BadReceiver(IMarketplace(address(market)), address(this));
        vm.deal(address(this), MIN_STAKE);
        uint32 pid = abi.decode(
            bad.exec{value: MIN_STAKE}(abi.encodeCall(IProviderRegistry.register, (1, 0, 0, PRICE, bytes32(0)))),
            (uint32)
        );
        _openCriteria(customer, 1, type(uint96).max);
        uint256 bid = _book(customer, pid);
        bad.exec(abi.encodeCall(IBookings.accept, (bid)));
        bad.exec(abi.encodeCall(IBookings.complete, (bid)));
        vm.prank(customer);
        market.confirm(bid);
        uint256 credit = market.creditOf(address(bad));
        assertEq(credit, PRICE - PRICE * 250 / 10_000, "payout credited");
        for (uint8 mode = 1; mode <= 2; mode++) {
            bad.setMode(mode); // 1 reverts, 2 burns all gas
            vm.expectRevert(
                abi.encodeWithSelector(IMarketplaceAdmin.MarketplaceTransferFailed.selector, address(bad), credit)
            );
            bad.exec(abi.encodeCall(IMarketplaceAdmin.withdraw, ()));
            assertEq(market.creditOf(address(bad)), credit, "credit kept after a refused payment");
        }
        bad.exec(abi.encodeCall(IMarketplaceAdmin.withdrawTo, (payable(stranger))));
        assertEq(stranger.balance, credit, "withdrawTo pays another address");
        assertEq(market.creditOf(address(bad)), 0, "credit spent");
    }

    function test_plainEtherTransfer_isRefused() public {
        vm.deal(stranger, 1 ether);
        vm.prank(stranger);
        (bool ok,) = address(market).call{value: 1 ether}("");
        assertFalse(ok, "the market accepted a plain transfer");
    }

    // ================================================================ design doubts (documented)

    /// @notice DOUBT 1: book() checks `criteriaVersion` against the version stored for the
    ///         provider's category, while criteriaVersionOf() returns the customer's latest version
    ///         over all categories. A client that quotes with criteriaVersionOf() is refused as soon
    ///         as the customer has written another category since.
    function test_doubt_bookWithCriteriaVersionOf_revertsAfterAnotherCategoryChanged() public {
        uint32 pid = _register(providerOwner, 1, 0, 0, PRICE);
        _openCriteria(customer, 1, type(uint96).max); // version 1, category 1
        _openCriteria(customer, 2, type(uint96).max); // version 2, category 2
        uint32 latest = market.criteriaVersionOf(customer);
        assertEq(latest, 2, "criteriaVersionOf");
        vm.deal(customer, PRICE);
        vm.expectRevert(abi.encodeWithSelector(IBookings.MarketplaceCriteriaVersionMismatch.selector, 2, 1));
        vm.prank(customer);
        market.book{value: PRICE}(pid, PRICE, latest);
        uint32 categoryVersion = market.getCriteria(customer, 1).version;
        vm.prank(customer);
        market.book{value: PRICE}(pid, PRICE, categoryVersion); // the category's version works
    }

    /// @notice renounceOwnership is disabled (IMarketplaceAdmin.MarketplaceRenounceDisabled): without
    ///         an operator, accrued fees could never be collected. The fees stay collectable.
    function test_renounceOwnership_isDisabled_feesStayCollectable() public {
        (uint256 bid,) = _completedBooking(PRICE);
        vm.prank(customer);
        market.confirm(bid);
        uint256 fees = market.accruedFees();
        assertGt(fees, 0, "fees accrued");
        vm.expectRevert(IMarketplaceAdmin.MarketplaceRenounceDisabled.selector);
        vm.prank(owner);
        IOwnable(address(market)).renounceOwnership();
        assertEq(IOwnable(address(market)).owner(), owner, "still owned");
        vm.prank(owner);
        market.collectFees(owner, fees);
        assertEq(market.creditOf(owner), fees, "fees collected");
    }

    /// @notice DOUBT 2: ether can be forced into the contract without a call (SELFDESTRUCT to it,
    ///         or a block reward). Then balance > escrow + credits + fees + stakes, so an auditor
    ///         checking DESIGN invariant 1 as a strict equality reports a violation no transaction of
    ///         the contract caused; the surplus is also unrecoverable. Check ">=" and report the
    ///         surplus instead.
    function test_doubt_forcedEther_breaksStrictSolvencyEquality() public {
        (uint256 bid,) = _requested();
        bid;
        uint256 ledger = PRICE + MIN_STAKE; // open escrow + stake
        assertEq(address(market).balance, ledger, "strict equality before");
        vm.deal(address(market), address(market).balance + 1); // what SELFDESTRUCT does
        assertEq(address(market).balance, ledger + 1, "balance above the ledger, nobody can withdraw it");
    }

    /// @notice DOUBT 3: a provider's owner may book its own listing from the same address and rate
    ///         it five stars; the only cost is the fee (0 if the fee rate is 0). Nothing ties a rating
    ///         to a party distinct from the provider.
    function test_doubt_selfDealing_ratesOwnListing() public {
        uint32 pid = _register(customer, 1, 0, 0, PRICE);
        _openCriteria(customer, 1, type(uint96).max);
        uint256 bid = _book(customer, pid);
        vm.startPrank(customer);
        market.accept(bid);
        market.complete(bid);
        market.confirm(bid);
        market.rate(bid, 5, 0);
        vm.stopPrank();
        assertGt(market.scoreOf(pid), 35_000, "score raised by its own owner");
        assertEq(market.creditOf(customer), PRICE - PRICE * 250 / 10_000, "cost: only the fee");
    }
}
