// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {IMarketplace} from "contracts/interfaces/IMarketplace.sol";
import {IBookings} from "contracts/interfaces/IBookings.sol";
import {ICriteriaRegistry} from "contracts/interfaces/ICriteriaRegistry.sol";
import {IProviderRegistry} from "contracts/interfaces/IProviderRegistry.sol";

/// @title Bench and test only: the listings' owner a pump books from (a listing's owner cannot
///        book it, so the customer and the owner are two contracts)
contract PumpSeller {
    IMarketplace public immutable market;
    address public immutable pump;

    constructor(IMarketplace market_) {
        market = market_;
        pump = msg.sender;
    }

    receive() external payable {}

    modifier onlyPump() {
        require(msg.sender == pump, "pump only");
        _;
    }

    function register(IProviderRegistry.ListingInput calldata listing) external payable onlyPump returns (uint32) {
        return market.register{value: msg.value}(listing);
    }

    function update(uint32 p, IProviderRegistry.ListingInput calldata listing) external onlyPump {
        market.updateListing(p, listing);
    }

    function accept(uint256 id) external onlyPump {
        market.accept(id);
    }

    function decline(uint256 id) external onlyPump {
        market.decline(id);
    }

    function complete(uint256 id) external onlyPump {
        market.complete(id);
    }

    function toggle(uint32 p) external onlyPump {
        market.deactivate(p);
        market.reactivate(p);
    }

    function deactivate(uint32 p) external onlyPump {
        market.deactivate(p);
    }

    function release(uint32 p) external onlyPump {
        market.releaseStake(p);
    }

    function withdraw() external onlyPump {
        if (market.creditOf(address(this), 0) != 0) market.withdraw(0);
    }
}

/// @title Bench and test only: the default arbiter and an attestor of the pumps' deployment
contract PumpArbiter {
    function resolve(IMarketplace market, uint256 id, uint16 refundBps) external {
        market.resolve(id, refundBps);
    }

    function attest(IMarketplace market, uint32 p, uint64 attributes) external {
        market.attest(p, attributes);
    }

    function withdraw(IMarketplace market) external {
        if (market.creditOf(address(this), 0) != 0) market.withdraw(0);
    }

    receive() external payable {}
}

