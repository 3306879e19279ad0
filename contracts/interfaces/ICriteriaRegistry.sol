// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

/// @title Customer-curated selection criteria, one versioned set per customer and category
/// @notice The contract refuses any booking whose listing breaks the customer's criteria for the
///         listing's category. Every change (criteria, a listing block, an owner block) bumps the
///         customer's criteria version and is logged with all its fields.
interface ICriteriaRegistry {
    /// @notice The first criterion a listing fails, in the order checked.
    enum Criterion {
        None,
        ProviderInactive,
        CriteriaNotSet,
        Currency,
        Region,
        Blocked,
        OwnerBlocked,
        RequiredAttributes,
        RefusedAttributes,
        VerifiedAttributes,
        MinScore,
        TrackRecord,
        Reliability,
        MaxPrice
    }

    /// @notice What a customer writes. Scores are stars x 10,000; prices are in `currency`.
    struct CriteriaInput {
        uint16 category;
        uint16 region; // 0 = any region
        uint8 currency; // a listing in another currency fails Currency
        uint16 minScore; // 0..50,000
        uint88 maxPrice; // price ceiling for a listing at exactly minScore
        uint88 premiumPerStar; // extra accepted per star above minScore
        uint64 requiredAttributes;
        uint64 refusedAttributes;
        uint64 verifiedAttributes; // subset of requiredAttributes, each verified by a trusted attestor
        uint32 trustedAttestors; // bit (id - 1) per trusted attestor; at most 4 bits set
        uint32 minRatingWeight; // minimum track record, in weight units (1,000 = one minimum-fee rating)
        uint16 minReliability; // basis points, 0..10,000
        uint16 scoreWeight; // ranking weights in basis points, used off-chain
        uint16 priceWeight;
    }

    /// @notice A stored criteria set, packed in three slots; `book` reads the third only when
    ///         verified attributes are required.
    struct Criteria {
        // slot 0
        uint88 maxPrice;
        uint88 premiumPerStar;
        uint16 minScore;
        uint16 region;
        uint8 currency;
        uint32 version; // the customer's criteria version when this category last changed; 0 = never set
        // slot 1
        uint64 requiredAttributes;
        uint64 refusedAttributes;
        uint64 verifiedAttributes;
        uint32 minRatingWeight;
        uint16 minReliability;
        uint16 blockedCount; // listings of this category plus owners the customer blocks
        // slot 2
        uint32 trustedAttestors;
        uint16 scoreWeight;
        uint16 priceWeight;
    }

    /// @notice A customer wrote the criteria for a category; `version` is the customer's new version.
    event CriteriaSet(
        address indexed customer, uint16 indexed category, uint32 indexed version, CriteriaInput criteria
    );
    /// @notice A customer blocked or unblocked a listing (in the listing's category); `version` is
    ///         the customer's new version, also stored as that category's criteria version.
    event ProviderBlockChanged(
        address indexed customer, uint32 indexed providerId, uint16 indexed category, bool blocked, uint32 version
    );
    /// @notice A customer blocked or unblocked an owner: every listing it owns, present and future,
    ///         in every category. `version` is the customer's new version.
    event OwnerBlockChanged(address indexed customer, address indexed owner, bool blocked, uint32 version);

    /// @notice The customer has no criteria for the category.
    error MarketplaceCriteriaNotSet(address customer, uint16 category);
    /// @notice The minimum score is above five stars (50,000).
    error MarketplaceInvalidMinScore(uint16 minScore);
    /// @notice The minimum reliability is above 10,000 basis points.
    error MarketplaceInvalidMinReliability(uint16 minReliability);
    /// @notice Weights must each be at most 10,000 and not both zero.
    error MarketplaceInvalidWeights(uint16 scoreWeight, uint16 priceWeight);
    /// @notice An attribute cannot be both required and refused.
    error MarketplaceConflictingAttributes(uint64 overlap);
    /// @notice Verified attributes must also be required; `extra` are the ones that are not.
    error MarketplaceVerifiedNotRequired(uint64 extra);
    /// @notice More than four trusted attestors.
    error MarketplaceTooManyAttestors(uint32 trustedAttestors);
    /// @notice The listing is already (un)blocked.
    error MarketplaceBlockUnchanged(uint32 providerId, bool blocked);
    /// @notice The owner is already (un)blocked.
    error MarketplaceOwnerBlockUnchanged(address owner, bool blocked);

    /// @notice Write the caller's criteria for `criteria.category` (a new version).
    /// @param criteria Every field of the new criteria.
    /// @return version The caller's new criteria version.
    function setCriteria(CriteriaInput calldata criteria) external returns (uint32 version);

    /// @notice Block or unblock a listing for the caller; needs criteria in the listing's category,
    ///         whose version becomes the new version.
    /// @param providerId The listing.
    /// @param blocked True to block.
    /// @return version The caller's new criteria version.
    function setBlocked(uint32 providerId, bool blocked) external returns (uint32 version);

    /// @notice Block or unblock an owner address for the caller: all its listings, in every category.
    /// @param owner The owner address.
    /// @param blocked True to block.
    /// @return version The caller's new criteria version.
    function setOwnerBlocked(address owner, bool blocked) external returns (uint32 version);

    /// @notice The customer's stored criteria for a category.
    /// @param customer The customer.
    /// @param category The category.
    function getCriteria(address customer, uint16 category) external view returns (Criteria memory);

    /// @notice Whether the customer blocked the listing.
    /// @param customer The customer.
    /// @param providerId The listing.
    function isBlocked(address customer, uint32 providerId) external view returns (bool);

    /// @notice Whether the customer blocked the owner.
    /// @param customer The customer.
    /// @param owner The owner address.
    function isOwnerBlocked(address customer, address owner) external view returns (bool);

    /// @notice The customer's latest criteria version over all categories and blocks. `book`
    ///         takes the version of the listing's category: `getCriteria(customer, category).version`.
    /// @param customer The customer.
    function criteriaVersionOf(address customer) external view returns (uint32);

    /// @notice The first criterion the listing fails for the customer now, or None. An unknown
    ///         listing reports ProviderInactive (this view never reverts).
    /// @param customer The customer.
    /// @param providerId The listing.
    function firstFailedCriterion(address customer, uint32 providerId) external view returns (Criterion);

    /// @notice The highest price the customer accepts from a listing with `score`:
    ///         maxPrice + premiumPerStar x (score - minScore) / 10,000; 0 below minScore.
    /// @param customer The customer.
    /// @param category The category whose criteria apply.
    /// @param score Listing score, stars x 10,000.
    function priceCeiling(address customer, uint16 category, uint16 score) external view returns (uint256);
}
