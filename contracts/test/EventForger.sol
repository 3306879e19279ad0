// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

interface IERC20Transfer {
    function transfer(address to, uint256 value) external returns (bool);
}

/// @title Test-only: emits any log it is told to, so the auditor can be shown broken histories
/// @notice Stands in for a broken marketplace: deployed on its own, or placed over a real
///         deployment's address with `anvil_setCode`, it emits marketplace-shaped events whose
///         arguments a test chose (a double payout, a fee above the cap, a booking that breaks its
///         criteria, ...). Ether moves only as the test says: `forge` keeps the value sent and pays
///         `payAmount` to `payTo`, so a forged history can be kept solvent or made insolvent at will.
///         v2's ledgers are per currency: `forgeToken` does the same with an ERC-20 payment, so a
///         forged token history (a double withdrawal of DemoUSD, say) can be made insolvent in that
///         currency only. The logs are raw topics and data, so v2's event signatures (any version)
///         are the caller's choice: the auditor tests encode them from the v2 ABI.
///         Anyone may call it: it must never hold real value.
contract EventForger {
    /// @notice One log: one to four topics (topic0 is the event signature) and the ABI-encoded data.
    struct Log {
        bytes32[] topics;
        bytes data;
    }

    /// @notice More than four topics, or none.
    error EventForgerBadTopics(uint256 count);
    /// @notice The payment to `to` failed.
    error EventForgerPaymentFailed(address to, uint256 amount);

    /// @notice Accept ether, as the marketplace does for escrows and stakes.
    receive() external payable {}

    /// @notice The token payment to `to` failed.
    error EventForgerTokenPaymentFailed(address token, address to, uint256 amount);

    /// @notice Emit `logs` in order, then pay `payAmount` wei to `payTo` (none when zero).
    /// @param logs The logs to emit.
    /// @param payTo Recipient of the payment (a forged withdrawal), ignored when `payAmount` is 0.
    /// @param payAmount Wei to pay out of this contract's balance.
    function forge(Log[] calldata logs, address payable payTo, uint256 payAmount) external payable {
        for (uint256 i; i < logs.length; ++i) {
            _emit(logs[i].topics, logs[i].data);
        }
        if (payAmount != 0) {
            (bool ok,) = payTo.call{value: payAmount}("");
            if (!ok) revert EventForgerPaymentFailed(payTo, payAmount);
        }
    }

    /// @notice Emit `logs` in order, then pay `amount` of ERC-20 `token` (held by this contract) to `payTo`.
    /// @param logs The logs to emit.
    /// @param token The token paid (a forged token withdrawal), ignored when `amount` is 0.
    /// @param payTo Recipient of the payment.
    /// @param amount Units of `token` to pay out of this contract's balance.
    function forgeToken(Log[] calldata logs, address token, address payTo, uint256 amount) external payable {
        for (uint256 i; i < logs.length; ++i) {
            _emit(logs[i].topics, logs[i].data);
        }
        if (amount != 0) {
            bool ok = IERC20Transfer(token).transfer(payTo, amount);
            if (!ok) revert EventForgerTokenPaymentFailed(token, payTo, amount);
        }
    }

    function _emit(bytes32[] calldata topics, bytes calldata payload) private {
        bytes memory data = payload;
        uint256 count = topics.length;
        if (count == 0 || count > 4) revert EventForgerBadTopics(count);
        bytes32 t0 = topics[0];
        bytes32 t1 = count > 1 ? topics[1] : bytes32(0);
        bytes32 t2 = count > 2 ? topics[2] : bytes32(0);
        bytes32 t3 = count > 3 ? topics[3] : bytes32(0);
        assembly ("memory-safe") {
            let start := add(data, 32)
            let size := mload(data)
            switch count
            case 1 { log1(start, size, t0) }
            case 2 { log2(start, size, t0, t1) }
            case 3 { log3(start, size, t0, t1, t2) }
            default { log4(start, size, t0, t1, t2, t3) }
        }
    }
}
