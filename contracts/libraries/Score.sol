// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

/// @title Bayesian provider score in basis points of a star
/// @notice score = (PRIOR_COUNT * PRIOR_MEAN + STAR * sumStars) / (PRIOR_COUNT + count), floored.
///         A new provider starts at the prior mean, not at zero or five stars; each rating (and each
///         lost dispute, counted as one star) pulls it toward the provider's real average.
library Score {
    /// @notice One star in basis points; five stars = 50000.
    uint256 internal constant STAR = 10_000;
    /// @notice Highest possible score.
    uint16 internal constant MAX_SCORE = 50_000;
    /// @notice Weight of the prior, in pseudo-ratings.
    uint256 internal constant PRIOR_COUNT = 5;
    /// @notice Mean of the prior: 3.5 stars.
    uint256 internal constant PRIOR_MEAN = 35_000;

    /// @notice The score of a provider with `count` ratings summing to `sumStars` stars.
    function bayesian(uint256 count, uint256 sumStars) internal pure returns (uint16) {
        // sumStars <= 5 * count, so the result is at most MAX_SCORE and fits in 16 bits.
        return uint16((PRIOR_COUNT * PRIOR_MEAN + STAR * sumStars) / (PRIOR_COUNT + count));
    }
}
