// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @title Test-only: a plain ERC-20 anyone can mint, the base of the misbehaving tokens
/// @notice Each subclass breaks one promise a token makes, so the tests can show the marketplace
///         refuses it (a booking reverts) or contains it (one account's payout cannot block another's).
contract TestToken is ERC20 {
    constructor(string memory name_, string memory symbol_) ERC20(name_, symbol_) {}

    /// @notice Mint `amount` to `to` (test-only: no access control).
    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }
}
