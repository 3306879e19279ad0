// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {IMarketplace} from "contracts/interfaces/IMarketplace.sol";
import {ICriteriaRegistry} from "contracts/interfaces/ICriteriaRegistry.sol";

/// @title Bench and test only: drives the marketplace through every event from one contract
/// @notice A pump is a customer and the owner of its own providers, so one transaction can run
///         hundreds of real booking lifecycles and emit every kind of marketplace event. Another
///         pump, allowed as an arbiter by the operator, resolves its disputes.
contract IndexerPump {
    IMarketplace public immutable market;
    uint16 public immutable category;
    uint96 public price;
    uint32 public criteriaVersion;
    uint32[] public providers;
    uint256 public rounds;
    uint256[] internal _requested; // left Requested: expired after the respond window
    uint256[] internal _completed; // left Completed: settled after the confirm window
    uint256[] internal _disputed; // left Disputed: resolved by default after the arbitration window

    constructor(IMarketplace market_, uint16 category_) {
        market = market_;
        category = category_;
    }

    receive() external payable {}

    /// @notice Register `count` providers with the value sent as their stakes, and set criteria.
    function setUp(uint256 count, uint96 price_) external payable {
        price = price_;
        uint96 stake = uint96(msg.value / count);
        for (uint256 i; i < count; ++i) {
            providers.push(
                market.register{value: stake}(category, uint16(1 + i % 3), uint64(i % 8), price_, bytes32(i + 1))
            );
        }
        _setCriteria(0);
    }

    /// @notice Resolve a dispute of another pump (this pump must be an allowed arbiter).
    function arbitrate(uint256 bookingId, uint16 refundBps) external {
        market.resolve(bookingId, refundBps);
    }

    /// @notice Run `count` rounds; each emits one to six events. `arbiter` resolves disputes.
    function pump(uint256 count, IndexerPump arbiter) external {
        uint256 r = rounds;
        for (uint256 end = r + count; r < end; ++r) {
            _round(r, arbiter);
        }
        rounds = r;
    }

    /// @notice After every window has passed: expire, settle and default-resolve what was left,
    ///         deactivate the first provider (its stake unlocks later) and withdraw.
    function finish() external {
        for (uint256 i; i < _requested.length; ++i) market.expire(_requested[i]);
        for (uint256 i; i < _completed.length; ++i) market.settle(_completed[i]);
        for (uint256 i; i < _disputed.length; ++i) market.resolveByDefault(_disputed[i]);
        delete _requested;
        delete _completed;
        delete _disputed;
        market.deactivate(providers[0]);
        _withdraw();
    }

    /// @notice After the stake cooldown: release the first provider's stake and withdraw it.
    function release() external {
        market.releaseStake(providers[0]);
        _withdraw();
    }

    function _round(uint256 r, IndexerPump arbiter) internal {
        uint32 p = providers[r % providers.length];
        uint256 kind = r % 16;
        if (kind == 0) {
            market.cancel(_book(p));
        } else if (kind == 1) {
            market.decline(_book(p));
        } else if (kind == 2) {
            uint256 id = _book(p);
            market.accept(id);
            market.decline(id);
        } else if (kind == 3) {
            uint256 id = _serve(p);
            market.dispute(id);
            arbiter.arbitrate(id, uint16(3000 + (r % 5) * 1500)); // some the provider loses
            market.rate(id, uint8(1 + r % 5), uint32(r % 4));
        } else if (kind == 4) {
            criteriaVersion = market.setBlocked(p, true);
            criteriaVersion = market.setBlocked(p, false);
        } else if (kind == 5) {
            market.updateProvider(p, uint16(1 + r % 3), uint64(r % 8), price, bytes32(r));
        } else if (kind == 6) {
            _setCriteria(r);
        } else if (kind == 7) {
            _requested.push(_book(p));
        } else if (kind == 8) {
            _completed.push(_serve(p));
        } else if (kind == 9) {
            uint256 id = _serve(p);
            market.dispute(id);
            _disputed.push(id);
        } else if (kind == 10) {
            market.deactivate(p);
            market.reactivate(p);
        } else {
            uint256 id = _serve(p);
            market.confirm(id);
            market.rate(id, uint8(1 + r % 5), uint32(r % 8));
        }
        if (r % 64 == 63) _withdraw();
    }

    function _book(uint32 p) internal returns (uint256) {
        return market.book{value: price}(p, price, criteriaVersion);
    }

    function _serve(uint32 p) internal returns (uint256 id) {
        id = _book(p);
        market.accept(id);
        market.complete(id);
    }

    function _setCriteria(uint256 r) internal {
        criteriaVersion = market.setCriteria(
            ICriteriaRegistry.CriteriaInput({
                category: category,
                region: 0,
                minScore: 0,
                maxPrice: price * 4,
                premiumPerStar: uint96(r % 7),
                requiredAttributes: 0,
                refusedAttributes: uint64(1) << 60,
                scoreWeight: uint16(1000 + r % 9000),
                priceWeight: 5000
            })
        );
    }

    function _withdraw() internal {
        if (market.creditOf(address(this)) != 0) market.withdraw();
    }
}
