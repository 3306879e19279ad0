// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {MarketplaceBase} from "./MarketplaceBase.sol";
import {IProviderRegistry} from "./interfaces/IProviderRegistry.sol";
import {Score} from "./libraries/Score.sol";

/// @title Provider listings: registration with a stake, updates, deactivation and stake release
abstract contract ProviderRegistry is MarketplaceBase {
    mapping(uint32 providerId => Provider) internal _providers;

    modifier onlyProviderOwner(uint32 providerId) {
        _requireProviderOwner(providerId);
        _;
    }

    /// @inheritdoc IProviderRegistry
    function register(uint16 category, uint16 region, uint64 attributes, uint96 price, bytes32 metadataHash)
        external
        payable
        returns (uint32 providerId)
    {
        Config memory config = _config;
        if (config.paused) revert MarketplacePaused();
        if (msg.value < config.minStake) revert MarketplaceInsufficientStake(msg.value, config.minStake);
        if (category == 0) revert MarketplaceInvalidCategory();
        if (price == 0) revert MarketplaceZeroPrice();
        providerId = config.providerCount + 1;
        _config.providerCount = providerId;
        if (msg.value > type(uint96).max) revert MarketplaceStakeTooLarge(msg.value);
        uint96 stake = uint96(msg.value);
        Provider storage p = _providers[providerId];
        p.owner = msg.sender;
        p.stake = stake;
        p.price = price;
        p.attributes = attributes;
        p.category = category;
        p.region = region;
        p.active = true;
        p.metadataHash = metadataHash;
        emit ProviderRegistered(providerId, msg.sender, category, region, attributes, price, stake, metadataHash);
    }

    /// @inheritdoc IProviderRegistry
    function updateProvider(uint32 providerId, uint16 region, uint64 attributes, uint96 price, bytes32 metadataHash)
        external
        onlyProviderOwner(providerId)
    {
        if (price == 0) revert MarketplaceZeroPrice();
        Provider storage p = _providers[providerId];
        p.region = region;
        p.attributes = attributes;
        p.price = price;
        if (p.metadataHash != metadataHash) p.metadataHash = metadataHash;
        emit ProviderUpdated(providerId, region, attributes, price, metadataHash);
    }

    /// @inheritdoc IProviderRegistry
    function deactivate(uint32 providerId) external onlyProviderOwner(providerId) {
        Provider storage p = _providers[providerId];
        if (!p.active) revert MarketplaceProviderStateUnchanged(providerId, false);
        uint40 unlockAt = uint40(block.timestamp) + STAKE_COOLDOWN;
        p.active = false;
        p.stakeUnlockAt = unlockAt;
        emit ProviderDeactivated(providerId, unlockAt);
    }

    /// @inheritdoc IProviderRegistry
    function reactivate(uint32 providerId) external onlyProviderOwner(providerId) whenNotPaused {
        Provider storage p = _providers[providerId];
        if (p.active) revert MarketplaceProviderStateUnchanged(providerId, true);
        uint96 required = _config.minStake;
        if (p.stake < required) revert MarketplaceInsufficientStake(p.stake, required);
        p.active = true;
        p.stakeUnlockAt = 0;
        emit ProviderReactivated(providerId);
    }

    /// @inheritdoc IProviderRegistry
    function releaseStake(uint32 providerId) external nonReentrant onlyProviderOwner(providerId) {
        Provider storage p = _providers[providerId];
        uint40 unlockAt = p.stakeUnlockAt;
        uint96 amount = p.stake;
        if (p.active || amount == 0 || block.timestamp < unlockAt) {
            revert MarketplaceStakeLocked(providerId, unlockAt);
        }
        p.stake = 0;
        _credit(msg.sender, amount);
        emit StakeReleased(providerId, msg.sender, amount);
    }

    /// @inheritdoc IProviderRegistry
    function getProvider(uint32 providerId) external view returns (Provider memory) {
        _requireProvider(providerId);
        return _providers[providerId];
    }

    /// @inheritdoc IProviderRegistry
    function scoreOf(uint32 providerId) external view returns (uint16) {
        _requireProvider(providerId);
        Provider storage p = _providers[providerId];
        return Score.bayesian(p.scoreCount, p.scoreSum);
    }

    /// @inheritdoc IProviderRegistry
    function providerCount() external view returns (uint32) {
        return _config.providerCount;
    }

    /// @dev Reverts unless `providerId` exists.
    function _requireProvider(uint32 providerId) internal view {
        if (_providers[providerId].owner == address(0)) revert MarketplaceProviderNotFound(providerId);
    }

    /// @dev Reverts unless the caller owns `providerId`; returns the owner.
    function _requireProviderOwner(uint32 providerId) internal view returns (address owner) {
        owner = _providers[providerId].owner;
        if (owner == address(0)) revert MarketplaceProviderNotFound(providerId);
        if (owner != msg.sender) revert MarketplaceNotProviderOwner(providerId, msg.sender);
    }

    /// @dev Counts a score sample (a rating, or a lost dispute as one star) and returns the new score.
    function _addScore(uint32 providerId, uint8 stars) internal returns (uint16) {
        Provider storage p = _providers[providerId];
        uint24 count = p.scoreCount + 1;
        uint32 sum = p.scoreSum + stars;
        p.scoreCount = count;
        p.scoreSum = sum;
        return Score.bayesian(count, sum);
    }
}
