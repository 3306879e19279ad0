// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

/// @title Rating weights, the weighted Bayesian score and reliability
/// @notice score = (PRIOR_WEIGHT x PRIOR_SCORE + weightedStars x STAR) / (PRIOR_WEIGHT + ratingWeight);
///         a rating's weight = min(fee x 1,000 / minFee, MAX_RATING_WEIGHT), so a minimum-fee
///         booking's rating weighs 1,000 and weight is linear in the fee paid;
///         reliability = (completed + 9) x 10,000 / (completed + failures + 10).
library Score {
    /// @notice One star; five stars = 50,000.
    uint256 internal constant STAR = 10_000;
    /// @notice Highest possible score.
    uint16 internal constant MAX_SCORE = 50_000;
    /// @notice Weight of the prior: twenty minimum-fee ratings.
    uint32 internal constant PRIOR_WEIGHT = 20_000;
    /// @notice The prior's score: 3.5 stars.
    uint16 internal constant PRIOR_SCORE = 35_000;
    /// @notice Weight of a minimum-fee rating.
    uint256 internal constant UNIT_WEIGHT = 1_000;
    /// @notice Cap of one rating's weight.
    uint64 internal constant MAX_RATING_WEIGHT = 2 ** 40;
    /// @notice Basis points.
    uint256 internal constant BPS = 10_000;

    /// @notice The score of a listing with `ratingWeight` total weight and `weightedStars` = sum of stars x weight.
    function score(uint256 ratingWeight, uint256 weightedStars) internal pure returns (uint16) {
        // weightedStars <= 5 x ratingWeight, so the result is at most MAX_SCORE.
        return
            uint16(
                (uint256(PRIOR_WEIGHT) * PRIOR_SCORE + weightedStars * STAR) / (uint256(PRIOR_WEIGHT) + ratingWeight)
            );
    }

    /// @notice The weight of a rating of a booking that paid `fee` when the minimum fee is `minFee_`.
    function weight(uint256 fee, uint256 minFee_) internal pure returns (uint64) {
        uint256 w = (fee * UNIT_WEIGHT) / minFee_;
        return w > MAX_RATING_WEIGHT ? MAX_RATING_WEIGHT : uint64(w);
    }

    /// @notice Reliability in basis points; a new listing has 9,000.
    function reliability(uint256 completed, uint256 failures) internal pure returns (uint16) {
        return uint16(((completed + 9) * BPS) / (completed + failures + 10));
    }

    /// @notice The fee of a booking: max(ceil(price x feeBps / 10,000), minFee).
    function bookingFee(uint256 price, uint256 feeBps, uint256 minFee_) internal pure returns (uint256 f) {
        f = (price * feeBps + BPS - 1) / BPS;
        if (f < minFee_) f = minFee_;
    }
}
