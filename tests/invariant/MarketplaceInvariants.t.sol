// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {IMarketplace} from "../../contracts/interfaces/IMarketplace.sol";
import {IBookings} from "../../contracts/interfaces/IBookings.sol";
import {TestToken} from "../../contracts/test/tokens/TestToken.sol";
import {TestBase} from "./base/TestBase.sol";
import {Deploy} from "./base/Deploy.sol";
import {MarketplaceHandler} from "./handlers/MarketplaceHandler.sol";

/// @title The contract v2 invariants, checked after every fuzz call
/// @notice One campaign drives handlers/MarketplaceHandler.sol over ether (currency 0) and an
///         ERC-20 (currency 1). Every handler action predicts from its model whether the call must
///         succeed and what it moves, acts as the chosen party, and fails the run on any
///         disagreement ("0 spec: ..."): so every status transition that happened was a legal one,
///         and every legal one offered happened. After every call `invariant_marketplace` checks:
///           1 solvency    per currency, to the wei: balance == open escrow + credits + accrued fees
///                         (+ stakes + open dispute bonds in ether); each term == the model
///           2 bookings    stored status, price, fee, terms, deadline, rated, bond == model; fee <= price;
///                         each fee == max(ceil(price x feeBps / 10,000), minFee) (also in BookingRequested)
///           3 ratings     ratingWeight and weightedStars per listing == what ratings and lost disputes
///                         added (model) == what BookingRated / DisputeResolved reported; score formula
///           4 reliability completed / failures == model; reliabilityOf == the formula
///           5 listings    stake (slashes, top-ups, releases conserve value), offerVersion, lockedUntil
///           6 compliance  no booking by its listing's owner; firstFailedCriterion == the reference rule
///           7 access      no guarded re-entrant call succeeded (the attacker re-enters on every payment)
///         `afterInvariant` then uses every timed exit, releases every stake, collects every fee and
///         withdraws every credit: the market must end holding nothing in either currency.
contract MarketplaceInvariants is TestBase {
    IMarketplace internal market;
    TestToken internal token;
    MarketplaceHandler internal handler;

    function setUp() public {
        address owner = makeAddr("owner");
        address arbiter = makeAddr("arbiter");
        vm.warp(1_700_000_000);
        token = new TestToken("Demo USD", "DUSD");
        market = Deploy.market(Deploy.setup(owner, arbiter, makeAddr("attestor"), address(token)));
        handler = new MarketplaceHandler(market, token, owner, arbiter, Deploy.windows());
        handler.bootstrap();
        vm.label(address(market), "market");
        vm.label(address(handler), "handler");

        bytes4[] memory s = new bytes4[](48);
        s[0] = MarketplaceHandler.register.selector;
        s[1] = MarketplaceHandler.updateListing.selector;
        s[2] = MarketplaceHandler.deactivate.selector;
        s[3] = MarketplaceHandler.reactivate.selector;
        s[4] = MarketplaceHandler.topUpStake.selector;
        s[5] = MarketplaceHandler.releaseStake.selector;
        s[6] = MarketplaceHandler.setCriteria.selector;
        s[7] = MarketplaceHandler.setBlocked.selector;
        s[8] = MarketplaceHandler.setOwnerBlocked.selector;
        s[9] = MarketplaceHandler.book.selector;
        s[10] = MarketplaceHandler.accept.selector;
        s[11] = MarketplaceHandler.decline.selector;
        s[12] = MarketplaceHandler.cancel.selector;
        s[13] = MarketplaceHandler.expire.selector;
        s[14] = MarketplaceHandler.complete.selector;
        s[15] = MarketplaceHandler.confirm.selector;
        s[16] = MarketplaceHandler.confirmAndRate.selector;
        s[17] = MarketplaceHandler.settle.selector;
        s[18] = MarketplaceHandler.dispute.selector;
        s[19] = MarketplaceHandler.resolve.selector;
        s[20] = MarketplaceHandler.resolveByDefault.selector;
        s[21] = MarketplaceHandler.rate.selector;
        s[22] = MarketplaceHandler.advance.selector;
        s[23] = MarketplaceHandler.withdraw.selector;
        s[24] = MarketplaceHandler.withdrawTo.selector;
        s[25] = MarketplaceHandler.collectFees.selector;
        s[26] = MarketplaceHandler.setPaused.selector;
        s[27] = MarketplaceHandler.scheduleFeeRate.selector;
        s[28] = MarketplaceHandler.applyFeeRate.selector;
        s[29] = MarketplaceHandler.warp.selector;
        s[30] = MarketplaceHandler.warpToDeadline.selector;
        s[31] = MarketplaceHandler.warpToUnlock.selector;
        s[32] = MarketplaceHandler.armAttacker.selector;
        // The booking flow weighted up (duplicates weight forge's selector choice).
        for (uint256 i = 33; i < 37; i++) s[i] = MarketplaceHandler.book.selector;
        for (uint256 i = 37; i < 43; i++) s[i] = MarketplaceHandler.advance.selector;
        s[43] = MarketplaceHandler.advance.selector;
        s[44] = MarketplaceHandler.advance.selector;
        s[45] = MarketplaceHandler.withdraw.selector;
        s[46] = MarketplaceHandler.cancel.selector;
        s[47] = MarketplaceHandler.advance.selector;
        targetContract(address(handler));
        targetSelector(address(handler), s);
    }

    /// @notice Every invariant after every handler call (failure messages start with the number).
    function invariant_marketplace() public view {
        handler.checkAll();
    }

    /// @notice After each run: every timed exit and withdrawal, as the right parties, must leave the
    ///         market holding nothing (no funds can be stuck) in any currency.
    function afterInvariant() public {
        handler.checkAll();
        handler.drainAll();
        handler.checkAll();
        uint256 n = handler.bookingCount();
        for (uint256 i = 0; i < n; i++) {
            IBookings.Status s = market.getBooking(handler.bookingIdAt(i)).status;
            assertTrue(
                s != IBookings.Status.Requested && s != IBookings.Status.Accepted && s != IBookings.Status.Completed
                    && s != IBookings.Status.Disputed,
                "drain: a booking is still open"
            );
        }
        address[] memory all = handler.everyoneList();
        for (uint256 i = 0; i < all.length; i++) {
            assertEq(market.creditOf(all[i], 0), 0, "drain: ether credit left", all[i]);
            assertEq(market.creditOf(all[i], 1), 0, "drain: token credit left", all[i]);
        }
        assertEq(market.accruedFees(0), 0, "drain: ether fees left");
        assertEq(market.accruedFees(1), 0, "drain: token fees left");
        assertEq(address(market).balance, 0, "drain: the market still holds ether");
        assertEq(token.balanceOf(address(market)), 0, "drain: the market still holds tokens");
    }
}
