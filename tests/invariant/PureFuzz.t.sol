// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {IProviderRegistry} from "../../contracts/interfaces/IProviderRegistry.sol";
import {ICriteriaRegistry} from "../../contracts/interfaces/ICriteriaRegistry.sol";
import {IBookings} from "../../contracts/interfaces/IBookings.sol";
import {IMarketplaceAdmin} from "../../contracts/interfaces/IMarketplaceAdmin.sol";
import {V2Base} from "./V2Base.t.sol";
import {Ref} from "./base/Reference.sol";

/// @title Stateless fuzz: each pure rule of contract v2 equals the reference (base/Reference.sol,
///        written from docs/contract-v2.md) on fuzzed inputs, through the deployed contract
/// @notice fee, rating weight, score, reliability, booking id packing, cancellation split, dispute
///         split, no-show slash, eligibility (view and `book`), and the farm property: splitting a
///         payment over many bookings never buys more weight than one booking of the same total.
contract PureFuzz is V2Base {
    // ------------------------------------------------------------------ constants

    function test_constantsAreTheSpecs() public view {
        assertEq(m.MAX_RATING_WEIGHT(), Ref.MAX_RATING_WEIGHT, "MAX_RATING_WEIGHT");
        assertEq(m.PRIOR_WEIGHT(), Ref.PRIOR_WEIGHT, "PRIOR_WEIGHT");
        assertEq(m.PRIOR_SCORE(), Ref.PRIOR_SCORE, "PRIOR_SCORE");
        assertEq(m.SLASH_BPS(), Ref.SLASH_BPS, "SLASH_BPS");
        assertEq(m.MAX_ADVANCE(), Ref.MAX_ADVANCE, "MAX_ADVANCE");
        assertEq(m.minFee(0), MIN_FEE, "minFee(ether)");
        assertEq(m.minFee(1), USD_MIN_FEE, "minFee(token)");
    }

    // ------------------------------------------------------------------ booking id

    function testFuzz_bookingIdPacking(address c, uint32 pid, uint40 start, uint16 dur, uint8 salt) public view {
        uint256 id = Ref.bookingId(c, pid, start, dur, salt);
        assertEq(m.encodeBookingId(c, pid, start, dur, salt), id, "encodeBookingId != reference");
        (address c2, uint32 p2, uint40 s2, uint16 d2, uint8 salt2) = m.decodeBookingId(id);
        assertEq(c2, c, "decode: customer");
        assertEq(p2, pid, "decode: providerId");
        assertEq(s2, start, "decode: start");
        assertEq(d2, dur, "decode: duration");
        assertEq(salt2, salt, "decode: salt");
    }

    function testFuzz_bookReturnsThePackedId(uint256 startSeed, uint16 dur, uint8 salt) public {
        uint32 pid = _register(provider, 1 ether);
        _openCriteria(customer, 0);
        uint40 start = uint40(block.timestamp + bound(startSeed, 1, 365 days));
        dur = uint16(bound(dur, 1, type(uint16).max));
        IBookings.BookingRequest memory req = _req(customer, pid, start, salt);
        req.durationMinutes = dur;
        vm.deal(customer, 1 ether);
        vm.prank(customer);
        uint256 id = m.book{value: 1 ether}(req);
        assertEq(id, Ref.bookingId(customer, pid, start, dur, salt), "book: id");
        vm.deal(customer, 1 ether);
        vm.prank(customer);
        vm.expectRevert(abi.encodeWithSelector(IBookings.MarketplaceBookingExists.selector, id));
        m.book{value: 1 ether}(req);
    }

    // ------------------------------------------------------------------ fee

    function testFuzz_feeMatchesReference(uint256 priceSeed, bool useToken) public {
        uint8 cur = useToken ? 1 : 0;
        uint256 minFee = useToken ? USD_MIN_FEE : MIN_FEE;
        uint88 price = uint88(bound(priceSeed, 1, 1e24));
        (uint256 fee, bool ok) = Ref.fee(price, FEE_BPS, minFee);
        if (!ok) {
            vm.deal(provider, MIN_STAKE);
            vm.prank(provider);
            vm.expectRevert(abi.encodeWithSelector(IProviderRegistry.MarketplacePriceBelowMinFee.selector, price, minFee));
            m.register{value: MIN_STAKE}(_input(cur, price));
            return;
        }
        uint32 pid = _register(provider, _input(cur, price));
        uint256 id = _book(customer, pid);
        assertEq(m.getBooking(id).fee, fee, "fee != max(ceil(price x 250 / 10000), minFee)");
    }

    // ------------------------------------------------------------------ weight and score

    function testFuzz_weightAndScoreMatchReference(uint256[3] memory prices, uint8[3] memory stars) public {
        uint32 pid = _register(provider, uint88(MIN_FEE));
        uint256 weight;
        uint256 weighted;
        for (uint256 i = 0; i < 3; i++) {
            // fees fit uint80 (see test_doubt_feeAboveUint80MakesAListingUnbookable)
            uint88 price = uint88(bound(prices[i], MIN_FEE, uint256(type(uint80).max) * 4));
            IProviderRegistry.ListingInput memory in_ = _input(0, price);
            vm.prank(provider);
            m.updateListing(pid, in_);
            uint256 id = _book(customer, pid, uint40(block.timestamp + 1 hours), uint8(i));
            _toCompleted(id);
            uint8 s = uint8(bound(stars[i], 1, 5));
            vm.prank(customer);
            m.confirmAndRate(id, s, 0);
            (uint256 fee,) = Ref.fee(price, FEE_BPS, MIN_FEE);
            uint256 w = Ref.weight(fee, MIN_FEE);
            weight += w;
            weighted += w * s;
            IProviderRegistry.Listing memory l = m.getListing(pid);
            assertEq(l.ratingWeight, weight, "ratingWeight");
            assertEq(l.weightedStars, weighted, "weightedStars");
            assertEq(m.scoreOf(pid), Ref.score(weight, weighted), "scoreOf");
        }
    }

    /// @dev Doubt (documents behaviour, passes): a uint88 price whose fee does not fit the booking's
    ///      uint80 fee field registers fine, but every booking of it reverts with OpenZeppelin's
    ///      SafeCastOverflowedUintDowncast, not a Marketplace error naming the price. At 250 bps that
    ///      is any price above ~4.8e25 units (48M ether, or 48M of an 18-decimal token); a later fee
    ///      rate rise lowers the threshold for listings already registered.
    function test_doubt_feeAboveUint80MakesAListingUnbookable() public {
        uint88 price = uint88(uint256(type(uint80).max) * 41); // fee = ceil(price x 2.5 %) > 2^80
        uint32 pid = _register(provider, price);
        _openCriteria(customer, 0);
        IBookings.BookingRequest memory req = _req(customer, pid, uint40(block.timestamp + 1 days), 0);
        vm.deal(customer, price);
        vm.prank(customer);
        vm.expectRevert(); // SafeCastOverflowedUintDowncast(80, fee)
        m.book{value: price}(req);
    }

    function testFuzz_minimumFeeRatingWeighsOneThousand(uint8 stars) public {
        uint32 pid = _register(provider, uint88(MIN_FEE));
        uint256 id = _book(customer, pid);
        _toCompleted(id);
        vm.prank(customer);
        m.confirmAndRate(id, uint8(bound(stars, 1, 5)), 0);
        assertEq(m.getListing(pid).ratingWeight, 1_000, "a minimum-fee rating weighs 1,000");
    }

    /// @dev The farm property on the rule itself: n bookings of fee f never weigh more than one of n x f.
    function testFuzz_splittingNeverBuysWeight(uint256 fee, uint256 n, uint256 minFee) public pure {
        minFee = bound(minFee, 1, 1e18);
        fee = bound(fee, minFee, 1e24);
        n = bound(n, 1, 1_000);
        uint256 split = n * Ref.weight(fee, minFee);
        // never more than the linear weight of the total fee paid (the cap only lowers a big booking's)
        assertLe(split, (n * fee * 1_000) / minFee, "splitting bought weight above the fees paid");
        if (n * fee * 1_000 / minFee <= Ref.MAX_RATING_WEIGHT) {
            assertLe(split, Ref.weight(n * fee, minFee), "splitting bought more than one booking of the total");
        }
        // and weight per fee unit is constant up to the floor: w * minFee <= 1,000 * fee < (w + 1) * minFee
        uint256 w = Ref.weight(fee, minFee);
        if (w < Ref.MAX_RATING_WEIGHT) {
            assertLe(w * minFee, 1_000 * fee, "weight above the fee paid");
            assertGt((w + 1) * minFee, 1_000 * fee, "weight below the fee paid");
        }
    }

    /// @dev The score is a weighted mean of the prior and the ratings: between the two.
    function testFuzz_scoreBounds(uint256 weight, uint256 avgStars) public pure {
        weight = bound(weight, 0, uint256(type(uint72).max));
        avgStars = bound(avgStars, 1, 5);
        uint256 mean = avgStars * 10_000;
        uint256 s = Ref.score(weight, weight * avgStars);
        uint256 lo = mean < Ref.PRIOR_SCORE ? mean : Ref.PRIOR_SCORE;
        uint256 hi = mean < Ref.PRIOR_SCORE ? Ref.PRIOR_SCORE : mean;
        assertGe(s, lo, "score below the lower of prior and mean");
        assertLe(s, hi, "score above the higher of prior and mean");
    }

    // ------------------------------------------------------------------ reliability

    function testFuzz_reliabilityMatchesReference(uint8 completedSeed, uint8 failuresSeed) public {
        uint256 nc = bound(completedSeed, 0, 4);
        uint256 nf = bound(failuresSeed, 0, 4);
        uint32 pid = _register(provider, 1 ether);
        for (uint256 i = 0; i < nc; i++) {
            uint256 id = _book(customer, pid, uint40(block.timestamp + 1 hours), uint8(i));
            _toCompleted(id);
            vm.prank(customer);
            m.confirm(id);
        }
        for (uint256 i = 0; i < nf; i++) {
            uint256 id = _book(customer, pid, uint40(block.timestamp + 1 days), uint8(100 + i));
            vm.prank(provider);
            m.accept(id);
            vm.prank(provider);
            m.decline(id); // a cancellation by the provider after acceptance: a failure
        }
        IProviderRegistry.Listing memory l = m.getListing(pid);
        assertEq(l.completed, nc, "completed");
        assertEq(l.failures, nf, "failures");
        assertEq(m.reliabilityOf(pid), Ref.reliability(nc, nf), "reliabilityOf != (c + 9) x 10000 / (c + f + 10)");
    }

    function testFuzz_reliabilityFormulaBounds(uint16 c, uint16 f) public pure {
        uint256 r = Ref.reliability(c, f);
        assertGe(r, 1, "reliability is never zero");
        assertLe(r, 10_000, "reliability above 100 %");
        if (f == 0) assertGe(r, 9_000, "no failures below 90 %");
        (uint256 c2, uint256 f2) = Ref.bump(65_535, f, false);
        assertEq(c2, 32_767 + 1, "halving before the overflow");
        assertEq(f2, uint256(f) / 2, "both halved");
    }

    // ------------------------------------------------------------------ cancellation split

    function testFuzz_cancellationSplit(uint256 priceSeed, uint16 hoursSeed, uint8 pctSeed, uint256 whenSeed) public {
        uint88 price = uint88(bound(priceSeed, MIN_FEE, 1e24));
        IProviderRegistry.ListingInput memory in_ = _input(0, price);
        in_.freeCancelHours = uint16(bound(hoursSeed, 0, 96));
        in_.lateCancelPct = uint8(bound(pctSeed, 0, 100));
        uint32 pid = _register(provider, in_);
        uint40 start = uint40(block.timestamp + 5 days);
        uint256 id = _book(customer, pid, start, 0);
        vm.prank(provider);
        m.accept(id);
        uint256 t = bound(whenSeed, block.timestamp, uint256(start) - 1);
        // Land on the free-cancellation edge often.
        uint256 edge = uint256(start) - uint256(in_.freeCancelHours) * 3600;
        if (whenSeed % 3 == 0 && edge >= block.timestamp) t = edge + (whenSeed >> 8) % 2;
        if (t >= start) t = uint256(start) - 1;
        vm.warp(t);
        vm.prank(customer);
        m.cancel(id);
        (uint256 refund, uint256 comp) = Ref.cancelSplit(price, in_.freeCancelHours, in_.lateCancelPct, t, start);
        assertEq(m.creditOf(customer, 0), refund, "refund");
        assertEq(m.creditOf(provider, 0), comp, "compensation");
        assertEq(m.accruedFees(0), 0, "a cancellation took a fee");
    }

    function test_cancelAtTheStartIsRefused() public {
        uint32 pid = _register(provider, 1 ether);
        uint40 start = uint40(block.timestamp + 5 days);
        uint256 id = _book(customer, pid, start, 0);
        vm.prank(provider);
        m.accept(id);
        vm.warp(start);
        vm.prank(customer);
        vm.expectRevert(abi.encodeWithSelector(IBookings.MarketplaceSlotStarted.selector, start));
        m.cancel(id);
    }

    // ------------------------------------------------------------------ dispute split

    function testFuzz_disputeSplit(uint256 priceSeed, uint16 bpsSeed) public {
        uint88 price = uint88(bound(priceSeed, MIN_FEE, 1e24));
        uint16 bps = uint16(bound(bpsSeed, 0, 10_000));
        uint32 pid = _register(provider, price);
        uint256 id = _book(customer, pid);
        _toCompleted(id);
        vm.deal(customer, BOND);
        vm.prank(customer);
        m.dispute{value: BOND}(id);
        vm.prank(arb);
        m.resolve(id, bps);
        (uint256 fee,) = Ref.fee(price, FEE_BPS, MIN_FEE);
        (uint256 refund, uint256 payout) = Ref.disputeSplit(price, fee, bps);
        bool lost = bps > 5_000;
        assertEq(m.accruedFees(0), fee, "the fee does not depend on the ruling");
        assertEq(m.creditOf(customer, 0), refund + (lost ? BOND : 0), "customer: refund (+ bond if won)");
        assertEq(m.creditOf(provider, 0), payout, "provider: payout");
        uint256 cut = lost ? (BOND < MIN_STAKE ? BOND : MIN_STAKE) : 0;
        assertEq(m.creditOf(arb, 0), lost ? cut : BOND, "arbiter: min(bond, stake) from the stake, or the bond");
        IProviderRegistry.Listing memory l = m.getListing(pid);
        assertEq(l.stake, MIN_STAKE - cut, "stake");
        uint256 w = lost ? Ref.weight(fee, MIN_FEE) : 0;
        assertEq(l.ratingWeight, w, "a lost dispute is a one-star rating at the booking's weight");
        assertEq(l.weightedStars, w, "one star");
        assertEq(l.failures, lost ? 1 : 0, "a lost dispute is a failure");
    }

    function testFuzz_defaultResolutionSplitsHalf(uint256 priceSeed) public {
        uint88 price = uint88(bound(priceSeed, MIN_FEE, 1e24));
        uint32 pid = _register(provider, price);
        uint256 id = _book(customer, pid);
        _toCompleted(id);
        vm.deal(customer, BOND);
        vm.prank(customer);
        m.dispute{value: BOND}(id);
        vm.warp(m.getBooking(id).deadline + 1);
        vm.prank(stranger);
        m.resolveByDefault(id);
        (uint256 fee,) = Ref.fee(price, FEE_BPS, MIN_FEE);
        (uint256 refund, uint256 payout) = Ref.disputeSplit(price, fee, 5_000);
        assertEq(m.creditOf(customer, 0), refund + BOND, "customer: half + bond back");
        assertEq(m.creditOf(provider, 0), payout, "provider: the other half");
        assertEq(m.creditOf(arb, 0), 0, "arbiter unpaid");
        IProviderRegistry.Listing memory l = m.getListing(pid);
        assertEq(l.ratingWeight, 0, "no score effect");
        assertEq(l.failures, 0, "no reliability effect");
    }

    // ------------------------------------------------------------------ no-show slash

    function testFuzz_noShowSlashesTenPercent(uint256 topUp) public {
        topUp = bound(topUp, 0, 100 ether);
        uint32 pid = _register(provider, 1 ether);
        if (topUp != 0) {
            vm.deal(stranger, topUp);
            vm.prank(stranger);
            m.topUpStake{value: topUp}(pid);
        }
        uint256 id = _book(customer, pid);
        vm.prank(provider);
        m.accept(id);
        vm.warp(m.getBooking(id).deadline + 1);
        vm.prank(stranger);
        m.expire(id);
        uint256 stake = MIN_STAKE + topUp;
        uint256 cut = Ref.slash(stake);
        assertEq(m.creditOf(customer, 0), 1 ether + cut, "refund + 10 % of the stake");
        assertEq(m.getListing(pid).stake, stake - cut, "the rest of the stake stays");
        assertEq(m.getListing(pid).failures, 1, "a no-show is a failure");
    }

    // ------------------------------------------------------------------ eligibility

    struct EligIn {
        uint8 listingCurrency;
        uint8 critCurrency;
        uint16 region;
        uint16 critRegion;
        uint64 attributes;
        uint64 required;
        uint64 refused;
        uint16 minScore;
        uint88 price;
        uint88 maxPrice;
        uint88 premium;
        uint32 minWeight;
        uint16 minReliability;
        bool blockIt;
        bool blockOwner;
        bool deactivate;
    }

    function testFuzz_eligibilityMatchesReference(EligIn memory e) public {
        e.listingCurrency %= 2;
        e.critCurrency %= 2;
        e.region %= 3;
        e.critRegion %= 3;
        e.attributes %= 16;
        e.required %= 16;
        e.refused = (e.refused % 16) & ~e.required;
        e.minScore = uint16(bound(e.minScore, 0, 50_000));
        e.price = uint88(bound(e.price, MIN_FEE, 1e21));
        e.minWeight = uint32(bound(e.minWeight, 0, 2_000));
        e.minReliability = uint16(bound(e.minReliability, 0, 10_000));
        IProviderRegistry.ListingInput memory in_ = _input(e.listingCurrency, e.price);
        in_.region = e.region;
        in_.attributes = e.attributes;
        uint32 pid = _register(provider, in_);
        ICriteriaRegistry.CriteriaInput memory c;
        c.category = CATEGORY;
        c.currency = e.critCurrency;
        c.region = e.critRegion;
        c.minScore = e.minScore;
        c.maxPrice = e.maxPrice;
        c.premiumPerStar = e.premium;
        c.requiredAttributes = e.required;
        c.refusedAttributes = e.refused;
        c.minRatingWeight = e.minWeight;
        c.minReliability = e.minReliability;
        c.scoreWeight = 1;
        vm.prank(customer);
        m.setCriteria(c);
        if (e.blockIt) {
            vm.prank(customer);
            m.setBlocked(pid, true);
        }
        if (e.blockOwner) {
            vm.prank(customer);
            m.setOwnerBlocked(provider, true);
        }
        if (e.deactivate) {
            vm.prank(provider);
            m.deactivate(pid);
        }
        Ref.Cand memory p = Ref.Cand({
            active: !e.deactivate,
            blocked: e.blockIt,
            ownerBlocked: e.blockOwner,
            currency: e.listingCurrency,
            region: e.region,
            score: uint16(Ref.PRIOR_SCORE),
            attributes: e.attributes,
            verified: 0,
            ratingWeight: 0,
            reliability: 9_000,
            price: e.price
        });
        Ref.Crit memory k = Ref.Crit({
            version: 1,
            currency: e.critCurrency,
            region: e.critRegion,
            minScore: e.minScore,
            maxPrice: e.maxPrice,
            premiumPerStar: e.premium,
            requiredAttributes: e.required,
            refusedAttributes: e.refused,
            verifiedAttributes: 0,
            minRatingWeight: e.minWeight,
            minReliability: e.minReliability
        });
        uint8 want = Ref.firstFailure(p, k);
        assertEq(uint256(m.firstFailedCriterion(customer, pid)), want, "firstFailedCriterion != reference");
        // book agrees with the view: succeeds exactly when None, else the exact custom error
        IBookings.BookingRequest memory req = _req(customer, pid, uint40(block.timestamp + 1 days), 0);
        uint256 value = e.listingCurrency == 0 ? e.price : 0;
        if (e.listingCurrency == 1) {
            usd.mint(customer, e.price);
            vm.prank(customer);
            usd.approve(address(m), e.price);
        }
        vm.deal(customer, value);
        if (want != 0) {
            vm.expectRevert(
                abi.encodeWithSelector(
                    IBookings.MarketplaceIneligible.selector, pid, ICriteriaRegistry.Criterion(want)
                )
            );
        }
        vm.prank(customer);
        m.book{value: value}(req);
    }

    function testFuzz_verifiedAttributesNeedATrustedAttestor(uint64 attested, uint64 claimed, uint64 verified, bool trust)
        public
    {
        claimed %= 16;
        attested %= 16;
        verified = verified % 16;
        IProviderRegistry.ListingInput memory in_ = _input(0, 1 ether);
        in_.attributes = claimed;
        uint32 pid = _register(provider, in_);
        vm.prank(att);
        m.attest(pid, attested);
        uint32 mask = trust ? 1 : 0; // attestor id 1
        assertEq(m.verifiedAttributesOf(pid, mask), trust ? attested & claimed : 0, "verifiedAttributesOf");
        ICriteriaRegistry.CriteriaInput memory c;
        c.category = CATEGORY;
        c.maxPrice = type(uint88).max;
        c.requiredAttributes = verified;
        c.verifiedAttributes = verified;
        c.trustedAttestors = mask;
        c.scoreWeight = 1;
        vm.prank(customer);
        m.setCriteria(c);
        uint8 want = 0;
        if ((verified & ~claimed) != 0) want = uint8(ICriteriaRegistry.Criterion.RequiredAttributes);
        else if ((verified & ~(trust ? attested & claimed : 0)) != 0) {
            want = uint8(ICriteriaRegistry.Criterion.VerifiedAttributes);
        }
        assertEq(uint256(m.firstFailedCriterion(customer, pid)), want, "verified attributes");
    }

    // ------------------------------------------------------------------ timelock

    function testFuzz_feeRateChangeWaitsForTheDelay(uint16 bps, uint256 early) public {
        bps = uint16(bound(bps, 0, 1_000));
        vm.prank(operator);
        uint32 eta = m.scheduleChange(IMarketplaceAdmin.ChangeKind.FeeRate, address(0), bps);
        assertEq(eta, block.timestamp + 2 days, "eta");
        vm.warp(bound(early, block.timestamp, uint256(eta) - 1));
        vm.expectRevert(abi.encodeWithSelector(IMarketplaceAdmin.MarketplaceChangeNotReady.selector, eta));
        m.applyChange(IMarketplaceAdmin.ChangeKind.FeeRate, address(0), bps);
        vm.warp(eta);
        vm.prank(stranger);
        m.applyChange(IMarketplaceAdmin.ChangeKind.FeeRate, address(0), bps);
        assertEq(m.feeRate(), bps, "feeRate");
    }
}
