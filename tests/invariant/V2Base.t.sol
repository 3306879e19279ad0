// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {Marketplace} from "../../contracts/Marketplace.sol";
import {DemoUSD} from "../../contracts/token/DemoUSD.sol";
import {IMarketplace} from "../../contracts/interfaces/IMarketplace.sol";
import {IMarketplaceAdmin} from "../../contracts/interfaces/IMarketplaceAdmin.sol";
import {IProviderRegistry} from "../../contracts/interfaces/IProviderRegistry.sol";
import {ICriteriaRegistry} from "../../contracts/interfaces/ICriteriaRegistry.sol";
import {IBookings} from "../../contracts/interfaces/IBookings.sol";
import {Helpers} from "./base/TestBase.sol";

/// @notice The forge tests' one fixture: a deployed v2 marketplace with an operator, an arbiter, an
///         attestor (id 1), DemoUSD as currency 1, funded actors, and the steps of a booking's life.
abstract contract V2Base is Helpers {
    uint16 internal constant CATEGORY = 1;

    uint32 internal constant RESPOND = 1 days;
    uint32 internal constant GRACE = 2 hours;
    uint32 internal constant CONFIRM = 3 days;
    uint32 internal constant ARBITRATION = 7 days;
    uint32 internal constant COOLDOWN = 7 days;
    uint32 internal constant DELAY = 2 days;
    uint16 internal constant FEE_BPS = 250;
    uint96 internal constant MIN_STAKE = 0.1 ether;
    uint96 internal constant BOND = 0.01 ether;
    uint80 internal constant MIN_FEE = 1e14; // 0.0001 ether
    uint80 internal constant USD_MIN_FEE = 50_000; // 5 cents
    uint88 internal constant PRICE = 0.01 ether; // fee 2.5e14: weight 2,500
    uint88 internal constant USD_PRICE = 20e6; // fee 0.5e6: weight 10,000
    uint40 internal constant T0 = 1_700_000_000;

    IMarketplace internal m;
    Marketplace internal market;
    DemoUSD internal usd;

    address internal operator;
    address internal arb;
    address internal att;
    address internal provider;
    address internal customer;
    address internal stranger;
    uint256 internal customerKey = 0xC0FFEE;

    function setUp() public virtual {
        vm.warp(T0);
        operator = _actor("operator");
        arb = _actor("arbiter");
        att = _actor("attestor");
        provider = _actor("provider");
        customer = vm.addr(customerKey);
        vm.label(customer, "customer");
        vm.deal(customer, 1_000 ether);
        stranger = _actor("stranger");
        usd = new DemoUSD(address(this));
        market = new Marketplace(_setup(address(usd), USD_MIN_FEE));
        m = IMarketplace(address(market));
        usd.mint(customer, 1_000_000e6);
        vm.prank(customer);
        usd.approve(address(m), type(uint256).max);
    }

    function _setup(address token, uint80 tokenMinFee) internal view returns (IMarketplaceAdmin.Setup memory) {
        return IMarketplaceAdmin.Setup({
            owner: operator,
            feeBps: FEE_BPS,
            minStake: MIN_STAKE,
            disputeBond: BOND,
            minFee: MIN_FEE,
            windows: IMarketplaceAdmin.Windows({
                respond: RESPOND,
                serviceGrace: GRACE,
                confirm: CONFIRM,
                arbitration: ARBITRATION,
                stakeCooldown: COOLDOWN
            }),
            changeDelay: DELAY,
            arbiter: arb,
            attestor: att,
            token: token,
            tokenMinFee: tokenMinFee
        });
    }

    function _actor(string memory name) internal returns (address a) {
        a = makeAddr(name);
        vm.deal(a, 1_000 ether);
    }

    // ------------------------------------------------------------ listings and criteria

    function _input(uint8 currency, uint88 price, bool instant)
        internal
        pure
        returns (IProviderRegistry.ListingInput memory)
    {
        return IProviderRegistry.ListingInput({
            category: CATEGORY,
            region: 7,
            attributes: 0x5,
            currency: currency,
            price: price,
            metadataHash: keccak256("listing"),
            instant: instant,
            freeCancelHours: 24,
            lateCancelPct: 50
        });
    }

    function _register(address owner_, IProviderRegistry.ListingInput memory input) internal returns (uint32 id) {
        vm.prank(owner_);
        id = m.register{value: MIN_STAKE}(input);
    }

    /// @dev A bare listing of CATEGORY: no region, attributes or cancellation terms.
    function _input(uint8 currency, uint88 price) internal pure returns (IProviderRegistry.ListingInput memory in_) {
        in_.category = CATEGORY;
        in_.currency = currency;
        in_.price = price;
        in_.metadataHash = bytes32(uint256(1));
    }

    /// @dev Register a bare ether listing at `price` for `who` (funded for the stake).
    function _register(address who, uint88 price) internal returns (uint32) {
        vm.deal(who, who.balance + MIN_STAKE);
        return _register(who, _input(0, price));
    }

    function _listing() internal returns (uint32) {
        return _register(provider, _input(0, PRICE, false));
    }

    function _openCriteria(uint8 currency) internal pure returns (ICriteriaRegistry.CriteriaInput memory) {
        return ICriteriaRegistry.CriteriaInput({
            category: CATEGORY,
            region: 0,
            currency: currency,
            minScore: 0,
            maxPrice: type(uint88).max,
            premiumPerStar: 0,
            requiredAttributes: 0,
            refusedAttributes: 0,
            verifiedAttributes: 0,
            trustedAttestors: 0,
            minRatingWeight: 0,
            minReliability: 0,
            scoreWeight: 5_000,
            priceWeight: 5_000
        });
    }

    /// @dev Criteria of `who` that accept any listing of CATEGORY in `currency`.
    function _openCriteria(address who, uint8 currency) internal returns (uint32) {
        return _setCriteria(who, _openCriteria(currency));
    }

    function _setCriteria(address who, ICriteriaRegistry.CriteriaInput memory c) internal returns (uint32 v) {
        vm.prank(who);
        v = m.setCriteria(c);
    }

    function _req(address who, uint32 pid, uint40 start, uint8 salt)
        internal
        view
        returns (IBookings.BookingRequest memory)
    {
        return IBookings.BookingRequest({
            providerId: pid,
            start: start,
            durationMinutes: 60,
            salt: salt,
            offerVersion: m.getListing(pid).offerVersion,
            criteriaVersion: m.getCriteria(who, CATEGORY).version
        });
    }

    /// @dev Books `pid` for the customer, one day ahead, paying in the listing's currency.
    function _book(uint32 pid) internal returns (uint256 id) {
        return _bookAt(pid, uint40(block.timestamp + 1 days), 0);
    }

    function _bookAt(uint32 pid, uint40 start, uint8 salt) internal returns (uint256 id) {
        IProviderRegistry.Listing memory l = m.getListing(pid);
        IBookings.BookingRequest memory r = _req(customer, pid, start, salt);
        vm.prank(customer);
        id = m.book{value: l.currency == 0 ? l.price : 0}(r);
    }

    /// @dev Book `pid` for `who` at `start` (open criteria set first if it has none), paying the
    ///      price: ether dealt, or DemoUSD minted and approved.
    function _book(address who, uint32 pid, uint40 start, uint8 salt) internal returns (uint256 id) {
        IProviderRegistry.Listing memory l = m.getListing(pid);
        if (m.getCriteria(who, CATEGORY).version == 0) _openCriteria(who, l.currency);
        IBookings.BookingRequest memory r = _req(who, pid, start, salt);
        if (l.currency == 0) {
            vm.deal(who, who.balance + l.price);
        } else {
            usd.mint(who, l.price);
            vm.prank(who);
            usd.approve(address(m), l.price);
        }
        vm.prank(who);
        id = m.book{value: l.currency == 0 ? l.price : 0}(r);
    }

    function _book(address who, uint32 pid) internal returns (uint256) {
        return _book(who, pid, uint40(block.timestamp + 2 days), 0);
    }

    function _status(uint256 id) internal view returns (IBookings.Status) {
        return m.getBooking(id).status;
    }

    // ------------------------------------------------------------ lifecycle steps

    function _accept(uint256 id) internal {
        vm.prank(provider);
        m.accept(id);
    }

    function _startOf(uint256 id) internal pure returns (uint40) {
        return uint40(id >> 24);
    }

    /// @dev Accepted -> Completed at the slot's start.
    function _complete(uint256 id) internal {
        if (block.timestamp < _startOf(id)) vm.warp(_startOf(id));
        vm.prank(provider);
        m.complete(id);
    }

    /// @dev Accept (unless already accepted) as the listing's owner, warp to the start and complete.
    function _toCompleted(uint256 id) internal {
        (, uint32 pid,,,) = m.decodeBookingId(id);
        address owner_ = m.getListing(pid).owner;
        if (_status(id) == IBookings.Status.Requested) {
            vm.prank(owner_);
            m.accept(id);
        }
        if (block.timestamp < _startOf(id)) vm.warp(_startOf(id));
        vm.prank(owner_);
        m.complete(id);
    }

    /// @dev A settled booking of a fresh (or given) listing.
    function _settled(uint32 pid) internal returns (uint256 id) {
        id = _book(pid);
        if (_status(id) == IBookings.Status.Requested) _accept(id);
        _complete(id);
        vm.prank(customer);
        m.confirm(id);
    }

    function _disputed(uint32 pid) internal returns (uint256 id) {
        id = _book(pid);
        _accept(id);
        _complete(id);
        vm.prank(customer);
        m.dispute{value: BOND}(id);
    }

    // ------------------------------------------------------------ timelock

    function _change(IMarketplaceAdmin.ChangeKind kind, address account, uint256 value) internal {
        vm.prank(operator);
        m.scheduleChange(kind, account, value);
        vm.warp(block.timestamp + DELAY);
        m.applyChange(kind, account, value);
    }

    // ------------------------------------------------------------ storage pokes

    /// @dev The first slot of a listing: owner | offerVersion | lockedUntil | completed | failures.
    function _listingSlot(uint32 pid) internal pure returns (bytes32) {
        return keccak256(abi.encode(uint256(pid), uint256(4)));
    }

    function _setCounters(uint32 pid, uint16 completed, uint16 failures) internal {
        bytes32 slot = _listingSlot(pid);
        uint256 word = uint256(vm.load(address(m), slot));
        word &= ~(uint256(type(uint32).max) << 224);
        word |= (uint256(completed) << 224) | (uint256(failures) << 240);
        vm.store(address(m), slot, bytes32(word));
    }
}
