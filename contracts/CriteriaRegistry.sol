// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {ProviderRegistry} from "./ProviderRegistry.sol";
import {ICriteriaRegistry} from "./interfaces/ICriteriaRegistry.sol";
import {IProviderRegistry} from "./interfaces/IProviderRegistry.sol";
import {IMarketplaceAdmin} from "./interfaces/IMarketplaceAdmin.sol";
import {Eligibility} from "./libraries/Eligibility.sol";
import {Score} from "./libraries/Score.sol";

/// @title Customer-written criteria per category, listing and owner blocks, versioned, and the
///        eligibility view (part of `MarketplaceModule`)
abstract contract CriteriaRegistry is ProviderRegistry {
    uint16 internal constant MAX_WEIGHT = 10_000;

    /// @notice See ICriteriaRegistry.setCriteria.
    function setCriteria(ICriteriaRegistry.CriteriaInput calldata input) external returns (uint32 version) {
        if (input.category == 0) revert IProviderRegistry.MarketplaceInvalidCategory();
        if (input.minScore > Score.MAX_SCORE) revert ICriteriaRegistry.MarketplaceInvalidMinScore(input.minScore);
        if (input.minReliability > BPS) {
            revert ICriteriaRegistry.MarketplaceInvalidMinReliability(input.minReliability);
        }
        if (
            input.scoreWeight > MAX_WEIGHT || input.priceWeight > MAX_WEIGHT
                || (input.scoreWeight == 0 && input.priceWeight == 0)
        ) revert ICriteriaRegistry.MarketplaceInvalidWeights(input.scoreWeight, input.priceWeight);
        uint64 overlap = input.requiredAttributes & input.refusedAttributes;
        if (overlap != 0) revert ICriteriaRegistry.MarketplaceConflictingAttributes(overlap);
        uint64 extra = input.verifiedAttributes & ~input.requiredAttributes;
        if (extra != 0) revert ICriteriaRegistry.MarketplaceVerifiedNotRequired(extra);
        uint32 trusted = input.trustedAttestors;
        uint256 n = 0;
        for (uint32 m = trusted; m != 0; m &= m - 1) {
            ++n;
        }
        if (n > MAX_TRUSTED) revert ICriteriaRegistry.MarketplaceTooManyAttestors(trusted);

        version = _nextVersion(msg.sender);
        ICriteriaRegistry.Criteria storage c = _criteria[msg.sender][input.category];
        uint16 blockedCount = c.blockedCount;
        if (c.version == 0) {
            // A first criteria set in this category starts with the owner blocks the customer has.
            _categoriesOf[msg.sender].push(input.category);
            blockedCount = _customers[msg.sender].ownerBlocks;
        }
        _criteria[msg.sender][input.category] = ICriteriaRegistry.Criteria({
            maxPrice: input.maxPrice,
            premiumPerStar: input.premiumPerStar,
            minScore: input.minScore,
            region: input.region,
            currency: input.currency,
            version: version,
            requiredAttributes: input.requiredAttributes,
            refusedAttributes: input.refusedAttributes,
            verifiedAttributes: input.verifiedAttributes,
            trustedAttestors: trusted,
            minReliability: input.minReliability,
            blockedCount: blockedCount,
            minRatingWeight: input.minRatingWeight,
            scoreWeight: input.scoreWeight,
            priceWeight: input.priceWeight
        });
        emit ICriteriaRegistry.CriteriaSet(msg.sender, input.category, version, input);
    }

    /// @notice See ICriteriaRegistry.setBlocked.
    function setBlocked(uint32 providerId, bool blocked) external returns (uint32 version) {
        if (_listings[providerId].owner == address(0)) {
            revert IProviderRegistry.MarketplaceProviderNotFound(providerId);
        }
        uint16 category = _listings[providerId].category;
        ICriteriaRegistry.Criteria storage c = _criteria[msg.sender][category];
        if (c.version == 0) revert ICriteriaRegistry.MarketplaceCriteriaNotSet(msg.sender, category);
        if (_blocked[msg.sender][providerId] == blocked) {
            revert ICriteriaRegistry.MarketplaceBlockUnchanged(providerId, blocked);
        }
        _blocked[msg.sender][providerId] = blocked;
        version = _nextVersion(msg.sender);
        c.version = version;
        c.blockedCount = blocked ? c.blockedCount + 1 : c.blockedCount - 1;
        emit ICriteriaRegistry.ProviderBlockChanged(msg.sender, providerId, category, blocked, version);
    }

    /// @notice See ICriteriaRegistry.setOwnerBlocked.
    function setOwnerBlocked(address owner_, bool blocked) external returns (uint32 version) {
        if (owner_ == address(0)) revert IMarketplaceAdmin.MarketplaceZeroAddress();
        if (_ownerBlocked[msg.sender][owner_] == blocked) {
            revert ICriteriaRegistry.MarketplaceOwnerBlockUnchanged(owner_, blocked);
        }
        _ownerBlocked[msg.sender][owner_] = blocked;
        Customer storage customer = _customers[msg.sender];
        customer.ownerBlocks = blocked ? customer.ownerBlocks + 1 : customer.ownerBlocks - 1;
        // Every category's blockedCount counts owner blocks too, so `book` reads no block flag
        // for a customer who blocks nobody. The loop is over the caller's own categories.
        uint16[] storage categories = _categoriesOf[msg.sender];
        uint256 n = categories.length;
        for (uint256 i; i < n; ++i) {
            ICriteriaRegistry.Criteria storage c = _criteria[msg.sender][categories[i]];
            c.blockedCount = blocked ? c.blockedCount + 1 : c.blockedCount - 1;
        }
        version = _nextVersion(msg.sender);
        emit ICriteriaRegistry.OwnerBlockChanged(msg.sender, owner_, blocked, version);
    }

    /// @notice See ICriteriaRegistry.getCriteria.
    function getCriteria(address customer, uint16 category) external view returns (ICriteriaRegistry.Criteria memory) {
        return _criteria[customer][category];
    }

    /// @notice See ICriteriaRegistry.isBlocked.
    function isBlocked(address customer, uint32 providerId) external view returns (bool) {
        return _blocked[customer][providerId];
    }

    /// @notice See ICriteriaRegistry.isOwnerBlocked.
    function isOwnerBlocked(address customer, address owner_) external view returns (bool) {
        return _ownerBlocked[customer][owner_];
    }

    /// @notice See ICriteriaRegistry.criteriaVersionOf.
    function criteriaVersionOf(address customer) external view returns (uint32) {
        return _customers[customer].version;
    }

    /// @dev Bumps and returns the customer's criteria version.
    function _nextVersion(address customer) private returns (uint32 version) {
        version = _customers[customer].version + 1;
        _customers[customer].version = version;
    }
}
