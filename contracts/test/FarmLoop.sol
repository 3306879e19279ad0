// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

/// @title Test-only: one customer address of a reputation farm, controlled by its FarmLoop
contract FarmSybil {
    address public immutable farm;
    address public immutable market;

    error FarmSybilNotFarm(address caller);

    constructor(address market_) {
        farm = msg.sender;
        market = market_;
    }

    /// @notice Call the marketplace as this sybil with the value sent; bubbles the marketplace's revert.
    function exec(bytes calldata data) external payable returns (bytes memory result) {
        if (msg.sender != farm) revert FarmSybilNotFarm(msg.sender);
        bool ok;
        (ok, result) = market.call{value: msg.value}(data);
        if (!ok) {
            assembly {
                revert(add(result, 32), mload(result))
            }
        }
    }

    /// @notice Send this sybil's ether (withdrawn refunds) back to the farm.
    function sweep() external {
        if (msg.sender != farm) revert FarmSybilNotFarm(msg.sender);
        (bool ok,) = farm.call{value: address(this).balance}("");
        require(ok, "FarmSybil: sweep");
    }

    receive() external payable {}
}

/// @title Test-only: a reputation farm that tries every cheap-stars strategy, in as few transactions as it can
/// @notice The farm contract owns the listing it farms (`asOwner(register...)`), so "self-booking"
///         is exactly `selfBook` (owner == customer, which v2 refuses with MarketplaceSelfBooking)
///         while `bookEach` books through sybil contracts the same controller deploys (owner != customer:
///         allowed; what it buys must cost its fees). `loop` tries book -> complete -> confirmAndRate
///         inside one transaction (v2: `complete` only from the slot's start, which must be in the
///         future, so it reverts MarketplaceTooEarly); the multi-transaction path is `bookEach`, then
///         `completeAll` and `rateAll` once the slots have started. The farm is interface-agnostic: the
///         caller passes the ABI-encoded `book`/`register`/`withdraw` calls (their structs change), and
///         the farm builds only `accept`, `complete` and `confirmAndRate` calls by their v2 signatures.
///         Tests sum the fees from `BookingRequested` and the weights from `BookingRated` and show that
///         the weight bought == Σ fee × 1,000 / minFee: no strategy buys weight below its fee.
contract FarmLoop {
    address public immutable market;
    address public immutable controller;

    FarmSybil[] public sybils;
    uint256[] public bookingIds; // the farm's bookings, in order
    uint256[] public bookerOf; // sybil index of each booking
    uint256 public completed; // bookings completed so far (prefix of bookingIds)
    uint256 public rated; // bookings confirmed and rated so far

    error FarmNotController(address caller);

    constructor(address market_) {
        market = market_;
        controller = msg.sender;
    }

    modifier onlyController() {
        if (msg.sender != controller) revert FarmNotController(msg.sender);
        _;
    }

    receive() external payable {}

    // ------------------------------------------------------------------ setup

    /// @notice Deploy `n` more sybil customers.
    function spawn(uint256 n) external onlyController {
        for (uint256 i; i < n; ++i) {
            sybils.push(new FarmSybil(market));
        }
    }

    function sybilCount() external view returns (uint256) {
        return sybils.length;
    }

    function bookingCount() external view returns (uint256) {
        return bookingIds.length;
    }

    /// @notice Call the marketplace as the farm itself (the listing's owner): register, updateListing,
    ///         accept, withdraw ... Value comes from msg.value plus the farm's balance.
    function asOwner(bytes calldata data, uint256 value) external payable onlyController returns (bytes memory) {
        return _call(market, data, value);
    }

    /// @notice Call the marketplace as sybil `i` (setCriteria, withdraw, ...), sending `value` from the farm.
    function asSybil(uint256 i, bytes calldata data, uint256 value) external payable onlyController returns (bytes memory) {
        return sybils[i].exec{value: value}(data);
    }

    // ------------------------------------------------------------------ strategies

    /// @notice Strategy "self-booking": the listing's owner books it itself. v2 must refuse it.
    function selfBook(bytes calldata bookCall, uint256 value) external payable onlyController returns (uint256 id) {
        id = abi.decode(_call(market, bookCall, value), (uint256));
        bookingIds.push(id);
        bookerOf.push(type(uint256).max);
    }

    /// @notice Strategy "sybils": sybil `i % sybils` sends `bookCalls[i]` (each its own slot or salt),
    ///         paying `valueEach` from the farm. All in this one transaction.
    function bookEach(bytes[] calldata bookCalls, uint256 valueEach) public payable onlyController {
        uint256 n = sybils.length;
        for (uint256 i; i < bookCalls.length; ++i) {
            uint256 s = i % n;
            bytes memory ret = sybils[s].exec{value: valueEach}(bookCalls[i]);
            bookingIds.push(abi.decode(ret, (uint256)));
            bookerOf.push(s);
        }
    }

    /// @notice As the owner: accept (unless the listing is instant) and complete every booking not
    ///         completed yet.
    function completeAll(bool acceptFirst) public onlyController {
        for (uint256 i = completed; i < bookingIds.length; ++i) {
            if (acceptFirst) _call(market, abi.encodeWithSignature("accept(uint256)", bookingIds[i]), 0);
            _call(market, abi.encodeWithSignature("complete(uint256)", bookingIds[i]), 0);
        }
        completed = bookingIds.length;
    }

    /// @notice Each booking's sybil confirms and rates it `stars`, in this one transaction.
    function rateAll(uint8 stars) public onlyController {
        for (uint256 i = rated; i < completed; ++i) {
            sybils[bookerOf[i]].exec(
                abi.encodeWithSignature("confirmAndRate(uint256,uint8,uint32)", bookingIds[i], stars, uint32(0))
            );
        }
        rated = completed;
    }

    /// @notice Strategy "loop in one transaction": book, complete and rate every call in one go
    ///         (v1's attack). v2 must revert it (`complete` before the slot's start).
    function loop(bytes[] calldata bookCalls, uint256 valueEach, bool acceptFirst, uint8 stars)
        external
        payable
        onlyController
    {
        bookEach(bookCalls, valueEach);
        completeAll(acceptFirst);
        rateAll(stars);
    }

    /// @notice Every sybil sends `withdrawCall` (ignoring a revert: nothing to withdraw) and sweeps
    ///         its ether to the farm; then the farm sends `ownerWithdrawCall` and pays everything to the
    ///         controller. What the controller got back vs. what it put in is the farm's true cost.
    function collect(bytes calldata withdrawCall, bytes calldata ownerWithdrawCall) external onlyController {
        for (uint256 i; i < sybils.length; ++i) {
            try sybils[i].exec(withdrawCall) {} catch {}
            sybils[i].sweep();
        }
        if (ownerWithdrawCall.length != 0) {
            (bool ok,) = market.call(ownerWithdrawCall);
            ok; // nothing to withdraw is fine
        }
        (bool sent,) = controller.call{value: address(this).balance}("");
        require(sent, "FarmLoop: collect");
    }

    function _call(address target, bytes memory data, uint256 value) internal returns (bytes memory result) {
        bool ok;
        (ok, result) = target.call{value: value}(data);
        if (!ok) {
            assembly {
                revert(add(result, 32), mload(result))
            }
        }
    }
}
