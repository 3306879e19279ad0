// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {Vm, VM} from "./Vm.sol";

/// @notice Bounding, string and assertion helpers shared by tests and handlers.
abstract contract Helpers {
    Vm internal constant vm = VM;

    /// @dev Maps any `x` into [lo, hi] (inclusive), uniformly enough for fuzzing; never reverts.
    function bound(uint256 x, uint256 lo, uint256 hi) internal pure returns (uint256) {
        if (hi <= lo) return lo;
        uint256 size = hi - lo;
        if (size == type(uint256).max) return x;
        return lo + (x % (size + 1));
    }

    function str(uint256 x) internal pure returns (string memory) {
        return vm.toString(x);
    }

    function str(address x) internal pure returns (string memory) {
        return vm.toString(x);
    }

    function hexOf(bytes memory x) internal pure returns (string memory) {
        return vm.toString(x);
    }

    // ------------------------------------------------------------ assertions

    function fail(string memory why) internal pure {
        revert(why);
    }

    function assertTrue(bool c, string memory why) internal pure {
        if (!c) revert(why);
    }

    function assertFalse(bool c, string memory why) internal pure {
        if (c) revert(why);
    }

    function assertEq(uint256 a, uint256 b, string memory why) internal pure {
        if (a != b) revert(string.concat(why, ": ", str(a), " != ", str(b)));
    }

    /// @dev `ctx` (an id) is appended to the message only on failure: no string work on the hot path.
    function assertEq(uint256 a, uint256 b, string memory why, uint256 ctx) internal pure {
        if (a != b) revert(string.concat(why, " [", str(ctx), "]: ", str(a), " != ", str(b)));
    }

    function assertEq(uint256 a, uint256 b, string memory why, address ctx) internal pure {
        if (a != b) revert(string.concat(why, " [", str(ctx), "]: ", str(a), " != ", str(b)));
    }

    function assertEq(address a, address b, string memory why) internal pure {
        if (a != b) revert(string.concat(why, ": ", str(a), " != ", str(b)));
    }

    function assertEq(bytes32 a, bytes32 b, string memory why) internal pure {
        if (a != b) revert(string.concat(why, ": ", str(uint256(a)), " != ", str(uint256(b))));
    }

    function assertEq(bool a, bool b, string memory why) internal pure {
        if (a != b) revert(string.concat(why, ": ", a ? "true" : "false", " != ", b ? "true" : "false"));
    }

    function assertEq(bytes memory a, bytes memory b, string memory why) internal pure {
        if (keccak256(a) != keccak256(b)) revert(string.concat(why, ": ", hexOf(a), " != ", hexOf(b)));
    }

    function assertLe(uint256 a, uint256 b, string memory why) internal pure {
        if (a > b) revert(string.concat(why, ": ", str(a), " > ", str(b)));
    }

    function assertGe(uint256 a, uint256 b, string memory why) internal pure {
        if (a < b) revert(string.concat(why, ": ", str(a), " < ", str(b)));
    }

    function assertGt(uint256 a, uint256 b, string memory why) internal pure {
        if (a <= b) revert(string.concat(why, ": ", str(a), " <= ", str(b)));
    }

    /// @dev A deterministic, labelled EOA-like address.
    function makeAddr(string memory name) internal returns (address a) {
        a = address(uint160(uint256(keccak256(bytes(name)))));
        vm.label(a, name);
    }
}

/// @notice Invariant target plumbing (what forge-std's StdInvariant provides).
abstract contract TestBase is Helpers {
    struct FuzzSelector {
        address addr;
        bytes4[] selectors;
    }

    address[] private _targetContracts;
    FuzzSelector[] private _targetSelectors;

    // ------------------------------------------------------------ invariant targets (read by forge)

    function targetContract(address a) internal {
        _targetContracts.push(a);
    }

    function targetSelector(address a, bytes4[] memory selectors) internal {
        _targetSelectors.push(FuzzSelector(a, selectors));
    }

    function targetContracts() public view returns (address[] memory) {
        return _targetContracts;
    }

    function targetSelectors() public view returns (FuzzSelector[] memory) {
        return _targetSelectors;
    }
}
