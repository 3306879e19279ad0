// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {V2Base} from "./V2Base.t.sol";
import {IMarketplaceAdmin} from "../../contracts/interfaces/IMarketplaceAdmin.sol";
import {IProviderRegistry} from "../../contracts/interfaces/IProviderRegistry.sol";
import {ICriteriaRegistry} from "../../contracts/interfaces/ICriteriaRegistry.sol";
import {IBookings} from "../../contracts/interfaces/IBookings.sol";

interface V2GasVm {
    struct Gas {
        uint64 gasLimit;
        uint64 gasTotalUsed;
        uint64 gasMemoryUsed;
        int64 gasRefunded;
        uint64 gasRemaining;
    }

    function lastCallGas() external view returns (Gas memory);
    function cool(address target) external;
    function prank(address msgSender) external;
    function warp(uint256 newTimestamp) external;
    function sign(uint256 privateKey, bytes32 digest) external pure returns (uint8 v, bytes32 r, bytes32 s);
}

/// @title Gas of the spec's operations as transactions would pay it (docs/contract-v2.md, "Gas targets")
/// @notice Each figure = 21,000 + calldata (16/4 per non-zero/zero byte) + the call's execution gas
///         (`vm.lastCallGas`) - refund (capped at a fifth), with the marketplace's storage made cold
///         (`vm.cool`) before every call, as a new transaction finds it. Steady state, like
///         tests/support/gas.py: the customer has criteria, the provider has credit, fees have accrued
///         and the token balances are non-zero, so no figure includes a first-ever zero-to-non-zero write.
///         `forge test --mc V2Gas -vv` prints them; the assertions guard against regressions.
contract V2Gas is V2Base {
    V2GasVm internal constant gvm = V2GasVm(0x7109709ECfa91a80626fF3989D68f67F5b1DD12D);
    address internal constant CONSOLE = 0x000000000000000000636F6e736F6c652e6c6f67;

    uint88 internal constant P = 0.1 ether;

    /// @dev Runs `data` against the marketplace as `from` with cold storage; returns the transaction's gas.
    function _tx(address from, uint256 value, bytes memory data) internal returns (uint256 gas) {
        gvm.cool(address(m));
        gvm.cool(address(usd));
        gvm.prank(from);
        (bool ok, bytes memory ret) = address(m).call{value: value}(data);
        if (!ok) {
            assembly ("memory-safe") {
                revert(add(ret, 32), mload(ret))
            }
        }
        V2GasVm.Gas memory g = gvm.lastCallGas();
        uint256 calldataGas;
        for (uint256 i; i < data.length; ++i) {
            calldataGas += data[i] == 0 ? 4 : 16;
        }
        uint256 used = 21_000 + calldataGas + g.gasTotalUsed;
        uint256 refund = g.gasRefunded > 0 ? uint256(uint64(g.gasRefunded)) : 0;
        if (refund > used / 5) refund = used / 5;
        gas = used - refund;
    }

    function _bookData(uint32 pid, uint40 start, uint8 salt) internal view returns (bytes memory) {
        return abi.encodeCall(IBookings.book, (_req(customer, pid, start, salt)));
    }

    function _criteria(uint8 currency) internal pure returns (ICriteriaRegistry.CriteriaInput memory c) {
        c = _openCriteria(currency);
        c.region = 7;
        c.minScore = 30_000;
        c.maxPrice = currency == 0 ? 0.2 ether : 100e6;
        c.premiumPerStar = currency == 0 ? 0.01 ether : 1e6;
        c.requiredAttributes = 0x1;
        c.refusedAttributes = 0x2;
    }

    mapping(bytes32 => uint256) internal _gas;

    function _rec(string memory key, uint256 gas) internal returns (uint256) {
        _gas[keccak256(bytes(key))] = gas;
        // forge's console.log(string,uint256); the address has no code, so a low-level call
        (bool ok,) = CONSOLE.staticcall(abi.encodeWithSignature("log(string,uint256)", key, gas));
        ok;
        return gas;
    }

    function _g(string memory key) internal view returns (uint256) {
        return _gas[keccak256(bytes(key))];
    }

    function test_gas_spec_targets() public {
        IProviderRegistry.ListingInput memory input = _input(0, P, false);
        uint32 pid = _register(provider, input);
        _rec("register", _tx(provider, MIN_STAKE, abi.encodeCall(IProviderRegistry.register, (input))));
        uint32 instantId = _register(provider, _input(0, P, true));
        uint32 tokenId = _register(provider, _input(1, USD_PRICE, false));
        _setCriteria(customer, _criteria(0));
        // warm-up: the provider's credit and the fees become non-zero
        _settled(pid);
        uint256 t = block.timestamp + 1 days;

        _rec("book", _tx(customer, P, _bookData(pid, uint40(t), 1)));
        uint256 id = m.encodeBookingId(customer, pid, uint40(t), 60, 1);
        _rec("accept", _tx(provider, 0, abi.encodeCall(IBookings.accept, (id))));
        gvm.warp(t);
        _rec("complete", _tx(provider, 0, abi.encodeCall(IBookings.complete, (id))));
        _rec("confirm", _tx(customer, 0, abi.encodeCall(IBookings.confirm, (id))));
        _rec("rate", _tx(customer, 0, abi.encodeCall(IBookings.rate, (id, 4, 8))));
        _rec("lifecycle", _g("book") + _g("accept") + _g("complete") + _g("confirm") + _g("rate"));

        t = block.timestamp + 1 days;
        _rec("book_instant", _tx(customer, P, _bookData(instantId, uint40(t), 0)));
        id = m.encodeBookingId(customer, instantId, uint40(t), 60, 0);
        gvm.warp(t);
        _rec("complete_instant", _tx(provider, 0, abi.encodeCall(IBookings.complete, (id))));
        _rec("confirm_and_rate", _tx(customer, 0, abi.encodeCall(IBookings.confirmAndRate, (id, 5, 0))));
        _rec("lifecycle_instant", _g("book_instant") + _g("complete_instant") + _g("confirm_and_rate"));

        _setCriteria(customer, _criteria(1));
        _settled(tokenId); // warm-up in the token
        t = block.timestamp + 1 days;
        _rec("book_token", _tx(customer, 0, _bookData(tokenId, uint40(t), 1)));
        _rec("withdraw", _tx(provider, 0, abi.encodeCall(IMarketplaceAdmin.withdraw, (0))));

        // book_permit: no allowance, an EIP-2612 permit for exactly the price
        vm.prank(customer);
        usd.approve(address(m), 0);
        uint256 deadline = block.timestamp + 1 hours;
        bytes32 digest = keccak256(
            abi.encodePacked(
                "\x19\x01",
                usd.DOMAIN_SEPARATOR(),
                keccak256(
                    abi.encode(
                        keccak256("Permit(address owner,address spender,uint256 value,uint256 nonce,uint256 deadline)"),
                        customer,
                        address(m),
                        uint256(USD_PRICE),
                        usd.nonces(customer),
                        deadline
                    )
                )
            )
        );
        (uint8 v, bytes32 r, bytes32 sig) = gvm.sign(customerKey, digest);
        IBookings.BookingRequest memory req = _req(customer, tokenId, uint40(block.timestamp + 2 days), 2);
        _rec("book_permit", _tx(customer, 0, abi.encodeCall(IBookings.bookWithPermit, (req, deadline, v, r, sig))));

        // the spec's targets (docs/contract-v2.md, "Gas targets")
        assertLe(_g("book"), 85_000, "book target");
        assertLe(_g("lifecycle"), 220_000, "lifecycle target");
        assertLe(_g("lifecycle_instant"), 160_000, "lifecycle_instant target");
        assertLe(_g("book_token"), 110_000, "book_token target");
        assertLe(_g("book_permit"), 150_000, "book_permit target");
        assertLe(_g("register"), 120_000, "register target");
        assertLe(_g("withdraw"), 40_000, "withdraw target");
    }
}
