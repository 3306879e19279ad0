"""Decode raw `eth_getLogs` dicts into marketplace events, fast and strictly.

Topic0 of every event in the ABI is precomputed; a log's topics and data are then sliced into
32-byte words and each word is checked and converted by a small function chosen once per
parameter type. Any log that is not exactly a well-formed event of the ABI (unknown topic0,
anonymous, wrong number of topics, wrong data length, a value out of its type's range, a bad
hex string) raises `MalformedLog` with the reason, so the indexer can skip and count it.
Importing this module does not import web3.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from operator import attrgetter
from typing import Any

from Crypto.Hash import keccak

from marketplace.errors import MarketplaceError

WordDecoder = Callable[[str], Any]
_HEX = re.compile(r"[0-9a-fA-F]*")
_ZERO_WORD = "0" * 64


class MalformedLog(MarketplaceError):
    """A log at the contract address that is not a well-formed event of its ABI."""

    def __init__(self, reason: str, topic0: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.topic0 = topic0


@dataclass(frozen=True, slots=True)
class DecodedEvent:
    """One marketplace event with its position in the chain; `args` by ABI parameter name."""

    name: str
    args: dict[str, Any]
    block_number: int
    block_hash: str
    block_timestamp: int | None
    tx_hash: str
    tx_index: int
    log_index: int


@dataclass(frozen=True, slots=True)
class SkippedLog:
    """A log the decoder refused, where it was, and why."""

    block_number: int | None
    log_index: int | None
    tx_hash: str | None
    topic0: str | None
    reason: str


# ---------------------------------------------------------------- word decoders


def _uint256(word: str) -> int:
    return int(word, 16)  # a checked 64-digit hex word always fits


def _hashed(word: str) -> str:
    return "0x" + word.lower()  # an indexed dynamic value: only its keccak is in the topic


def _uint_decoder(bits: int) -> WordDecoder:
    if bits == 256:
        return _uint256
    limit = 1 << bits

    def decode(word: str) -> int:
        value = int(word, 16)
        if value >= limit:
            raise ValueError(f"value does not fit uint{bits}")
        return value

    return decode


def _int_decoder(bits: int) -> WordDecoder:
    low, high = -(1 << (bits - 1)), 1 << (bits - 1)

    def decode(word: str) -> int:
        value = int(word, 16)
        if value >= 1 << 255:
            value -= 1 << 256
        if not low <= value < high:
            raise ValueError(f"value does not fit int{bits}")
        return value

    return decode


def _address(word: str) -> str:
    if word[:24] != "000000000000000000000000":
        raise ValueError("address with non-zero high bytes")
    return "0x" + word[24:].lower()


def _bool(word: str) -> bool:
    if word == _ZERO_WORD:
        return False
    if word[:63] == _ZERO_WORD[:63] and word[63] == "1":
        return True
    raise ValueError("bool that is neither 0 nor 1")


def _fixed_bytes_decoder(size: int) -> WordDecoder:
    cut = 2 * size
    padding = "0" * (64 - cut)

    def decode(word: str) -> str:
        if word[cut:] != padding:
            raise ValueError(f"bytes{size} with non-zero padding")
        return "0x" + word[:cut].lower()

    return decode


def _word_decoder(abi_type: str) -> WordDecoder | None:
    """The decoder of a static one-word type, or None for anything else."""
    if abi_type.startswith("uint"):
        return _uint_decoder(int(abi_type[4:] or 256))
    if abi_type.startswith("int"):
        return _int_decoder(int(abi_type[3:] or 256))
    if abi_type == "address":
        return _address
    if abi_type == "bool":
        return _bool
    if abi_type.startswith("bytes") and abi_type[5:].isdigit():
        return _fixed_bytes_decoder(int(abi_type[5:]))
    return None


def _canonical_type(entry: Mapping[str, Any]) -> str:
    kind = str(entry["type"])
    if kind.startswith("tuple"):
        inner = ",".join(_canonical_type(c) for c in entry["components"])
        return f"({inner}){kind[5:]}"
    return kind


# ---------------------------------------------------------------- event layouts

# A data field is (name, decoder) for one word, or (name, sub-fields) for a static struct.
Field = tuple[str, Any]


def _static_fields(entry: Mapping[str, Any]) -> Field | None:
    kind = str(entry["type"])
    if kind == "tuple":
        subfields = [_static_fields(c) for c in entry["components"]]
        if any(f is None for f in subfields):
            return None
        return (str(entry["name"]), subfields)
    decoder = _word_decoder(kind)
    return None if decoder is None else (str(entry["name"]), decoder)


def _count_words(fields: Sequence[Field]) -> int:
    return sum(_count_words(sub) if isinstance(sub, list) else 1 for _, sub in fields)


def _decode_fields(
    fields: Sequence[Field], words: list[str], position: int
) -> tuple[dict[str, Any], int]:
    out: dict[str, Any] = {}
    for name, sub in fields:
        if isinstance(sub, list):
            out[name], position = _decode_fields(sub, words, position)
        else:
            out[name] = sub(words[position])
            position += 1
    return out, position


@dataclass(frozen=True)
class EventSpec:
    """How to decode one event: its topic0, indexed parameters and data layout."""

    name: str
    signature: str
    topic0: str
    indexed: tuple[tuple[str, WordDecoder | None], ...]  # None: a hashed dynamic value
    data_fields: tuple[Field, ...] | None  # None: dynamic data, decoded by eth_abi
    data_names: tuple[str, ...]
    data_types: tuple[str, ...]
    data_words: int
    # (name, decoder, offset in the hex words) per word of topics[1:] then data, when no data
    # field is a struct: the fast path decodes those words in one loop (None: the nested path)
    flat: tuple[tuple[str, WordDecoder, int], ...] | None = None

    @classmethod
    def from_abi(cls, entry: Mapping[str, Any]) -> EventSpec:
        """The spec of an ABI event entry."""
        inputs = list(entry["inputs"])
        signature = f"{entry['name']}({','.join(_canonical_type(i) for i in inputs)})"
        indexed = tuple(
            (str(i["name"]), _word_decoder(str(i["type"]))) for i in inputs if i.get("indexed")
        )
        data_inputs = [i for i in inputs if not i.get("indexed")]
        fields = [_static_fields(i) for i in data_inputs]
        static = all(f is not None for f in fields)
        data_fields = tuple(f for f in fields if f is not None) if static else None
        return cls(
            name=str(entry["name"]),
            signature=signature,
            topic0="0x" + keccak.new(digest_bits=256, data=signature.encode()).hexdigest(),
            indexed=indexed,
            data_fields=data_fields,
            data_names=tuple(str(i["name"]) for i in data_inputs),
            data_types=tuple(_canonical_type(i) for i in data_inputs),
            data_words=_count_words(data_fields) if data_fields is not None else -1,
            flat=_flat_plan(indexed, data_fields),
        )


def _flat_plan(
    indexed: Sequence[tuple[str, WordDecoder | None]], data_fields: Sequence[Field] | None
) -> tuple[tuple[str, WordDecoder, int], ...] | None:
    """One (name, decoder, offset) per word of an event whose data is static and has no
    struct; the offset is the word's first hex digit in topics[1:] and data joined."""
    if data_fields is None or any(isinstance(sub, list) for _, sub in data_fields):
        return None
    plan = [(name, decoder or _hashed) for name, decoder in indexed]
    plan.extend((name, sub) for name, sub in data_fields)
    return tuple((name, decoder, 64 * i) for i, (name, decoder) in enumerate(plan))


