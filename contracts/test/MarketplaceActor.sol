// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

/// @title Test-only: a contract account that acts on the marketplace for its controller
/// @notice Lets tests put a contract in any role (customer, provider owner, arbiter) and see how the
///         marketplace copes with what the contract does when it receives ether.
abstract contract MarketplaceActor {
    address public immutable market;
    address public immutable controller;

    error ActorNotController(address caller);

    constructor(address market_) {
        market = market_;
        controller = msg.sender;
    }

    /// @notice Forward `data` (and the value sent) to the marketplace; bubbles its revert unchanged.
    function execute(bytes calldata data) external payable returns (bytes memory result) {
        if (msg.sender != controller) revert ActorNotController(msg.sender);
        bool ok;
        (ok, result) = market.call{value: msg.value}(data);
        if (!ok) {
            assembly {
                revert(add(result, 32), mload(result)) // the marketplace's own custom error
            }
        }
    }
}
