// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {TestToken} from "./TestToken.sol";

/// @title Test-only: a fee-on-transfer token (delivers less than asked: a short transfer)
/// @notice Burns `feeBps` of every transfer between two non-zero accounts, so the recipient gets
///         `amount - amount * feeBps / 10,000` (at least 1 unit short when `shortBy` is set). A booking
///         paid with it must revert `MarketplaceTokenShortfall(expected, received)`.
contract FeeOnTransferToken is TestToken {
    uint256 public feeBps = 100; // 1 %
    uint256 public shortBy; // a flat shortfall on top, so even tiny amounts arrive short

    constructor() TestToken("Fee On Transfer", "FOT") {}

    /// @notice Change the skim: `feeBps_` of the amount plus a flat `shortBy_` units.
    function setSkim(uint256 feeBps_, uint256 shortBy_) external {
        feeBps = feeBps_;
        shortBy = shortBy_;
    }

    function _update(address from, address to, uint256 value) internal override {
        if (from == address(0) || to == address(0)) {
            super._update(from, to, value);
            return;
        }
        uint256 skim = (value * feeBps) / 10_000 + shortBy;
        if (skim > value) skim = value;
        super._update(from, address(0), skim); // burnt: the recipient sees less than `value`
        super._update(from, to, value - skim);
    }
}
