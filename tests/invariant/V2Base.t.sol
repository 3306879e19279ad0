// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {Marketplace} from "../../contracts/Marketplace.sol";
import {DemoUSD} from "../../contracts/token/DemoUSD.sol";
import {IMarketplace} from "../../contracts/interfaces/IMarketplace.sol";
import {IMarketplaceAdmin} from "../../contracts/interfaces/IMarketplaceAdmin.sol";
import {IProviderRegistry} from "../../contracts/interfaces/IProviderRegistry.sol";
import {ICriteriaRegistry} from "../../contracts/interfaces/ICriteriaRegistry.sol";
import {IBookings} from "../../contracts/interfaces/IBookings.sol";

/// @notice The cheatcodes the v2 unit tests use (forge-std is not available offline).
interface V2Vm {
    struct Gas {
        uint64 gasLimit;
        uint64 gasTotalUsed;
        uint64 gasMemoryUsed;
        int64 gasRefunded;
        uint64 gasRemaining;
    }

    function warp(uint256 newTimestamp) external;
    function prank(address msgSender) external;
    function startPrank(address msgSender) external;
    function stopPrank() external;
    function deal(address account, uint256 newBalance) external;
    function expectRevert(bytes calldata revertData) external;
    function expectRevert(bytes4 revertData) external;
    function expectRevert() external;
    function label(address account, string calldata newLabel) external;
    function addr(uint256 privateKey) external pure returns (address);
    function sign(uint256 privateKey, bytes32 digest) external pure returns (uint8 v, bytes32 r, bytes32 s);
    function store(address target, bytes32 slot, bytes32 value) external;
    function load(address target, bytes32 slot) external view returns (bytes32);
    function cool(address target) external;
    function toString(uint256 value) external pure returns (string memory);
}

/// @notice A token that keeps 1 % of every transfer (fee-on-transfer): the marketplace must refuse it.
contract V2ShortToken {
    mapping(address => uint256) public balanceOf;
    mapping(address => mapping(address => uint256)) public allowance;

    function mint(address to, uint256 amount) external {
        balanceOf[to] += amount;
    }

    function approve(address spender, uint256 amount) external returns (bool) {
        allowance[msg.sender][spender] = amount;
        return true;
    }

    function transfer(address to, uint256 amount) external returns (bool) {
        return _move(msg.sender, to, amount);
    }

    function transferFrom(address from, address to, uint256 amount) external returns (bool) {
        allowance[from][msg.sender] -= amount;
        return _move(from, to, amount);
    }

    function _move(address from, address to, uint256 amount) private returns (bool) {
        balanceOf[from] -= amount;
        balanceOf[to] += amount - amount / 100;
        return true;
    }
}

/// @notice A deployed v2 marketplace with an arbiter, an attestor, DemoUSD as currency 1, and helpers.
abstract contract V2Base {
    V2Vm internal constant vm = V2Vm(0x7109709ECfa91a80626fF3989D68f67F5b1DD12D);

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
        a = address(uint160(uint256(keccak256(bytes(name)))));
        vm.label(a, name);
        vm.deal(a, 1_000 ether);
    }

    // ------------------------------------------------------------ listings and criteria

    function _input(uint8 currency, uint88 price, bool instant)
        internal
        pure
        returns (IProviderRegistry.ListingInput memory)
    {
        return IProviderRegistry.ListingInput({
            category: 1,
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

    function _listing() internal returns (uint32) {
        return _register(provider, _input(0, PRICE, false));
    }

    function _openCriteria(uint8 currency) internal pure returns (ICriteriaRegistry.CriteriaInput memory) {
        return ICriteriaRegistry.CriteriaInput({
            category: 1,
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
            criteriaVersion: m.getCriteria(who, 1).version
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

    // ------------------------------------------------------------ assertions

    function assertEq(uint256 a, uint256 b, string memory why) internal pure {
        if (a != b) revert(string.concat(why, ": ", vm.toString(a), " != ", vm.toString(b)));
    }

    function assertTrue(bool c, string memory why) internal pure {
        if (!c) revert(why);
    }

    function assertLe(uint256 a, uint256 b, string memory why) internal pure {
        if (a > b) revert(string.concat(why, ": ", vm.toString(a), " > ", vm.toString(b)));
    }
}
