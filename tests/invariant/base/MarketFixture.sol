// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {Marketplace} from "../../../contracts/Marketplace.sol";
import {IMarketplaceAdmin} from "../../../contracts/interfaces/IMarketplaceAdmin.sol";
import {ICriteriaRegistry} from "../../../contracts/interfaces/ICriteriaRegistry.sol";
import {IBookings} from "../../../contracts/interfaces/IBookings.sol";
import {TestBase} from "./TestBase.sol";

/// @notice A deployed market with named accounts and short helpers for the stateless tests.
abstract contract MarketFixture is TestBase {
    uint40 internal constant RESPOND = 1 days;
    uint40 internal constant SERVICE = 3 days;
    uint40 internal constant CONFIRM = 2 days;
    uint40 internal constant ARBITRATION = 4 days;
    uint40 internal constant COOLDOWN = 7 days;
    uint96 internal constant MIN_STAKE = 0.1 ether;

    Marketplace internal market;
    address internal owner;
    address internal arbiter;
    address internal customer;
    address internal providerOwner;
    address internal stranger;

    function setUp() public virtual {
        owner = makeAddr("owner");
        arbiter = makeAddr("arbiter");
        customer = makeAddr("customer");
        providerOwner = makeAddr("providerOwner");
        stranger = makeAddr("stranger");
        market = new Marketplace(
            owner,
            250,
            MIN_STAKE,
            IMarketplaceAdmin.Windows({
                respond: RESPOND,
                service: SERVICE,
                confirm: CONFIRM,
                arbitration: ARBITRATION,
                stakeCooldown: COOLDOWN
            })
        );
        vm.prank(owner);
        market.setArbiter(arbiter, true);
        vm.warp(1_700_000_000);
    }

    function _register(address who, uint16 category, uint16 region, uint64 attrs, uint96 price)
        internal
        returns (uint32 pid)
    {
        vm.deal(who, who.balance + MIN_STAKE);
        vm.prank(who);
        pid = market.register{value: MIN_STAKE}(category, region, attrs, price, bytes32(0));
    }

    /// @dev Criteria that accept any provider of `category` up to `maxPrice`.
    function _openCriteria(address who, uint16 category, uint96 maxPrice) internal returns (uint32 version) {
        ICriteriaRegistry.CriteriaInput memory in_;
        in_.category = category;
        in_.maxPrice = maxPrice;
        in_.scoreWeight = 5_000;
        in_.priceWeight = 5_000;
        vm.prank(who);
        version = market.setCriteria(in_);
    }

    function _book(address who, uint32 pid) internal returns (uint256 bid) {
        uint96 price = market.getProvider(pid).price;
        uint32 version = market.getCriteria(who, market.getProvider(pid).category).version;
        vm.deal(who, who.balance + price);
        vm.prank(who);
        bid = market.book{value: price}(pid, price, version);
    }

    /// @dev A fresh provider and a booking of it by `customer`, driven to Completed.
    function _completedBooking(uint96 price) internal returns (uint256 bid, uint32 pid) {
        pid = _register(providerOwner, 1, 0, 0, price);
        _openCriteria(customer, 1, type(uint96).max);
        bid = _book(customer, pid);
        vm.prank(providerOwner);
        market.accept(bid);
        vm.prank(providerOwner);
        market.complete(bid);
    }

    function _status(uint256 bid) internal view returns (uint8) {
        return uint8(market.getBooking(bid).status);
    }
}
