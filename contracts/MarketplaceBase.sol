// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {Ownable2Step} from "@openzeppelin/contracts/access/Ownable2Step.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {IMarketplace} from "./interfaces/IMarketplace.sol";
import {IMarketplaceAdmin} from "./interfaces/IMarketplaceAdmin.sol";

/// @title Operator controls, timing and the pull-payment ledger shared by every part of the marketplace
/// @dev The ledger (`_credits`, `_accruedFees`) is private: derived contracts move money only
///      through `_credit` and `_accrueFee`, and the only code that sends ether is `_payOut`.
abstract contract MarketplaceBase is IMarketplace, Ownable2Step, ReentrancyGuardTransient {
    /// @dev Hot configuration, one slot: `book` and `register` read it once.
    struct Config {
        uint16 feeBps;
        bool paused;
        uint32 providerCount;
        uint96 minStake;
    }

    /// @inheritdoc IMarketplaceAdmin
    uint16 public constant MAX_FEE_BPS = 1_000; // 10%: no operator can take more
    /// @notice Longest allowed timing window: keeps every deadline far from uint40 overflow.
    uint40 public constant MAX_WINDOW = 365 days;

    uint40 internal immutable RESPOND_WINDOW;
    uint40 internal immutable SERVICE_WINDOW;
    uint40 internal immutable CONFIRM_WINDOW;
    uint40 internal immutable ARBITRATION_WINDOW;
    uint40 internal immutable STAKE_COOLDOWN;

    Config internal _config;
    uint256 private _accruedFees;
    mapping(address account => uint256) private _credits;
    mapping(address account => bool) internal _arbiters;

    modifier whenNotPaused() {
        if (_config.paused) revert MarketplacePaused();
        _;
    }

    constructor(address owner_, uint16 feeBps_, uint96 minStake_, Windows memory windows_) Ownable(owner_) {
        if (feeBps_ > MAX_FEE_BPS) revert MarketplaceFeeAboveCap(feeBps_, MAX_FEE_BPS);
        if (
            !_validWindow(windows_.respond) || !_validWindow(windows_.service) || !_validWindow(windows_.confirm)
                || !_validWindow(windows_.arbitration) || !_validWindow(windows_.stakeCooldown)
        ) revert MarketplaceInvalidWindow();
        RESPOND_WINDOW = windows_.respond;
        SERVICE_WINDOW = windows_.service;
        CONFIRM_WINDOW = windows_.confirm;
        ARBITRATION_WINDOW = windows_.arbitration;
        STAKE_COOLDOWN = windows_.stakeCooldown;
        _config = Config({feeBps: feeBps_, paused: false, providerCount: 0, minStake: minStake_});
        emit FeeRateChanged(0, feeBps_);
        emit MinStakeChanged(0, minStake_);
    }

    // ---------------------------------------------------------------- operator

    /// @inheritdoc IMarketplaceAdmin
    function setFeeRate(uint16 feeBps) external onlyOwner {
        if (feeBps > MAX_FEE_BPS) revert MarketplaceFeeAboveCap(feeBps, MAX_FEE_BPS);
        uint16 previous = _config.feeBps;
        _config.feeBps = feeBps;
        emit FeeRateChanged(previous, feeBps);
    }

    /// @inheritdoc IMarketplaceAdmin
    function setPaused(bool paused_) external onlyOwner {
        _config.paused = paused_;
        emit PauseChanged(paused_, msg.sender);
    }

    /// @inheritdoc IMarketplaceAdmin
    function setArbiter(address arbiter, bool allowed) external onlyOwner {
        if (arbiter == address(0)) revert MarketplaceZeroAddress();
        _arbiters[arbiter] = allowed;
        emit ArbiterChanged(arbiter, allowed);
    }

    /// @inheritdoc IMarketplaceAdmin
    function setMinStake(uint96 minStake_) external onlyOwner {
        uint96 previous = _config.minStake;
        _config.minStake = minStake_;
        emit MinStakeChanged(previous, minStake_);
    }

    /// @inheritdoc IMarketplaceAdmin
    function collectFees(address to, uint256 amount) external onlyOwner {
        if (to == address(0)) revert MarketplaceZeroAddress();
        uint256 available = _accruedFees;
        if (amount > available) revert MarketplaceInsufficientFees(amount, available);
        _accruedFees = available - amount;
        _credit(to, amount);
        emit FeesCollected(to, amount);
    }

    /// @notice Disabled: without an operator, accrued fees could never be collected and a pause
    ///         never lifted. Hand over with `transferOwnership` + `acceptOwnership` instead.
    function renounceOwnership() public view override onlyOwner {
        revert MarketplaceRenounceDisabled();
    }

    // ---------------------------------------------------------------- withdrawals

    /// @inheritdoc IMarketplaceAdmin
    function withdraw() external nonReentrant {
        _payOut(payable(msg.sender));
    }

    /// @inheritdoc IMarketplaceAdmin
    function withdrawTo(address payable to) external nonReentrant {
        if (to == address(0)) revert MarketplaceZeroAddress();
        _payOut(to);
    }

    // ---------------------------------------------------------------- views

    /// @inheritdoc IMarketplaceAdmin
    function feeRate() external view returns (uint16) {
        return _config.feeBps;
    }

    /// @inheritdoc IMarketplaceAdmin
    function paused() external view returns (bool) {
        return _config.paused;
    }

    /// @inheritdoc IMarketplaceAdmin
    function isArbiter(address account) external view returns (bool) {
        return _arbiters[account];
    }

    /// @inheritdoc IMarketplaceAdmin
    function minStake() external view returns (uint96) {
        return _config.minStake;
    }

    /// @inheritdoc IMarketplaceAdmin
    function accruedFees() external view returns (uint256) {
        return _accruedFees;
    }

    /// @inheritdoc IMarketplaceAdmin
    function creditOf(address account) external view returns (uint256) {
        return _credits[account];
    }

    /// @inheritdoc IMarketplaceAdmin
    function windows() external view returns (Windows memory) {
        return Windows(RESPOND_WINDOW, SERVICE_WINDOW, CONFIRM_WINDOW, ARBITRATION_WINDOW, STAKE_COOLDOWN);
    }

    // ---------------------------------------------------------------- ledger

    /// @dev Adds to `account`'s withdrawable credit: the one write of a credit other than `_payOut`.
    ///      The caller emits the event that says why (a refund, a payout, a released stake, fees).
    function _credit(address account, uint256 amount) internal {
        // Cannot overflow: every credit is backed by ether the contract holds.
        unchecked {
            _credits[account] += amount;
        }
    }

    /// @dev Adds a booking's fee to the operator's accrued fees; the caller's event carries it.
    function _accrueFee(uint256 fee) internal {
        // Cannot overflow: every fee is backed by ether the contract holds.
        unchecked {
            _accruedFees += fee;
        }
    }

    // ---------------------------------------------------------------- internal

    function _validWindow(uint40 window) private pure returns (bool) {
        return window != 0 && window <= MAX_WINDOW;
    }

    /// @dev Pays the caller's whole credit to `to`: effects, event, then the call (CEI).
    function _payOut(address payable to) private {
        uint256 amount = _credits[msg.sender];
        if (amount == 0) revert MarketplaceNothingToWithdraw(msg.sender);
        _credits[msg.sender] = 0;
        emit Withdrawn(msg.sender, to, amount);
        // Forward all gas: the recipient chose to be paid; a failure reverts and keeps the credit.
        (bool ok,) = to.call{value: amount}("");
        if (!ok) revert MarketplaceTransferFailed(to, amount);
    }
}
