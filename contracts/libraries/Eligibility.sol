// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {ICriteriaRegistry} from "../interfaces/ICriteriaRegistry.sol";
import {Score} from "./Score.sol";

/// @title The price ceiling of the eligibility rule
/// @notice The rule itself (`MarketplaceBase._firstFailure`) reads storage lazily; this is its pure part.
///         `marketplace.domain` states the same rule once in Python.
library Eligibility {
    /// @notice maxPrice at minScore plus premiumPerStar for each star above it, floored; 0 below minScore.
    function ceiling(uint256 maxPrice, uint256 premiumPerStar, uint256 minScore, uint256 score)
        internal
        pure
        returns (uint256)
    {
        if (score < minScore) return 0;
        return maxPrice + (premiumPerStar * (score - minScore)) / Score.STAR;
    }

    /// @notice `ceiling` of a stored criteria set.
    function ceiling(ICriteriaRegistry.Criteria memory c, uint16 score) internal pure returns (uint256) {
        return ceiling(c.maxPrice, c.premiumPerStar, c.minScore, score);
    }
}