def _int_field(log: Mapping[str, Any], key: str) -> int:
    value = log.get(key)
    if isinstance(value, str) and value.startswith("0x"):
        try:
            number = int(value, 16)
        except ValueError:
            number = -1
        if number >= 0:
            return number
    elif isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    raise MalformedLog(f"log has no valid {key}")


def _quick_int(log: Mapping[str, Any], key: str) -> int:
    """`_int_field` with a fast path for the usual `0x` hex quantity (the same values: `int`
    of a string that starts with `0x` is never negative)."""
    value = log.get(key)
    if type(value) is str and value[:2] == "0x":
        try:
            return int(value, 16)
        except ValueError:
            pass
    return _int_field(log, key)


def _is_hex(text: str) -> bool:
    """Whether `text` (of even length: whole words) is only hex digits, as `_HEX.fullmatch`
    says but a few times faster on the hundreds of digits of a log: `bytes.fromhex` refuses
    anything else but skips whitespace between digit pairs, which the length check catches."""
    try:
        return 2 * len(bytes.fromhex(text)) == len(text)
    except ValueError:
        return False


def _optional_int(log: Mapping[str, Any], key: str) -> int | None:
    try:
        return _int_field(log, key)
    except MalformedLog:
        return None


def _hash_field(log: Mapping[str, Any], key: str) -> str:
    value = log.get(key)
    if (
        isinstance(value, str)
        and len(value) == 66
        and value.startswith("0x")
        and _HEX.fullmatch(value, 2)
    ):
        return value.lower()
    raise MalformedLog(f"log has no valid {key}")


