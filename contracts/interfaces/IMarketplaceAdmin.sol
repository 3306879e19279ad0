// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

/// @title Operator controls, the timelock, currencies and the per-currency pull-payment ledger
/// @notice Every unit the contract holds, per currency, is escrowed in a booking, an unwithdrawn
///         credit or an accrued fee; in ether also a listing's stake or an open dispute bond.
///         Credits are paid out only when their owner pulls them (`withdraw`). Currency 0 is ether
///         and always enabled; currencies 1..255 are ERC-20 tokens the operator enables.
///         Every change but `setPaused` is scheduled and takes effect only after `changeDelay`.
interface IMarketplaceAdmin {
    /// @notice Timing of every timed exit, in seconds, fixed at deployment.
    struct Windows {
        uint32 respond; // a provider must accept within this after the booking (and before the start)
        uint32 serviceGrace; // an accepted booking must be completed by start + duration + this
        uint32 confirm; // the customer may confirm or dispute within this after completion
        uint32 arbitration; // the booking's arbiter must resolve a dispute within this
        uint32 stakeCooldown; // a deactivated listing's stake unlocks after this
    }

    /// @notice Everything a deployment needs to be usable at once. The optional parts (arbiter,
    ///         attestor, token) are skipped when zero; they go through the same code and emit the
    ///         same events as later scheduled changes.
    struct Setup {
        address owner; // the operator
        uint16 feeBps; // fee rate, at most MAX_FEE_BPS
        uint96 minStake; // wei a new listing must stake
        uint96 disputeBond; // wei a dispute costs
        uint80 minFee; // minimum fee of an ether booking, in wei (> 0)
        Windows windows;
        uint32 changeDelay; // delay of every scheduled change, in seconds (1..MAX_WINDOW)
        address arbiter; // optional: named arbiter 1 and made the default arbiter
        address attestor; // optional: named attestor 1
        address token; // optional: enabled as currency 1
        uint80 tokenMinFee; // that token's minimum fee, in its smallest unit (> 0 if token is set)
    }

    /// @notice What a scheduled change changes. `account` and `value` per kind:
    ///         FeeRate (0, bps <= MAX_FEE_BPS); MinStake (0, wei); DisputeBond (0, wei);
    ///         MinFee (token or 0 for ether, amount > 0); Arbiter (account, 1 names / 0 removes);
    ///         DefaultArbiter (a named arbiter, or 0 for none; value 0); Attestor (account, 1 / 0);
    ///         Currency (token, 1 enables / 0 disables; enabling needs the token's MinFee applied first).
    enum ChangeKind {
        FeeRate,
        MinStake,
        DisputeBond,
        MinFee,
        Arbiter,
        DefaultArbiter,
        Attestor,
        Currency
    }

    /// @notice The operator scheduled a change; anyone may apply it from `eta` on.
    event ChangeScheduled(ChangeKind indexed kind, address indexed account, uint256 value, uint32 eta);
    /// @notice A scheduled change (or a constructor setting) took effect.
    event ChangeApplied(ChangeKind indexed kind, address indexed account, uint256 value);
    /// @notice The operator cancelled a scheduled change before it was applied.
    event ChangeCancelled(ChangeKind indexed kind, address indexed account, uint256 value);
    /// @notice An arbiter was named (first naming assigns `id`) or removed.
    event ArbiterSet(uint8 indexed id, address indexed account, bool allowed);
    /// @notice An attestor was named (first naming assigns `id`, 1..32) or removed.
    event AttestorSet(uint8 indexed id, address indexed account, bool allowed);
    /// @notice A token currency got its id (first mention), or was enabled or disabled.
    event CurrencySet(uint8 indexed id, address indexed token, bool enabled);
    /// @notice The operator paused or unpaused new listings and bookings.
    event PauseChanged(bool paused, address indexed by);
    /// @notice Accrued fees of `currency` were moved to `to`'s withdrawable credit.
    event FeesCollected(uint8 indexed currency, address indexed to, uint256 amount);
    /// @notice `account` withdrew its whole credit in `currency` to `to`.
    event Withdrawn(address indexed account, address indexed to, uint8 indexed currency, uint256 amount);

    /// @notice New listings and bookings are paused.
    error MarketplacePaused();
    /// @notice The fee rate exceeds the hard cap written in the contract.
    error MarketplaceFeeAboveCap(uint256 feeBps, uint256 cap);
    /// @notice The zero address was given where a real account is required.
    error MarketplaceZeroAddress();
    /// @notice Windows must be from one second to MAX_WINDOW (365 days); the change delay at most MAX_WINDOW.
    error MarketplaceInvalidWindow();
    /// @notice Renouncing ownership is disabled: it would strand fees, the timelock and any pause.
    error MarketplaceRenounceDisabled();
    /// @notice More fees were requested than have accrued in that currency.
    error MarketplaceInsufficientFees(uint8 currency, uint256 requested, uint256 available);
    /// @notice The account has no credit to withdraw in that currency.
    error MarketplaceNothingToWithdraw(address account, uint8 currency);
    /// @notice The recipient refused the ether payment; the credit is kept.
    error MarketplaceTransferFailed(address to, uint256 amount);
    /// @notice A withdrawal to the zero address or to the marketplace itself.
    error MarketplaceInvalidRecipient(address to);
    /// @notice The currency is unknown, disabled, or has no minimum fee: no new listings or bookings.
    error MarketplaceCurrencyDisabled(uint8 currency);
    /// @notice The value or account is not valid for this kind of change.
    error MarketplaceInvalidChange(ChangeKind kind, address account, uint256 value);
    /// @notice This exact change is already scheduled.
    error MarketplaceChangeAlreadyScheduled(ChangeKind kind, address account, uint256 value, uint32 eta);
    /// @notice This exact change was never scheduled (or was applied or cancelled).
    error MarketplaceChangeNotScheduled(ChangeKind kind, address account, uint256 value);
    /// @notice The change's delay has not passed yet.
    error MarketplaceChangeNotReady(uint32 eta);
    /// @notice Every id of that kind is taken (255 arbiters, 32 attestors, 255 currencies).
    error MarketplaceIdsExhausted(ChangeKind kind);

