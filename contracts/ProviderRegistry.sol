// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {MarketplaceBase} from "./MarketplaceBase.sol";
import {IProviderRegistry} from "./interfaces/IProviderRegistry.sol";
import {IMarketplaceAdmin} from "./interfaces/IMarketplaceAdmin.sol";
import {Score} from "./libraries/Score.sol";

/// @title Listings: registration with a stake, offer updates, deactivation, stake top-ups and
///        release, and attestations (part of `MarketplaceModule`)
abstract contract ProviderRegistry is MarketplaceBase {
    uint32 internal immutable STAKE_COOLDOWN;

    constructor(uint32 stakeCooldown) {
        STAKE_COOLDOWN = stakeCooldown;
    }

    /// @notice See IProviderRegistry.register.
    function register(IProviderRegistry.ListingInput calldata input) external payable returns (uint32 providerId) {
        Config memory config = _config;
        if (config.paused) revert IMarketplaceAdmin.MarketplacePaused();
        if (msg.value < config.minStake) {
            revert IProviderRegistry.MarketplaceInsufficientStake(msg.value, config.minStake);
        }
        if (msg.value > type(uint96).max) revert IProviderRegistry.MarketplaceStakeTooLarge(msg.value);
        if (input.category == 0) revert IProviderRegistry.MarketplaceInvalidCategory();
        _checkOffer(input, config.etherMinFee);
        providerId = config.providerCount + 1;
        _config.providerCount = providerId;
        _listings[providerId] = IProviderRegistry.Listing({
            owner: msg.sender,
            offerVersion: 1,
            lockedUntil: 0,
            completed: 0,
            failures: 0,
            price: input.price,
            attributes: input.attributes,
            category: input.category,
            region: input.region,
            currency: input.currency,
            active: true,
            instant: input.instant,
            freeCancelHours: input.freeCancelHours,
            lateCancelPct: input.lateCancelPct,
            ratingWeight: 0,
            weightedStars: 0,
            stake: uint96(msg.value)
        });
        emit IProviderRegistry.ListingRegistered(providerId, msg.sender, input.category, input, 1, uint96(msg.value));
    }

    /// @notice See IProviderRegistry.updateListing.
    function updateListing(uint32 providerId, IProviderRegistry.ListingInput calldata input) external {
        IProviderRegistry.Listing storage l = _ownedListing(providerId);
        if (input.category != l.category) revert IProviderRegistry.MarketplaceInvalidCategory();
        _checkOffer(input, _config.etherMinFee);
        uint32 version = l.offerVersion + 1;
        l.offerVersion = version;
        _writeOffer(l, input);
        emit IProviderRegistry.ListingUpdated(providerId, version, input);
    }

    /// @notice See IProviderRegistry.deactivate.
    function deactivate(uint32 providerId) external {
        IProviderRegistry.Listing storage l = _ownedListing(providerId);
        if (!l.active) revert IProviderRegistry.MarketplaceProviderStateUnchanged(providerId, false);
        uint32 unlockAt = uint32(block.timestamp) + STAKE_COOLDOWN;
        uint32 locked = l.lockedUntil;
        if (locked > unlockAt) unlockAt = locked;
        l.active = false;
        l.lockedUntil = unlockAt;
        emit IProviderRegistry.ListingDeactivated(providerId, unlockAt);
    }

    /// @notice See IProviderRegistry.reactivate.
    function reactivate(uint32 providerId) external {
        IProviderRegistry.Listing storage l = _ownedListing(providerId);
        if (_config.paused) revert IMarketplaceAdmin.MarketplacePaused();
        if (l.active) revert IProviderRegistry.MarketplaceProviderStateUnchanged(providerId, true);
        uint96 required = _config.minStake;
        if (l.stake < required) revert IProviderRegistry.MarketplaceInsufficientStake(l.stake, required);
        l.active = true;
        emit IProviderRegistry.ListingReactivated(providerId);
    }

    /// @notice See IProviderRegistry.topUpStake.
    function topUpStake(uint32 providerId) external payable nonReentrant {
        IProviderRegistry.Listing storage l = _listings[providerId];
        if (l.owner == address(0)) revert IProviderRegistry.MarketplaceProviderNotFound(providerId);
        if (msg.value == 0) revert IProviderRegistry.MarketplaceZeroValue();
        uint256 stake = uint256(l.stake) + msg.value;
        if (stake > type(uint96).max) revert IProviderRegistry.MarketplaceStakeTooLarge(stake);
        l.stake = uint96(stake);
        emit IProviderRegistry.StakeToppedUp(providerId, msg.sender, uint96(msg.value), uint96(stake));
    }

    /// @notice See IProviderRegistry.releaseStake.
    function releaseStake(uint32 providerId) external nonReentrant {
        IProviderRegistry.Listing storage l = _ownedListing(providerId);
        if (l.active) revert IProviderRegistry.MarketplaceStakeLocked(providerId, 0);
        uint32 until = l.lockedUntil;
        uint96 amount = l.stake;
        if (block.timestamp < until || amount == 0) revert IProviderRegistry.MarketplaceStakeLocked(providerId, until);
        l.stake = 0;
        _credit(msg.sender, 0, amount);
        emit IProviderRegistry.StakeReleased(providerId, msg.sender, amount);
    }

    /// @notice See IProviderRegistry.attest.
    function attest(uint32 providerId, uint64 attributes) external {
        uint8 id = _attestorIds[msg.sender];
        if (id == 0 || !_attestors[id].allowed) revert IProviderRegistry.MarketplaceNotAttestor(msg.sender);
        if (_listings[providerId].owner == address(0)) {
            revert IProviderRegistry.MarketplaceProviderNotFound(providerId);
        }
        _attestations[providerId][id] = attributes;
        emit IProviderRegistry.AttributesAttested(providerId, msg.sender, id, attributes);
    }

    /// @notice See IProviderRegistry.getListing.
    function getListing(uint32 providerId) external view returns (IProviderRegistry.Listing memory) {
        return _listings[providerId];
    }

    /// @notice See IProviderRegistry.attestationOf.
    function attestationOf(uint32 providerId, uint8 attestorId) external view returns (uint64) {
        return _attestations[providerId][attestorId];
    }

    /// @notice See IProviderRegistry.providerCount.
    function providerCount() external view returns (uint32) {
        return _config.providerCount;
    }

    /// @notice See IProviderRegistry.MAX_RATING_WEIGHT.
    function MAX_RATING_WEIGHT() external pure returns (uint64) {
        return Score.MAX_RATING_WEIGHT;
    }

    /// @notice See IProviderRegistry.PRIOR_WEIGHT.
    function PRIOR_WEIGHT() external pure returns (uint32) {
        return Score.PRIOR_WEIGHT;
    }

    /// @notice See IProviderRegistry.PRIOR_SCORE.
    function PRIOR_SCORE() external pure returns (uint16) {
        return Score.PRIOR_SCORE;
    }

    /// @notice See IProviderRegistry.SLASH_BPS.
    function SLASH_BPS() external pure returns (uint16) {
        return SLASH_BPS_;
    }

    /// @dev Validates an offer: enabled currency, a price covering the minimum fee, terms <= 100 %.
    function _checkOffer(IProviderRegistry.ListingInput calldata input, uint80 etherMinFee) private view {
        uint8 currency = input.currency;
        uint80 minFee_ = etherMinFee;
        if (currency != 0) {
            CurrencyInfo storage info = _currencies[currency];
            minFee_ = info.minFee;
            if (!info.enabled || minFee_ == 0) revert IMarketplaceAdmin.MarketplaceCurrencyDisabled(currency);
        }
        if (input.price == 0) revert IProviderRegistry.MarketplaceZeroPrice();
        if (input.price < minFee_) revert IProviderRegistry.MarketplacePriceBelowMinFee(input.price, minFee_);
        if (input.lateCancelPct > 100) revert IProviderRegistry.MarketplaceInvalidCancelTerms(input.lateCancelPct);
    }

    /// @dev Writes the offer slot (everything but the category, which never changes after registration).
    function _writeOffer(IProviderRegistry.Listing storage l, IProviderRegistry.ListingInput calldata input) private {
        l.price = input.price;
        l.attributes = input.attributes;
        l.region = input.region;
        l.currency = input.currency;
        l.instant = input.instant;
        l.freeCancelHours = input.freeCancelHours;
        l.lateCancelPct = input.lateCancelPct;
    }
}
