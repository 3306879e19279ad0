// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {ICriteriaRegistry} from "./ICriteriaRegistry.sol";

/// @title Escrowed bookings of a time slot, and their state machine
/// @notice Requested -> Accepted -> Completed -> Settled | Disputed -> Resolved;
///         Requested -> Cancelled | Declined | Expired; Accepted -> Cancelled | Declined | Expired.
///         Instant listings go straight to Accepted. Every non-terminal state has a timed exit
///         anyone may trigger, so no escrow can be stuck.
///         A booking id is `customer << 96 | providerId << 64 | start << 24 | durationMinutes << 8 | salt`
///         (160 + 32 + 40 + 16 + 8 bits). `BookingRequested` indexes the customer and the listing;
///         every later event of the booking indexes only its id, which carries both
///         (`decodeBookingId`): two topics fewer per event, 750 gas per transaction.
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

    /// @notice What a customer books: a listing's slot under a known offer and criteria version.
    struct BookingRequest {
        uint32 providerId;
        uint40 start; // Unix seconds; in the future, at most MAX_ADVANCE ahead
        uint16 durationMinutes; // >= 1
        uint8 salt; // lets a customer book the same slot again
        uint32 offerVersion; // the listing's offer the customer accepts
        uint32 criteriaVersion; // the customer's criteria version of the listing's category
    }

    /// @notice A booking, packed in one slot; customer, listing and slot are in its id.
    struct Booking {
        uint88 price; // escrowed, in the booking's currency
        uint80 fee; // max(ceil(price x feeBps / 10,000), minFee), fixed at booking
        uint32 deadline; // the current state's deadline
        Status status;
        bool rated;
        uint8 currency;
        uint8 arbiterId; // the arbiter fixed at booking (0 = none)
        uint16 freeCancelHours; // cancellation terms locked from the listing
        uint8 lateCancelPct;
    }

    /// @notice A customer booked a slot and escrowed `price` under offer `offerVersion`; the
    ///         provider must respond by `respondBy` (instant listings: BookingAccepted follows).
    event BookingRequested(
        uint256 indexed bookingId,
        address indexed customer,
        uint32 indexed providerId,
        uint8 currency,
        uint88 price,
        uint80 fee,
        uint32 offerVersion,
        uint32 criteriaVersion,
        uint8 arbiterId,
        uint32 respondBy
    );
    /// @notice The provider accepted (or the listing is instant); it must complete between the
    ///         start and `serviceBy`. The listing's stake is locked until `stakeLockedUntil`.
    event BookingAccepted(uint256 indexed bookingId, uint32 serviceBy, uint32 stakeLockedUntil);
    /// @notice The provider declined a requested booking, or cancelled an accepted one
    ///         (`afterAcceptance`: a reliability failure); `refund` (the whole price) was credited.
    event BookingDeclined(uint256 indexed bookingId, uint88 refund, bool afterAcceptance);
    /// @notice The customer cancelled; `refund` was credited to the customer and `compensation`
    ///         (a late cancellation of an accepted booking) to the listing's owner. No fee.
    event BookingCancelled(uint256 indexed bookingId, uint88 refund, uint88 compensation);
    /// @notice A deadline passed: `refund` (the whole price) was credited to the customer. `noShow`:
    ///         an accepted booking never completed (a reliability failure; StakeSlashed follows if
    ///         the listing had stake).
    event BookingExpired(uint256 indexed bookingId, uint88 refund, bool noShow);
    /// @notice The provider marked the service delivered. The customer may confirm or dispute until `confirmBy`;
    ///         after it anyone may settle.
    event BookingCompleted(uint256 indexed bookingId, uint32 confirmBy);
    /// @notice Escrow released: `payout` credited to the listing's owner, `fee` accrued.
    ///         `by` is the customer (confirmation) or whoever settled after the window.
    event BookingSettled(uint256 indexed bookingId, uint88 payout, uint80 fee, address by);
    /// @notice The customer disputed the completion with a `bond` (wei); the booking's arbiter must
    ///         resolve by `arbitrateBy`.
    event BookingDisputed(uint256 indexed bookingId, uint96 bond, uint32 arbitrateBy);
    /// @notice A dispute was resolved by `arbiter` (zero address: the default 50/50 after the deadline).
    ///         `refund` to the customer, `payout` to the owner, `fee` accrued. `providerLost`
    ///         (refundBps > 5,000): the bond went back to the customer, the arbiter was paid from the
    ///         stake (StakeSlashed), a one-star rating of `weight` and a failure were recorded.
    ///         Otherwise the bond paid the arbiter (or, by default, went back to the customer).
    event DisputeResolved(
        uint256 indexed bookingId,
        address arbiter,
        uint16 refundBps,
        uint88 refund,
        uint88 payout,
        uint80 fee,
        uint96 bond,
        bool providerLost,
        uint64 weight
    );
    /// @notice The customer rated a settled or resolved booking with `weight`; `newScore` is the
    ///         listing's score after it.
    event BookingRated(uint256 indexed bookingId, uint8 stars, uint32 complaintTags, uint64 weight, uint16 newScore);

    /// @notice The customer's criteria version for the listing's category differs from the request's.
    error MarketplaceCriteriaVersionMismatch(uint32 expected, uint32 current);
    /// @notice The listing's offer changed since the customer saw it.
    error MarketplaceOfferChanged(uint32 expected, uint32 current);
    /// @notice The ether sent differs from what is due (the price, the bond, or 0 for a token booking).
    error MarketplaceValueMismatch(uint256 sent, uint256 due);
    /// @notice The listing fails the customer's criteria; `criterion` names the first failed one.
    error MarketplaceIneligible(uint32 providerId, ICriteriaRegistry.Criterion criterion);
    /// @notice A listing's owner cannot book it.
    error MarketplaceSelfBooking(uint32 providerId);
    /// @notice The slot starts now or in the past.
    error MarketplaceSlotInPast(uint40 start);
    /// @notice The slot starts more than MAX_ADVANCE ahead.
    error MarketplaceSlotTooFar(uint40 start, uint40 latest);
    /// @notice A slot of zero minutes.
    error MarketplaceInvalidDuration();
    /// @notice A booking with this id exists (change the salt to book the same slot again).
    error MarketplaceBookingExists(uint256 bookingId);
    /// @notice The token delivered less than the price (fee-on-transfer, rebasing, or lying).
    error MarketplaceTokenShortfall(uint256 expected, uint256 received);
    /// @notice The permit failed and the allowance does not cover the price.
    error MarketplacePermitFailed();
    /// @notice No booking has this id.
    error MarketplaceBookingNotFound(uint256 bookingId);
    /// @notice The booking is not in a state that allows this action.
    error MarketplaceInvalidStatus(uint256 bookingId, Status status);
    /// @notice Only the booking's customer may do this.
    error MarketplaceNotCustomer(uint256 bookingId, address caller);
    /// @notice Only the booking's arbiter, still named and not a party, may resolve it.
    error MarketplaceNotArbiter(uint256 bookingId, address caller);
    /// @notice The current state's deadline has passed.
    error MarketplaceDeadlinePassed(uint256 bookingId, uint32 deadline);
    /// @notice The current state's deadline has not passed yet.
    error MarketplaceDeadlineNotReached(uint256 bookingId, uint32 deadline);
    /// @notice Too early: `complete` is possible only from the slot's start.
    error MarketplaceTooEarly(uint40 start);
    /// @notice The slot has started: an accepted booking can no longer be cancelled or declined.
    error MarketplaceSlotStarted(uint40 start);
    /// @notice A refund share above 100 %.
    error MarketplaceInvalidRefundBps(uint16 refundBps);
    /// @notice Ratings are one to five stars.
    error MarketplaceInvalidStars(uint8 stars);
    /// @notice The booking was already rated.
    error MarketplaceAlreadyRated(uint256 bookingId);

    /// @notice Book a slot, escrowing the listing's price: ether sent with the call, or a token
    ///         pulled with transferFrom (after an approval) and checked by balance delta. Reverts
    ///         unless the listing meets the caller's criteria at `req.criteriaVersion` and its offer
    ///         is `req.offerVersion`.
    /// @param req The listing, slot, salt and the versions the customer accepts.
    /// @return bookingId The new booking's id.
    function book(BookingRequest calldata req) external payable returns (uint256 bookingId);

    /// @notice Book a token-priced slot with an EIP-2612 permit for exactly the price, in one
    ///         transaction. A failed permit is tolerated when the allowance already suffices.
    /// @param req As for `book`.
    /// @param permitDeadline The permit's deadline.
    /// @param v Signature v.
    /// @param r Signature r.
    /// @param s Signature s.
    /// @return bookingId The new booking's id.
    function bookWithPermit(BookingRequest calldata req, uint256 permitDeadline, uint8 v, bytes32 r, bytes32 s)
        external
        returns (uint256 bookingId);

    /// @notice Provider accepts a requested booking by its response deadline.
    /// @param bookingId The booking.
    function accept(uint256 bookingId) external;

    /// @notice Provider declines a requested booking, or cancels an accepted one before its start
    ///         (a reliability failure); full refund.
    /// @param bookingId The booking.
    function decline(uint256 bookingId) external;

    /// @notice Customer cancels a requested booking (full refund) or an accepted one before its
    ///         start, under the booking's cancellation terms.
    /// @param bookingId The booking.
    function cancel(uint256 bookingId) external;

    /// @notice Anyone refunds a requested booking after its response deadline, or an accepted one
    ///         after its service deadline (a no-show: failure and stake slash to the customer).
    /// @param bookingId The booking.
    function expire(uint256 bookingId) external;

    /// @notice Provider marks an accepted booking delivered, from the start until the service deadline.
    /// @param bookingId The booking.
    function complete(uint256 bookingId) external;

    /// @notice Customer confirms delivery by the confirmation deadline; releases the escrow.
    /// @param bookingId The booking.
    function confirm(uint256 bookingId) external;

    /// @notice Customer confirms delivery and rates in one call.
    /// @param bookingId The booking.
    /// @param stars One to five.
    /// @param complaintTags Bitmask of complaint tags (off-chain catalogue).
    function confirmAndRate(uint256 bookingId, uint8 stars, uint32 complaintTags) external;

    /// @notice Anyone settles a completed booking after the confirmation deadline.
    /// @param bookingId The booking.
    function settle(uint256 bookingId) external;

    /// @notice Customer disputes a completed booking by the confirmation deadline, paying exactly
    ///         `disputeBond` wei.
    /// @param bookingId The booking.
    function dispute(uint256 bookingId) external payable;

    /// @notice The booking's arbiter resolves a dispute: the fee is taken, `refundBps` of the rest
    ///         goes to the customer, the remainder to the provider.
    /// @param bookingId The booking.
    /// @param refundBps Customer's share in basis points; above 5,000 the provider lost.
    function resolve(uint256 bookingId, uint16 refundBps) external;

    /// @notice Anyone resolves a dispute 50/50 once the arbitration deadline has passed.
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

    /// @notice The bond (wei) held for the booking's open dispute, or 0.
    /// @param bookingId The booking.
    function disputeBondOf(uint256 bookingId) external view returns (uint96);

    /// @notice The id of a booking.
    /// @param customer The customer.
    /// @param providerId The listing.
    /// @param start Slot start.
    /// @param durationMinutes Slot length.
    /// @param salt The customer's salt.
    function encodeBookingId(address customer, uint32 providerId, uint40 start, uint16 durationMinutes, uint8 salt)
        external
        pure
        returns (uint256);

    /// @notice Split a booking id into its parts.
    /// @param bookingId The booking.
    function decodeBookingId(uint256 bookingId)
        external
        pure
        returns (address customer, uint32 providerId, uint40 start, uint16 durationMinutes, uint8 salt);

    /// @notice Latest slot start accepted, relative to now: 365 days.
    function MAX_ADVANCE() external view returns (uint32);
}
