// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {MarketplaceActor} from "./MarketplaceActor.sol";

/// @title Test-only: re-enters the marketplace once from `receive` with a prepared call
/// @notice The re-entrant call's outcome is recorded, not bubbled, so the outer payment completes and
///         a test can check that the attacker got exactly its credit and nothing more.
contract ReentrantReceiver is MarketplaceActor {
    bytes public reentryData;
    uint256 public reentryValue;
    bool public armed;
    uint256 public reentryAttempts;
    bool public reentrySucceeded;
    bytes public reentryResult;
    uint256 public received;

    constructor(address market_) MarketplaceActor(market_) {}

    /// @notice Re-enter with `data` (sending `value` from this contract's balance) on the next payment.
    function arm(bytes calldata data, uint256 value) external {
        if (msg.sender != controller) revert ActorNotController(msg.sender);
        reentryData = data;
        reentryValue = value;
        armed = true;
    }

    receive() external payable {
        received += msg.value;
        if (!armed) return;
        armed = false; // once: enough to prove the guard, and no unbounded recursion
        reentryAttempts += 1;
        (bool ok, bytes memory result) = market.call{value: reentryValue}(reentryData);
        reentrySucceeded = ok;
        reentryResult = result;
    }
}