    /// @notice Pause or resume new listings, reactivations and bookings (immediate). Refunds,
    ///         settlements, disputes and withdrawals are never paused.
    /// @param paused_ True to pause.
    function setPaused(bool paused_) external;

    /// @notice Schedule a change (operator only); it can be applied from `now + changeDelay`.
    /// @param kind What changes.
    /// @param account The account, token or arbiter the change is about (see ChangeKind).
    /// @param value The new value (see ChangeKind).
    /// @return eta The earliest time the change can be applied.
    function scheduleChange(ChangeKind kind, address account, uint256 value) external returns (uint32 eta);

    /// @notice Apply a scheduled change whose eta has passed (anyone).
    /// @param kind What changes.
    /// @param account As scheduled.
    /// @param value As scheduled.
    function applyChange(ChangeKind kind, address account, uint256 value) external;

    /// @notice Cancel a scheduled change (operator only).
    /// @param kind What changes.
    /// @param account As scheduled.
    /// @param value As scheduled.
    function cancelChange(ChangeKind kind, address account, uint256 value) external;

    /// @notice Move `amount` of accrued fees in `currency` to `to`'s withdrawable credit (operator only).
    /// @param currency The currency id.
    /// @param to The treasury account credited.
    /// @param amount Amount to move, in the currency's smallest unit.
    function collectFees(uint8 currency, address to, uint256 amount) external;

    /// @notice Withdraw the caller's whole credit in `currency` to the caller.
    /// @param currency The currency id (0 = ether).
    function withdraw(uint8 currency) external;

    /// @notice Withdraw the caller's whole credit in `currency` to `to` (for accounts that cannot receive).
    /// @param currency The currency id (0 = ether).
    /// @param to Recipient; neither zero nor the marketplace.
    function withdrawTo(uint8 currency, address to) external;

    /// @notice Hard cap of the fee rate, in basis points (1,000 = 10 %).
    function MAX_FEE_BPS() external view returns (uint16);

    /// @notice Fee rate, in basis points, applied to bookings made now.
    function feeRate() external view returns (uint16);

    /// @notice Whether new listings and bookings are paused.
    function paused() external view returns (bool);

    /// @notice Stake, in wei, a new listing must deposit.
    function minStake() external view returns (uint96);

    /// @notice Ether a dispute costs, in wei.
    function disputeBond() external view returns (uint96);

    /// @notice Minimum fee of a booking in `currency` (0 for an unknown currency).
    /// @param currency The currency id.
    function minFee(uint8 currency) external view returns (uint80);

    /// @notice Delay, in seconds, between scheduling a change and applying it.
    function changeDelay() external view returns (uint32);

    /// @notice The eta of a scheduled change, or 0 if it is not scheduled.
    /// @param kind What changes.
    /// @param account As scheduled.
    /// @param value As scheduled.
    function changeEta(ChangeKind kind, address account, uint256 value) external view returns (uint32);

    /// @notice Fees accrued in `currency` and not yet collected.
    /// @param currency The currency id.
    function accruedFees(uint8 currency) external view returns (uint256);

    /// @notice Withdrawable credit of `account` in `currency`.
    /// @param account The account.
    /// @param currency The currency id.
    function creditOf(address account, uint8 currency) external view returns (uint256);

    /// @notice The timing of every timed exit, fixed at deployment.
    function windows() external view returns (Windows memory);

    /// @notice A currency: its token (zero for ether), whether it takes new listings and bookings,
    ///         and its minimum fee.
    /// @param id The currency id.
    function currency(uint8 id) external view returns (address token, bool enabled, uint80 minFee_);

    /// @notice The id of a token currency, or 0 if the token was never mentioned.
    /// @param token The ERC-20 token.
    function currencyId(address token) external view returns (uint8);

    /// @notice Number of token currencies ever mentioned; their ids run from 1 to this.
    function currencyCount() external view returns (uint8);

    /// @notice An arbiter by id, and whether it is currently named.
    /// @param id The arbiter id.
    function arbiter(uint8 id) external view returns (address account, bool allowed);

    /// @notice The id of an arbiter, or 0 if it was never named.
    /// @param account The arbiter.
    function arbiterId(address account) external view returns (uint8);

    /// @notice The id of the default arbiter, fixed into every new booking (0 = none: disputes
    ///         are then settled only by `resolveByDefault`).
    function defaultArbiter() external view returns (uint8);

    /// @notice An attestor by id, and whether it is currently named.
    /// @param id The attestor id (1..32).
    function attestor(uint8 id) external view returns (address account, bool allowed);

    /// @notice The id of an attestor, or 0 if it was never named.
    /// @param account The attestor.
    function attestorId(address account) external view returns (uint8);

    /// @notice Bitmask of the currently named attestors: bit (id - 1) for attestor id.
    function namedAttestors() external view returns (uint32);
}
