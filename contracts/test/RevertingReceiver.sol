// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {MarketplaceActor} from "./MarketplaceActor.sol";

/// @title Test-only: an account that refuses every ether payment
contract RevertingReceiver is MarketplaceActor {
    error PaymentRefused(uint256 amount);

    constructor(address market_) MarketplaceActor(market_) {}

    receive() external payable {
        revert PaymentRefused(msg.value);
    }
}
