// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {MarketplaceBase} from "./MarketplaceBase.sol";
import {CriteriaRegistry} from "./CriteriaRegistry.sol";
import {IBookings} from "./interfaces/IBookings.sol";

/// @title The curated service marketplace: escrowed bookings under the customer's own criteria
/// @notice Customers write criteria on-chain; `book` refuses any provider that breaks them, escrows
///         the price, and the booking's state machine releases it. Every transition emits an event
///         carrying every amount, so the history and all balances can be rebuilt from logs alone.
contract Marketplace is CriteriaRegistry {
    uint16 internal constant BPS = 10_000;
    /// @notice Customer's share of a dispute nobody arbitrated in time: an even split.
    uint16 public constant DEFAULT_REFUND_BPS = 5_000;

    mapping(uint256 bookingId => Booking) internal _bookings;

    /// @param owner_ Operator: sets the fee, pauses, names arbiters, collects fees.
    /// @param feeBps_ Initial fee rate in basis points (at most MAX_FEE_BPS).
    /// @param minStake_ Stake a new provider must deposit, in wei.
    /// @param windows_ Timing of every timed exit, in seconds.
    constructor(address owner_, uint16 feeBps_, uint96 minStake_, Windows memory windows_)
        MarketplaceBase(owner_, feeBps_, minStake_, windows_)
    {}

    // ---------------------------------------------------------------- booking

    /// @inheritdoc IBookings
    function book(uint32 providerId, uint96 expectedPrice, uint32 criteriaVersion)
        external
        payable
        nonReentrant
        returns (uint256 bookingId)
    {
        Config memory config = _config;
        if (config.paused) revert MarketplacePaused();
        Provider storage p = _providers[providerId];
        uint96 price = p.price;
        if (price == 0) revert MarketplaceProviderNotFound(providerId);
        if (price != expectedPrice) revert MarketplacePriceChanged(expectedPrice, price);
        if (msg.value != price) revert MarketplaceValueMismatch(msg.value, price);
        Criteria memory c = _criteria[msg.sender][p.category];
        if (c.version != criteriaVersion) revert MarketplaceCriteriaVersionMismatch(criteriaVersion, c.version);
        Criterion failed = _firstFailure(msg.sender, providerId, p, c);
        if (failed != Criterion.None) revert MarketplaceIneligible(providerId, failed);

        uint64 n = _nonces[msg.sender].bookingCount + 1;
        _nonces[msg.sender].bookingCount = n;
        bookingId = (uint256(uint160(msg.sender)) << 64) | n;
        uint40 respondBy = uint40(block.timestamp) + RESPOND_WINDOW;
        _bookings[bookingId] = Booking({
            providerId: providerId,
            price: price,
            feeBps: config.feeBps,
            status: Status.Requested,
            deadline: respondBy,
            criteriaVersion: criteriaVersion,
            rated: false
        });
        emit BookingRequested(bookingId, msg.sender, providerId, price, config.feeBps, criteriaVersion, respondBy);
    }

    /// @inheritdoc IBookings
    function accept(uint256 bookingId) external {
        Booking storage b = _booking(bookingId, Status.Requested);
        _requireProviderOwner(b.providerId);
        _requireOpen(bookingId, b.deadline);
        uint40 serviceBy = uint40(block.timestamp) + SERVICE_WINDOW;
        b.status = Status.Accepted;
        b.deadline = serviceBy;
        emit BookingAccepted(bookingId, customerOf(bookingId), b.providerId, serviceBy);
    }

    /// @inheritdoc IBookings
    function decline(uint256 bookingId) external nonReentrant {
        Booking storage b = _bookings[bookingId];
        if (b.status != Status.Accepted) b = _booking(bookingId, Status.Requested);
        _requireProviderOwner(b.providerId);
        _refund(bookingId, b, Status.Declined);
    }

    /// @inheritdoc IBookings
    function cancel(uint256 bookingId) external nonReentrant {
        Booking storage b = _booking(bookingId, Status.Requested);
        _requireCustomer(bookingId);
        _refund(bookingId, b, Status.Cancelled);
    }

    /// @inheritdoc IBookings
    function expire(uint256 bookingId) external nonReentrant {
        Booking storage b = _bookings[bookingId];
        if (b.status != Status.Accepted) b = _booking(bookingId, Status.Requested);
        _requireExpired(bookingId, b.deadline);
        _refund(bookingId, b, Status.Expired);
    }

    /// @inheritdoc IBookings
    function complete(uint256 bookingId) external {
        Booking storage b = _booking(bookingId, Status.Accepted);
        _requireProviderOwner(b.providerId);
        _requireOpen(bookingId, b.deadline);
        uint40 confirmBy = uint40(block.timestamp) + CONFIRM_WINDOW;
        b.status = Status.Completed;
        b.deadline = confirmBy;
        emit BookingCompleted(bookingId, customerOf(bookingId), b.providerId, confirmBy);
    }

    /// @inheritdoc IBookings
    function confirm(uint256 bookingId) external nonReentrant {
        Booking storage b = _booking(bookingId, Status.Completed);
        _requireCustomer(bookingId);
        _settle(bookingId, b);
    }

    /// @inheritdoc IBookings
    function settle(uint256 bookingId) external nonReentrant {
        Booking storage b = _booking(bookingId, Status.Completed);
        _requireExpired(bookingId, b.deadline);
        _settle(bookingId, b);
    }

    /// @inheritdoc IBookings
    function dispute(uint256 bookingId) external {
        Booking storage b = _booking(bookingId, Status.Completed);
        _requireCustomer(bookingId);
        _requireOpen(bookingId, b.deadline);
        uint40 arbitrateBy = uint40(block.timestamp) + ARBITRATION_WINDOW;
        b.status = Status.Disputed;
        b.deadline = arbitrateBy;
        emit BookingDisputed(bookingId, msg.sender, b.providerId, arbitrateBy);
    }

    /// @inheritdoc IBookings
    function resolve(uint256 bookingId, uint16 refundBps) external nonReentrant {
        Booking storage b = _booking(bookingId, Status.Disputed);
        if (
            !_arbiters[msg.sender] || msg.sender == customerOf(bookingId)
                || msg.sender == _providers[b.providerId].owner
        ) revert MarketplaceNotArbiter(bookingId, msg.sender);
        if (refundBps > BPS) revert MarketplaceInvalidRefundBps(refundBps);
        _requireOpen(bookingId, b.deadline);
        _resolve(bookingId, b, msg.sender, refundBps);
    }

    /// @inheritdoc IBookings
    function resolveByDefault(uint256 bookingId) external nonReentrant {
        Booking storage b = _booking(bookingId, Status.Disputed);
        _requireExpired(bookingId, b.deadline);
        _resolve(bookingId, b, address(0), DEFAULT_REFUND_BPS);
    }

    /// @inheritdoc IBookings
    function rate(uint256 bookingId, uint8 stars, uint32 complaintTags) external {
        Booking storage b = _bookings[bookingId];
        if (b.status != Status.Settled) b = _booking(bookingId, Status.Resolved);
        _requireCustomer(bookingId);
        if (stars == 0 || stars > 5) revert MarketplaceInvalidStars(stars);
        if (b.rated) revert MarketplaceAlreadyRated(bookingId);
        b.rated = true;
        uint32 providerId = b.providerId;
        uint16 newScore = _addScore(providerId, stars);
        emit BookingRated(bookingId, msg.sender, providerId, stars, complaintTags, newScore);
    }

    // ---------------------------------------------------------------- views

    /// @inheritdoc IBookings
    function getBooking(uint256 bookingId) external view returns (Booking memory) {
        return _booking(bookingId, Status.None);
    }

    /// @inheritdoc IBookings
    function bookingCountOf(address customer) external view returns (uint64) {
        return _nonces[customer].bookingCount;
    }

    /// @inheritdoc IBookings
    function customerOf(uint256 bookingId) public pure returns (address) {
        return address(uint160(bookingId >> 64));
    }

    // ---------------------------------------------------------------- internal

    /// @dev The booking, which must exist and (unless `expected` is None) be in `expected` state.
    function _booking(uint256 bookingId, Status expected) internal view returns (Booking storage b) {
        b = _bookings[bookingId];
        Status status = b.status;
        if (status == Status.None) revert MarketplaceBookingNotFound(bookingId);
        if (expected != Status.None && status != expected) revert MarketplaceInvalidStatus(bookingId, status);
    }

    function _requireCustomer(uint256 bookingId) internal view {
        if (msg.sender != customerOf(bookingId)) revert MarketplaceNotCustomer(bookingId, msg.sender);
    }

    /// @dev The action must happen at or before the deadline.
    function _requireOpen(uint256 bookingId, uint40 deadline) internal view {
        if (block.timestamp > deadline) revert MarketplaceDeadlinePassed(bookingId, deadline);
    }

    /// @dev The timed exit is open strictly after the deadline.
    function _requireExpired(uint256 bookingId, uint40 deadline) internal view {
        if (block.timestamp <= deadline) revert MarketplaceDeadlineNotReached(bookingId, deadline);
    }

    /// @dev Ends the booking in `terminal` (Declined, Cancelled or Expired), credits the whole escrow
    ///      back to the customer, then emits that ending's event.
    function _refund(uint256 bookingId, Booking storage b, Status terminal) internal {
        uint96 refund = b.price;
        address customer = customerOf(bookingId);
        uint32 providerId = b.providerId;
        b.status = terminal;
        _credit(customer, refund);
        if (terminal == Status.Declined) emit BookingDeclined(bookingId, customer, providerId, refund);
        else if (terminal == Status.Cancelled) emit BookingCancelled(bookingId, customer, providerId, refund);
        else emit BookingExpired(bookingId, customer, providerId, refund);
    }

    /// @dev Releases the escrow: payout to the provider's owner, fee to the treasury.
    function _settle(uint256 bookingId, Booking storage b) internal {
        uint96 price = b.price;
        uint96 fee = uint96((uint256(price) * b.feeBps) / BPS);
        uint96 payout = price - fee;
        uint32 providerId = b.providerId;
        b.status = Status.Settled;
        _credit(_providers[providerId].owner, payout);
        _accrueFee(fee);
        emit BookingSettled(bookingId, customerOf(bookingId), providerId, payout, fee, msg.sender);
    }

    /// @dev Splits the escrow: `refundBps` to the customer, the rest to the provider less the fee.
    ///      A provider refunding more than half lost the dispute, which counts as a one-star rating.
    function _resolve(uint256 bookingId, Booking storage b, address arbiter, uint16 refundBps) internal {
        uint96 price = b.price;
        uint96 refund = uint96((uint256(price) * refundBps) / BPS);
        uint96 rest = price - refund;
        uint96 fee = uint96((uint256(rest) * b.feeBps) / BPS);
        uint96 payout = rest - fee;
        uint32 providerId = b.providerId;
        address customer = customerOf(bookingId);
        b.status = Status.Resolved;
        if (refund != 0) _credit(customer, refund);
        if (payout != 0) _credit(_providers[providerId].owner, payout);
        if (fee != 0) _accrueFee(fee);
        if (refundBps > BPS / 2) {
            _providers[providerId].disputesLost += 1;
            _addScore(providerId, 1);
        }
        emit DisputeResolved(bookingId, customer, providerId, arbiter, refundBps, refund, payout, fee);
    }
}
