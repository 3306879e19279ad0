"""The fast log decoder: exact on every marketplace event, and never crashed by foreign logs."""

from __future__ import annotations

from typing import Any

import pytest
from eth_abi.abi import encode
from hypothesis import given, settings
from hypothesis import strategies as st

from marketplace import domain
from marketplace.chain.logs import _HEX, EventDecoder, MalformedLog, _is_hex
from marketplace.chain.scan import marketplace_abi
from marketplace.indexer import marketplace_decoder
from marketplace.indexer.projections import HANDLERS

DECODER = marketplace_decoder()
ABI_EVENTS = {e["name"]: e for e in marketplace_abi() if e["type"] == "event"}
POSITION = {
    "blockNumber": "0x10",
    "blockHash": "0x" + "11" * 32,
    "blockTimestamp": "0x6553f100",
    "transactionHash": "0x" + "22" * 32,
    "transactionIndex": "0x0",
    "logIndex": "0x3",
    "address": "0x" + "33" * 20,
    "removed": False,
}


def _value(kind: str) -> st.SearchStrategy[Any]:
    if kind.startswith("uint"):
        return st.integers(0, 2 ** int(kind[4:] or 256) - 1)
    if kind == "address":
        return st.binary(min_size=20, max_size=20).map(lambda b: "0x" + b.hex())
    if kind == "bool":
        return st.booleans()
    if kind == "bytes32":
        return st.binary(min_size=32, max_size=32)
    raise AssertionError(f"no strategy for {kind}")


def _abi_type(entry: dict[str, Any]) -> str:
    if entry["type"] == "tuple":
        return "(" + ",".join(_abi_type(c) for c in entry["components"]) + ")"
    return str(entry["type"])


def _python(entry: dict[str, Any], value: Any) -> Any:
    """What the decoder returns for `value`: lower-case addresses, 0x hex bytes, dict structs."""
    if entry["type"] == "tuple":
        return {c["name"]: _python(c, v) for c, v in zip(entry["components"], value, strict=True)}
    if isinstance(value, bytes):
        return "0x" + value.hex()
    return value


def _draw(data: st.DataObject, entry: dict[str, Any]) -> Any:
    if entry["type"] == "tuple":
        return tuple(_draw(data, c) for c in entry["components"])
    return data.draw(_value(str(entry["type"])))


def _log(name: str, values: dict[str, Any]) -> dict[str, Any]:
    entry = ABI_EVENTS[name]
    topics = [DECODER.topic0_of(name)]
    data_types, data_values = [], []
    for param in entry["inputs"]:
        if param["indexed"]:
            topics.append("0x" + encode([param["type"]], [values[param["name"]]]).hex())
        else:
            data_types.append(_abi_type(param))
            data_values.append(values[param["name"]])
    return {**POSITION, "topics": topics, "data": "0x" + encode(data_types, data_values).hex()}


@pytest.mark.parametrize("name", sorted(ABI_EVENTS))
@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_every_marketplace_event_decodes_to_exactly_the_values_encoded(
    name: str, data: st.DataObject
) -> None:
    entry = ABI_EVENTS[name]
    values = {p["name"]: _draw(data, p) for p in entry["inputs"]}

    event = DECODER.decode(_log(name, values))

    assert event.name == name
    assert event.args == {p["name"]: _python(p, values[p["name"]]) for p in entry["inputs"]}
    assert (event.block_number, event.log_index, event.block_timestamp) == (16, 3, 0x6553F100)
    assert event.tx_hash == "0x" + "22" * 32


def test_the_decoder_knows_every_event_of_the_interfaces_and_ownable() -> None:
    assert "CriteriaSet" in DECODER.event_names and "OwnershipTransferred" in DECODER.event_names
    assert set(DECODER.event_names) == {
        *domain.EVENT_NAMES, "OwnershipTransferStarted", "OwnershipTransferred"}


def test_every_event_of_the_abi_has_a_projection() -> None:
    assert set(DECODER.event_names) == set(HANDLERS)


