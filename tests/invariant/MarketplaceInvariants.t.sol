// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {Marketplace} from "../../contracts/Marketplace.sol";
import {IMarketplaceAdmin} from "../../contracts/interfaces/IMarketplaceAdmin.sol";
import {IBookings} from "../../contracts/interfaces/IBookings.sol";
import {TestBase} from "./base/TestBase.sol";
import {MarketplaceHandler} from "./handlers/MarketplaceHandler.sol";

/// @title The six marketplace invariants (DESIGN.md "Invariants"), checked after every fuzz call
/// @notice One campaign drives MarketplaceHandler (handlers/). After every call
///         `invariant_marketplace` runs handlers/InvariantChecks.sol `checkAll` (six invariants):
///           1 solvency      balance == open escrow + credits + accrued fees + stakes (contract reads),
///                           each term also == the handler's model and == the ledger rebuilt from events
///           2 per booking   terminal: payout + fee + refund == price, paid exactly once; terminal
///                           states never change; every stored field == model == events
///           3 compliance    every successful book had firstFailedCriterion == None just before; every
///                           book the view called ineligible reverted with MarketplaceIneligible; the
///                           view == a reference rule (base/Reference.sol) on the model, every pair
///           4 ratings       <= 1 per booking, only its customer, only Settled/Resolved; scoreCount and
///                           scoreSum == ratings + lost disputes; 0 < score <= 50000
///           5 fees          feeRate <= MAX_FEE_BPS; each fee == price * snapshotted feeBps / 10000
///           6 access        no wrong party / forbidden action ever succeeded; no guarded re-entrant
///                           call succeeded; attacker received == paid to it; credited == withdrawn + credit
///         and the handler's own predictions (every allowed call succeeded, every forbidden one
///         reverted). `afterInvariant` then uses every timed exit and withdrawal and requires the
///         market to end empty (no funds can be stuck).
contract MarketplaceInvariants is TestBase {
    Marketplace internal market;
    MarketplaceHandler internal handler;
    address internal owner;
    address internal arbiter0;

    uint16 internal constant FEE_BPS = 250;
    uint96 internal constant MIN_STAKE = 0.1 ether;

    function setUp() public {
        owner = makeAddr("owner");
        arbiter0 = makeAddr("arbiter0");
        market = new Marketplace(
            owner,
            FEE_BPS,
            MIN_STAKE,
            IMarketplaceAdmin.Windows({
                respond: 1 days,
                service: 3 days,
                confirm: 2 days,
                arbitration: 4 days,
                stakeCooldown: 7 days
            })
        );
        vm.prank(owner);
        market.setArbiter(arbiter0, true);
        handler = new MarketplaceHandler(market, owner, arbiter0);
        handler.bootstrap();
        vm.label(address(market), "market");
        vm.label(address(handler), "handler");

        // Every action once; the booking flow weighted up (duplicates weight forge's selector choice).
        bytes4[] memory s = new bytes4[](49);
        s[0] = MarketplaceHandler.register.selector;
        s[1] = MarketplaceHandler.updateProvider.selector;
        s[2] = MarketplaceHandler.deactivate.selector;
        s[3] = MarketplaceHandler.reactivate.selector;
        s[4] = MarketplaceHandler.releaseStake.selector;
        s[5] = MarketplaceHandler.setCriteria.selector;
        s[6] = MarketplaceHandler.setBlocked.selector;
        s[7] = MarketplaceHandler.book.selector;
        s[8] = MarketplaceHandler.accept.selector;
        s[9] = MarketplaceHandler.decline.selector;
        s[10] = MarketplaceHandler.cancel.selector;
        s[11] = MarketplaceHandler.expire.selector;
        s[12] = MarketplaceHandler.complete.selector;
        s[13] = MarketplaceHandler.confirm.selector;
        s[14] = MarketplaceHandler.settle.selector;
        s[15] = MarketplaceHandler.dispute.selector;
        s[16] = MarketplaceHandler.resolve.selector;
        s[17] = MarketplaceHandler.resolveByDefault.selector;
        s[18] = MarketplaceHandler.rate.selector;
        s[19] = MarketplaceHandler.advance.selector;
        s[20] = MarketplaceHandler.withdraw.selector;
        s[21] = MarketplaceHandler.withdrawTo.selector;
        s[22] = MarketplaceHandler.collectFees.selector;
        s[23] = MarketplaceHandler.setFeeRate.selector;
        s[24] = MarketplaceHandler.setPaused.selector;
        s[25] = MarketplaceHandler.setArbiter.selector;
        s[26] = MarketplaceHandler.setMinStake.selector;
        s[27] = MarketplaceHandler.ownershipAttack.selector;
        s[28] = MarketplaceHandler.sendEther.selector;
        s[29] = MarketplaceHandler.forceEther.selector;
        s[30] = MarketplaceHandler.setReceiverMode.selector;
        s[31] = MarketplaceHandler.warp.selector;
        s[32] = MarketplaceHandler.warpToDeadline.selector;
        s[33] = MarketplaceHandler.warpToUnlock.selector;
        for (uint256 i = 34; i < 38; i++) s[i] = MarketplaceHandler.book.selector; // book x5
        for (uint256 i = 38; i < 43; i++) s[i] = MarketplaceHandler.advance.selector; // advance x6
        s[43] = MarketplaceHandler.warp.selector;
        s[44] = MarketplaceHandler.warpToDeadline.selector;
        s[45] = MarketplaceHandler.withdraw.selector;
        s[46] = MarketplaceHandler.rate.selector;
        s[47] = MarketplaceHandler.reenter.selector;
        s[48] = MarketplaceHandler.reenter.selector; // x2
        targetContract(address(handler));
        targetSelector(address(handler), s);
    }

    /// @notice All six invariants, after every handler call (failure messages start with the number).
    function invariant_marketplace() public view virtual {
        handler.checkAll(handler.calls(), false);
    }

    /// @notice After each run: full checks, then every timed exit and every withdrawal, as the right
    ///         parties, must leave the market holding nothing (no funds can be stuck).
    function afterInvariant() public virtual {
        handler.checkAll(0, true);
        handler.drainAll();
        handler.checkAll(0, true);
        uint256 n = handler.bookingCount();
        for (uint256 i = 0; i < n; i++) {
            assertFalse(_isOpen(market.getBooking(handler.bookingIdAt(i)).status), "drain: a booking is still open");
        }
        address[] memory all = handler.everyoneList();
        for (uint256 i = 0; i < all.length; i++) {
            assertEq(market.creditOf(all[i]), 0, "drain: credit left", all[i]);
            assertEq(market.isArbiter(all[i]), handler.mArbiter(all[i]), "drain: arbiter set");
        }
        assertEq(market.accruedFees(), 0, "drain: fees left");
        for (uint32 pid = 1; pid <= market.providerCount(); pid++) {
            assertEq(market.getProvider(pid).stake, 0, "drain: stake left", pid);
            assertEq(market.scoreOf(pid), handler.referenceScore(pid), "drain: scoreOf", pid);
        }
        assertEq(address(market).balance, handler.mForced(), "drain: the market still holds ledger ether");
    }

    function _isOpen(IBookings.Status s) internal pure returns (bool) {
        return s == IBookings.Status.Requested || s == IBookings.Status.Accepted || s == IBookings.Status.Completed
            || s == IBookings.Status.Disputed;
    }
}
