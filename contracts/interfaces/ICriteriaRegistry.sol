// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

/// @title Customer-curated selection criteria, one versioned set per customer and category
/// @notice The contract refuses any booking whose provider breaks the customer's criteria for the
///         provider's category. Every change bumps the customer's criteria version and is logged
///         with all its fields.
interface ICriteriaRegistry {
    /// @notice The first criterion a provider fails, in the order checked.
    enum Criterion {
        None,
        ProviderInactive,
        CriteriaNotSet,
        Region,
        Blocked,
        RequiredAttributes,
        RefusedAttributes,
        MinScore,
        MaxPrice
    }

    /// @notice What a customer writes. Scores are basis points of a star (50000 = five stars).
    struct CriteriaInput {
        uint16 category;
        uint16 region; // 0 = any region
        uint16 minScore;
        uint96 maxPrice; // price ceiling, in wei, for a provider at exactly minScore
        uint96 premiumPerStar; // extra wei accepted per star above minScore
        uint64 requiredAttributes;
        uint64 refusedAttributes;
        uint16 scoreWeight; // ranking weights in basis points, used off-chain
        uint16 priceWeight;
    }

    /// @notice A stored criteria set, packed in two slots.
    struct Criteria {
        // slot 0
        uint96 maxPrice;
        uint96 premiumPerStar;
        uint16 minScore;
        uint16 region;
        uint16 scoreWeight;
        uint16 priceWeight;
        // slot 1
        uint64 requiredAttributes;
        uint64 refusedAttributes;
        uint32 version; // 0 = never set
        uint16 blockedCount;
    }

    /// @notice A customer wrote the criteria for a category; `version` is the customer's new version.
    event CriteriaSet(address indexed customer, uint16 indexed category, uint32 indexed version, CriteriaInput criteria);
    /// @notice A customer blocked or unblocked a provider; `version` is the customer's new version.
    event ProviderBlockChanged(
        address indexed customer, uint32 indexed providerId, uint16 indexed category, bool blocked, uint32 version
    );

    /// @notice The customer has no criteria for the category.
    error MarketplaceCriteriaNotSet(address customer, uint16 category);
    /// @notice The minimum score is above five stars (50000).
    error MarketplaceInvalidMinScore(uint16 minScore);
    /// @notice Weights must each be at most 10000 and not both zero.
    error MarketplaceInvalidWeights(uint16 scoreWeight, uint16 priceWeight);
    /// @notice An attribute cannot be both required and refused.
    error MarketplaceConflictingAttributes(uint64 overlap);
    /// @notice The provider is already (un)blocked.
    error MarketplaceBlockUnchanged(uint32 providerId, bool blocked);

    /// @notice Write the caller's criteria for `criteria.category` (a new version).
    /// @param criteria Every field of the new criteria.
    /// @return version The caller's new criteria version.
    function setCriteria(CriteriaInput calldata criteria) external returns (uint32 version);

    /// @notice Block or unblock a provider for the caller (a new version of that category's criteria).
    /// @param providerId The provider.
    /// @param blocked True to block.
    /// @return version The caller's new criteria version.
    function setBlocked(uint32 providerId, bool blocked) external returns (uint32 version);

    /// @notice The customer's stored criteria for a category.
    /// @param customer The customer.
    /// @param category The category.
    function getCriteria(address customer, uint16 category) external view returns (Criteria memory);

    /// @notice Whether the customer blocked the provider.
    /// @param customer The customer.
    /// @param providerId The provider.
    function isBlocked(address customer, uint32 providerId) external view returns (bool);

    /// @notice The customer's latest criteria version over all categories. `book` takes the version
    ///         of the criteria for the provider's category: `getCriteria(customer, category).version`.
    /// @param customer The customer.
    function criteriaVersionOf(address customer) external view returns (uint32);

    /// @notice The first criterion the provider fails for the customer now, or None. An unknown
    ///         provider id reports ProviderInactive (this view never reverts).
    /// @param customer The customer.
    /// @param providerId The provider.
    function firstFailedCriterion(address customer, uint32 providerId) external view returns (Criterion);

    /// @notice The highest price the customer accepts from a provider with `score`.
    /// @param customer The customer.
    /// @param category The category whose criteria apply.
    /// @param score Provider score in basis points of a star.
    function priceCeiling(address customer, uint16 category, uint16 score) external view returns (uint256);
}
