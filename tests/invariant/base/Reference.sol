// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

/// @notice Reference statements of the marketplace's pure rules, written from the spec
///         (interfaces/ and docs), independently of contracts/libraries. Criterion codes follow
///         ICriteriaRegistry.Criterion: 0 None, 1 ProviderInactive, 2 CriteriaNotSet, 3 Region,
///         4 Blocked, 5 RequiredAttributes, 6 RefusedAttributes, 7 MinScore, 8 MaxPrice.
library Ref {
    uint256 internal constant BPS = 10_000;
    uint256 internal constant STAR = 10_000; // one star in basis points
    uint256 internal constant MAX_SCORE = 50_000;
    uint256 internal constant PRIOR_COUNT = 5;
    uint256 internal constant PRIOR_MEAN = 35_000; // 3.5 stars

    struct Cand {
        bool active;
        bool blocked;
        uint16 region;
        uint16 score;
        uint64 attributes;
        uint96 price;
    }

    struct Crit {
        uint32 version;
        uint16 region;
        uint16 minScore;
        uint96 maxPrice;
        uint96 premiumPerStar;
        uint64 requiredAttributes;
        uint64 refusedAttributes;
    }

    /// @dev Bayesian average: `PRIOR_COUNT` pseudo-ratings at `PRIOR_MEAN`, then the real ones.
    function score(uint256 count, uint256 sumStars) internal pure returns (uint256) {
        uint256 priorMass = PRIOR_COUNT * PRIOR_MEAN;
        uint256 realMass = sumStars * STAR;
        return (priorMass + realMass) / (count + PRIOR_COUNT);
    }

    /// @dev Score-adjusted ceiling: 0 below minScore, else maxPrice + premium per whole/partial star, floored.
    function ceiling(uint96 maxPrice, uint96 premiumPerStar, uint16 minScore, uint16 s) internal pure returns (uint256) {
        if (s < minScore) return 0;
        uint256 above = uint256(s) - uint256(minScore);
        return uint256(maxPrice) + (uint256(premiumPerStar) * above) / STAR;
    }

    /// @dev Evaluate every criterion, then report the first failing one in the enum's order.
    function firstFailure(Cand memory p, Crit memory c) internal pure returns (uint8) {
        bool[9] memory fails;
        fails[1] = !p.active;
        fails[2] = c.version == 0;
        fails[3] = c.region != 0 && p.region != c.region;
        fails[4] = p.blocked;
        fails[5] = (c.requiredAttributes & ~p.attributes) != 0;
        fails[6] = (c.refusedAttributes & p.attributes) != 0;
        fails[7] = p.score < c.minScore;
        fails[8] = uint256(p.price) > ceiling(c.maxPrice, c.premiumPerStar, c.minScore, p.score);
        for (uint8 i = 1; i < 9; i++) {
            if (fails[i]) return i;
        }
        return 0;
    }

    /// @dev Settlement: fee on the whole price at the snapshotted rate, the rest to the provider.
    function settle(uint256 price, uint256 feeBps) internal pure returns (uint256 payout, uint256 fee) {
        fee = (price * feeBps) / BPS;
        payout = price - fee;
    }

    /// @dev Resolution: `refundBps` of the price back, fee on the provider's part only.
    function resolve(uint256 price, uint256 feeBps, uint256 refundBps)
        internal
        pure
        returns (uint256 refund, uint256 payout, uint256 fee)
    {
        refund = (price * refundBps) / BPS;
        uint256 rest = price - refund;
        fee = (rest * feeBps) / BPS;
        payout = rest - fee;
    }
}
