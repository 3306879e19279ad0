// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

/// @title Listings: stake, category, region, attributes, currency, price, terms, score, reliability
/// @notice A listing is one service offered by an owner address; an owner may have several.
///         Names and descriptions live off-chain, addressed by `metadataHash` (carried by the
///         events, not stored). Every registration or update is a new `offerVersion`; its event
///         carries the whole listing, so the offer any booking was made against is on the chain.
interface IProviderRegistry {
    /// @notice What an owner writes for a listing.
    struct ListingInput {
        uint16 category; // > 0; fixed for the listing's life
        uint16 region; // 0 = unspecified
        uint64 attributes; // bit i set = catalogue attribute i
        uint8 currency; // 0 = ether, else an enabled token currency
        uint88 price; // per booking, in the currency's smallest unit; >= minFee(currency)
        bytes32 metadataHash; // content hash of the off-chain name and description
        bool instant; // bookings are accepted on booking
        uint16 freeCancelHours; // the customer cancels free until this many hours before the start
        uint8 lateCancelPct; // after that, this % of the price goes to the provider (<= 100)
    }

    /// @notice A stored listing, packed in three slots.
    struct Listing {
        // slot 0: who acts for it, its offer version and its record
        address owner;
        uint32 offerVersion; // 1 on registration, +1 per update
        uint32 lockedUntil; // the stake cannot be released before this (acceptances, cooldown)
        uint16 completed; // settled or resolved bookings
        uint16 failures; // provider cancellations after acceptance, no-shows, lost disputes
        // slot 1: the offer
        uint88 price;
        uint64 attributes;
        uint16 category;
        uint16 region;
        uint8 currency;
        bool active;
        bool instant;
        uint16 freeCancelHours;
        uint8 lateCancelPct;
        // slot 2: ratings and stake
        uint72 ratingWeight; // sum of rating weights
        uint80 weightedStars; // sum of stars x weight
        uint96 stake; // wei
    }

    /// @notice A listing was created; `listing` is the whole offer, `offerVersion` is 1.
    event ListingRegistered(
        uint32 indexed providerId,
        address indexed owner,
        uint16 indexed category,
        ListingInput listing,
        uint32 offerVersion,
        uint96 stake
    );
    /// @notice A listing's offer changed; `listing` is the whole new offer (same category).
    event ListingUpdated(uint32 indexed providerId, uint32 indexed offerVersion, ListingInput listing);
    /// @notice A listing stopped taking bookings; its stake cannot be released before `unlockAt`
    ///         (the later of the cooldown's end and `lockedUntil`).
    event ListingDeactivated(uint32 indexed providerId, uint32 unlockAt);
    /// @notice A deactivated listing takes bookings again.
    event ListingReactivated(uint32 indexed providerId);
    /// @notice `by` added `amount` wei to a listing's stake; `stake` is the new total.
    event StakeToppedUp(uint32 indexed providerId, address indexed by, uint96 amount, uint96 stake);
    /// @notice A deactivated listing's stake was moved to its owner's ether credit.
    event StakeReleased(uint32 indexed providerId, address indexed owner, uint96 amount);
    /// @notice `amount` wei of a listing's stake went to `to`'s ether credit: a no-show's customer,
    ///         or the arbiter of a dispute the provider lost.
    event StakeSlashed(uint32 indexed providerId, uint256 indexed bookingId, address indexed to, uint96 amount);
    /// @notice An attestor recorded the attributes it verified for a listing (0 revokes all).
    event AttributesAttested(uint32 indexed providerId, address indexed attestor, uint8 attestorId, uint64 attributes);

