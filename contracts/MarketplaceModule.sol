// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {MarketplaceBase} from "./MarketplaceBase.sol";
import {ProviderRegistry} from "./ProviderRegistry.sol";
import {CriteriaRegistry} from "./CriteriaRegistry.sol";
import {IMarketplaceAdmin} from "./interfaces/IMarketplaceAdmin.sol";

/// @title The marketplace's second code unit: listings, criteria, the operator and its timelock
/// @notice Runs only by DELEGATECALL from `Marketplace`, whose constructor deploys it and keeps its
///         address in an immutable: it can never be replaced. Called directly it acts on its own
///         empty storage and cannot touch the marketplace. Its functions are those of
///         IMarketplaceAdmin (but the withdrawals), IProviderRegistry and ICriteriaRegistry.
// Ether sent to `register`/`topUpStake` arrives by DELEGATECALL and stays with the marketplace.
// slither-disable-next-line locked-ether
contract MarketplaceModule is CriteriaRegistry {
    uint32 internal immutable RESPOND_WINDOW;
    uint32 internal immutable SERVICE_GRACE;
    uint32 internal immutable CONFIRM_WINDOW;
    uint32 internal immutable ARBITRATION_WINDOW;
    uint32 internal immutable CHANGE_DELAY;

    /// @notice `initialize` called other than by the marketplace's constructor.
    error MarketplaceNotConstructing();

    /// @param windows_ The marketplace's windows (validated by the marketplace).
    /// @param changeDelay_ The timelock delay.
    constructor(IMarketplaceAdmin.Windows memory windows_, uint32 changeDelay_)
        MarketplaceBase(msg.sender)
        ProviderRegistry(windows_.stakeCooldown)
    {
        RESPOND_WINDOW = windows_.respond;
        SERVICE_GRACE = windows_.serviceGrace;
        CONFIRM_WINDOW = windows_.confirm;
        ARBITRATION_WINDOW = windows_.arbitration;
        CHANGE_DELAY = changeDelay_;
    }

    /// @notice Applies a deployment's settings through the same code (and events) as scheduled changes.
    /// @dev Only under DELEGATECALL from the marketplace's constructor: then address(this) is the
    ///      marketplace being built and has no code yet. Any later call reverts.
    /// @param setup The deployment's settings.
    function initialize(IMarketplaceAdmin.Setup calldata setup) external {
        if (address(this).code.length != 0) revert MarketplaceNotConstructing();
        _validatedApply(IMarketplaceAdmin.ChangeKind.FeeRate, address(0), setup.feeBps);
        _validatedApply(IMarketplaceAdmin.ChangeKind.MinStake, address(0), setup.minStake);
        _validatedApply(IMarketplaceAdmin.ChangeKind.DisputeBond, address(0), setup.disputeBond);
        _validatedApply(IMarketplaceAdmin.ChangeKind.MinFee, address(0), setup.minFee);
        if (setup.arbiter != address(0)) {
            _validatedApply(IMarketplaceAdmin.ChangeKind.Arbiter, setup.arbiter, 1);
            _validatedApply(IMarketplaceAdmin.ChangeKind.DefaultArbiter, setup.arbiter, 0);
        }
        if (setup.attestor != address(0)) _validatedApply(IMarketplaceAdmin.ChangeKind.Attestor, setup.attestor, 1);
        if (setup.token != address(0)) {
            _validatedApply(IMarketplaceAdmin.ChangeKind.MinFee, setup.token, setup.tokenMinFee);
            _validatedApply(IMarketplaceAdmin.ChangeKind.Currency, setup.token, 1);
        }
    }

    // ---------------------------------------------------------------- operator

    /// @notice See IMarketplaceAdmin.setPaused.
    function setPaused(bool paused_) external onlyOwner {
        _config.paused = paused_;
        emit IMarketplaceAdmin.PauseChanged(paused_, msg.sender);
    }

    /// @notice See IMarketplaceAdmin.scheduleChange.
    function scheduleChange(IMarketplaceAdmin.ChangeKind kind, address account, uint256 value)
        external
        onlyOwner
        returns (uint32 eta)
    {
        _validate(kind, account, value);
        bytes32 key = _changeKey(kind, account, value);
        uint32 scheduled = _changeEtas[key];
        if (scheduled != 0) {
            revert IMarketplaceAdmin.MarketplaceChangeAlreadyScheduled(kind, account, value, scheduled);
        }
        eta = uint32(block.timestamp) + CHANGE_DELAY;
        _changeEtas[key] = eta;
        emit IMarketplaceAdmin.ChangeScheduled(kind, account, value, eta);
    }

    /// @notice See IMarketplaceAdmin.applyChange.
    function applyChange(IMarketplaceAdmin.ChangeKind kind, address account, uint256 value) external {
        bytes32 key = _changeKey(kind, account, value);
        uint32 eta = _changeEtas[key];
        if (eta == 0) revert IMarketplaceAdmin.MarketplaceChangeNotScheduled(kind, account, value);
        if (block.timestamp < eta) revert IMarketplaceAdmin.MarketplaceChangeNotReady(eta);
        delete _changeEtas[key];
        _validatedApply(kind, account, value);
    }

    /// @notice See IMarketplaceAdmin.cancelChange.
    function cancelChange(IMarketplaceAdmin.ChangeKind kind, address account, uint256 value) external onlyOwner {
        bytes32 key = _changeKey(kind, account, value);
        if (_changeEtas[key] == 0) revert IMarketplaceAdmin.MarketplaceChangeNotScheduled(kind, account, value);
        delete _changeEtas[key];
        emit IMarketplaceAdmin.ChangeCancelled(kind, account, value);
    }

    /// @notice See IMarketplaceAdmin.collectFees.
    function collectFees(uint8 currency_, address to, uint256 amount) external onlyOwner {
        if (to == address(0)) revert IMarketplaceAdmin.MarketplaceZeroAddress();
        // A credit of the marketplace's own address could never be withdrawn.
        if (to == address(this)) revert IMarketplaceAdmin.MarketplaceInvalidRecipient(to);
        uint256 available = _ledgers[currency_].accruedFees;
        if (amount > available) revert IMarketplaceAdmin.MarketplaceInsufficientFees(currency_, amount, available);
        _ledgers[currency_].accruedFees = uint176(available - amount);
        _credit(to, currency_, amount);
        emit IMarketplaceAdmin.FeesCollected(currency_, to, amount);
    }

    // ---------------------------------------------------------------- views

    /// @notice See IMarketplaceAdmin.MAX_FEE_BPS.
    function MAX_FEE_BPS() external pure returns (uint16) {
        return MAX_FEE_BPS_;
    }

    /// @notice See IMarketplaceAdmin.feeRate.
    function feeRate() external view returns (uint16) {
        return _config.feeBps;
    }

    /// @notice See IMarketplaceAdmin.paused.
    function paused() external view returns (bool) {
        return _config.paused;
    }

    /// @notice See IMarketplaceAdmin.minStake.
    function minStake() external view returns (uint96) {
        return _config.minStake;
    }

    /// @notice See IMarketplaceAdmin.disputeBond.
    function disputeBond() external view returns (uint96) {
        return _params.disputeBond;
    }

    /// @notice See IMarketplaceAdmin.minFee.
    function minFee(uint8 currency_) external view returns (uint80) {
        return _minFee(currency_);
    }

    /// @notice See IMarketplaceAdmin.changeDelay.
    function changeDelay() external view returns (uint32) {
        return CHANGE_DELAY;
    }

    /// @notice See IMarketplaceAdmin.changeEta.
    function changeEta(IMarketplaceAdmin.ChangeKind kind, address account, uint256 value)
        external
        view
        returns (uint32)
    {
        return _changeEtas[_changeKey(kind, account, value)];
    }

    /// @notice See IMarketplaceAdmin.accruedFees.
    function accruedFees(uint8 currency_) external view returns (uint256) {
        return _ledgers[currency_].accruedFees;
    }

    /// @notice See IMarketplaceAdmin.creditOf.
    function creditOf(address account, uint8 currency_) external view returns (uint256) {
        return _credits[account][currency_];
    }

    /// @notice See IMarketplaceAdmin.windows.
    function windows() external view returns (IMarketplaceAdmin.Windows memory) {
        return
            IMarketplaceAdmin.Windows(RESPOND_WINDOW, SERVICE_GRACE, CONFIRM_WINDOW, ARBITRATION_WINDOW, STAKE_COOLDOWN);
    }

    /// @notice See IMarketplaceAdmin.currency.
    function currency(uint8 id) external view returns (address token, bool enabled, uint80 minFee_) {
        if (id == 0) return (address(0), true, _config.etherMinFee);
        CurrencyInfo storage info = _currencies[id];
        return (info.token, info.enabled, info.minFee);
    }

    /// @notice See IMarketplaceAdmin.currencyId.
    function currencyId(address token) external view returns (uint8) {
        return _currencyIds[token];
    }

    /// @notice See IMarketplaceAdmin.currencyCount.
    function currencyCount() external view returns (uint8) {
        return _params.currencyCount;
    }

    /// @notice See IMarketplaceAdmin.arbiter.
    function arbiter(uint8 id) external view returns (address account, bool allowed) {
        Named storage n = _arbiters[id];
        return (n.account, n.allowed);
    }

    /// @notice See IMarketplaceAdmin.arbiterId.
    function arbiterId(address account) external view returns (uint8) {
        return _arbiterIds[account];
    }

    /// @notice See IMarketplaceAdmin.defaultArbiter.
    function defaultArbiter() external view returns (uint8) {
        return _config.defaultArbiterId;
    }

    /// @notice See IMarketplaceAdmin.attestor.
    function attestor(uint8 id) external view returns (address account, bool allowed) {
        Named storage n = _attestors[id];
        return (n.account, n.allowed);
    }

    /// @notice See IMarketplaceAdmin.attestorId.
    function attestorId(address account) external view returns (uint8) {
        return _attestorIds[account];
    }

    /// @notice See IMarketplaceAdmin.namedAttestors.
    function namedAttestors() external view returns (uint32) {
        return _params.namedAttestors;
    }

    // ---------------------------------------------------------------- changes

    function _changeKey(IMarketplaceAdmin.ChangeKind kind, address account, uint256 value)
        private
        pure
        returns (bytes32)
    {
        return keccak256(abi.encode(kind, account, value));
    }

    /// @dev Reverts unless `account` and `value` are well-formed for `kind`.
    function _validate(IMarketplaceAdmin.ChangeKind kind, address account, uint256 value) private pure {
        bool ok;
        if (kind == IMarketplaceAdmin.ChangeKind.FeeRate) {
            if (value > MAX_FEE_BPS_) revert IMarketplaceAdmin.MarketplaceFeeAboveCap(value, MAX_FEE_BPS_);
            ok = account == address(0);
        } else if (kind == IMarketplaceAdmin.ChangeKind.MinStake || kind == IMarketplaceAdmin.ChangeKind.DisputeBond) {
            ok = account == address(0) && value <= type(uint96).max;
        } else if (kind == IMarketplaceAdmin.ChangeKind.MinFee) {
            ok = value != 0 && value <= type(uint80).max;
        } else if (kind == IMarketplaceAdmin.ChangeKind.DefaultArbiter) {
            ok = value == 0;
        } else {
            // Arbiter, Attestor, Currency: a real account, 1 or 0.
            ok = account != address(0) && value <= 1;
        }
        if (!ok) revert IMarketplaceAdmin.MarketplaceInvalidChange(kind, account, value);
    }

    /// @dev Validates and applies a change, then emits ChangeApplied (after any *Set event).
    function _validatedApply(IMarketplaceAdmin.ChangeKind kind, address account, uint256 value) private {
        _validate(kind, account, value);
        if (kind == IMarketplaceAdmin.ChangeKind.FeeRate) {
            _config.feeBps = uint16(value);
        } else if (kind == IMarketplaceAdmin.ChangeKind.MinStake) {
            _config.minStake = uint96(value);
        } else if (kind == IMarketplaceAdmin.ChangeKind.DisputeBond) {
            _params.disputeBond = uint96(value);
        } else if (kind == IMarketplaceAdmin.ChangeKind.MinFee) {
            uint8 id = 0;
            if (account == address(0)) {
                _config.etherMinFee = uint80(value);
            } else {
                id = _currencyIdOf(account, kind);
                _currencies[id].minFee = uint80(value);
            }
            _ledgers[id].minFee = uint80(value); // the copy `rate` reads (see MarketplaceBase.Ledger)
        } else if (kind == IMarketplaceAdmin.ChangeKind.Arbiter) {
            _applyArbiter(account, value == 1);
        } else if (kind == IMarketplaceAdmin.ChangeKind.DefaultArbiter) {
            uint8 id = 0;
            if (account != address(0)) {
                id = _arbiterIds[account];
                if (id == 0 || !_arbiters[id].allowed) {
                    revert IMarketplaceAdmin.MarketplaceInvalidChange(kind, account, value);
                }
            }
            _config.defaultArbiterId = id;
        } else if (kind == IMarketplaceAdmin.ChangeKind.Attestor) {
            _applyAttestor(account, value == 1);
        } else {
            bool enable = value == 1;
            uint8 id = _currencyIds[account];
            if (id == 0 || (enable && _currencies[id].minFee == 0)) {
                // A token gets its id from its first MinFee: enabling needs a minimum fee first.
                revert IMarketplaceAdmin.MarketplaceInvalidChange(kind, account, value);
            }
            _currencies[id].enabled = enable;
            emit IMarketplaceAdmin.CurrencySet(id, account, enable);
        }
        emit IMarketplaceAdmin.ChangeApplied(kind, account, value);
    }

    /// @dev The currency id of `token`, assigning the next one (disabled) on first mention.
    function _currencyIdOf(address token, IMarketplaceAdmin.ChangeKind kind) private returns (uint8 id) {
        id = _currencyIds[token];
        if (id != 0) return id;
        uint8 count = _params.currencyCount;
        if (count == type(uint8).max) revert IMarketplaceAdmin.MarketplaceIdsExhausted(kind);
        id = count + 1;
        _params.currencyCount = id;
        _currencyIds[token] = id;
        _currencies[id].token = token;
        emit IMarketplaceAdmin.CurrencySet(id, token, false);
    }

    function _applyArbiter(address account, bool allowed) private {
        uint8 id = _arbiterIds[account];
        if (id == 0) {
            uint8 count = _params.arbiterCount;
            if (count == type(uint8).max) {
                revert IMarketplaceAdmin.MarketplaceIdsExhausted(IMarketplaceAdmin.ChangeKind.Arbiter);
            }
            id = count + 1;
            _params.arbiterCount = id;
            _arbiterIds[account] = id;
            _arbiters[id].account = account;
        }
        _arbiters[id].allowed = allowed;
        emit IMarketplaceAdmin.ArbiterSet(id, account, allowed);
        if (!allowed && _config.defaultArbiterId == id) {
            // Removing the default arbiter leaves new bookings without one (disputes settle by default).
            _config.defaultArbiterId = 0;
            emit IMarketplaceAdmin.ChangeApplied(IMarketplaceAdmin.ChangeKind.DefaultArbiter, address(0), 0);
        }
    }

    function _applyAttestor(address account, bool allowed) private {
        uint8 id = _attestorIds[account];
        if (id == 0) {
            uint8 count = _params.attestorCount;
            if (count == MAX_ATTESTORS) {
                revert IMarketplaceAdmin.MarketplaceIdsExhausted(IMarketplaceAdmin.ChangeKind.Attestor);
            }
            id = count + 1;
            _params.attestorCount = id;
            _attestorIds[account] = id;
            _attestors[id].account = account;
        }
        _attestors[id].allowed = allowed;
        uint32 bit = uint32(1) << (id - 1);
        if (allowed) _params.namedAttestors |= bit;
        else _params.namedAttestors &= ~bit;
        emit IMarketplaceAdmin.AttestorSet(id, account, allowed);
    }

    /// @notice Disabled: without an operator, fees could never be collected nor a pause lifted.
    function renounceOwnership() public view override onlyOwner {
        revert IMarketplaceAdmin.MarketplaceRenounceDisabled();
    }
}
