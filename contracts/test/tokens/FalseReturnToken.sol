// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {TestToken} from "./TestToken.sol";

/// @title Test-only: a token whose transfers return false instead of reverting (and move nothing)
/// @notice While `failing` is set, `transfer` and `transferFrom` return false and leave balances
///         alone, as some old tokens do. SafeERC20 must turn that into a revert: a booking paid with
///         it reverts, and a withdrawal of it reverts (the credit stays).
contract FalseReturnToken is TestToken {
    bool public failing = true;

    constructor() TestToken("False Return", "FALSE") {}

    /// @notice Switch the false returns on or off.
    function setFailing(bool failing_) external {
        failing = failing_;
    }

    function transfer(address to, uint256 value) public override returns (bool) {
        if (failing) return false;
        return super.transfer(to, value);
    }

    function transferFrom(address from, address to, uint256 value) public override returns (bool) {
        if (failing) return false;
        return super.transferFrom(from, to, value);
    }
}