def _valid_settled() -> dict[str, Any]:
    return _log("BookingSettled", {
        "bookingId": 5, "customer": "0x" + "44" * 20, "providerId": 7, "payout": 97,
        "fee": 3, "by": "0x" + "55" * 20,
    })


def _word(value: int) -> str:
    return f"{value:064x}"


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"topics": ["0x" + "ab" * 32]}, "unknown event signature"),
        ({"topics": []}, "without topics"),
        ({"topics": None}, "without topics"),
        ({"topics": "0x00"}, "without topics"),
        ({"removed": True}, "removed"),
        ({"data": "0x" + "00" * 31}, "data is 31 bytes"),
        ({"data": "0x" + _word(1) * 3 + "zz" * 32}, "not hex strings"),
        ({"data": "0x" + _word(1) * 2 + "0" * 24 + "44 " * 12 + "4444"}, "not hex strings"),
        # `bytes.fromhex` (the fast path's check) skips whitespace between digit pairs, and
        # `int(word, 16)` takes a 0x prefix: neither is hex
        ({"data": "0x" + _word(1) * 3 + "  " + "00" * 31}, "not hex strings"),
        ({"data": "0x" + _word(1) * 3 + "0x" + "00" * 31}, "not hex strings"),
        ({"data": "0x" + _word(1) * 3 + "\u0663" + "0" * 63}, "not hex strings"),
        ({"data": "deadbeef"}, "not a hex string"),
        ({"data": "0x" + _word(2**88) + _word(0) + _word(0)}, "does not fit uint88"),
        ({"data": "0x" + _word(1) + _word(1) + "ff" + "00" * 31}, "non-zero high bytes"),
        ({"blockNumber": None}, "no valid blockNumber"),
        ({"transactionHash": "0x1234"}, "no valid transactionHash"),
    ],
)
def test_a_malformed_log_raises_malformed_log_naming_the_problem(
    change: dict[str, Any], reason: str
) -> None:
    log = {**_valid_settled(), **change}

    with pytest.raises(MalformedLog, match=reason):
        DECODER.decode(log)


def test_a_log_with_too_few_topics_or_a_dirty_indexed_value_is_malformed() -> None:
    log = _log("BookingRequested", {
        "bookingId": 5, "customer": "0x" + "44" * 20, "providerId": 7, "currency": 0,
        "price": 100, "fee": 3, "offerVersion": 1, "criteriaVersion": 1, "arbiterId": 1,
        "respondBy": 9,
    })
    short = {**log, "topics": log["topics"][:3]}
    dirty = {**log, "topics": [*log["topics"][:2], "0x" + "ff" * 32, log["topics"][3]]}

    with pytest.raises(MalformedLog, match="needs 4 topics"):
        DECODER.decode(short)
    with pytest.raises(MalformedLog, match="non-zero high bytes"):
        DECODER.decode(dirty)


def test_a_bool_other_than_zero_or_one_is_malformed() -> None:
    log = _log("PauseChanged", {"paused": True, "by": "0x" + "66" * 20})
    log["data"] = "0x" + _word(2)

    with pytest.raises(MalformedLog, match="neither 0 nor 1"):
        DECODER.decode(log)


_junk = st.one_of(st.none(), st.integers(), st.text(max_size=80), st.booleans(),
                  st.lists(st.text(max_size=70), max_size=5))


@settings(max_examples=300, deadline=None)
@given(
    logs=st.lists(
        st.fixed_dictionaries({}, optional={
            "topics": st.one_of(_junk, st.lists(st.sampled_from(
                [DECODER.topic0_of("Withdrawn"), "0x" + "00" * 32, "0x" + "ff" * 32]), max_size=5)),
            "data": st.one_of(_junk, st.binary(max_size=200).map(lambda b: "0x" + b.hex())),
            "blockNumber": _junk, "logIndex": _junk, "transactionHash": _junk,
            "blockHash": _junk, "removed": _junk,
        }),
        max_size=8,
    )
)
def test_decoding_junk_never_raises_and_accounts_for_every_log(logs: list[dict[str, Any]]) -> None:
    events, skipped = DECODER.decode_many(logs)

    assert len(events) + len(skipped) == len(logs)
    assert all(s.reason for s in skipped)


