// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {ICriteriaRegistry} from "./ICriteriaRegistry.sol";

/// @title Escrowed bookings and their state machine
/// @notice Requested -> Accepted -> Completed -> Settled; Requested -> Cancelled | Declined | Expired;
///         Accepted -> Declined | Expired; Completed -> Disputed -> Resolved. Every non-terminal state
///         has a timed exit anyone may trigger, so no escrow can be stuck.
///         A booking id is `uint256(uint160(customer)) << 64 | n`, n the customer's n-th booking.
interface IBookings {
    /// @notice Lifecycle states of a booking.
    enum Status {
        None,
        Requested,
        Accepted,
        Completed,
        Settled,
        Cancelled,
        Declined,
        Expired,
        Disputed,
        Resolved
    }

    /// @notice A booking, packed in one slot. The customer is encoded in the booking id.
    struct Booking {
        uint32 providerId;
        uint96 price; // escrowed wei
        uint16 feeBps; // fee rate snapshotted at booking
        Status status;
        uint40 deadline; // the deadline of the current state
        uint32 criteriaVersion; // the customer's criteria version the booking was checked against
        bool rated;
    }

    /// @notice A customer booked a provider and escrowed `price`.
    event BookingRequested(
        uint256 indexed bookingId,
        address indexed customer,
        uint32 indexed providerId,
        uint96 price,
        uint16 feeBps,
        uint32 criteriaVersion,
        uint40 respondBy
    );
    /// @notice The provider accepted; it must complete by `serviceBy`.
    event BookingAccepted(uint256 indexed bookingId, address indexed customer, uint32 indexed providerId, uint40 serviceBy);
    /// @notice The provider declined or withdrew; `refund` was credited to the customer.
    event BookingDeclined(uint256 indexed bookingId, address indexed customer, uint32 indexed providerId, uint96 refund);
    /// @notice The customer cancelled before acceptance; `refund` was credited to the customer.
    event BookingCancelled(uint256 indexed bookingId, address indexed customer, uint32 indexed providerId, uint96 refund);
    /// @notice A deadline passed unanswered; `refund` was credited to the customer.
    event BookingExpired(uint256 indexed bookingId, address indexed customer, uint32 indexed providerId, uint96 refund);
    /// @notice The provider marked the service delivered. The customer may dispute until `confirmBy`;
    ///         after it anyone may settle (the customer may still confirm, with the same result).
    event BookingCompleted(uint256 indexed bookingId, address indexed customer, uint32 indexed providerId, uint40 confirmBy);
    /// @notice Escrow released: `payout` credited to the provider's owner, `fee` accrued.
    ///         `by` is the customer (confirmation) or whoever triggered settlement after the window.
    event BookingSettled(
        uint256 indexed bookingId,
        address indexed customer,
        uint32 indexed providerId,
        uint96 payout,
        uint96 fee,
        address by
    );
    /// @notice The customer disputed the completion; an arbiter must resolve by `arbitrateBy`.
    event BookingDisputed(uint256 indexed bookingId, address indexed customer, uint32 indexed providerId, uint40 arbitrateBy);
    /// @notice A dispute was resolved by `arbiter` (zero address: the default split after the deadline).
    event DisputeResolved(
        uint256 indexed bookingId,
        address indexed customer,
        uint32 indexed providerId,
        address arbiter,
        uint16 refundBps,
        uint96 refund,
        uint96 payout,
        uint96 fee
    );
    /// @notice The customer rated a settled or resolved booking; `newScore` is the provider's score after it.
    event BookingRated(
        uint256 indexed bookingId,
        address indexed customer,
        uint32 indexed providerId,
        uint8 stars,
        uint32 complaintTags,
        uint16 newScore
    );

