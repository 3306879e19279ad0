// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {MarketplaceActor} from "./MarketplaceActor.sol";

/// @title Test-only: an account that burns all the gas it is given when paid
contract GasBurningReceiver is MarketplaceActor {
    uint256 public spins;

    constructor(address market_) MarketplaceActor(market_) {}

    receive() external payable {
        while (true) {
            spins += 1; // a storage write per turn: the forwarded gas runs out fast
        }
    }
}