def test_events_with_dynamic_data_are_decoded_by_the_slow_path() -> None:
    abi = [{
        "type": "event", "name": "Noted", "anonymous": False,
        "inputs": [
            {"name": "who", "type": "address", "indexed": True},
            {"name": "text", "type": "string", "indexed": False},
            {"name": "amount", "type": "uint256", "indexed": False},
        ],
    }]
    decoder = EventDecoder(abi)
    topic0 = decoder.topic0_of("Noted")
    who = "0x" + encode(["address"], ["0x" + "77" * 20]).hex()
    data = "0x" + encode(["string", "uint256"], ["hello", 42]).hex()

    event = decoder.decode({**POSITION, "topics": [topic0, who], "data": data})

    assert event.args == {"who": "0x" + "77" * 20, "text": "hello", "amount": 42}


@pytest.mark.parametrize(
    "text",
    ["", "00", "0a0B", "0a 0b", "  00", "0x00", "\u0663\u0663", "zz", "00\n0", "_0", "ab" * 99],
)
def test_the_fast_hex_check_agrees_with_the_pattern_on_whole_words(text: str) -> None:
    assert _is_hex(text) == bool(_HEX.fullmatch(text))


_EVERY_WORD_TYPE = EventDecoder([{
    "type": "event", "name": "Every", "anonymous": False,
    "inputs": [
        {"name": "tag", "type": "string", "indexed": True},
        {"name": "small", "type": "uint8", "indexed": True},
        {"name": "who", "type": "address", "indexed": True},
        {"name": "flag", "type": "bool", "indexed": False},
        {"name": "signed", "type": "int16", "indexed": False},
        {"name": "code", "type": "bytes4", "indexed": False},
        {"name": "hash", "type": "bytes32", "indexed": False},
        {"name": "wide", "type": "uint88", "indexed": False},
        {"name": "big", "type": "uint256", "indexed": False},
        {"name": "pair", "type": "tuple", "indexed": False, "components": [
            {"name": "low", "type": "uint32"}, {"name": "owner", "type": "address"}]},
    ],
}])
# Words at the edges of every type: zero, one, two, each type's largest value and one past it,
# a negative int16, dirty padding or high digits, upper-case digits.
_EDGE_WORDS = [
    _word(0), _word(1), _word(2), _word(0xFF), _word(0x100), _word(2**88 - 1), _word(2**88),
    _word(2**160 - 1), _word(2**160), _word(0x7FFF), _word(0x8000), _word(2**256 - 1),
    _word(2**256 - 0x8000), _word(2**256 - 0x8001), "ABCDEF01" + "0" * 56,
    "abcdef01" + "0" * 55 + "1", "0" * 24 + "AB" * 20, "F" * 64, "0" * 63 + "A",
]


@settings(max_examples=500, deadline=None)
@given(
    position=st.integers(0, 10),
    word=st.one_of(st.sampled_from(_EDGE_WORDS), st.integers(0, 2**256 - 1).map(_word)),
)
def test_the_compiled_fast_path_agrees_with_the_checked_path_on_every_word_type(
    position: int, word: str,
) -> None:
    words = [_word(0)] * 11  # valid for every type: one word at a time decides
    words[position] = word
    spec = next(iter(_EVERY_WORD_TYPE.specs.values()))
    topics = [spec.topic0, *("0x" + w for w in words[:3])]
    data = "0x" + "".join(words[3:])

    fast = _EVERY_WORD_TYPE._decode_flat(topics, data)
    try:
        checked = _EVERY_WORD_TYPE._decode_checked(topics, data)
    except MalformedLog:
        assert fast is None
    else:
        assert fast is not None and fast[1] == checked[1]
        assert list(fast[1]) == list(checked[1])  # the same order of arguments
        assert [type(v) for v in fast[1].values()] == [type(v) for v in checked[1].values()]