_Block = tuple[int, str, int | None]
_POSITION = attrgetter("block_number", "log_index")


class EventDecoder:
    """Decodes the logs of one contract's ABI; unknown or malformed logs raise MalformedLog."""

    def __init__(self, abi: Iterable[Mapping[str, Any]]) -> None:
        self.specs: dict[str, EventSpec] = {}
        for entry in abi:
            if entry.get("type") == "event" and not entry.get("anonymous"):
                spec = EventSpec.from_abi(entry)
                self.specs[spec.topic0] = spec

    @property
    def event_names(self) -> list[str]:
        """Names of every event this decoder knows."""
        return sorted(spec.name for spec in self.specs.values())

    def topic0_of(self, name: str) -> str:
        """The topic0 (keccak of the signature) of event `name`."""
        for spec in self.specs.values():
            if spec.name == name:
                return spec.topic0
        raise KeyError(name)

    def decode_args(self, topics: Sequence[str], data: str) -> tuple[EventSpec, dict[str, Any]]:
        """The event spec and arguments of a log's topics and data; raises MalformedLog."""
        fast = self._decode_flat(topics, data)
        if fast is not None:
            return fast
        return self._decode_checked(topics, data)

    def _decode_flat(self, topics: Any, data: Any) -> tuple[EventSpec, dict[str, Any]] | None:
        """The common case in one pass: a known event of one-word fields, every topic and the
        data well-formed hex of the right lengths. None for anything else, which the checked
        path decodes or refuses with its reason (the two agree on every log both accept)."""
        if type(topics) is not list or not topics or type(data) is not str:
            return None
        spec = self.specs.get(topics[0])
        if spec is None or spec.flat is None:
            return None
        plan = spec.flat
        if len(topics) != 1 + len(spec.indexed) or len(data) != 2 + 64 * spec.data_words:
            return None
        for topic in topics:
            if type(topic) is not str or len(topic) != 66 or topic[:2] != "0x":
                return None
        if data[:2] != "0x":
            return None
        words = "".join([t[2:] for t in topics[1:]]) + data[2:]
        if not _is_hex(words):
            return None
        try:
            # The lengths checked above: the plan's offsets cover exactly these words.
            args = {name: decode(words[i : i + 64]) for name, decode, i in plan}
        except ValueError:
            return None
        return spec, args

    def _decode_checked(
        self, topics: Sequence[str], data: str
    ) -> tuple[EventSpec, dict[str, Any]]:
        if not isinstance(topics, list | tuple) or not topics:
            raise MalformedLog("log without topics (anonymous or foreign event)")
        topic0 = topics[0]
        spec = self.specs.get(topic0.lower() if isinstance(topic0, str) else "")
        if spec is None:
            raise MalformedLog(
                "unknown event signature", topic0 if isinstance(topic0, str) else None
            )
        if len(topics) != 1 + len(spec.indexed):
            raise MalformedLog(
                f"{spec.name} needs {1 + len(spec.indexed)} topics, the log has {len(topics)}",
                spec.topic0,
            )
        if not isinstance(data, str) or not data.startswith("0x"):
            raise MalformedLog(f"{spec.name} data is not a hex string", spec.topic0)
        indexed = topics[1:]
        for topic in indexed:
            if not isinstance(topic, str) or len(topic) != 66 or not topic.startswith("0x"):
                raise MalformedLog(f"{spec.name} topic is not a 32-byte hex string", spec.topic0)
        if not _HEX.fullmatch("".join(t[2:] for t in indexed) + data[2:]):
            raise MalformedLog(f"{spec.name} data or topics are not hex strings", spec.topic0)
        args: dict[str, Any] = {}
        try:
            for (name, decoder), topic in zip(spec.indexed, indexed, strict=True):
                args[name] = decoder(topic[2:]) if decoder else topic.lower()
            if spec.data_fields is not None:
                if len(data) != 2 + 64 * spec.data_words:
                    raise ValueError(
                        f"data is {(len(data) - 2) // 2} bytes, not {32 * spec.data_words}"
                    )
                words = [data[i : i + 64] for i in range(2, len(data), 64)]
                decoded, _ = _decode_fields(spec.data_fields, words, 0)
                args.update(decoded)
            else:
                from eth_abi.abi import decode as abi_decode  # rare: slow import, slow path

                values = abi_decode(list(spec.data_types), bytes.fromhex(data[2:]), strict=True)
                args.update(zip(spec.data_names, values, strict=True))
        except MalformedLog:
            raise
        except Exception as exc:  # any decoding failure means the log is not this event
            raise MalformedLog(f"{spec.name}: {exc}", spec.topic0) from exc
        return spec, args

    def decode(self, log: Mapping[str, Any]) -> DecodedEvent:
        """One raw log dict as a DecodedEvent; raises MalformedLog."""
        return self._decode(log, {}, {})

    def _decode(
        self, log: Mapping[str, Any], blocks: dict[Any, _Block], txs: dict[Any, str]
    ) -> DecodedEvent:
        # `blocks` and `txs` memoise the fields many logs of one block or transaction share.
        if log.get("removed"):
            raise MalformedLog("log was removed by a reorg")
        spec, args = self.decode_args(log.get("topics") or [], log.get("data", ""))
        block_key = (log.get("blockHash"), log.get("blockNumber"), log.get("blockTimestamp"))
        block = blocks.get(block_key)
        if block is None:
            timestamp = log.get("blockTimestamp")
            block = (
                _int_field(log, "blockNumber"),
                _hash_field(log, "blockHash"),
                _optional_int(log, "blockTimestamp") if timestamp is not None else None,
            )
            blocks[block_key] = block
        tx_key = log.get("transactionHash")
        tx_hash = txs.get(tx_key)
        if tx_hash is None:
            tx_hash = txs[tx_key] = _hash_field(log, "transactionHash")
        return DecodedEvent(  # positional: a quarter faster than by keyword, for every log
            spec.name, args, block[0], block[1], block[2], tx_hash,
            _quick_int(log, "transactionIndex"), _quick_int(log, "logIndex"),
        )

    def decode_many(
        self, logs: Iterable[Mapping[str, Any]]
    ) -> tuple[list[DecodedEvent], list[SkippedLog]]:
        """Decoded events in chain order, and the logs that were skipped with their reasons."""
        decoded: list[DecodedEvent] = []
        skipped: list[SkippedLog] = []
        blocks: dict[Any, _Block] = {}
        txs: dict[Any, str] = {}
        decode = self._decode
        for log in logs:
            try:
                decoded.append(decode(log, blocks, txs))
            except MalformedLog as exc:
                skipped.append(_skipped(log, exc))
            except (TypeError, AttributeError) as exc:  # not even a mapping of the usual shapes
                skipped.append(_skipped(log, MalformedLog(f"unreadable log: {exc}")))
        decoded.sort(key=_POSITION)
        return decoded, skipped



def _skipped(log: Any, exc: MalformedLog) -> SkippedLog:
    if not isinstance(log, Mapping):
        return SkippedLog(None, None, None, None, f"not a log object: {exc.reason}")

    def optional_hash(key: str) -> str | None:
        try:
            return _hash_field(log, key)
        except MalformedLog:
            return None

    topic0 = exc.topic0
    topics = log.get("topics")
    if topic0 is None and isinstance(topics, list) and topics and isinstance(topics[0], str):
        topic0 = topics[0][:66]
    return SkippedLog(
        block_number=_optional_int(log, "blockNumber"),
        log_index=_optional_int(log, "logIndex"),
        tx_hash=optional_hash("transactionHash"),
        topic0=topic0,
        reason=exc.reason,
    )
