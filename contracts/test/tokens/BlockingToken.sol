// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {TestToken} from "./TestToken.sol";

/// @title Test-only: a token that reverts every transfer to one address (a blocklisting stablecoin)
/// @notice Set `blocked` to a provider's owner: its withdrawal of this token reverts, and nobody
///         else's payout (customers' refunds, other providers, the treasury's fees) may be affected,
///         because the marketplace pays by pull (`withdraw`), never by push.
contract BlockingToken is TestToken {
    address public blocked;

    error BlockingTokenRecipientBlocked(address to);

    constructor() TestToken("Blocking", "BLOCK") {}

    /// @notice Refuse every transfer to `who` (zero: refuse none).
    function setBlocked(address who) external {
        blocked = who;
    }

    function _update(address from, address to, uint256 value) internal override {
        if (to != address(0) && to == blocked) revert BlockingTokenRecipientBlocked(to);
        super._update(from, to, value);
    }
}