/// @title Bench and test only: drives the marketplace v2 through every event from one contract
/// @notice A pump is a customer of the listings its PumpSeller owns, so one transaction runs
///         hundreds of bookings and emits every kind of marketplace event. A booking's slot
///         starts one second after the booking, so a pump call first serves the bookings of earlier
///         calls whose slot has started (complete, confirm, rate, dispute, resolve by the
///         PumpArbiter), then books new ones and does what needs no waiting (cancel, decline,
///         blocks, offer updates, criteria, attestations, stake top-ups).
contract IndexerPump {
    uint8 internal constant CONFIRM_RATE = 1;
    uint8 internal constant CONFIRM_AND_RATE = 2;
    uint8 internal constant DISPUTE_RESOLVE = 3;
    uint8 internal constant LEAVE_COMPLETED = 4;
    uint8 internal constant LEAVE_DISPUTED = 5;
    uint8 internal constant NO_SHOW = 6;

    struct Pending {
        uint256 id;
        uint32 start;
        uint8 plan;
        uint16 r;
    }

    IMarketplace public immutable market;
    PumpSeller public immutable seller;
    PumpArbiter public immutable arbiter;
    uint16 public immutable category;
    uint88 public price;
    uint32 public criteriaVersion;
    uint32[] public providers;
    mapping(uint32 => uint32) public offerVersion;
    mapping(uint32 => bool) public instant;
    uint256 public rounds;
    uint256 public retired; // listings deactivated by finish(): rounds after it skip them
    Pending[] internal _pending; // accepted, waiting for their slot to start
    uint256[] internal _open; // left requested/accepted: expired after the deadlines
    uint256[] internal _completed; // left completed: settled after the confirm window
    uint256[] internal _disputed; // left disputed: resolved by default after arbitration

    constructor(IMarketplace market_, uint16 category_, PumpArbiter arbiter_) {
        market = market_;
        category = category_;
        arbiter = arbiter_;
        seller = new PumpSeller(market_);
    }

    receive() external payable {}

    function _listing(uint256 i, uint32 p, uint256 r) internal view returns (IProviderRegistry.ListingInput memory) {
        return IProviderRegistry.ListingInput({
            category: category,
            region: uint16(1 + (i + r) % 3),
            attributes: uint64((i + r) % 8),
            currency: 0,
            price: price,
            metadataHash: bytes32(uint256(p) << 128 | r + 1),
            instant: i % 3 == 2,
            freeCancelHours: 1,
            lateCancelPct: uint8(10 + r % 90)
        });
    }

    /// @notice Register `count` listings of the seller with the value sent as their stakes
    ///         (every third one instant), and set criteria.
    function setUp(uint256 count, uint88 price_) external payable {
        price = price_;
        uint256 stake = msg.value / count;
        for (uint256 i; i < count; ++i) {
            uint32 p = seller.register{value: stake}(_listing(i, uint32(providers.length + 1), 0));
            providers.push(p);
            offerVersion[p] = 1;
            instant[p] = i % 3 == 2;
        }
        _setCriteria(0);
    }

    /// @notice Serve the bookings whose slot has started, then run `count` new rounds.
    function pump(uint256 count) external {
        _serveStarted();
        uint256 r = rounds;
        for (uint256 end = r + count; r < end; ++r) {
            _round(r);
        }
        rounds = r;
    }

    /// @notice After every window has passed: expire, settle and default-resolve what was left,
    ///         deactivate the first listing (its stake unlocks later) and withdraw.
    function finish() external {
        for (uint256 i; i < _pending.length; ++i) market.expire(_pending[i].id); // no-shows
        for (uint256 i; i < _open.length; ++i) market.expire(_open[i]);
        for (uint256 i; i < _completed.length; ++i) market.settle(_completed[i]);
        for (uint256 i; i < _disputed.length; ++i) market.resolveByDefault(_disputed[i]);
        delete _pending;
        delete _open;
        delete _completed;
        delete _disputed;
        seller.deactivate(providers[0]);
        retired = 1;
        _withdraw();
    }

    /// @notice After the stake cooldown: release the first listing's stake and withdraw.
    function release() external {
        if (market.getListing(providers[0]).stake != 0) seller.release(providers[0]); // not all slashed
        _withdraw();
    }

    function _serveStarted() internal {
        uint256 kept;
        uint256 n = _pending.length;
        for (uint256 i; i < n; ++i) {
            Pending memory b = _pending[i];
            if (b.start > block.timestamp) {
                _pending[kept++] = b;
                continue;
            }
            if (b.plan == NO_SHOW) {
                _open.push(b.id); // never completed: expired as a no-show by finish()
                continue;
            }
            seller.complete(b.id);
            uint8 stars = uint8(1 + b.r % 5);
            if (b.plan == CONFIRM_RATE) {
                market.confirm(b.id);
                market.rate(b.id, stars, uint32(b.r % 8));
            } else if (b.plan == CONFIRM_AND_RATE) {
                market.confirmAndRate(b.id, stars, uint32(b.r % 4));
            } else if (b.plan == DISPUTE_RESOLVE) {
                market.dispute{value: market.disputeBond()}(b.id);
                uint16 refundBps = uint16(3000 + (b.r % 5) * 1500); // some lost
                arbiter.resolve(market, b.id, refundBps);
                // A ruling against the provider is already the booking's rating.
                if (refundBps <= 5000) market.rate(b.id, stars, uint32(b.r % 4));
            } else if (b.plan == LEAVE_COMPLETED) {
                _completed.push(b.id);
            } else {
                market.dispute{value: market.disputeBond()}(b.id);
                _disputed.push(b.id);
            }
        }
        while (_pending.length > kept) _pending.pop();
    }

    function _round(uint256 r) internal {
        uint256 i = retired + (r % 20 + r / 20) % (providers.length - retired); // each kind on each listing
        uint32 p = providers[i];
        uint256 kind = r % 20;
        if (kind == 0) {
            market.cancel(_book(p, r, 0)); // requested (instant: accepted, late)
        } else if (kind == 1) {
            seller.decline(_book(p, r, 0)); // requested (instant: after acceptance)
        } else if (kind == 2) {
            uint256 id = _book(p, r, 0);
            _accept(p, id);
            seller.decline(id); // a provider's cancellation: a failure
        } else if (kind == 3) {
            uint256 id = _book(p, r, 0);
            _accept(p, id);
            market.cancel(id); // late: compensation to the owner
        } else if (kind == 4) {
            uint256 id = _book(p, r, 7200);
            _accept(p, id);
            market.cancel(id); // early enough: free
        } else if (kind == 5) {
            criteriaVersion = market.setBlocked(p, true);
            criteriaVersion = market.setBlocked(p, false);
        } else if (kind == 6) {
            criteriaVersion = market.setOwnerBlocked(address(seller), true);
            criteriaVersion = market.setOwnerBlocked(address(seller), false);
        } else if (kind == 7) {
            offerVersion[p] += 1;
            seller.update(p, _listing(i, p, r));
        } else if (kind == 8) {
            _setCriteria(r);
        } else if (kind == 9) {
            _open.push(_book(p, r, 0)); // left requested (instant: accepted, a no-show)
        } else if (kind == 10) {
            seller.toggle(p);
        } else if (kind == 11) {
            arbiter.attest(market, p, uint64(r % 8));
        } else if (kind == 12) {
            // keep the stake well above what no-shows and lost disputes take between top-ups
            uint256 stake = market.getListing(p).stake;
            uint256 target = 40 * uint256(market.disputeBond()) + market.minStake();
            market.topUpStake{value: stake < target ? target - stake : 1000}(p);
        } else if (kind == 13) {
            _serve(p, r, NO_SHOW);
        } else if (kind == 14) {
            _serve(p, r, DISPUTE_RESOLVE);
        } else if (kind == 15) {
            _serve(p, r, LEAVE_COMPLETED);
        } else if (kind == 16) {
            _serve(p, r, LEAVE_DISPUTED);
        } else if (kind == 17) {
            _serve(p, r, CONFIRM_AND_RATE);
        } else {
            _serve(p, r, CONFIRM_RATE);
        }
        if (r % 64 == 63) _withdraw();
    }

    function _book(uint32 p, uint256 r, uint256 ahead) internal returns (uint256) {
        return market.book{value: price}(
            IBookings.BookingRequest({
                providerId: p,
                start: uint40(block.timestamp + 1 + ahead),
                durationMinutes: uint16(1 + (r >> 8) % 256),
                salt: uint8(r),
                offerVersion: offerVersion[p],
                criteriaVersion: criteriaVersion
            })
        );
    }

    function _accept(uint32 p, uint256 id) internal {
        if (!instant[p]) seller.accept(id);
    }

    function _serve(uint32 p, uint256 r, uint8 plan) internal {
        uint256 id = _book(p, r, 0);
        _accept(p, id);
        _pending.push(Pending({id: id, start: uint32(block.timestamp + 1), plan: plan, r: uint16(r)}));
    }

    function _setCriteria(uint256 r) internal {
        criteriaVersion = market.setCriteria(
            ICriteriaRegistry.CriteriaInput({
                category: category,
                region: 0,
                currency: 0,
                minScore: 0,
                maxPrice: price * 4,
                premiumPerStar: uint88(r % 7),
                requiredAttributes: 0,
                refusedAttributes: uint64(1) << 60,
                verifiedAttributes: 0,
                trustedAttestors: uint32(r % 2),
                minRatingWeight: 0,
                minReliability: 0,
                scoreWeight: uint16(1000 + r % 9000),
                priceWeight: 5000
            })
        );
    }

    function _withdraw() internal {
        if (market.creditOf(address(this), 0) != 0) market.withdraw(0);
        seller.withdraw();
    }
}
