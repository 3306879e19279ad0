// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {IBookings} from "../../../contracts/interfaces/IBookings.sol";

/// @notice The handler's model of one listing (what the spec says the contract must hold).
struct MListing {
    address owner;
    uint8 currency;
    uint88 price;
    bool active;
    bool instant;
    uint16 freeCancelHours;
    uint8 lateCancelPct;
    uint32 offerVersion;
    uint32 lockedUntil;
    uint256 stake;
    uint256 completed;
    uint256 failures;
    uint256 ratingWeight;
    uint256 weightedStars;
}

/// @notice The handler's model of one booking.
struct MBooking {
    address customer;
    uint32 pid;
    uint8 currency;
    uint88 price;
    uint80 fee;
    IBookings.Status status;
    uint32 deadline;
    uint40 start;
    uint16 duration;
    bool rated;
    uint16 freeCancelHours;
    uint8 lateCancelPct;
    uint96 bond;
    bool everDisputed;
}

/// @notice The handler's model of a customer's criteria (category 1 only).
struct MCriteria {
    uint32 version;
    uint8 currency;
    uint16 minScore;
    uint88 maxPrice;
    uint32 minRatingWeight;
    uint16 minReliability;
}
