// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

/// @title Registry of service providers: stake, category, region, attributes, price, score
/// @notice A provider is a listing owned by an address; one address may own several listings
///         (one per service it offers). Names and descriptions live off-chain, addressed by
///         `metadataHash`; nothing personal is stored on-chain.
interface IProviderRegistry {
    /// @notice A provider listing, packed in four storage slots.
    struct Provider {
        // slot 0: who may act for the listing and what it has at stake
        address owner;
        uint96 stake;
        // slot 1: everything a booking reads
        uint96 price; // wei per booking
        uint64 attributes; // bit i set = catalogue attribute i
        uint16 category;
        uint16 region;
        bool active;
        uint24 scoreCount; // ratings plus lost disputes
        uint32 scoreSum; // stars; a lost dispute counts as a one-star rating
        // slot 2
        bytes32 metadataHash;
        // slot 3: rarely written
        uint40 stakeUnlockAt; // set when deactivated; 0 while active
        uint24 disputesLost;
    }

    /// @notice A provider listing was created with its full initial state.
    event ProviderRegistered(
        uint32 indexed providerId,
        address indexed owner,
        uint16 indexed category,
        uint16 region,
        uint64 attributes,
        uint96 price,
        uint96 stake,
        bytes32 metadataHash
    );
    /// @notice A provider changed its mutable fields; carries the full new values.
    event ProviderUpdated(
        uint32 indexed providerId, uint16 region, uint64 attributes, uint96 price, bytes32 metadataHash
    );
    /// @notice A provider stopped taking bookings; its stake unlocks at `stakeUnlockAt`.
    event ProviderDeactivated(uint32 indexed providerId, uint40 stakeUnlockAt);
    /// @notice A deactivated provider takes bookings again.
    event ProviderReactivated(uint32 indexed providerId);
    /// @notice A deactivated provider's stake was moved to its owner's withdrawable credit.
    event StakeReleased(uint32 indexed providerId, address indexed owner, uint96 amount);

    /// @notice No provider has this id.
    error MarketplaceProviderNotFound(uint32 providerId);
    /// @notice Only the listing's owner may do this.
    error MarketplaceNotProviderOwner(uint32 providerId, address caller);
    /// @notice The stake sent is below the minimum.
    error MarketplaceInsufficientStake(uint256 sent, uint256 required);
    /// @notice A stake above 2^96 - 1 wei cannot be stored.
    error MarketplaceStakeTooLarge(uint256 sent);
    /// @notice Prices must be above zero.
    error MarketplaceZeroPrice();
    /// @notice Category 0 is reserved for "none".
    error MarketplaceInvalidCategory();
    /// @notice The provider is already in the requested active state.
    error MarketplaceProviderStateUnchanged(uint32 providerId, bool active);
    /// @notice The stake is still locked, or already released.
    error MarketplaceStakeLocked(uint32 providerId, uint40 unlockAt);

    /// @notice Register a provider listing; the value sent is its stake.
    /// @param category Service category (>0), fixed for the listing's life.
    /// @param region Region code; 0 means unspecified.
    /// @param attributes Attribute bitmask (see the off-chain catalogue).
    /// @param price Price per booking, in wei.
    /// @param metadataHash Content hash of the off-chain name and description.
    /// @return providerId The new listing's id.
    function register(uint16 category, uint16 region, uint64 attributes, uint96 price, bytes32 metadataHash)
        external
        payable
        returns (uint32 providerId);

    /// @notice Change a listing's region, attributes, price and metadata. Open bookings keep their price.
    /// @param providerId The listing.
    /// @param region New region code.
    /// @param attributes New attribute bitmask.
    /// @param price New price per booking, in wei.
    /// @param metadataHash New metadata content hash.
    function updateProvider(uint32 providerId, uint16 region, uint64 attributes, uint96 price, bytes32 metadataHash)
        external;

    /// @notice Stop taking bookings; open bookings continue. Starts the stake cooldown.
    /// @param providerId The listing.
    function deactivate(uint32 providerId) external;

    /// @notice Take bookings again after a deactivation, if the stake is still held.
    /// @param providerId The listing.
    function reactivate(uint32 providerId) external;

    /// @notice After the cooldown, move a deactivated listing's stake to the owner's credit.
    /// @param providerId The listing.
    function releaseStake(uint32 providerId) external;

    /// @notice The listing's full state.
    /// @param providerId The listing.
    function getProvider(uint32 providerId) external view returns (Provider memory);

    /// @notice The listing's Bayesian score in basis points of a star (50000 = five stars).
    /// @param providerId The listing.
    function scoreOf(uint32 providerId) external view returns (uint16);

    /// @notice Number of listings ever registered; ids run from 1 to this.
    function providerCount() external view returns (uint32);
}