    /// @notice No listing has this id.
    error MarketplaceProviderNotFound(uint32 providerId);
    /// @notice Only the listing's owner may do this.
    error MarketplaceNotProviderOwner(uint32 providerId, address caller);
    /// @notice The stake sent is below the minimum.
    error MarketplaceInsufficientStake(uint256 sent, uint256 required);
    /// @notice A stake above 2^96 - 1 wei cannot be stored.
    error MarketplaceStakeTooLarge(uint256 stake);
    /// @notice Prices must be above zero.
    error MarketplaceZeroPrice();
    /// @notice The price is below the currency's minimum fee (the fee would exceed the price).
    error MarketplacePriceBelowMinFee(uint256 price, uint256 minFee);
    /// @notice Category 0 is reserved for "none"; a listing's category cannot change.
    error MarketplaceInvalidCategory();
    /// @notice The late-cancellation share is above 100 %.
    error MarketplaceInvalidCancelTerms(uint8 lateCancelPct);
    /// @notice The listing is already in the requested active state.
    error MarketplaceProviderStateUnchanged(uint32 providerId, bool active);
    /// @notice The stake cannot be released: the listing is active (until = 0), or it is locked
    ///         until `until`, or there is no stake left.
    error MarketplaceStakeLocked(uint32 providerId, uint32 until);
    /// @notice The caller is not a currently named attestor.
    error MarketplaceNotAttestor(address caller);
    /// @notice A top-up of zero.
    error MarketplaceZeroValue();

    /// @notice Register a listing; the ether sent is its stake (>= minStake).
    /// @param listing The whole offer.
    /// @return providerId The new listing's id.
    function register(ListingInput calldata listing) external payable returns (uint32 providerId);

    /// @notice Replace a listing's offer (a new offerVersion). Open bookings keep their terms.
    /// @param providerId The listing.
    /// @param listing The whole new offer; its category must equal the listing's.
    function updateListing(uint32 providerId, ListingInput calldata listing) external;

    /// @notice Stop taking bookings; open bookings continue. Starts the stake cooldown.
    /// @param providerId The listing.
    function deactivate(uint32 providerId) external;

    /// @notice Take bookings again after a deactivation, if the stake still covers minStake.
    /// @param providerId The listing.
    function reactivate(uint32 providerId) external;

    /// @notice Add the ether sent to a listing's stake (anyone may).
    /// @param providerId The listing.
    function topUpStake(uint32 providerId) external payable;

    /// @notice Move a deactivated listing's stake to the owner's ether credit, once the cooldown
    ///         and `lockedUntil` have passed.
    /// @param providerId The listing.
    function releaseStake(uint32 providerId) external;

    /// @notice As a named attestor, record the attribute bits verified for a listing, replacing
    ///         the caller's previous record (0 revokes).
    /// @param providerId The listing.
    /// @param attributes The verified attribute bits.
    function attest(uint32 providerId, uint64 attributes) external;

    /// @notice The listing's stored state.
    /// @param providerId The listing.
    function getListing(uint32 providerId) external view returns (Listing memory);

    /// @notice The listing's weighted Bayesian score in basis points of a star (50,000 = five stars).
    /// @param providerId The listing.
    function scoreOf(uint32 providerId) external view returns (uint16);

    /// @notice The listing's reliability in basis points: (completed + 9) x 10,000 / (completed + failures + 10).
    /// @param providerId The listing.
    function reliabilityOf(uint32 providerId) external view returns (uint16);

    /// @notice The attribute bits attestor `attestorId` recorded for the listing (as recorded, not
    ///         masked by what the listing claims).
    /// @param providerId The listing.
    /// @param attestorId The attestor id.
    function attestationOf(uint32 providerId, uint8 attestorId) external view returns (uint64);

    /// @notice The listing's attributes verified by at least one attestor of `attestorMask` that is
    ///         still named, masked by the attributes the listing claims.
    /// @param providerId The listing.
    /// @param attestorMask Bit (id - 1) per attestor.
    function verifiedAttributesOf(uint32 providerId, uint32 attestorMask) external view returns (uint64);

    /// @notice Number of listings ever registered; ids run from 1 to this.
    function providerCount() external view returns (uint32);

    /// @notice Cap of one rating's weight: 2^40.
    function MAX_RATING_WEIGHT() external view returns (uint64);

    /// @notice Weight of the score's prior: 20,000 (twenty minimum-fee ratings).
    function PRIOR_WEIGHT() external view returns (uint32);

    /// @notice The prior's score: 35,000 (3.5 stars).
    function PRIOR_SCORE() external view returns (uint16);

    /// @notice Share of the stake a no-show moves to the customer: 1,000 bps (10 %).
    function SLASH_BPS() external view returns (uint16);
}
