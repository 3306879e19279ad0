// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Permit.sol";
import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";

/// @title Demo USD: the demo's stablecoin (6 decimals, EIP-2612 permit, owner mint)
/// @notice For development and demos only: the owner mints at will.
contract DemoUSD is ERC20, ERC20Permit, Ownable {
    /// @param owner_ The account allowed to mint.
    constructor(address owner_) ERC20("Demo USD", "dUSD") ERC20Permit("Demo USD") Ownable(owner_) {}

    /// @notice Six decimals, like USDC.
    function decimals() public pure override returns (uint8) {
        return 6;
    }

    /// @notice Mint `amount` (smallest units) to `to`.
    /// @param to Recipient.
    /// @param amount Amount in smallest units.
    function mint(address to, uint256 amount) external onlyOwner {
        _mint(to, amount);
    }
}
