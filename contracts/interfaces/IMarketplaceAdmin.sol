// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

/// @title Operator controls and the pull-payment ledger of the marketplace
/// @notice Every wei the contract holds is either escrowed in a booking, a provider's stake, an
///         unwithdrawn credit or an accrued fee. Credits are paid out only when their owner pulls them.
interface IMarketplaceAdmin {
    /// @notice Deployment-time timing of every timed exit, in seconds.
    struct Windows {
        uint40 respond; // a provider must accept within this after the booking
        uint40 service; // an accepted booking must be completed within this
        uint40 confirm; // the customer may confirm or dispute within this after completion
        uint40 arbitration; // an arbiter must resolve a dispute within this
        uint40 stakeCooldown; // a deactivated provider's stake unlocks after this
    }

    /// @notice The operator changed the fee rate applied to bookings made from now on.
    event FeeRateChanged(uint16 previousFeeBps, uint16 newFeeBps);
    /// @notice The operator paused or unpaused new bookings and registrations.
    event PauseChanged(bool paused, address indexed by);
    /// @notice The operator added or removed an arbiter.
    event ArbiterChanged(address indexed arbiter, bool allowed);
    /// @notice The operator changed the stake required to register a provider.
    event MinStakeChanged(uint96 previousMinStake, uint96 newMinStake);
    /// @notice Accrued fees were moved to `to`'s withdrawable credit.
    event FeesCollected(address indexed to, uint256 amount);
    /// @notice `account` withdrew its whole credit to `to`.
    event Withdrawn(address indexed account, address indexed to, uint256 amount);

    /// @notice New bookings and registrations are paused.
    error MarketplacePaused();
    /// @notice The fee rate exceeds the hard cap written in the contract.
    error MarketplaceFeeAboveCap(uint256 feeBps, uint256 cap);
    /// @notice The zero address was given where a real account is required.
    error MarketplaceZeroAddress();
    /// @notice Windows must be from one second to MAX_WINDOW (365 days).
    error MarketplaceInvalidWindow();
    /// @notice Renouncing ownership is disabled: it would strand fees and any pause.
    error MarketplaceRenounceDisabled();
    /// @notice More fees were requested than have accrued.
    error MarketplaceInsufficientFees(uint256 requested, uint256 available);
    /// @notice The account has no credit to withdraw.
    error MarketplaceNothingToWithdraw(address account);
    /// @notice The recipient refused the payment; the credit is kept.
    error MarketplaceTransferFailed(address to, uint256 amount);

    /// @notice Set the fee rate (basis points) for bookings made from now on; capped by MAX_FEE_BPS.
    /// @param feeBps New fee rate in basis points of the booking price.
    function setFeeRate(uint16 feeBps) external;

    /// @notice Pause or resume new bookings and registrations. Refunds, settlements and
    ///         withdrawals are never paused.
    /// @param paused_ True to pause.
    function setPaused(bool paused_) external;

    /// @notice Allow or disallow an address to resolve disputes.
    /// @param arbiter The arbiter's address.
    /// @param allowed True to allow.
    function setArbiter(address arbiter, bool allowed) external;

    /// @notice Set the stake a new provider must deposit.
    /// @param minStake_ Minimum stake in wei.
    function setMinStake(uint96 minStake_) external;

    /// @notice Move `amount` of accrued fees to `to`'s withdrawable credit.
    /// @param to The treasury account credited.
    /// @param amount Wei to move.
    function collectFees(address to, uint256 amount) external;

    /// @notice Withdraw the caller's whole credit to the caller.
    function withdraw() external;

    /// @notice Withdraw the caller's whole credit to another address (for accounts that cannot receive).
    /// @param to Recipient of the payment.
    function withdrawTo(address payable to) external;

    /// @notice Hard cap of the fee rate, in basis points.
    function MAX_FEE_BPS() external view returns (uint16);

    /// @notice Fee rate, in basis points, applied to bookings made now.
    function feeRate() external view returns (uint16);

    /// @notice Whether new bookings and registrations are paused.
    function paused() external view returns (bool);

    /// @notice Whether `account` may resolve disputes.
    function isArbiter(address account) external view returns (bool);

    /// @notice Stake, in wei, a new provider must deposit.
    function minStake() external view returns (uint96);

    /// @notice Fees accrued and not yet collected, in wei.
    function accruedFees() external view returns (uint256);

    /// @notice Withdrawable credit of `account`, in wei.
    function creditOf(address account) external view returns (uint256);

    /// @notice The timing of every timed exit, fixed at deployment.
    function windows() external view returns (Windows memory);
}
