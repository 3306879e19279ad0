// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {Marketplace} from "../../contracts/Marketplace.sol";
import {Eligibility} from "../../contracts/libraries/Eligibility.sol";
import {Score} from "../../contracts/libraries/Score.sol";
import {ICriteriaRegistry} from "../../contracts/interfaces/ICriteriaRegistry.sol";
import {IMarketplaceAdmin} from "../../contracts/interfaces/IMarketplaceAdmin.sol";
import {IBookings} from "../../contracts/interfaces/IBookings.sol";
import {Ref} from "./base/Reference.sol";
import {MarketFixture} from "./base/MarketFixture.sol";

/// @title Stateless fuzz tests of the pure pieces, against references written in the tests
/// @notice Eligibility rule, score-adjusted price ceiling, Bayesian score bounds, and the settlement
///         and resolution splits (through the deployed contract, so the real code is exercised).
contract PureFuzz is MarketFixture {
    // ================================================================== eligibility rule

    /// @dev Narrow a fuzzed candidate/criteria pair so that every criterion is sometimes the first
    ///      failure (random 16-bit regions or 64-bit masks would almost never match).
    function _shape(Eligibility.Candidate memory p, ICriteriaRegistry.Criteria memory c, uint256 shape)
        internal
        pure
    {
        if (shape % 2 == 0) {
            p.region = p.region % 3;
            c.region = c.region % 3;
        }
        if ((shape >> 1) % 2 == 0) {
            p.attributes = p.attributes % 16;
            c.requiredAttributes = c.requiredAttributes % 16;
            c.refusedAttributes = c.refusedAttributes % 16;
        }
        if ((shape >> 2) % 2 == 0) {
            p.score = uint16(bound(p.score, 10_000, 50_000)); // reachable scores
            c.minScore = uint16(bound(c.minScore, 0, 50_000));
        }
        if ((shape >> 3) % 2 == 0) {
            p.price = uint96(bound(p.price, 0, 10 ether));
            c.maxPrice = uint96(bound(c.maxPrice, 0, 10 ether));
            c.premiumPerStar = uint96(bound(c.premiumPerStar, 0, 10 ether));
        }
        // Half the time, make the first five criteria pass so the score and price edges matter.
        if ((shape >> 6) % 2 == 0) {
            p.active = true;
            p.blocked = false;
            if (c.version == 0) c.version = 1;
            c.region = 0;
            c.requiredAttributes &= p.attributes;
            c.refusedAttributes &= ~p.attributes;
        }
        // On the edges: minScore at the score -1/0/+1, price at the ceiling -1/0/+1.
        if ((shape >> 4) % 2 == 0) {
            c.minScore = uint16(bound(uint256(p.score) + (shape >> 8) % 3, 1, 50_001) - 1);
        }
        if ((shape >> 5) % 2 == 0 && p.score >= c.minScore) {
            uint256 ceil = Eligibility.ceiling(c, p.score);
            uint256 price = ceil + (shape >> 16) % 3;
            if (price >= 1 && price - 1 <= type(uint96).max) p.price = uint96(price - 1);
        }
    }

    function _ref(Eligibility.Candidate memory p, ICriteriaRegistry.Criteria memory c)
        internal
        pure
        returns (uint8)
    {
        return Ref.firstFailure(
            Ref.Cand(p.active, p.blocked, p.region, p.score, p.attributes, p.price),
            Ref.Crit(
                c.version, c.region, c.minScore, c.maxPrice, c.premiumPerStar, c.requiredAttributes, c.refusedAttributes
            )
        );
    }

    /// @notice The library's first failed criterion == the reference rule, on any input.
    function testFuzz_eligibilityMatchesReference(
        Eligibility.Candidate memory p,
        ICriteriaRegistry.Criteria memory c,
        uint256 shape
    ) public pure {
        _shape(p, c, shape);
        uint8 got = uint8(Eligibility.firstFailure(p, c));
        assertEq(got, _ref(p, c), "Eligibility.firstFailure != reference");
        if (got == 0) {
            // None means every criterion holds, spelled out once more.
            assertTrue(p.active && c.version != 0 && !p.blocked, "eligible: active, criteria set, not blocked");
            assertTrue(c.region == 0 || c.region == p.region, "eligible: region");
            assertEq(p.attributes & c.requiredAttributes, c.requiredAttributes, "eligible: required attributes");
            assertEq(p.attributes & c.refusedAttributes, 0, "eligible: refused attributes");
            assertGe(p.score, c.minScore, "eligible: min score");
            assertLe(p.price, Eligibility.ceiling(c, p.score), "eligible: price ceiling");
        }
    }

    /// @notice The same rule through the deployed contract: a real provider and real criteria.
    function testFuzz_eligibilityViewMatchesReference(
        uint16 pRegion,
        uint64 pAttrs,
        uint96 pPrice,
        ICriteriaRegistry.CriteriaInput memory in_,
        bool blocked,
        bool deactivated
    ) public {
        pRegion %= 3;
        pAttrs %= 16;
        pPrice = uint96(bound(pPrice, 1, 10 ether));
        in_.category = 1;
        in_.region %= 3;
        in_.minScore = uint16(bound(in_.minScore, 0, 50_000));
        in_.maxPrice = uint96(bound(in_.maxPrice, 0, 10 ether));
        in_.premiumPerStar = uint96(bound(in_.premiumPerStar, 0, 10 ether));
        in_.requiredAttributes %= 16;
        in_.refusedAttributes = (in_.refusedAttributes % 16) & ~in_.requiredAttributes;
        in_.scoreWeight = 1;
        in_.priceWeight = 0;
        uint32 pid = _register(providerOwner, 1, pRegion, pAttrs, pPrice);
        vm.prank(customer);
        uint32 version = market.setCriteria(in_);
        if (blocked) {
            vm.prank(customer);
            version = market.setBlocked(pid, true);
        }
        if (deactivated) {
            vm.prank(providerOwner);
            market.deactivate(pid);
        }
        uint16 score = market.scoreOf(pid);
        uint8 want = Ref.firstFailure(
            Ref.Cand(!deactivated, blocked, pRegion, score, pAttrs, pPrice),
            Ref.Crit(version, in_.region, in_.minScore, in_.maxPrice, in_.premiumPerStar, in_.requiredAttributes, in_.refusedAttributes)
        );
        assertEq(uint8(market.firstFailedCriterion(customer, pid)), want, "firstFailedCriterion != reference");
        // And book agrees with the view: success iff None, else MarketplaceIneligible(pid, criterion).
        vm.deal(customer, pPrice);
        vm.prank(customer);
        (bool ok, bytes memory ret) =
            address(market).call{value: pPrice}(abi.encodeCall(IBookings.book, (pid, pPrice, version)));
        assertEq(ok, want == 0, "book success != (view says None)");
        if (!ok) {
            assertEq(
                ret,
                abi.encodeWithSelector(IBookings.MarketplaceIneligible.selector, pid, ICriteriaRegistry.Criterion(want)),
                "ineligible book must revert with MarketplaceIneligible(provider, criterion)"
            );
        }
    }

    // ================================================================== price ceiling

    /// @notice ceiling == reference; 0 below minScore; maxPrice at minScore; non-decreasing in the
    ///         score; never overflows (uint96 inputs, uint256 maths); the view agrees.
    function testFuzz_priceCeiling(ICriteriaRegistry.Criteria memory c, uint16 score) public pure {
        c.minScore = uint16(bound(c.minScore, 0, 50_000));
        score = uint16(bound(score, 0, 50_000));
        uint256 got = Eligibility.ceiling(c, score);
        assertEq(got, Ref.ceiling(c.maxPrice, c.premiumPerStar, c.minScore, score), "ceiling != reference");
        if (score < c.minScore) {
            assertEq(got, 0, "ceiling below minScore");
        } else {
            assertGe(got, c.maxPrice, "ceiling below maxPrice");
            assertLe(got, uint256(c.maxPrice) + uint256(c.premiumPerStar) * 5, "ceiling above maxPrice + 5 stars of premium");
            if (score < 50_000) assertGe(Eligibility.ceiling(c, score + 1), got, "ceiling decreasing in score");
        }
        assertEq(Eligibility.ceiling(c, c.minScore), c.maxPrice, "ceiling at minScore != maxPrice");
    }

    function testFuzz_priceCeilingView(ICriteriaRegistry.CriteriaInput memory in_, uint16 score) public {
        in_.category = uint16(bound(in_.category, 1, type(uint16).max));
        in_.minScore = uint16(bound(in_.minScore, 0, 50_000));
        in_.scoreWeight = uint16(bound(in_.scoreWeight, 1, 10_000));
        in_.priceWeight = uint16(bound(in_.priceWeight, 0, 10_000));
        in_.refusedAttributes &= ~in_.requiredAttributes;
        vm.prank(customer);
        market.setCriteria(in_);
        assertEq(
            market.priceCeiling(customer, in_.category, score),
            Ref.ceiling(in_.maxPrice, in_.premiumPerStar, in_.minScore, score),
            "priceCeiling view != reference"
        );
    }

    // ================================================================== Bayesian score

    /// @notice Every sample is one to five stars, so sum in [count, 5 count]: the score is the
    ///         reference, 0 < score <= 50000 (in fact >= 10000), a new provider is at 3.5 stars, a
    ///         five-star sample never lowers it and a one-star sample never raises it.
    function testFuzz_bayesianBounds(uint24 count, uint256 sumSeed) public pure {
        uint256 sum = bound(sumSeed, count, uint256(count) * 5);
        uint16 s = Score.bayesian(count, sum);
        assertEq(s, Ref.score(count, sum), "bayesian != reference");
        assertGt(s, 0, "score zero");
        assertGe(s, 10_000, "score below one star");
        assertLe(s, 50_000, "score above five stars");
        assertEq(Score.bayesian(0, 0), 35_000, "new provider != 3.5 stars");
        if (count < type(uint24).max) {
            assertGe(Score.bayesian(uint256(count) + 1, sum + 5), s, "a five-star rating lowered the score");
            assertLe(Score.bayesian(uint256(count) + 1, sum + 1), s, "a one-star rating raised the score");
        }
    }

    // ================================================================== settlement and resolution

    /// @notice Settlement through the contract: fee == price * feeBps / 10000 (at the rate snapshotted
    ///         at booking, even if it changes before settlement); payout + fee == price; fee <= 10%.
    function testFuzz_settlementSplit(uint96 price, uint16 feeBps, uint16 laterFeeBps, bool byTimeout) public {
        price = uint96(bound(price, 1, 1_000_000 ether));
        feeBps = uint16(bound(feeBps, 0, 1_000));
        laterFeeBps = uint16(bound(laterFeeBps, 0, 1_000));
        vm.prank(owner);
        market.setFeeRate(feeBps);
        (uint256 bid, uint32 pid) = _completedBooking(price);
        vm.prank(owner);
        market.setFeeRate(laterFeeBps);
        uint256 balance = address(market).balance;
        if (byTimeout) {
            vm.warp(block.timestamp + CONFIRM + 1);
            vm.prank(stranger);
            market.settle(bid);
        } else {
            vm.prank(customer);
            market.confirm(bid);
        }
        uint256 fee = market.accruedFees();
        uint256 payout = market.creditOf(providerOwner);
        assertEq(fee, (uint256(price) * feeBps) / 10_000, "fee != price * snapshotted feeBps / 10000");
        assertEq(payout + fee, price, "payout + fee != price");
        assertLe(fee * 10, price, "fee above 10%");
        assertEq(market.creditOf(customer), 0, "customer credited on settlement");
        assertEq(address(market).balance, balance, "ether moved on settlement");
        assertEq(market.getProvider(pid).scoreCount, 0, "settlement counted as a rating");
    }

    /// @notice Resolution through the contract: refund == price * refundBps / 10000; fee on the
    ///         provider's part at the snapshotted rate; refund + payout + fee == price; a refund share
    ///         above one half (and only then) counts as a lost dispute (one star).
    function testFuzz_resolutionSplit(uint96 price, uint16 feeBps, uint16 refundBps, bool byDefault) public {
        price = uint96(bound(price, 1, 1_000_000 ether));
        feeBps = uint16(bound(feeBps, 0, 1_000));
        refundBps = byDefault ? 5_000 : uint16(bound(refundBps, 0, 10_000));
        vm.prank(owner);
        market.setFeeRate(feeBps);
        (uint256 bid, uint32 pid) = _completedBooking(price);
        vm.prank(customer);
        market.dispute(bid);
        if (byDefault) {
            vm.warp(block.timestamp + ARBITRATION + 1);
            vm.prank(stranger);
            market.resolveByDefault(bid);
        } else {
            vm.prank(arbiter);
            market.resolve(bid, refundBps);
        }
        uint256 refund = market.creditOf(customer);
        uint256 payout = market.creditOf(providerOwner);
        uint256 fee = market.accruedFees();
        assertEq(refund, (uint256(price) * refundBps) / 10_000, "refund != price * refundBps / 10000");
        assertEq(fee, ((uint256(price) - refund) * feeBps) / 10_000, "fee != provider part * feeBps / 10000");
        assertEq(refund + payout + fee, price, "refund + payout + fee != price");
        bool lost = refundBps > 5_000;
        assertEq(market.getProvider(pid).disputesLost, lost ? 1 : 0, "lost dispute count");
        assertEq(market.getProvider(pid).scoreCount, lost ? 1 : 0, "lost dispute not counted as one star");
        assertEq(market.getProvider(pid).scoreSum, lost ? 1 : 0, "lost dispute not one star");
    }

    // ================================================================== fee cap

    function testFuzz_feeRateCap(uint16 feeBps) public {
        vm.prank(owner);
        (bool ok,) = address(market).call(abi.encodeCall(IMarketplaceAdmin.setFeeRate, (feeBps)));
        assertEq(ok, feeBps <= 1_000, "setFeeRate accepted iff <= MAX_FEE_BPS");
        assertLe(market.feeRate(), market.MAX_FEE_BPS(), "fee rate above the cap");
    }

    function testFuzz_constructorFeeCap(uint16 feeBps) public {
        IMarketplaceAdmin.Windows memory w = IMarketplaceAdmin.Windows(1, 1, 1, 1, 1);
        if (feeBps > 1_000) {
            vm.expectRevert(abi.encodeWithSelector(IMarketplaceAdmin.MarketplaceFeeAboveCap.selector, feeBps, 1_000));
        }
        new Marketplace(owner, feeBps, 0, w);
    }
}
