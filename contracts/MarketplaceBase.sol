// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {Ownable2Step} from "@openzeppelin/contracts/access/Ownable2Step.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {IMarketplaceAdmin} from "./interfaces/IMarketplaceAdmin.sol";
import {IProviderRegistry} from "./interfaces/IProviderRegistry.sol";
import {ICriteriaRegistry} from "./interfaces/ICriteriaRegistry.sol";
import {IBookings} from "./interfaces/IBookings.sol";
import {Eligibility} from "./libraries/Eligibility.sol";
import {Score} from "./libraries/Score.sol";

/// @title The marketplace's storage and the rules both of its code units share
/// @notice `Marketplace` (bookings, withdrawals) and `MarketplaceModule` (listings, criteria,
///         operator), which `Marketplace` reaches by DELEGATECALL, both derive from this contract
///         alone, so their storage layouts are one. Nothing here can be upgraded or re-pointed.
/// @dev The ledger moves only through `_credit` and `_accrueFee`; payouts leave only by `withdraw`.
abstract contract MarketplaceBase is Ownable2Step, ReentrancyGuardTransient {
    /// @dev Hot configuration, one slot: `book` and `register` read it once.
    struct Config {
        uint16 feeBps;
        bool paused;
        uint32 providerCount;
        uint96 minStake;
        uint80 etherMinFee; // minFee of currency 0
        uint8 defaultArbiterId;
    }

    /// @dev Cold configuration, one slot.
    struct Params {
        uint96 disputeBond;
        uint32 namedAttestors; // bit (id - 1) per currently named attestor
        uint8 arbiterCount;
        uint8 attestorCount;
        uint8 currencyCount;
    }

    /// @dev A token currency, one slot.
    struct CurrencyInfo {
        address token;
        bool enabled;
        uint80 minFee;
    }

    /// @dev A customer's criteria version (over all categories and blocks) and number of owners it blocks.
    struct Customer {
        uint32 version;
        uint16 ownerBlocks;
    }

    /// @dev Per currency, one slot: the accrued fees, and a copy of the minimum fee next to them so
    ///      that rating in the transaction that settles (confirmAndRate) reads no other slot for the
    ///      weight. Every MinFee change writes both copies (this one and Config/CurrencyInfo).
    struct Ledger {
        uint176 accruedFees;
        uint80 minFee;
    }

    /// @dev A named account (arbiter or attestor), one slot.
    struct Named {
        address account;
        bool allowed;
    }

    /// @notice Hard cap of the fee rate, in basis points.
    uint16 internal constant MAX_FEE_BPS_ = 1_000;
    /// @notice Longest allowed window or change delay.
    uint32 internal constant MAX_WINDOW = 365 days;
    /// @notice Latest slot start accepted, relative to now.
    uint32 internal constant MAX_ADVANCE_ = 365 days;
    /// @notice Share of the stake a no-show moves to the customer.
    uint16 internal constant SLASH_BPS_ = 1_000;
    /// @notice Most trusted attestors in one criteria set.
    uint256 internal constant MAX_TRUSTED = 4;
    uint256 internal constant MAX_ATTESTORS = 32;
    uint256 internal constant BPS = 10_000;

    // slither-disable-next-line uninitialized-state (written by MarketplaceModule on this storage)
    Config internal _config;
    // slither-disable-next-line uninitialized-state (written by MarketplaceModule on this storage)
    Params internal _params;
    mapping(uint32 providerId => IProviderRegistry.Listing) internal _listings;
    // slither-disable-next-line uninitialized-state (written by MarketplaceModule on this storage)
    mapping(uint32 providerId => mapping(uint8 attestorId => uint64)) internal _attestations;
    // slither-disable-next-line uninitialized-state (written by MarketplaceModule on this storage)
    mapping(address customer => mapping(uint16 category => ICriteriaRegistry.Criteria)) internal _criteria;
    // slither-disable-next-line uninitialized-state (written by MarketplaceModule on this storage)
    mapping(address customer => mapping(uint32 providerId => bool)) internal _blocked;
    // slither-disable-next-line uninitialized-state (written by MarketplaceModule on this storage)
    mapping(address customer => mapping(address owner => bool)) internal _ownerBlocked;
    mapping(address customer => Customer) internal _customers;
    mapping(address customer => uint16[]) internal _categoriesOf; // categories with criteria, in order set
    mapping(uint256 bookingId => IBookings.Booking) internal _bookings;
    mapping(uint256 bookingId => uint96) internal _bonds;
    mapping(address account => mapping(uint8 currency => uint256)) internal _credits;
    // slither-disable-next-line uninitialized-state (written by MarketplaceModule on this storage)
    mapping(uint8 currency => Ledger) internal _ledgers;
    // slither-disable-next-line uninitialized-state (written by MarketplaceModule on this storage)
    mapping(uint8 currency => CurrencyInfo) internal _currencies;
    mapping(address token => uint8) internal _currencyIds;
    // slither-disable-next-line uninitialized-state (written by MarketplaceModule on this storage)
    mapping(uint8 id => Named) internal _arbiters;
    mapping(address account => uint8) internal _arbiterIds;
    mapping(uint8 id => Named) internal _attestors;
    mapping(address account => uint8) internal _attestorIds;
    mapping(bytes32 change => uint32 eta) internal _changeEtas;

    constructor(address owner_) Ownable(owner_) {}

    // ---------------------------------------------------------------- ledger

    /// @dev Adds to `account`'s withdrawable credit in `currency`; the caller's event says why.
    function _credit(address account, uint8 currency, uint256 amount) internal {
        // Cannot overflow: every credit is backed by funds the contract holds.
        unchecked {
            _credits[account][currency] += amount;
        }
    }

    /// @dev Adds a booking's fee to the accrued fees of its currency (the low 176 bits of the
    ///      currency's ledger word; a fee is below 2^80 and all fees ever below 2^176, so the add never
    ///      reaches the minFee copy above them); the caller's event carries it.
    function _accrueFee(uint8 currency, uint256 fee) internal {
        Ledger storage ledger = _ledgers[currency];
        assembly ("memory-safe") {
            sstore(ledger.slot, add(sload(ledger.slot), fee))
        }
    }

    // ---------------------------------------------------------------- listings

    /// @dev Reverts unless the caller owns `providerId`; returns the listing.
    function _ownedListing(uint32 providerId) internal view returns (IProviderRegistry.Listing storage l) {
        l = _listings[providerId];
        address owner_ = l.owner;
        if (owner_ == address(0)) revert IProviderRegistry.MarketplaceProviderNotFound(providerId);
        if (owner_ != msg.sender) revert IProviderRegistry.MarketplaceNotProviderOwner(providerId, msg.sender);
    }

    /// @dev The minimum fee of `currency` (0 if unknown).
    function _minFee(uint8 currency) internal view returns (uint80) {
        return currency == 0 ? _config.etherMinFee : _currencies[currency].minFee;
    }

    /// @dev Counts a settled/resolved booking (`failure` false) or a failure, halving both counters
    ///      first when the one counted would pass 65,535.
    function _count(IProviderRegistry.Listing storage l, bool failure) internal {
        // the listing's first slot: completed bits 224-239, failures 240-255
        uint256 word;
        assembly ("memory-safe") {
            word := sload(l.slot)
        }
        uint256 completed = uint16(word >> 224);
        uint256 failures = uint16(word >> 240);
        if ((failure ? failures : completed) == type(uint16).max) {
            completed >>= 1;
            failures >>= 1;
        }
        if (failure) ++failures;
        else ++completed;
        word = (word & type(uint224).max) | (completed << 224) | (failures << 240);
        assembly ("memory-safe") {
            sstore(l.slot, word)
        }
    }

    /// @dev Union of the attribute bits verified for a listing by the still-named attestors of `mask`.
    function _verified(uint32 providerId, uint32 mask) internal view returns (uint64 verified) {
        mask &= _params.namedAttestors;
        while (mask != 0) {
            uint8 id = _lowestBit(mask);
            verified |= _attestations[providerId][id];
            mask &= mask - 1;
        }
    }

    /// @dev 1 + the index of the lowest set bit: the attestor id of that bit.
    function _lowestBit(uint32 mask) private pure returns (uint8 id) {
        id = 1;
        while (mask & 1 == 0) {
            mask >>= 1;
            ++id;
        }
    }

    // ---------------------------------------------------------------- eligibility

    /// @dev The eligibility rule on stored state: the first failed criterion in the enum's order.
    ///      `a` and `b` are the listing's first two slots as read by the caller; the criteria's first
    ///      two slots are read as two words. Read only when needed: the criteria's third slot
    ///      (verified attributes), the listing's third (a score, a premium or a track record asked
    ///      for), the block flags (the customer blocks a listing in the category or an owner).
    /// @param a Listing slot 0: owner 0-159 | offerVersion 160-191 | lockedUntil 192-223 | completed 224-239 | failures 240-255.
    /// @param b Listing slot 1: price 0-87 | attributes 88-151 | category 152-167 | region 168-183 |
    ///        currency 184-191 | active 192-199 | instant 200-207 | freeCancelHours 208-223 | lateCancelPct 224-231.
    function _firstFailure(address customer, uint32 providerId, uint256 a, uint256 b)
        internal
        view
        returns (ICriteriaRegistry.Criterion)
    {
        (ICriteriaRegistry.Criteria storage c, uint256 w0, uint256 w1) = _criteriaWords(customer, b);
        return _firstFailureWith(customer, providerId, a, b, c, w0, w1);
    }

    /// @dev The customer's criteria for the category of the listing whose offer slot is `b`, and
    ///      their first two slots as words.
    function _criteriaWords(address customer, uint256 b)
        internal
        view
        returns (ICriteriaRegistry.Criteria storage c, uint256 w0, uint256 w1)
    {
        c = _criteria[customer][uint16(b >> 152)];
        assembly ("memory-safe") {
            w0 := sload(c.slot)
            w1 := sload(add(c.slot, 1))
        }
    }

    /// @dev `_firstFailure` on criteria words already read.
    function _firstFailureWith(
        address customer,
        uint32 providerId,
        uint256 a,
        uint256 b,
        ICriteriaRegistry.Criteria storage c,
        uint256 w0,
        uint256 w1
    ) internal view returns (ICriteriaRegistry.Criterion) {
        if (uint8(b >> 192) == 0) return ICriteriaRegistry.Criterion.ProviderInactive;
        // slot 0: maxPrice 0-87 | premiumPerStar 88-175 | minScore 176-191 | region 192-207 | currency 208-215 | version 216-247
        if (uint32(w0 >> 216) == 0) return ICriteriaRegistry.Criterion.CriteriaNotSet;
        if (uint8(w0 >> 208) != uint8(b >> 184)) return ICriteriaRegistry.Criterion.Currency;
        {
            uint256 region = uint16(w0 >> 192);
            if (region != 0 && region != uint16(b >> 168)) return ICriteriaRegistry.Criterion.Region;
        }
        // slot 1: required 0-63 | refused 64-127 | verified 128-191 | minRatingWeight 192-223 | minReliability 224-239 | blockedCount 240-255
        // blockedCount counts the category's listing blocks and the customer's owner blocks: zero
        // (the common case) spares both block reads.
        if (uint16(w1 >> 240) != 0) {
            if (_blocked[customer][providerId]) return ICriteriaRegistry.Criterion.Blocked;
            if (_ownerBlocked[customer][address(uint160(a))]) return ICriteriaRegistry.Criterion.OwnerBlocked;
        }
        return _firstFailureOfRecord(providerId, b, w0, w1, c, a);
    }

    /// @dev `_firstFailure` from RequiredAttributes on: attributes, score, track record, reliability, price.
    function _firstFailureOfRecord(
        uint32 providerId,
        uint256 b,
        uint256 w0,
        uint256 w1,
        ICriteriaRegistry.Criteria storage c,
        uint256 a
    ) private view returns (ICriteriaRegistry.Criterion) {
        {
            uint64 attributes = uint64(b >> 88);
            uint64 required = uint64(w1);
            if (attributes & required != required) return ICriteriaRegistry.Criterion.RequiredAttributes;
            if (attributes & uint64(w1 >> 64) != 0) return ICriteriaRegistry.Criterion.RefusedAttributes;
            uint64 wanted = uint64(w1 >> 128);
            if (wanted != 0 && (_verified(providerId, c.trustedAttestors) & attributes & wanted) != wanted) {
                return ICriteriaRegistry.Criterion.VerifiedAttributes;
            }
        }
        uint256 minScore = uint16(w0 >> 176);
        uint256 premium = uint88(w0 >> 88);
        uint256 score = 0;
        {
            uint256 minWeight = uint32(w1 >> 192);
            if (minScore != 0 || premium != 0 || minWeight != 0) {
                IProviderRegistry.Listing storage l = _listings[providerId];
                uint256 ratingWeight = l.ratingWeight;
                if (minScore != 0 || premium != 0) {
                    score = Score.score(ratingWeight, l.weightedStars);
                    if (score < minScore) return ICriteriaRegistry.Criterion.MinScore;
                }
                if (ratingWeight < minWeight) return ICriteriaRegistry.Criterion.TrackRecord;
            }
        }
        if (Score.reliability(uint16(a >> 224), uint16(a >> 240)) < uint16(w1 >> 224)) {
            return ICriteriaRegistry.Criterion.Reliability;
        }
        if (uint88(b) > Eligibility.ceiling(uint88(w0), premium, minScore, score)) {
            return ICriteriaRegistry.Criterion.MaxPrice;
        }
        return ICriteriaRegistry.Criterion.None;
    }

    /// @dev A listing's first two slots as words (see `_firstFailure`).
    function _listingWords(uint32 providerId) internal view returns (uint256 a, uint256 b) {
        IProviderRegistry.Listing storage l = _listings[providerId];
        assembly ("memory-safe") {
            a := sload(l.slot)
            b := sload(add(l.slot, 1))
        }
    }
}
