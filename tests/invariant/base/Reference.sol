// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

/// @notice Reference statements of contract v2's pure rules, written from docs/contract-v2.md,
///         independently of contracts/ (the campaign and PureFuzz compare the contract to these).
///         Criterion codes follow ICriteriaRegistry.Criterion (v2 order): 0 None, 1 ProviderInactive,
///         2 CriteriaNotSet, 3 Currency, 4 Region, 5 Blocked, 6 OwnerBlocked, 7 RequiredAttributes,
///         8 RefusedAttributes, 9 VerifiedAttributes, 10 MinScore, 11 TrackRecord, 12 Reliability,
///         13 MaxPrice.
library Ref {
    uint256 internal constant BPS = 10_000;
    uint256 internal constant STAR = 10_000; // one star in score units
    uint256 internal constant MAX_SCORE = 50_000;
    uint256 internal constant WEIGHT_UNIT = 1_000; // a minimum-fee rating's weight
    uint256 internal constant MAX_RATING_WEIGHT = 1 << 40;
    uint256 internal constant PRIOR_WEIGHT = 20_000;
    uint256 internal constant PRIOR_SCORE = 35_000;
    uint256 internal constant SLASH_BPS = 1_000;
    uint256 internal constant COUNTER_MAX = 65_535;
    uint256 internal constant MAX_ADVANCE = 365 days;

    struct Cand {
        bool active;
        bool blocked;
        bool ownerBlocked;
        uint8 currency;
        uint16 region;
        uint16 score;
        uint64 attributes;
        uint64 verified; // attested by a trusted, still-named attestor, & attributes
        uint256 ratingWeight;
        uint16 reliability;
        uint256 price;
    }

    struct Crit {
        uint32 version;
        uint8 currency;
        uint16 region;
        uint16 minScore;
        uint256 maxPrice;
        uint256 premiumPerStar;
        uint64 requiredAttributes;
        uint64 refusedAttributes;
        uint64 verifiedAttributes;
        uint256 minRatingWeight;
        uint16 minReliability;
    }

    /// @dev fee = max(ceil(price * feeBps / 10,000), minFee); `ok` false when it exceeds the price.
    function fee(uint256 price, uint256 feeBps, uint256 minFee) internal pure returns (uint256 f, bool ok) {
        f = (price * feeBps + BPS - 1) / BPS;
        if (f < minFee) f = minFee;
        ok = f <= price;
    }

    /// @dev weight = min(fee * 1,000 / minFee, 2^40).
    function weight(uint256 f, uint256 minFee) internal pure returns (uint256 w) {
        w = (f * WEIGHT_UNIT) / minFee;
        if (w > MAX_RATING_WEIGHT) w = MAX_RATING_WEIGHT;
    }

    /// @dev Weighted Bayesian mean with PRIOR_WEIGHT at PRIOR_SCORE.
    function score(uint256 ratingWeight, uint256 weightedStars) internal pure returns (uint256) {
        return (PRIOR_WEIGHT * PRIOR_SCORE + weightedStars * STAR) / (PRIOR_WEIGHT + ratingWeight);
    }

    /// @dev (completed + 9) * 10,000 / (completed + failures + 10), basis points.
    function reliability(uint256 completed, uint256 failures) internal pure returns (uint256) {
        return ((completed + 9) * BPS) / (completed + failures + 10);
    }

    /// @dev One more completion (or failure): both halved first when the bumped one would pass 65,535.
    function bump(uint256 completed, uint256 failures, bool failure) internal pure returns (uint256, uint256) {
        uint256 next = failure ? failures : completed;
        if (next + 1 > COUNTER_MAX) {
            completed /= 2;
            failures /= 2;
        }
        if (failure) failures += 1;
        else completed += 1;
        return (completed, failures);
    }

    /// @dev customer << 96 | providerId << 64 | start << 24 | durationMinutes << 8 | salt.
    function bookingId(address customer, uint32 providerId, uint40 start, uint16 durationMinutes, uint8 salt)
        internal
        pure
        returns (uint256)
    {
        return (uint256(uint160(customer)) << 96) | (uint256(providerId) << 64) | (uint256(start) << 24)
            | (uint256(durationMinutes) << 8) | uint256(salt);
    }

    /// @dev A customer's cancellation of an accepted booking: free while now + hours <= start,
    ///      else `lateCancelPct` % of the price to the provider (floored), the rest refunded.
    function cancelSplit(uint256 price, uint256 freeCancelHours, uint256 lateCancelPct, uint256 nowTs, uint256 start)
        internal
        pure
        returns (uint256 refund, uint256 compensation)
    {
        if (nowTs + freeCancelHours * 3600 <= start) return (price, 0);
        compensation = (price * lateCancelPct) / 100;
        refund = price - compensation;
    }

    /// @dev A ruling: the fee first, then refundBps of the rest to the customer, the remainder to the provider.
    function disputeSplit(uint256 price, uint256 f, uint256 refundBps)
        internal
        pure
        returns (uint256 refund, uint256 payout)
    {
        uint256 rest = price - f;
        refund = (rest * refundBps) / BPS;
        payout = rest - refund;
    }

    /// @dev A no-show's slash: SLASH_BPS of the stake.
    function slash(uint256 stake) internal pure returns (uint256) {
        return (stake * SLASH_BPS) / BPS;
    }

    /// @dev Score-adjusted ceiling: 0 below minScore, else maxPrice + premium * (score - minScore) / 10,000.
    function ceiling(uint256 maxPrice, uint256 premiumPerStar, uint16 minScore, uint16 s) internal pure returns (uint256) {
        if (s < minScore) return 0;
        return maxPrice + (premiumPerStar * (uint256(s) - uint256(minScore))) / STAR;
    }

    /// @dev Every criterion, then the first failing one in the enum's order.
    function firstFailure(Cand memory p, Crit memory c) internal pure returns (uint8) {
        bool[14] memory fails;
        fails[1] = !p.active;
        fails[2] = c.version == 0;
        fails[3] = p.currency != c.currency;
        fails[4] = c.region != 0 && p.region != c.region;
        fails[5] = p.blocked;
        fails[6] = p.ownerBlocked;
        fails[7] = (c.requiredAttributes & ~p.attributes) != 0;
        fails[8] = (c.refusedAttributes & p.attributes) != 0;
        fails[9] = (c.verifiedAttributes & ~p.verified) != 0;
        fails[10] = p.score < c.minScore;
        fails[11] = p.ratingWeight < c.minRatingWeight;
        fails[12] = p.reliability < c.minReliability;
        fails[13] = p.price > ceiling(c.maxPrice, c.premiumPerStar, c.minScore, p.score);
        for (uint8 i = 1; i < 14; i++) {
            if (fails[i]) return i;
        }
        return 0;
    }
}
