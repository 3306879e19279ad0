// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {IMarketplace} from "../../../contracts/interfaces/IMarketplace.sol";
import {IMarketplaceAdmin} from "../../../contracts/interfaces/IMarketplaceAdmin.sol";
import {VM} from "./Vm.sol";

/// @notice The one place the forge tests deploy the marketplace (docs/contract-v2.md "Deployment").
library Deploy {
    /// @dev The test deployment's windows: distinct, so a deadline from the wrong window shows.
    function windows() internal pure returns (IMarketplaceAdmin.Windows memory) {
        return IMarketplaceAdmin.Windows({
            respond: 1 days,
            serviceGrace: 2 days,
            confirm: 3 days,
            arbitration: 4 days,
            stakeCooldown: 6 days
        });
    }

    /// @dev A Setup with the campaign's parameters: 250 bps, 0.1 ether stake, 0.01 ether bond,
    ///      1,000 wei ether minFee, a 2-day change delay, `arbiter` default, `attestor`, `token` as
    ///      currency 1 with a minFee of 100 units.
    function setup(address owner, address arbiter, address attestor, address token)
        internal
        pure
        returns (IMarketplaceAdmin.Setup memory s)
    {
        s.owner = owner;
        s.feeBps = 250;
        s.minStake = 0.1 ether;
        s.disputeBond = 0.01 ether;
        s.minFee = 1_000;
        s.windows = windows();
        s.changeDelay = 2 days;
        s.arbiter = arbiter;
        s.attestor = attestor;
        s.token = token;
        s.tokenMinFee = token == address(0) ? 0 : 100;
    }

    /// @dev By artifact, so the tests compile against the interfaces alone.
    function market(IMarketplaceAdmin.Setup memory s) internal returns (IMarketplace) {
        return IMarketplace(VM.deployCode("Marketplace.sol:Marketplace", abi.encode(s)));
    }
}
