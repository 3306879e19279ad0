// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {IMarketplaceAdmin} from "./IMarketplaceAdmin.sol";
import {IProviderRegistry} from "./IProviderRegistry.sol";
import {ICriteriaRegistry} from "./ICriteriaRegistry.sol";
import {IBookings} from "./IBookings.sol";

/// @title The curated service marketplace v2: the whole external API, events and errors
/// @notice The spec an auditor and the indexer read (docs/contract-v2.md). One address serves all
///         of it, whatever modules implement it (see "Deployment" in that document).
interface IMarketplace is IMarketplaceAdmin, IProviderRegistry, ICriteriaRegistry, IBookings {}
