// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {IMarketplace} from "../../../contracts/interfaces/IMarketplace.sol";
import {IBookings} from "../../../contracts/interfaces/IBookings.sol";

/// @notice A contract account the handler (or the test) drives: it forwards calls to the market as
///         itself and bubbles any revert, so a failed action leaves no trace (and no recorded logs
///         are taken from it).
abstract contract ContractActor {
    IMarketplace public immutable market;
    address public immutable controller; // the handler
    address public immutable deployer; // the test contract

    constructor(IMarketplace market_, address controller_) {
        market = market_;
        controller = controller_;
        deployer = msg.sender;
    }

    modifier onlyDriver() {
        require(msg.sender == controller || msg.sender == deployer, "actor: not driver");
        _;
    }

    /// @notice Call the market with `data` and the value sent, as this contract.
    function exec(bytes calldata data) external payable onlyDriver returns (bytes memory ret) {
        bool ok;
        (ok, ret) = address(market).call{value: msg.value}(data);
        if (!ok) {
            assembly ("memory-safe") {
                revert(add(ret, 32), mload(ret))
            }
        }
    }
}

/// @notice A customer and listing owner that, whenever it receives ether (an ether withdrawal),
///         tries to re-enter the market: withdraw/withdrawTo in ether and in token currency 1, book
///         with the ether just received, cancel/decline/expire/confirm/settle/resolve/resolveByDefault
///         a booking of its own, collect fees, top up and release its listing's stake. Every attempt is
///         wrapped in try/catch; a re-entrant success of a guarded (money-moving) function is counted.
contract Attacker is ContractActor {
    uint256 public totalReceived; // every wei received through receive()
    uint256 public receiveCount;
    uint256 public guardedReentrySuccesses; // must stay 0
    uint256 public reentryAttempts;
    uint256 public stakeReleasedInReentry; // must stay 0: releaseStake is guarded
    bool public armed = true;

    uint256 public targetBooking;
    uint32 public targetProvider; // a listing this contract owns, or 0
    IBookings.BookingRequest internal bookReq; // a slot to try to book re-entrantly (providerId 0: none)
    uint256 public bookPrice;
    address public thirdParty;

    constructor(IMarketplace market_, address controller_) ContractActor(market_, controller_) {}

    function setArmed(bool armed_) external onlyDriver {
        armed = armed_;
    }

    function setTargets(
        uint256 booking,
        uint32 ownProvider,
        IBookings.BookingRequest calldata req,
        uint256 price,
        address thirdParty_
    ) external onlyDriver {
        targetBooking = booking;
        targetProvider = ownProvider;
        bookReq = req;
        bookPrice = price;
        thirdParty = thirdParty_;
    }

    receive() external payable {
        totalReceived += msg.value;
        receiveCount += 1;
        if (!armed) return;
        _attack();
    }

    function _attack() internal {
        IMarketplace m = market;
        uint256 b = targetBooking;
        reentryAttempts += 1;
        for (uint8 c = 0; c < 2; c++) {
            try m.withdraw(c) {
                guardedReentrySuccesses += 1;
            } catch {}
            try m.withdrawTo(c, address(this)) {
                guardedReentrySuccesses += 1;
            } catch {}
            if (thirdParty != address(0)) {
                try m.withdrawTo(c, thirdParty) {
                    guardedReentrySuccesses += 1;
                } catch {}
            }
        }
        if (bookReq.providerId != 0 && address(this).balance >= bookPrice) {
            try m.book{value: bookPrice}(bookReq) returns (uint256) {
                guardedReentrySuccesses += 1;
            } catch {}
        }
        if (b != 0) {
            try m.cancel(b) {
                guardedReentrySuccesses += 1;
            } catch {}
            try m.decline(b) {
                guardedReentrySuccesses += 1;
            } catch {}
            try m.expire(b) {
                guardedReentrySuccesses += 1;
            } catch {}
            try m.confirm(b) {
                guardedReentrySuccesses += 1;
            } catch {}
            try m.settle(b) {
                guardedReentrySuccesses += 1;
            } catch {}
            try m.resolve(b, 10_000) {
                guardedReentrySuccesses += 1;
            } catch {}
            try m.resolveByDefault(b) {
                guardedReentrySuccesses += 1;
            } catch {}
        }
        try m.collectFees(0, address(this), 1) {
            guardedReentrySuccesses += 1;
        } catch {}
        uint32 p = targetProvider;
        if (p != 0) {
            uint96 stake = m.getListing(p).stake;
            try m.releaseStake(p) {
                // releaseStake carries the reentrancy guard: succeeding here is a violation.
                guardedReentrySuccesses += 1;
                stakeReleasedInReentry += stake;
            } catch {}
        }
    }
}

/// @notice A listing owner / customer whose receive() accepts, reverts, or burns all gas.
contract BadReceiver is ContractActor {
    /// 0 accept, 1 revert, 2 burn all gas (INVALID consumes everything forwarded)
    uint8 public mode = 1;
    uint256 public totalReceived;

    constructor(IMarketplace market_, address controller_) ContractActor(market_, controller_) {}

    function setMode(uint8 mode_) external onlyDriver {
        mode = mode_ % 3;
    }

    receive() external payable {
        uint8 m = mode;
        if (m == 1) revert("BadReceiver: no thanks");
        if (m == 2) {
            assembly {
                invalid()
            }
        }
        totalReceived += msg.value;
    }
}
