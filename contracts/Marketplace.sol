// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Permit.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {MarketplaceBase} from "./MarketplaceBase.sol";
import {MarketplaceModule} from "./MarketplaceModule.sol";
import {IBookings} from "./interfaces/IBookings.sol";
import {IMarketplaceAdmin} from "./interfaces/IMarketplaceAdmin.sol";
import {IProviderRegistry} from "./interfaces/IProviderRegistry.sol";
import {ICriteriaRegistry} from "./interfaces/ICriteriaRegistry.sol";
import {Score} from "./libraries/Score.sol";
import {Eligibility} from "./libraries/Eligibility.sol";

/// @title The curated service marketplace v2: escrowed bookings of time slots under the
///        customer's own criteria, in ether or allowlisted tokens
/// @notice One address serves the whole IMarketplace API. This contract holds the bookings and the
///         withdrawals; every other function (listings, criteria, operator) runs in
///         `MarketplaceModule` by DELEGATECALL on this contract's storage. The module is deployed
///         by this constructor and its address is an immutable: nothing can be upgraded or
///         re-pointed. Every transition emits an event carrying every amount, so the history and
///         all balances can be rebuilt from logs alone.
contract Marketplace is MarketplaceBase, IBookings {
    using SafeERC20 for IERC20;

    /// @notice The module every call this contract does not implement is delegated to.
    address public immutable MODULE;
    uint32 internal immutable RESPOND_WINDOW;
    uint32 internal immutable SERVICE_GRACE;
    uint32 internal immutable CONFIRM_WINDOW;
    uint32 internal immutable ARBITRATION_WINDOW;

    uint16 internal constant DEFAULT_REFUND_BPS = 5_000;

    /// @param setup Operator, parameters, windows, delay, and optionally an arbiter (made default),
    ///        an attestor and a token currency; applied with the events of later changes.
    constructor(IMarketplaceAdmin.Setup memory setup) MarketplaceBase(setup.owner) {
        IMarketplaceAdmin.Windows memory w = setup.windows;
        if (
            !_validWindow(w.respond) || !_validWindow(w.serviceGrace) || !_validWindow(w.confirm)
                || !_validWindow(w.arbitration) || !_validWindow(w.stakeCooldown) || !_validWindow(setup.changeDelay)
        ) revert IMarketplaceAdmin.MarketplaceInvalidWindow();
        RESPOND_WINDOW = w.respond;
        SERVICE_GRACE = w.serviceGrace;
        CONFIRM_WINDOW = w.confirm;
        ARBITRATION_WINDOW = w.arbitration;
        address module = address(new MarketplaceModule(w, setup.changeDelay));
        // slither-disable-next-line missing-zero-check
        MODULE = module;
        // The module was created one line above and `initialize` is fixed: nothing here is caller-chosen.
        // slither-disable-next-line controlled-delegatecall,missing-zero-check
        (bool ok, bytes memory err) = module.delegatecall(abi.encodeCall(MarketplaceModule.initialize, (setup)));
        if (!ok) {
            assembly ("memory-safe") {
                revert(add(err, 32), mload(err))
            }
        }
    }

    /// @notice Every function of IMarketplace not implemented here runs in the module, on this
    ///         contract's storage. Plain ether transfers are refused (the module has no receive).
    fallback() external payable {
        address module = MODULE;
        assembly {
            calldatacopy(0, 0, calldatasize())
            let ok := delegatecall(gas(), module, 0, calldatasize(), 0, 0)
            returndatacopy(0, 0, returndatasize())
            if iszero(ok) { revert(0, returndatasize()) }
            return(0, returndatasize())
        }
    }

    /// @notice Plain ether transfers are refused: ether enters only as a price, a stake or a bond.
    receive() external payable {
        revert MarketplaceValueMismatch(msg.value, 0);
    }

    // ---------------------------------------------------------------- booking

    /// @inheritdoc IBookings
    function book(BookingRequest calldata req) external payable nonReentrant returns (uint256 bookingId) {
        (uint256 id, uint88 price, address token) = _book(req);
        if (token == address(0)) {
            if (msg.value != price) revert MarketplaceValueMismatch(msg.value, price);
        } else {
            if (msg.value != 0) revert MarketplaceValueMismatch(msg.value, 0);
            _pull(token, price);
        }
        return id;
    }

    /// @inheritdoc IBookings
    function bookWithPermit(BookingRequest calldata req, uint256 permitDeadline, uint8 v, bytes32 r, bytes32 s)
        external
        nonReentrant
        returns (uint256 bookingId)
    {
        uint88 price;
        address token;
        (bookingId, price, token) = _book(req);
        if (token == address(0)) revert MarketplaceValueMismatch(0, price);
        // A permit front-run by someone else fails here but leaves the allowance: go on then.
        try IERC20Permit(token).permit(msg.sender, address(this), price, permitDeadline, v, r, s) {}
        catch {
            if (IERC20(token).allowance(msg.sender, address(this)) < price) revert MarketplacePermitFailed();
        }
        _pull(token, price);
    }

    /// @inheritdoc IBookings
    function accept(uint256 bookingId) external {
        (Booking storage b, uint256 word) = _wordAt(bookingId, Status.Requested);
        (, IProviderRegistry.Listing storage l) = _asOwner(bookingId);
        _requireOpen(bookingId, uint32(word >> 168));
        uint32 serviceBy = _serviceBy(bookingId);
        _advance(b, word, Status.Accepted, serviceBy);
        uint32 lockedUntil = _lock(l, l.lockedUntil, serviceBy);
        emit BookingAccepted(bookingId, serviceBy, lockedUntil);
    }

    /// @inheritdoc IBookings
    function decline(uint256 bookingId) external nonReentrant {
        Booking storage b = _bookings[bookingId];
        Status status = b.status;
        if (status != Status.Accepted) _requireStatus(bookingId, status, Status.Requested);
        (, IProviderRegistry.Listing storage l) = _asOwner(bookingId);
        bool afterAcceptance = status == Status.Accepted;
        if (afterAcceptance) {
            _requireBeforeStart(bookingId);
            _count(l, true);
        }
        uint88 refund = b.price;
        address customer = _customerOf(bookingId);
        b.status = Status.Declined;
        _credit(customer, b.currency, refund);
        emit BookingDeclined(bookingId, refund, afterAcceptance);
    }

    /// @inheritdoc IBookings
    function cancel(uint256 bookingId) external nonReentrant {
        Booking storage b = _bookings[bookingId];
        Status status = b.status;
        if (status != Status.Accepted) _requireStatus(bookingId, status, Status.Requested);
        address customer = _asCustomer(bookingId);
        uint88 price = b.price;
        uint8 currency = b.currency;
        uint88 compensation = 0;
        uint32 providerId = _providerOf(bookingId);
        if (status == Status.Accepted) {
            uint40 start = _requireBeforeStart(bookingId);
            if (block.timestamp + uint256(b.freeCancelHours) * 1 hours > start) {
                compensation = uint88((uint256(price) * b.lateCancelPct) / 100);
                if (compensation != 0) _credit(_listings[providerId].owner, currency, compensation);
            }
        }
        uint88 refund = price - compensation;
        b.status = Status.Cancelled;
        _credit(customer, currency, refund);
        emit BookingCancelled(bookingId, refund, compensation);
    }

    /// @inheritdoc IBookings
    function expire(uint256 bookingId) external nonReentrant {
        Booking storage b = _bookings[bookingId];
        Status status = b.status;
        if (status != Status.Accepted) _requireStatus(bookingId, status, Status.Requested);
        _requireExpired(bookingId, b.deadline);
        uint88 refund = b.price;
        address customer = _customerOf(bookingId);
        uint32 providerId = _providerOf(bookingId);
        bool noShow = status == Status.Accepted;
        b.status = Status.Expired;
        _credit(customer, b.currency, refund);
        if (noShow) {
            IProviderRegistry.Listing storage l = _listings[providerId];
            _count(l, true);
            uint96 stake = l.stake;
            uint96 slash = uint96((uint256(stake) * SLASH_BPS_) / BPS);
            if (slash != 0) {
                l.stake = stake - slash;
                _credit(customer, 0, slash);
                emit IProviderRegistry.StakeSlashed(providerId, bookingId, customer, slash);
            }
        }
        emit BookingExpired(bookingId, refund, noShow);
    }

    /// @inheritdoc IBookings
    function complete(uint256 bookingId) external {
        (Booking storage b, uint256 word) = _wordAt(bookingId, Status.Accepted);
        _asOwner(bookingId);
        uint40 start = _startOf(bookingId);
        if (block.timestamp < start) revert MarketplaceTooEarly(start);
        _requireOpen(bookingId, uint32(word >> 168));
        uint32 confirmBy = uint32(block.timestamp) + CONFIRM_WINDOW;
        _advance(b, word, Status.Completed, confirmBy);
        emit BookingCompleted(bookingId, confirmBy);
    }

    /// @inheritdoc IBookings
    function confirm(uint256 bookingId) external nonReentrant {
        _confirm(bookingId);
    }

    /// @inheritdoc IBookings
    function confirmAndRate(uint256 bookingId, uint8 stars, uint32 complaintTags) external nonReentrant {
        (Booking storage b, uint256 word) = _confirm(bookingId);
        _rate(bookingId, b, word, stars, complaintTags);
    }

    /// @inheritdoc IBookings
    function settle(uint256 bookingId) external nonReentrant {
        Booking storage b = _bookings[bookingId];
        uint256 word;
        assembly ("memory-safe") {
            word := sload(b.slot)
        }
        _requireStatus(bookingId, Status(uint8(word >> 200)), Status.Completed);
        _requireExpired(bookingId, uint32(word >> 168));
        _settle(bookingId, b, word);
    }

    /// @inheritdoc IBookings
    function dispute(uint256 bookingId) external payable nonReentrant {
        Booking storage b = _at(bookingId, Status.Completed);
        _asCustomer(bookingId);
        _requireOpen(bookingId, b.deadline);
        uint96 bond = _params.disputeBond;
        if (msg.value != bond) revert MarketplaceValueMismatch(msg.value, bond);
        if (bond != 0) _bonds[bookingId] = bond;
        uint32 arbitrateBy = uint32(block.timestamp) + ARBITRATION_WINDOW;
        uint256 word;
        assembly ("memory-safe") {
            word := sload(b.slot)
        }
        _advance(b, word, Status.Disputed, arbitrateBy);
        emit BookingDisputed(bookingId, bond, arbitrateBy);
    }

    /// @inheritdoc IBookings
    function resolve(uint256 bookingId, uint16 refundBps) external nonReentrant {
        Booking storage b = _at(bookingId, Status.Disputed);
        uint8 arbiterId_ = b.arbiterId;
        Named storage n = _arbiters[arbiterId_];
        if (
            arbiterId_ == 0 || !n.allowed || n.account != msg.sender || msg.sender == _customerOf(bookingId)
                || msg.sender == _listings[_providerOf(bookingId)].owner
        ) revert MarketplaceNotArbiter(bookingId, msg.sender);
        if (refundBps > BPS) revert MarketplaceInvalidRefundBps(refundBps);
        _requireOpen(bookingId, b.deadline);
        _resolve(bookingId, b, msg.sender, refundBps);
    }

    /// @inheritdoc IBookings
    function resolveByDefault(uint256 bookingId) external nonReentrant {
        Booking storage b = _at(bookingId, Status.Disputed);
        _requireExpired(bookingId, b.deadline);
        _resolve(bookingId, b, address(0), DEFAULT_REFUND_BPS);
    }

    /// @inheritdoc IBookings
    function rate(uint256 bookingId, uint8 stars, uint32 complaintTags) external {
        Booking storage b = _bookings[bookingId];
        uint256 word;
        assembly ("memory-safe") {
            word := sload(b.slot)
        }
        Status status = Status(uint8(word >> 200));
        if (status != Status.Settled) _requireStatus(bookingId, status, Status.Resolved);
        _asCustomer(bookingId);
        _rate(bookingId, b, word, stars, complaintTags);
    }

    // ---------------------------------------------------------------- withdrawals

    /// @notice See IMarketplaceAdmin.withdraw.
    function withdraw(uint8 currency) external nonReentrant {
        _payOut(currency, msg.sender);
    }

    /// @notice See IMarketplaceAdmin.withdrawTo.
    function withdrawTo(uint8 currency, address to) external nonReentrant {
        if (to == address(0) || to == address(this)) revert IMarketplaceAdmin.MarketplaceInvalidRecipient(to);
        _payOut(currency, to);
    }

    // ---------------------------------------------------------------- views

    /// @inheritdoc IBookings
    function getBooking(uint256 bookingId) external view returns (Booking memory) {
        return _bookings[bookingId];
    }

    /// @inheritdoc IBookings
    function disputeBondOf(uint256 bookingId) external view returns (uint96) {
        return _bonds[bookingId];
    }

    /// @inheritdoc IBookings
    function encodeBookingId(address customer, uint32 providerId, uint40 start, uint16 durationMinutes, uint8 salt)
        external
        pure
        returns (uint256)
    {
        return _encode(customer, providerId, start, durationMinutes, salt);
    }

    /// @inheritdoc IBookings
    function decodeBookingId(uint256 bookingId)
        external
        pure
        returns (address customer, uint32 providerId, uint40 start, uint16 durationMinutes, uint8 salt)
    {
        return (
            _customerOf(bookingId),
            _providerOf(bookingId),
            _startOf(bookingId),
            uint16(bookingId >> 8),
            uint8(bookingId)
        );
    }

    /// @notice See ICriteriaRegistry.firstFailedCriterion (served here, beside `book`, which applies it).
    function firstFailedCriterion(address customer, uint32 providerId)
        external
        view
        returns (ICriteriaRegistry.Criterion)
    {
        (uint256 a, uint256 b) = _listingWords(providerId);
        return _firstFailure(customer, providerId, a, b);
    }

    /// @notice See ICriteriaRegistry.priceCeiling.
    function priceCeiling(address customer, uint16 category, uint16 score) external view returns (uint256) {
        return Eligibility.ceiling(_criteria[customer][category], score);
    }

    /// @notice See IProviderRegistry.scoreOf.
    function scoreOf(uint32 providerId) external view returns (uint16) {
        IProviderRegistry.Listing storage l = _listings[providerId];
        return Score.score(l.ratingWeight, l.weightedStars);
    }

    /// @notice See IProviderRegistry.reliabilityOf.
    function reliabilityOf(uint32 providerId) external view returns (uint16) {
        IProviderRegistry.Listing storage l = _listings[providerId];
        return Score.reliability(l.completed, l.failures);
    }

    /// @notice See IProviderRegistry.verifiedAttributesOf.
    function verifiedAttributesOf(uint32 providerId, uint32 attestorMask) external view returns (uint64) {
        return _verified(providerId, attestorMask) & _listings[providerId].attributes;
    }

    /// @inheritdoc IBookings
    function MAX_ADVANCE() external pure returns (uint32) {
        return MAX_ADVANCE_;
    }

    /// @notice Disabled: without an operator, fees could never be collected nor a pause lifted.
    function renounceOwnership() public view override onlyOwner {
        revert IMarketplaceAdmin.MarketplaceRenounceDisabled();
    }

    // ---------------------------------------------------------------- internal: booking

    /// @dev Every check and effect of a booking; the caller takes the payment. Reads the listing's
    ///      first two slots as words `a` and `b` (layout at `_firstFailure`).
    function _book(BookingRequest calldata req) private returns (uint256 bookingId, uint88 price, address token) {
        // Config as one word: feeBps 0-15 | paused 16-23 | providerCount 24-55 | minStake 56-151 |
        // etherMinFee 152-231 | defaultArbiterId 232-239
        uint256 config;
        assembly ("memory-safe") {
            config := sload(_config.slot)
        }
        if (uint8(config >> 16) != 0) revert IMarketplaceAdmin.MarketplacePaused();
        _checkSlot(req.start, req.durationMinutes);
        uint32 providerId = req.providerId;
        (uint256 a, uint256 b) = _listingWords(providerId);
        {
            address owner_ = address(uint160(a));
            if (owner_ == address(0)) revert IProviderRegistry.MarketplaceProviderNotFound(providerId);
            if (owner_ == msg.sender) revert MarketplaceSelfBooking(providerId);
            uint32 offer = uint32(a >> 160);
            if (offer != req.offerVersion) revert MarketplaceOfferChanged(req.offerVersion, offer);
        }
        price = uint88(b);
        uint80 minFee_ = uint80(config >> 152);
        uint8 currency = uint8(b >> 184);
        if (currency != 0) {
            CurrencyInfo storage info = _currencies[currency];
            minFee_ = info.minFee;
            if (!info.enabled || minFee_ == 0) revert IMarketplaceAdmin.MarketplaceCurrencyDisabled(currency);
            token = info.token;
        }
        {
            (ICriteriaRegistry.Criteria storage c, uint256 w0, uint256 w1) = _criteriaWords(msg.sender, b);
            uint32 version = uint32(w0 >> 216); // Criteria.version
            if (version != req.criteriaVersion) {
                revert MarketplaceCriteriaVersionMismatch(req.criteriaVersion, version);
            }
            ICriteriaRegistry.Criterion failed = _firstFailureWith(msg.sender, providerId, a, b, c, w0, w1);
            if (failed != ICriteriaRegistry.Criterion.None) revert MarketplaceIneligible(providerId, failed);
        }
        uint256 fee = Score.bookingFee(price, uint16(config), minFee_);
        if (fee > price) revert IProviderRegistry.MarketplacePriceBelowMinFee(price, minFee_);
        bookingId = _encode(msg.sender, providerId, req.start, req.durationMinutes, req.salt);
        // The booking stores the fee in 80 bits: a price above ~1.2e25 units at 10 % reverts, never truncates.
        _store(bookingId, req, a, b, SafeCast.toUint80(fee), uint8(config >> 232));
    }

    /// @dev Writes the new booking (one word: price 0-87 | fee 88-167 | deadline 168-199 | status
    ///      200-207 | rated 208-215 | currency 216-223 | arbiterId 224-231 | freeCancelHours 232-247 |
    ///      lateCancelPct 248-255) and emits its events (and the acceptance of an instant listing).
    function _store(uint256 bookingId, BookingRequest calldata req, uint256 a, uint256 b, uint80 fee, uint8 arbiterId_)
        private
    {
        bool instant = uint8(b >> 200) != 0;
        uint32 deadline;
        if (instant) {
            deadline = _serviceBy(bookingId);
        } else {
            uint256 respondBy = block.timestamp + RESPOND_WINDOW;
            uint256 start = _startOf(bookingId);
            deadline = uint32(respondBy < start ? respondBy : start);
        }
        _writeNew(bookingId, _bookingWord(b, fee, deadline, instant, arbiterId_));
        emit BookingRequested(
            bookingId,
            msg.sender,
            _providerOf(bookingId),
            uint8(b >> 184),
            uint88(b),
            fee,
            uint32(a >> 160), // the listing's offerVersion, checked equal to the request's
            req.criteriaVersion,
            arbiterId_,
            instant ? uint32(block.timestamp) : deadline
        );
        if (instant) {
            uint32 lockedUntil = _lock(_listings[_providerOf(bookingId)], uint32(a >> 192), deadline);
            emit BookingAccepted(bookingId, deadline, lockedUntil);
        }
    }

    /// @dev The new booking's word, from the listing's offer slot `b` (price, currency, terms).
    function _bookingWord(uint256 b, uint80 fee, uint32 deadline, bool instant, uint8 arbiterId_)
        private
        pure
        returns (uint256)
    {
        return uint256(uint88(b)) | (uint256(fee) << 88) | (uint256(deadline) << 168)
            | (uint256(instant ? uint8(Status.Accepted) : uint8(Status.Requested)) << 200)
            | (uint256(uint8(b >> 184)) << 216) | (uint256(arbiterId_) << 224) | (uint256(uint16(b >> 208)) << 232)
            | (uint256(uint8(b >> 224)) << 248);
    }

    /// @dev Stores a booking's word; an existing id (any non-zero word) reverts.
    function _writeNew(uint256 bookingId, uint256 word) private {
        Booking storage bs = _bookings[bookingId];
        uint256 existing;
        assembly ("memory-safe") {
            existing := sload(bs.slot)
        }
        if (existing != 0) revert MarketplaceBookingExists(bookingId);
        assembly ("memory-safe") {
            sstore(bs.slot, word)
        }
    }

    /// @dev The slot must start in the future, at most MAX_ADVANCE ahead, and last at least a minute.
    function _checkSlot(uint40 start, uint16 durationMinutes) private view {
        if (start <= block.timestamp) revert MarketplaceSlotInPast(start);
        uint256 latest = block.timestamp + MAX_ADVANCE_;
        if (start > latest) revert MarketplaceSlotTooFar(start, uint40(latest));
        if (durationMinutes == 0) revert MarketplaceInvalidDuration();
    }

    /// @dev Pulls `amount` of `token` from the caller and requires the contract's balance to grow by it.
    function _pull(address token, uint256 amount) private {
        IERC20 t = IERC20(token);
        uint256 before = t.balanceOf(address(this));
        t.safeTransferFrom(msg.sender, address(this), amount);
        uint256 afterwards = t.balanceOf(address(this));
        uint256 received = afterwards > before ? afterwards - before : 0;
        if (received < amount) revert MarketplaceTokenShortfall(amount, received);
    }

    /// @dev Locks the listing's stake until every slashing path of a booking served by `serviceBy` is over.
    function _lock(IProviderRegistry.Listing storage l, uint32 current, uint32 serviceBy)
        private
        returns (uint32 lockedUntil)
    {
        lockedUntil = serviceBy + CONFIRM_WINDOW + ARBITRATION_WINDOW;
        if (current >= lockedUntil) return current;
        l.lockedUntil = lockedUntil;
    }

    // ---------------------------------------------------------------- internal: settlement

    /// @dev Confirms a completed booking; returns it and its word after settlement.
    function _confirm(uint256 bookingId) private returns (Booking storage b, uint256 word) {
        (b, word) = _wordAt(bookingId, Status.Completed);
        _asCustomer(bookingId);
        _requireOpen(bookingId, uint32(word >> 168));
        word = _settle(bookingId, b, word);
    }

    /// @dev Releases the escrow: payout to the listing's owner, fee accrued; counts a completion.
    ///      `word` is the booking's slot (price bits 0-87, fee 88-167, status 200-207, currency 216-223).
    function _settle(uint256 bookingId, Booking storage b, uint256 word) private returns (uint256) {
        uint80 fee = uint80(word >> 88);
        uint8 currency = uint8(word >> 216);
        uint88 payout = uint88(word) - fee;
        IProviderRegistry.Listing storage l = _listings[_providerOf(bookingId)];
        word = (word & ~(uint256(0xff) << 200)) | (uint256(uint8(Status.Settled)) << 200);
        assembly ("memory-safe") {
            sstore(b.slot, word)
        }
        _credit(l.owner, currency, payout);
        _accrueFee(currency, fee);
        _count(l, false);
        emit BookingSettled(bookingId, payout, fee, msg.sender);
        return word;
    }

    /// @dev Splits the escrow after taking the fee, returns or pays the bond, and for an arbiter's
    ///      ruling counts the resolution (and a provider's loss: failure, one-star rating, stake to the arbiter).
    function _resolve(uint256 bookingId, Booking storage b, address arbiter_, uint16 refundBps) private {
        (uint88 refund, uint88 payout, uint80 fee) = _split(bookingId, b, refundBps);
        uint96 bond = _bonds[bookingId];
        if (bond != 0) delete _bonds[bookingId];
        (bool providerLost, uint64 weight) = _ruling(bookingId, arbiter_, refundBps, bond, fee, b.currency);
        // A lost dispute is the booking's rating (one star at its weight): the customer cannot
        // add a second one for the same fee.
        if (providerLost) b.rated = true;
        emit DisputeResolved(bookingId, arbiter_, refundBps, refund, payout, fee, bond, providerLost, weight);
    }

    /// @dev Ends a dispute: the fee accrued, `refundBps` of the rest to the customer, the remainder to the owner.
    function _split(uint256 bookingId, Booking storage b, uint16 refundBps)
        private
        returns (uint88 refund, uint88 payout, uint80 fee)
    {
        fee = b.fee;
        uint88 rest = b.price - fee;
        refund = uint88((uint256(rest) * refundBps) / BPS);
        payout = rest - refund;
        uint8 currency = b.currency;
        b.status = Status.Resolved;
        if (refund != 0) _credit(_customerOf(bookingId), currency, refund);
        if (payout != 0) _credit(_listings[_providerOf(bookingId)].owner, currency, payout);
        _accrueFee(currency, fee);
    }

    /// @dev Where the bond goes and what the ruling does to the listing.
    function _ruling(uint256 bookingId, address arbiter_, uint16 refundBps, uint96 bond, uint80 fee, uint8 currency)
        private
        returns (bool providerLost, uint64 weight)
    {
        address customer = _customerOf(bookingId);
        if (arbiter_ == address(0)) {
            // By default: the bond back to the customer, no effect on the listing.
            if (bond != 0) _credit(customer, 0, bond);
            return (false, 0);
        }
        uint32 providerId = _providerOf(bookingId);
        IProviderRegistry.Listing storage l = _listings[providerId];
        _count(l, false);
        providerLost = refundBps > BPS / 2;
        if (!providerLost) {
            if (bond != 0) _credit(arbiter_, 0, bond);
            return (false, 0);
        }
        if (bond != 0) _credit(customer, 0, bond);
        _count(l, true);
        (weight,) = _addRating(l, 1, fee, currency);
        uint96 stake = l.stake;
        uint96 pay = bond < stake ? bond : stake;
        if (pay != 0) {
            l.stake = stake - pay;
            _credit(arbiter_, 0, pay);
            emit IProviderRegistry.StakeSlashed(providerId, bookingId, arbiter_, pay);
        }
    }

    /// @dev Rates a settled or resolved booking whose current word is `word`.
    function _rate(uint256 bookingId, Booking storage b, uint256 word, uint8 stars, uint32 complaintTags) private {
        if (stars == 0 || stars > 5) revert MarketplaceInvalidStars(stars);
        // rated: bits 208-215 of the booking's word; fee 88-167; currency 216-223
        if (uint8(word >> 208) != 0) revert MarketplaceAlreadyRated(bookingId);
        assembly ("memory-safe") {
            sstore(b.slot, or(word, shl(208, 1)))
        }
        (uint64 weight, uint16 newScore) =
            _addRating(_listings[_providerOf(bookingId)], stars, uint80(word >> 88), uint8(word >> 216));
        emit BookingRated(bookingId, stars, complaintTags, weight, newScore);
    }

    /// @dev Adds a rating of `stars` weighted by the fee the booking paid; returns its weight and the
    ///      new score. One read and one write of the listing's rating slot (ratingWeight bits 0-71,
    ///      weightedStars 72-151, stake 152-247).
    function _addRating(IProviderRegistry.Listing storage l, uint8 stars, uint80 fee, uint8 currency)
        private
        returns (uint64 weight, uint16 newScore)
    {
        weight = Score.weight(fee, _ledgers[currency].minFee);
        uint256 word;
        assembly ("memory-safe") {
            word := sload(add(l.slot, 2))
        }
        uint256 ratingWeight = SafeCast.toUint72(uint256(uint72(word)) + weight);
        uint256 weightedStars = SafeCast.toUint80(uint256(uint80(word >> 72)) + uint256(stars) * weight);
        word = (word & ~uint256(type(uint152).max)) | ratingWeight | (weightedStars << 72);
        assembly ("memory-safe") {
            sstore(add(l.slot, 2), word)
        }
        newScore = Score.score(ratingWeight, weightedStars);
    }

    /// @dev Pays the caller's whole credit in `currency` to `to`: effects, event, then the transfer.
    function _payOut(uint8 currency, address to) private {
        uint256 amount = _credits[msg.sender][currency];
        if (amount == 0) revert IMarketplaceAdmin.MarketplaceNothingToWithdraw(msg.sender, currency);
        _credits[msg.sender][currency] = 0;
        emit IMarketplaceAdmin.Withdrawn(msg.sender, to, currency, amount);
        if (currency == 0) {
            // Forward all gas: the recipient chose to be paid; a failure reverts and keeps the credit.
            (bool ok,) = to.call{value: amount}("");
            if (!ok) revert IMarketplaceAdmin.MarketplaceTransferFailed(to, amount);
        } else {
            IERC20(_currencies[currency].token).safeTransfer(to, amount);
        }
    }

    // ---------------------------------------------------------------- internal: checks and ids

    /// @dev The booking and its word (one read), which must be in `expected`.
    function _wordAt(uint256 bookingId, Status expected) private view returns (Booking storage b, uint256 word) {
        b = _bookings[bookingId];
        assembly ("memory-safe") {
            word := sload(b.slot)
        }
        _requireStatus(bookingId, Status(uint8(word >> 200)), expected);
    }

    /// @dev Moves a booking (whose current word is `word`) to `status` with its new `deadline` in
    ///      one write (deadline bits 168-199, status bits 200-207 of the booking's word).
    function _advance(Booking storage b, uint256 word, Status status, uint32 deadline) private {
        assembly ("memory-safe") {
            word := and(word, not(shl(168, 0xffffffffff)))
            word := or(word, or(shl(168, deadline), shl(200, status)))
            sstore(b.slot, word)
        }
    }

    /// @dev The booking, which must be in `expected`.
    function _at(uint256 bookingId, Status expected) private view returns (Booking storage b) {
        b = _bookings[bookingId];
        _requireStatus(bookingId, b.status, expected);
    }

    function _requireStatus(uint256 bookingId, Status status, Status expected) private pure {
        if (status == expected) return;
        if (status == Status.None) revert MarketplaceBookingNotFound(bookingId);
        revert MarketplaceInvalidStatus(bookingId, status);
    }

    /// @dev Reverts unless the caller owns the booking's listing.
    function _asOwner(uint256 bookingId) private view returns (uint32 providerId, IProviderRegistry.Listing storage l) {
        providerId = _providerOf(bookingId);
        l = _ownedListing(providerId);
    }

    /// @dev Reverts unless the caller is the booking's customer.
    function _asCustomer(uint256 bookingId) private view returns (address customer) {
        customer = _customerOf(bookingId);
        if (msg.sender != customer) revert MarketplaceNotCustomer(bookingId, msg.sender);
    }

    /// @dev An accepted booking can be cancelled or declined only before its start.
    function _requireBeforeStart(uint256 bookingId) private view returns (uint40 start) {
        start = _startOf(bookingId);
        if (block.timestamp >= start) revert MarketplaceSlotStarted(start);
    }

    /// @dev The current state's window is open up to and including its deadline.
    function _requireOpen(uint256 bookingId, uint32 deadline) private view {
        if (block.timestamp > deadline) revert MarketplaceDeadlinePassed(bookingId, deadline);
    }

    /// @dev The timed exit opens strictly after the deadline.
    function _requireExpired(uint256 bookingId, uint32 deadline) private view {
        if (block.timestamp <= deadline) revert MarketplaceDeadlineNotReached(bookingId, deadline);
    }

    /// @dev start + duration + serviceGrace.
    function _serviceBy(uint256 bookingId) private view returns (uint32) {
        return uint32(uint256(_startOf(bookingId)) + uint256(uint16(bookingId >> 8)) * 60 + SERVICE_GRACE);
    }

    function _validWindow(uint32 window) private pure returns (bool) {
        return window != 0 && window <= MAX_WINDOW;
    }

    function _encode(address customer, uint32 providerId, uint40 start, uint16 durationMinutes, uint8 salt)
        private
        pure
        returns (uint256)
    {
        return (uint256(uint160(customer)) << 96) | (uint256(providerId) << 64) | (uint256(start) << 24)
            | (uint256(durationMinutes) << 8) | salt;
    }

    function _customerOf(uint256 bookingId) private pure returns (address) {
        return address(uint160(bookingId >> 96));
    }

    function _providerOf(uint256 bookingId) private pure returns (uint32) {
        return uint32(bookingId >> 64);
    }

    function _startOf(uint256 bookingId) private pure returns (uint40) {
        return uint40(bookingId >> 24);
    }
}
