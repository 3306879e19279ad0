// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {ICriteriaRegistry} from "../interfaces/ICriteriaRegistry.sol";
import {Score} from "./Score.sol";

/// @title The eligibility rule: does a provider meet a customer's criteria?
/// @notice The single on-chain statement of the rule; `marketplace.matching.eligibility` states it
///         once in Python and a test proves both agree on random inputs.
library Eligibility {
    /// @notice The provider's side of the check, as read at booking time.
    struct Candidate {
        bool active;
        bool blocked;
        uint16 region;
        uint16 score;
        uint64 attributes;
        uint96 price;
    }

    /// @notice The first criterion `p` fails under `c`, checked in the enum's order, or None.
    function firstFailure(Candidate memory p, ICriteriaRegistry.Criteria memory c)
        internal
        pure
        returns (ICriteriaRegistry.Criterion)
    {
        if (!p.active) return ICriteriaRegistry.Criterion.ProviderInactive;
        if (c.version == 0) return ICriteriaRegistry.Criterion.CriteriaNotSet;
        if (c.region != 0 && c.region != p.region) return ICriteriaRegistry.Criterion.Region;
        if (p.blocked) return ICriteriaRegistry.Criterion.Blocked;
        if (p.attributes & c.requiredAttributes != c.requiredAttributes) {
            return ICriteriaRegistry.Criterion.RequiredAttributes;
        }
        if (p.attributes & c.refusedAttributes != 0) return ICriteriaRegistry.Criterion.RefusedAttributes;
        if (p.score < c.minScore) return ICriteriaRegistry.Criterion.MinScore;
        if (p.price > ceiling(c, p.score)) return ICriteriaRegistry.Criterion.MaxPrice;
        return ICriteriaRegistry.Criterion.None;
    }

    /// @notice The score-adjusted price ceiling: maxPrice at minScore plus premiumPerStar for each
    ///         star above it, floored to the wei; 0 below minScore.
    function ceiling(ICriteriaRegistry.Criteria memory c, uint16 score) internal pure returns (uint256) {
        if (score < c.minScore) return 0;
        return uint256(c.maxPrice) + (uint256(c.premiumPerStar) * (score - c.minScore)) / Score.STAR;
    }
}