    /// @notice The caller's criteria version differs from the one the booking was prepared with.
    error MarketplaceCriteriaVersionMismatch(uint32 expected, uint32 current);
    /// @notice The provider's price moved since the quote.
    error MarketplacePriceChanged(uint96 expected, uint96 current);
    /// @notice The value sent differs from the price.
    error MarketplaceValueMismatch(uint256 sent, uint256 price);
    /// @notice The provider fails the customer's criteria; `criterion` names the first failed one.
    error MarketplaceIneligible(uint32 providerId, ICriteriaRegistry.Criterion criterion);
    /// @notice No booking has this id.
    error MarketplaceBookingNotFound(uint256 bookingId);
    /// @notice The booking is not in a state that allows this action.
    error MarketplaceInvalidStatus(uint256 bookingId, Status status);
    /// @notice Only the booking's customer may do this.
    error MarketplaceNotCustomer(uint256 bookingId, address caller);
    /// @notice Only an allowed arbiter who is not a party to the booking may resolve it.
    error MarketplaceNotArbiter(uint256 bookingId, address caller);
    /// @notice The current state's deadline has passed.
    error MarketplaceDeadlinePassed(uint256 bookingId, uint40 deadline);
    /// @notice The current state's deadline has not passed yet.
    error MarketplaceDeadlineNotReached(uint256 bookingId, uint40 deadline);
    /// @notice A refund share above 100%.
    error MarketplaceInvalidRefundBps(uint16 refundBps);
    /// @notice Ratings are one to five stars.
    error MarketplaceInvalidStars(uint8 stars);
    /// @notice The booking was already rated.
    error MarketplaceAlreadyRated(uint256 bookingId);

    /// @notice Book a provider, escrowing exactly its price. Reverts unless the provider meets the
    ///         caller's criteria for its category at `criteriaVersion` and its price is `expectedPrice`.
    /// @param providerId The provider.
    /// @param expectedPrice The quoted price; protects against a price change front-running the booking.
    /// @param criteriaVersion The caller's criteria version the quote was made under.
    /// @return bookingId The new booking's id.
    function book(uint32 providerId, uint96 expectedPrice, uint32 criteriaVersion)
        external
        payable
        returns (uint256 bookingId);

    /// @notice Provider accepts a requested booking before its response deadline.
    /// @param bookingId The booking.
    function accept(uint256 bookingId) external;

    /// @notice Provider declines a requested booking, or withdraws from an accepted one; full refund.
    /// @param bookingId The booking.
    function decline(uint256 bookingId) external;

    /// @notice Customer cancels a booking the provider has not accepted yet; full refund.
    /// @param bookingId The booking.
    function cancel(uint256 bookingId) external;

    /// @notice Anyone refunds a requested or accepted booking whose deadline has passed.
    /// @param bookingId The booking.
    function expire(uint256 bookingId) external;

    /// @notice Provider marks an accepted booking delivered, before the service deadline.
    /// @param bookingId The booking.
    function complete(uint256 bookingId) external;

    /// @notice Customer confirms delivery; releases the escrow to the provider, minus the fee.
    /// @param bookingId The booking.
    function confirm(uint256 bookingId) external;

    /// @notice Anyone settles a completed booking after the confirmation window.
    /// @param bookingId The booking.
    function settle(uint256 bookingId) external;

    /// @notice Customer disputes a completed booking within the confirmation window.
    /// @param bookingId The booking.
    function dispute(uint256 bookingId) external;

    /// @notice An arbiter resolves a dispute: `refundBps` of the price back to the customer, the rest
    ///         to the provider minus the booking's fee. Above 50% counts as a dispute the provider lost.
    /// @param bookingId The booking.
    /// @param refundBps Customer's share in basis points.
    function resolve(uint256 bookingId, uint16 refundBps) external;

    /// @notice Anyone resolves a dispute with the default split once the arbiter's deadline has passed.
    /// @param bookingId The booking.
    function resolveByDefault(uint256 bookingId) external;

    /// @notice Customer rates a settled or resolved booking once.
    /// @param bookingId The booking.
    /// @param stars One to five.
    /// @param complaintTags Bitmask of complaint tags (off-chain catalogue).
    function rate(uint256 bookingId, uint8 stars, uint32 complaintTags) external;

    /// @notice The booking's stored state.
    /// @param bookingId The booking.
    function getBooking(uint256 bookingId) external view returns (Booking memory);

    /// @notice Number of bookings the customer has made; their ids end in 1..n.
    /// @param customer The customer.
    function bookingCountOf(address customer) external view returns (uint64);

    /// @notice The customer a booking id belongs to.
    /// @param bookingId The booking.
    function customerOf(uint256 bookingId) external pure returns (address);
}
