// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {IBookings} from "../../../contracts/interfaces/IBookings.sol";

/// @notice The handler's own model of a provider listing (what it expects the contract to hold).
struct MProvider {
    address owner;
    uint96 stake;
    uint96 price;
    uint64 attributes;
    uint16 category;
    uint16 region;
    bool active;
    uint40 unlockAt;
    uint24 scoreCount; // accepted ratings + lost disputes
    uint32 scoreSum; // stars of accepted ratings + one per lost dispute
    uint24 lost; // lost disputes
    uint32 ratings; // accepted ratings only
    uint32 ratingStars; // stars of accepted ratings only
}

/// @notice The handler's model of one customer's criteria for one category.
struct MCriteria {
    uint32 version;
    uint16 region;
    uint16 minScore;
    uint96 maxPrice;
    uint96 premiumPerStar;
    uint64 requiredAttributes;
    uint64 refusedAttributes;
    uint16 scoreWeight;
    uint16 priceWeight;
    uint16 blockedCount;
}

/// @notice The handler's model of a booking, with the money it expects each party got.
struct MBooking {
    address customer;
    uint32 providerId;
    uint96 price;
    uint16 feeBps; // the model's fee rate when the booking was made
    IBookings.Status status;
    uint40 deadline;
    uint32 criteriaVersion;
    bool rated;
    uint96 payout;
    uint96 fee;
    uint96 refund;
    uint8 payments; // terminal money movements: must end at exactly 1
    uint8 criterionAtBooking; // firstFailedCriterion seen right before the successful book (must be 0)
}

/// @notice A booking rebuilt from the contract's events alone (the auditor's view).
struct EBooking {
    address customer;
    uint32 providerId;
    uint96 price;
    uint16 feeBps;
    IBookings.Status status;
    uint40 deadline;
    uint8 payments;
    uint8 ratings;
    uint96 payout;
    uint96 fee;
    uint96 refund;
}

/// @notice A provider rebuilt from events alone.
struct EProvider {
    address owner;
    uint96 stake;
    uint32 scoreCount;
    uint32 scoreSum;
}

/// @notice Counters of everything that must stay zero, and the first reason one moved.
struct Violations {
    uint256 total;
    uint256 unexpectedSuccess; // the contract allowed what the spec forbids
    uint256 wrongPartySuccess; // ... and the only problem was who called
    uint256 unexpectedFailure; // the contract refused what the spec allows
    uint256 bookedWhileIneligible; // a successful book while the view said ineligible
    uint256 ineligibleWrongRevert; // an ineligible book that did not revert with MarketplaceIneligible
    uint256 viewVsReference; // firstFailedCriterion disagrees with the reference rule on the model
    uint256 eventMismatch; // an event's amounts disagree with the model
    uint256 payoutMismatch; // ether received differs from the credit withdrawn
}

/// @notice One account's expected ledger, as the handler sees it.
struct AccountRow {
    address account;
    uint256 credit; // model
    uint256 eventCredit; // rebuilt from events
    uint256 creditedTotal; // every wei ever credited
    uint256 withdrawnOwn; // every wei withdrawn from its own credit
    uint256 paidTo; // every wei the market sent to it
    uint64 bookingCount;
    bool arbiter;
    bool isCustomer;
}

/// @notice One customer's criteria for one category, with the reference verdict on every provider
///         (index i = provider id i + 1, the last one a provider id that does not exist).
struct CriteriaRow {
    address customer;
    uint16 category;
    uint32 latestVersion;
    MCriteria criteria;
}
