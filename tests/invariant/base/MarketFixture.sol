// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {IMarketplace} from "../../../contracts/interfaces/IMarketplace.sol";
import {IMarketplaceAdmin} from "../../../contracts/interfaces/IMarketplaceAdmin.sol";
import {IProviderRegistry} from "../../../contracts/interfaces/IProviderRegistry.sol";
import {ICriteriaRegistry} from "../../../contracts/interfaces/ICriteriaRegistry.sol";
import {IBookings} from "../../../contracts/interfaces/IBookings.sol";
import {TestToken} from "../../../contracts/test/tokens/TestToken.sol";
import {TestBase} from "./TestBase.sol";
import {Deploy} from "./Deploy.sol";

/// @notice A deployed v2 market (ether + a test token as currency 1) with named accounts and short
///         helpers for the stateless tests.
abstract contract MarketFixture is TestBase {
    uint32 internal constant RESPOND = 1 days;
    uint32 internal constant GRACE = 2 days;
    uint32 internal constant CONFIRM = 3 days;
    uint32 internal constant ARBITRATION = 4 days;
    uint32 internal constant COOLDOWN = 6 days;
    uint96 internal constant MIN_STAKE = 0.1 ether;
    uint96 internal constant BOND = 0.01 ether;
    uint256 internal constant MIN_FEE_ETH = 1_000;
    uint256 internal constant MIN_FEE_TOKEN = 100;
    uint16 internal constant CATEGORY = 1;

    IMarketplace internal market;
    TestToken internal token;
    address internal owner;
    address internal arbiter;
    address internal attestor;
    address internal customer;
    address internal providerOwner;
    address internal stranger;

    function setUp() public virtual {
        owner = makeAddr("owner");
        arbiter = makeAddr("arbiter");
        attestor = makeAddr("attestor");
        customer = makeAddr("customer");
        providerOwner = makeAddr("providerOwner");
        stranger = makeAddr("stranger");
        vm.warp(1_700_000_000);
        token = new TestToken("Demo USD", "DUSD");
        market = Deploy.market(Deploy.setup(owner, arbiter, attestor, address(token)));
    }

    function _input(uint8 currency, uint88 price) internal pure returns (IProviderRegistry.ListingInput memory in_) {
        in_.category = CATEGORY;
        in_.currency = currency;
        in_.price = price;
        in_.metadataHash = bytes32(uint256(1));
    }

    function _register(address who, IProviderRegistry.ListingInput memory in_) internal returns (uint32 pid) {
        vm.deal(who, who.balance + MIN_STAKE);
        vm.prank(who);
        pid = market.register{value: MIN_STAKE}(in_);
    }

    function _register(address who, uint88 price) internal returns (uint32) {
        return _register(who, _input(0, price));
    }

    /// @dev Criteria that accept any listing of CATEGORY in `currency`.
    function _openCriteria(address who, uint8 currency) internal returns (uint32 version) {
        ICriteriaRegistry.CriteriaInput memory in_;
        in_.category = CATEGORY;
        in_.currency = currency;
        in_.maxPrice = type(uint88).max;
        in_.scoreWeight = 5_000;
        in_.priceWeight = 5_000;
        vm.prank(who);
        version = market.setCriteria(in_);
    }

    function _request(address who, uint32 pid, uint40 start, uint8 salt)
        internal
        view
        returns (IBookings.BookingRequest memory)
    {
        return IBookings.BookingRequest({
            providerId: pid,
            start: start,
            durationMinutes: 60,
            salt: salt,
            offerVersion: market.getListing(pid).offerVersion,
            criteriaVersion: market.getCriteria(who, CATEGORY).version
        });
    }

    /// @dev Book `pid` for `who` at `start` (criteria set first if none); pays ether or mints and approves tokens.
    function _book(address who, uint32 pid, uint40 start, uint8 salt) internal returns (uint256 id) {
        IProviderRegistry.Listing memory l = market.getListing(pid);
        if (market.getCriteria(who, CATEGORY).version == 0) _openCriteria(who, l.currency);
        IBookings.BookingRequest memory req = _request(who, pid, start, salt);
        if (l.currency == 0) {
            vm.deal(who, who.balance + l.price);
            vm.prank(who);
            id = market.book{value: l.price}(req);
        } else {
            token.mint(who, l.price);
            vm.prank(who);
            token.approve(address(market), l.price);
            vm.prank(who);
            id = market.book(req);
        }
    }

    function _book(address who, uint32 pid) internal returns (uint256) {
        return _book(who, pid, uint40(block.timestamp + 2 days), 0);
    }

    /// @dev Accept (unless already accepted), warp to the start and complete.
    function _toCompleted(uint256 id) internal {
        (, uint32 pid, uint40 start,,) = market.decodeBookingId(id);
        address po = market.getListing(pid).owner;
        if (market.getBooking(id).status == IBookings.Status.Requested) {
            vm.prank(po);
            market.accept(id);
        }
        if (block.timestamp < start) vm.warp(start);
        vm.prank(po);
        market.complete(id);
    }

    function _status(uint256 id) internal view returns (uint8) {
        return uint8(market.getBooking(id).status);
    }
}
