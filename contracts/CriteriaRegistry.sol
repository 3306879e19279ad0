// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {ICriteriaRegistry} from "./interfaces/ICriteriaRegistry.sol";
import {ProviderRegistry} from "./ProviderRegistry.sol";
import {Eligibility} from "./libraries/Eligibility.sol";
import {Score} from "./libraries/Score.sol";

/// @title Customer-written criteria per category, versioned, and the eligibility view
abstract contract CriteriaRegistry is ProviderRegistry {
    /// @dev Per-customer counters, one slot: criteria versions and booking numbers.
    struct CustomerNonces {
        uint32 criteriaVersion;
        uint64 bookingCount;
    }

    uint16 internal constant MAX_WEIGHT = 10_000;

    mapping(address customer => mapping(uint16 category => Criteria)) internal _criteria;
    mapping(address customer => mapping(uint32 providerId => bool)) internal _blocked;
    mapping(address customer => CustomerNonces) internal _nonces;

    /// @inheritdoc ICriteriaRegistry
    function setCriteria(CriteriaInput calldata input) external returns (uint32 version) {
        if (input.category == 0) revert MarketplaceInvalidCategory();
        if (input.minScore > Score.MAX_SCORE) revert MarketplaceInvalidMinScore(input.minScore);
        if (
            input.scoreWeight > MAX_WEIGHT || input.priceWeight > MAX_WEIGHT
                || (input.scoreWeight == 0 && input.priceWeight == 0)
        ) revert MarketplaceInvalidWeights(input.scoreWeight, input.priceWeight);
        uint64 overlap = input.requiredAttributes & input.refusedAttributes;
        if (overlap != 0) revert MarketplaceConflictingAttributes(overlap);

        version = _nextVersion(msg.sender);
        Criteria storage c = _criteria[msg.sender][input.category];
        c.maxPrice = input.maxPrice;
        c.premiumPerStar = input.premiumPerStar;
        c.minScore = input.minScore;
        c.region = input.region;
        c.scoreWeight = input.scoreWeight;
        c.priceWeight = input.priceWeight;
        c.requiredAttributes = input.requiredAttributes;
        c.refusedAttributes = input.refusedAttributes;
        c.version = version;
        emit CriteriaSet(msg.sender, input.category, version, input);
    }

    /// @inheritdoc ICriteriaRegistry
    function setBlocked(uint32 providerId, bool blocked) external returns (uint32 version) {
        _requireProvider(providerId);
        uint16 category = _providers[providerId].category;
        Criteria storage c = _criteria[msg.sender][category];
        if (c.version == 0) revert MarketplaceCriteriaNotSet(msg.sender, category);
        if (_blocked[msg.sender][providerId] == blocked) revert MarketplaceBlockUnchanged(providerId, blocked);
        _blocked[msg.sender][providerId] = blocked;
        version = _nextVersion(msg.sender);
        c.version = version;
        c.blockedCount = blocked ? c.blockedCount + 1 : c.blockedCount - 1;
        emit ProviderBlockChanged(msg.sender, providerId, category, blocked, version);
    }

    /// @inheritdoc ICriteriaRegistry
    function getCriteria(address customer, uint16 category) external view returns (Criteria memory) {
        return _criteria[customer][category];
    }

    /// @inheritdoc ICriteriaRegistry
    function isBlocked(address customer, uint32 providerId) external view returns (bool) {
        return _blocked[customer][providerId];
    }

    /// @inheritdoc ICriteriaRegistry
    function criteriaVersionOf(address customer) external view returns (uint32) {
        return _nonces[customer].criteriaVersion;
    }

    /// @inheritdoc ICriteriaRegistry
    function firstFailedCriterion(address customer, uint32 providerId) external view returns (Criterion) {
        Provider storage p = _providers[providerId];
        return _firstFailure(customer, providerId, p, _criteria[customer][p.category]);
    }

    /// @inheritdoc ICriteriaRegistry
    function priceCeiling(address customer, uint16 category, uint16 score) external view returns (uint256) {
        return Eligibility.ceiling(_criteria[customer][category], score);
    }

    /// @dev The eligibility rule applied to stored state. Reads the blocked flag only when the
    ///      customer has blocked someone in the category, which saves a cold read on most bookings.
    function _firstFailure(address customer, uint32 providerId, Provider storage p, Criteria memory c)
        internal
        view
        returns (Criterion)
    {
        Eligibility.Candidate memory candidate = Eligibility.Candidate({
            active: p.active,
            blocked: c.blockedCount != 0 && _blocked[customer][providerId],
            region: p.region,
            score: Score.bayesian(p.scoreCount, p.scoreSum),
            attributes: p.attributes,
            price: p.price
        });
        return Eligibility.firstFailure(candidate, c);
    }

    /// @dev Bumps and returns the customer's criteria version.
    function _nextVersion(address customer) private returns (uint32 version) {
        version = _nonces[customer].criteriaVersion + 1;
        _nonces[customer].criteriaVersion = version;
    }
}
