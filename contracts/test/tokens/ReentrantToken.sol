// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {TestToken} from "./TestToken.sol";

/// @title Test-only: a token that calls back into the marketplace from inside a transfer
/// @notice `arm(data)` makes the next transfer (a booking's `transferFrom`, a withdrawal's
///         `transfer`) call the marketplace with `data` (e.g. `book`, `withdraw(currency)`) once, as this
///         token. The outcome is recorded, not bubbled, so the outer call completes and a test can
///         check that the re-entrant call was refused (the guard) and that nothing was paid twice.
contract ReentrantToken is TestToken {
    address public market;
    bytes public reentryData;
    bool public armed;
    bool public bubble; // revert the outer transfer with the inner revert data instead of recording
    uint256 public reentryAttempts;
    bool public reentrySucceeded;
    bytes public reentryResult;

    constructor() TestToken("Reentrant", "REENT") {}

    /// @notice Re-enter `market_` with `data` on the next transfer; `bubble_` makes a refused
    ///         re-entry revert the outer call (to see the marketplace's own error).
    function arm(address market_, bytes calldata data, bool bubble_) external {
        market = market_;
        reentryData = data;
        bubble = bubble_;
        armed = true;
    }

    function _update(address from, address to, uint256 value) internal override {
        super._update(from, to, value);
        if (!armed || from == address(0) || to == address(0)) return;
        armed = false; // once: enough to show the guard, no unbounded recursion
        reentryAttempts += 1;
        (bool ok, bytes memory result) = market.call(reentryData);
        reentrySucceeded = ok;
        reentryResult = result;
        if (!ok && bubble) {
            assembly {
                revert(add(result, 32), mload(result))
            }
        }
    }
}
