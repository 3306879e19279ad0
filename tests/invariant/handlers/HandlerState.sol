// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {Marketplace} from "../../../contracts/Marketplace.sol";
import {IMarketplaceAdmin} from "../../../contracts/interfaces/IMarketplaceAdmin.sol";
import {IProviderRegistry} from "../../../contracts/interfaces/IProviderRegistry.sol";
import {ICriteriaRegistry} from "../../../contracts/interfaces/ICriteriaRegistry.sol";
import {IBookings} from "../../../contracts/interfaces/IBookings.sol";
import {IMarketplace} from "../../../contracts/interfaces/IMarketplace.sol";
import {Vm} from "../base/Vm.sol";
import {Helpers} from "../base/TestBase.sol";
import {Ref} from "../base/Reference.sol";
import {Attacker, BadReceiver} from "../actors/Actors.sol";
import {
    MProvider, MCriteria, MBooking, EBooking, EProvider, Violations, AccountRow, CriteriaRow
} from "./Model.sol";

interface IOwnable2Step {
    function owner() external view returns (address);
    function pendingOwner() external view returns (address);
    function transferOwnership(address newOwner) external;
    function acceptOwnership() external;
    function renounceOwnership() external;
}

/// @title The handler's state: the actors, its model of the market, and the event-sourced ledger
/// @notice Shared by the checks (InvariantChecks) and the actions (MarketplaceHandler).
abstract contract HandlerState is Helpers {
    uint256 internal constant MAX_PROVIDERS = 10;
    uint256 internal constant MAX_BOOKINGS = 150;
    uint16 internal constant BPS = 10_000;

    Marketplace public immutable market;
    Attacker public immutable attacker;
    BadReceiver public immutable bad;
    address public immutable owner;
    address public immutable arbiter0;
    address public immutable arbiter1;
    address public immutable stranger;
    address public immutable treasury;

    uint40 internal immutable RESPOND;
    uint40 internal immutable SERVICE;
    uint40 internal immutable CONFIRM;
    uint40 internal immutable ARBITRATION;
    uint40 internal immutable COOLDOWN;

    address[] internal customers;
    address[] internal providerOwners;
    address[] internal everyone; // every account that can ever hold credit

    // ------------------------------------------------------------ the model
    mapping(uint32 => MProvider) internal mp;
    uint32 public mProviderCount;
    mapping(address => mapping(uint16 => MCriteria)) internal mc;
    mapping(address => uint32) public mVersion;
    mapping(address => mapping(uint32 => bool)) public mBlocked;
    mapping(uint256 => MBooking) internal mb;
    uint256[] internal bookingIds;
    mapping(address => uint64) public mBookingCount;

    mapping(address => uint256) public mCredit;
    mapping(address => uint256) public mCreditedTotal; // every wei ever credited to the account
    mapping(address => uint256) public mWithdrawnOwn; // every wei the account withdrew from its credit
    mapping(address => uint256) public mPaidTo; // every wei the market sent to the account
    uint256 public mFees;
    uint256 public mEscrow;
    uint256 public mStakes;
    uint256 public mForced; // ether forced in by SELFDESTRUCT: not part of any ledger

    uint16 public mFeeBps;
    bool public mPaused;
    uint96 public mMinStake;
    mapping(address => bool) public mArbiter;

    // ------------------------------------------------------------ the event-sourced ledger
    mapping(address => uint256) public eCredit;
    uint256 public eFees;
    uint256 public eEscrow;
    uint256 public eStakes;
    uint256 public eIn; // wei that entered through book / register
    uint256 public eOut; // wei that left through Withdrawn
    uint16 public eFeeBps;
    mapping(uint256 => EBooking) internal eb;
    mapping(uint32 => EProvider) internal ep;

    // ------------------------------------------------------------ violations and statistics
    Violations internal v;
    string public firstViolation;
    mapping(bytes32 => uint256) public okCount; // successful calls per action
    mapping(bytes32 => uint256) public tryCount; // attempted calls per action
    uint256 public bookedEligible;
    uint256 public triedIneligible;
    uint256 public warps;
    uint256 public calls; // market calls made so far (drives the invariant's rotating checks)

    constructor(Marketplace market_, address owner_, address arbiter0_) {
        market = market_;
        owner = owner_;
        arbiter0 = arbiter0_;
        arbiter1 = makeAddr("arbiter1");
        stranger = makeAddr("stranger");
        treasury = makeAddr("treasury");
        attacker = new Attacker(IMarketplace(address(market_)), address(this));
        bad = new BadReceiver(IMarketplace(address(market_)), address(this));
        vm.label(address(attacker), "attacker");
        vm.label(address(bad), "badReceiver");

        IMarketplaceAdmin.Windows memory w = market_.windows();
        RESPOND = w.respond;
        SERVICE = w.service;
        CONFIRM = w.confirm;
        ARBITRATION = w.arbitration;
        COOLDOWN = w.stakeCooldown;

        address c0 = makeAddr("customer0");
        address c1 = makeAddr("customer1");
        address c2 = makeAddr("customer2");
        address p0 = makeAddr("provider0");
        address p1 = makeAddr("provider1");
        address p2 = makeAddr("provider2");
        address[5] memory cs = [c0, c1, c2, address(attacker), address(bad)];
        for (uint256 i = 0; i < cs.length; i++) customers.push(cs[i]);
        // c0 is also a provider: a customer can book its own listing (self-dealing is not forbidden).
        address[6] memory ps = [p0, p1, p2, address(attacker), address(bad), c0];
        for (uint256 i = 0; i < ps.length; i++) providerOwners.push(ps[i]);
        address[13] memory all = [
            c0, c1, c2, p0, p1, p2, arbiter0_, arbiter1, owner_, stranger, treasury, address(attacker), address(bad)
        ];
        for (uint256 i = 0; i < all.length; i++) everyone.push(all[i]);

        mFeeBps = market_.feeRate();
        eFeeBps = mFeeBps;
        mMinStake = market_.minStake();
        mPaused = market_.paused();
        mArbiter[arbiter0_] = market_.isArbiter(arbiter0_);
    }

    /// @notice The reference rule applied to the model.
    function modelCriterion(address cust, uint32 pid) public view returns (uint8) {
        MProvider storage p = mp[pid];
        MCriteria storage c = mc[cust][p.category];
        Ref.Cand memory cand = Ref.Cand({
            active: p.active,
            blocked: mBlocked[cust][pid],
            region: p.region,
            score: uint16(Ref.score(p.scoreCount, p.scoreSum)),
            attributes: p.attributes,
            price: p.price
        });
        Ref.Crit memory crit = Ref.Crit({
            version: c.version,
            region: c.region,
            minScore: c.minScore,
            maxPrice: c.maxPrice,
            premiumPerStar: c.premiumPerStar,
            requiredAttributes: c.requiredAttributes,
            refusedAttributes: c.refusedAttributes
        });
        return Ref.firstFailure(cand, crit);
    }

    function _isOpen(IBookings.Status s) internal pure returns (bool) {
        return s == IBookings.Status.Requested || s == IBookings.Status.Accepted || s == IBookings.Status.Completed
            || s == IBookings.Status.Disputed;
    }

    function _violate(string memory why) internal {
        if (v.total == 0) firstViolation = why;
        v.total++;
    }
}
