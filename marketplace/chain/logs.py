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
from dataclasses import FrozenInstanceError, dataclass
from operator import attrgetter, itemgetter
from typing import Any

from Crypto.Hash import keccak

from marketplace.errors import MarketplaceError

WordDecoder = Callable[[str], Any]
FlatDecoder = Callable[[list[str], str], dict[str, Any] | None]
_HEX = re.compile(r"[0-9a-fA-F]*")
_ZERO_WORD = "0" * 64
_EVENT_FIELDS = ("name", "args", "block_number", "block_hash", "block_timestamp", "tx_hash",
                 "tx_index", "log_index")


class MalformedLog(MarketplaceError):
    """A log at the contract address that is not a well-formed event of its ABI."""

    def __init__(self, reason: str, topic0: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.topic0 = topic0


class DecodedEvent:
    """One marketplace event with its position in the chain; `args` by ABI parameter name.

    Immutable and compared by value like the frozen dataclass it was (unhashable too: its args
    are a dict), but built in half its time: the decoder makes one for every log, and the frozen
    dataclass's eight `object.__setattr__` calls were about a tenth of an audit's main thread.
    `__init__` sets the slots through their descriptors, which is what the guard leaves open.
    """

    __slots__ = _EVENT_FIELDS
    name: str
    args: dict[str, Any]
    block_number: int
    block_hash: str
    block_timestamp: int | None
    tx_hash: str
    tx_index: int
    log_index: int

    def __init__(
        self, name: str, args: dict[str, Any], block_number: int, block_hash: str,
        block_timestamp: int | None, tx_hash: str, tx_index: int, log_index: int,
    ) -> None:
        _set_name(self, name)
        _set_args(self, args)
        _set_block_number(self, block_number)
        _set_block_hash(self, block_hash)
        _set_block_timestamp(self, block_timestamp)
        _set_tx_hash(self, tx_hash)
        _set_tx_index(self, tx_index)
        _set_log_index(self, log_index)

    def _fields(self) -> tuple[Any, ...]:
        return (self.name, self.args, self.block_number, self.block_hash, self.block_timestamp,
                self.tx_hash, self.tx_index, self.log_index)

    def __setattr__(self, name: str, value: Any) -> None:
        raise FrozenInstanceError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        raise FrozenInstanceError(f"cannot delete field {name!r}")

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        assert isinstance(other, DecodedEvent)
        return self._fields() == other._fields()

    __hash__ = None  # type: ignore[assignment]  # args is a dict: unhashable, as before

    def __repr__(self) -> str:
        inner = ", ".join(f"{f}={v!r}" for f, v in zip(_EVENT_FIELDS, self._fields(),
                                                         strict=True))
        return f"DecodedEvent({inner})"

    def __reduce__(self) -> tuple[type[DecodedEvent], tuple[Any, ...]]:
        return (DecodedEvent, self._fields())  # copy and pickle through __init__

    def with_timestamp(self, block_timestamp: int) -> DecodedEvent:
        """The same event with its block's timestamp (for logs that came without one)."""
        return DecodedEvent(self.name, self.args, self.block_number, self.block_hash,
                            block_timestamp, self.tx_hash, self.tx_index, self.log_index)


_Setter = Callable[[DecodedEvent, Any], None]
(_set_name, _set_args, _set_block_number, _set_block_hash, _set_block_timestamp, _set_tx_hash,
 _set_tx_index, _set_log_index) = [vars(DecodedEvent)[f].__set__ for f in _EVENT_FIELDS]


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
    # The arguments from the topics and data (of the right lengths), when the data is static:
    # one compiled function (None: dynamic data, which eth_abi decodes)
    flat: FlatDecoder | None = None

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
            flat=_flat_decoder(inputs),
        )


def _flat_decoder(inputs: Sequence[Mapping[str, Any]]) -> FlatDecoder | None:
    """The arguments of an event whose data is static (one-word values and structs of them),
    from its topics and data (their lengths and `0x` prefixes already checked): one function
    that joins their hex digits, returns None unless they are all hex, and builds a dict
    display, one expression per word and a nested display per struct, that raises ValueError
    where a `_word_decoder` would.

    Compiled once per event like `collections.namedtuple` builds its class: no call and no loop
    per word, for every log of the chain. None for an event with a dynamic value in its data
    (eth_abi decodes those)."""
    data = [i for i in inputs if not i.get("indexed")]
    if any(_static_fields(i) is None for i in data):
        return None
    namespace: dict[str, Any] = {"_bad": _bad_word}
    items, at = [], 0
    for entry in inputs:  # topics first, an indexed dynamic value (None) as its keccak
        if entry.get("indexed"):
            kind = str(entry["type"])
            value = _word_expression(kind if _word_decoder(kind) else None, at, namespace)
            items.append(f"{str(entry['name'])!r}: {value}")
            at += 64
    hex_digits = [f"t[{i}][2:]" for i in range(1, 1 + at // 64)] + ["d[2:]"]
    for entry in data:
        value, at = _value_source(entry, at, namespace)
        items.append(f"{str(entry['name'])!r}: {value}")
    namespace["_is_hex"] = _is_hex
    source = (
        f"def decode(t, d):\n    w = {' + '.join(hex_digits)}\n"
        "    if not _is_hex(w):\n        return None\n"
        f"    return {{{', '.join(items)}}}\n"
    )
    exec(source, namespace)  # the source holds only ABI types and names, as repr() wrote them
    decode: FlatDecoder = namespace["decode"]
    return decode


def _value_source(
    entry: Mapping[str, Any], at: int, namespace: dict[str, Any]
) -> tuple[str, int]:
    """Python source of a static data value at digit `at` of `w` (a struct as a dict display of
    its components), and the digit after it."""
    if str(entry["type"]) != "tuple":
        return _word_expression(str(entry["type"]), at, namespace), at + 64
    items = []
    for component in entry["components"]:
        value, at = _value_source(component, at, namespace)
        items.append(f"{str(component['name'])!r}: {value}")
    return "{" + ", ".join(items) + "}", at


def _bad_word(kind: str) -> Any:
    raise ValueError(f"a word that is not a valid {kind}")


def _word_expression(kind: str | None, at: int, namespace: dict[str, Any]) -> str:
    """Python source of the value of the 64-digit word at `at` of `w` as ABI type `kind` (None:
    an indexed dynamic value, only its keccak), equal to `_word_decoder(kind)` of that word."""
    end = at + 64

    def unless_zeros(value: str, start: int, stop: int) -> str:
        """`value`, if digits start..stop of `w` are zeros, else a ValueError."""
        return f'({value}) if w[{start}:{stop}] == "{"0" * (stop - start)}" else _bad({kind!r})'

    if kind is None:
        return f'"0x" + w[{at}:{end}].lower()'
    if kind in ("uint", "uint256"):
        return f"int(w[{at}:{end}], 16)"
    bits = int(kind[4:]) if kind.startswith("uint") and kind[4:].isdigit() else 0
    if 0 < bits < 256 and bits % 4 == 0:  # the value fits: its high digits are zeros
        high = end - bits // 4
        return unless_zeros(f"int(w[{high}:{end}], 16)", at, high)
    if kind == "address":
        return unless_zeros(f'"0x" + w[{at + 24}:{end}].lower()', at, at + 24)
    if kind == "bool":
        return unless_zeros(f'w[{end - 1}] == "1" if w[{end - 1}] in "01" else _bad({kind!r})',
                            at, end - 1)
    size = int(kind[5:]) if kind.startswith("bytes") and kind[5:].isdigit() else 0
    if 0 < size <= 32:
        cut = at + 2 * size
        return unless_zeros(f'"0x" + w[{at}:{cut}].lower()', cut, end)
    decoder = f"_d{at}"  # any other one-word type: its decoder, by name
    namespace[decoder] = _word_decoder(kind)
    return f"{decoder}(w[{at}:{end}])"


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
_LOG_FIELDS = itemgetter(
    "removed", "topics", "data", "blockHash", "blockNumber", "blockTimestamp", "transactionHash",
    "transactionIndex", "logIndex",
)


class EventDecoder:
    """Decodes the logs of one contract's ABI; unknown or malformed logs raise MalformedLog."""

    def __init__(self, abi: Iterable[Mapping[str, Any]]) -> None:
        self.specs: dict[str, EventSpec] = {}
        self._events: list[Mapping[str, Any]] = []  # the ABI entries it decodes
        for entry in abi:
            if entry.get("type") == "event" and not entry.get("anonymous"):
                spec = EventSpec.from_abi(entry)
                self.specs[spec.topic0] = spec
                self._events.append(entry)

    def __reduce__(self) -> tuple[type[EventDecoder], tuple[list[Mapping[str, Any]]]]:
        # A pure function of its ABI events: pickled as them (a worker process builds its own;
        # the compiled decoders themselves cannot be pickled).
        return (EventDecoder, (self._events,))

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
        """The common case in one pass: a known event of static data, every topic and the
        data well-formed hex of the right lengths. None for anything else, which the checked
        path decodes or refuses with its reason (the two agree on every log both accept)."""
        if type(topics) is not list or not topics or type(data) is not str:
            return None
        spec = self.specs.get(topics[0])
        if spec is None or spec.flat is None:
            return None
        flat = spec.flat
        if len(topics) != 1 + len(spec.indexed) or len(data) != 2 + 64 * spec.data_words:
            return None
        for topic in topics:
            if type(topic) is not str or len(topic) != 66 or topic[:2] != "0x":
                return None
        if data[:2] != "0x":
            return None
        try:
            # The lengths checked above: the compiled offsets cover exactly these words.
            args = flat(topics, data)
        except ValueError:
            return None
        return None if args is None else (spec, args)

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
        block = _block_of(log, blocks)
        tx_hash = _tx_of(log, txs)
        return DecodedEvent(  # positional: a quarter faster than by keyword, for every log
            spec.name, args, block[0], block[1], block[2], tx_hash,
            _quick_int(log, "transactionIndex"), _quick_int(log, "logIndex"),
        )

    def _quick(
        self, log: Any, blocks: dict[Any, _Block], txs: dict[Any, str]
    ) -> DecodedEvent | None:
        """`_decode` of the usual log in one call: a dict with every field, not removed, of
        an event the compiled fast path decodes, with `0x` hex indexes. None for anything
        else, which `_decode` decodes or refuses with its reason (the two agree on every log
        both accept: the same checks, words, memos and helpers, in the same order)."""
        if type(log) is not dict:
            return None
        try:
            removed, topics, data, block_hash, number, stamp, tx, tx_index, log_index = (
                _LOG_FIELDS(log)
            )
        except KeyError:
            return None
        if removed is not False or type(topics) is not list or not topics or type(data) is not str:
            return None
        for topic in topics:
            if type(topic) is not str or len(topic) != 66 or topic[:2] != "0x":
                return None
        spec = self.specs.get(topics[0])
        if (
            spec is None
            or spec.flat is None
            or len(topics) != 1 + len(spec.indexed)
            or len(data) != 2 + 64 * spec.data_words
            or data[:2] != "0x"
            or type(tx_index) is not str
            or tx_index[:2] != "0x"
            or type(log_index) is not str
            or log_index[:2] != "0x"
        ):
            return None
        try:
            args = spec.flat(topics, data)
            position = int(tx_index, 16), int(log_index, 16)
        except ValueError:
            return None
        if args is None:
            return None
        block = blocks.get((block_hash, number, stamp)) or _block_of(log, blocks)
        return DecodedEvent(spec.name, args, block[0], block[1], block[2],
                            txs.get(tx) or _tx_of(log, txs), position[0], position[1])

    def decode_many(
        self, logs: Iterable[Mapping[str, Any]]
    ) -> tuple[list[DecodedEvent], list[SkippedLog]]:
        """Decoded events in chain order, and the logs that were skipped with their reasons."""
        decoded: list[DecodedEvent] = []
        skipped: list[SkippedLog] = []
        blocks: dict[Any, _Block] = {}
        txs: dict[Any, str] = {}
        quick, decode = self._quick, self._decode
        for log in logs:
            try:
                event = quick(log, blocks, txs)
                decoded.append(event if event is not None else decode(log, blocks, txs))
            except MalformedLog as exc:
                skipped.append(_skipped(log, exc))
            except (TypeError, AttributeError) as exc:  # not even a mapping of the usual shapes
                skipped.append(_skipped(log, MalformedLog(f"unreadable log: {exc}")))
        decoded.sort(key=_POSITION)
        return decoded, skipped


def _block_of(log: Mapping[str, Any], blocks: dict[Any, _Block]) -> _Block:
    """A log's block number, hash and timestamp, memoised in `blocks`; raises MalformedLog."""
    key = (log.get("blockHash"), log.get("blockNumber"), log.get("blockTimestamp"))
    block = blocks.get(key)
    if block is None:
        timestamp = log.get("blockTimestamp")
        block = blocks[key] = (
            _int_field(log, "blockNumber"),
            _hash_field(log, "blockHash"),
            _optional_int(log, "blockTimestamp") if timestamp is not None else None,
        )
    return block


def _tx_of(log: Mapping[str, Any], txs: dict[Any, str]) -> str:
    """A log's transaction hash, memoised in `txs`; raises MalformedLog."""
    key = log.get("transactionHash")
    tx_hash = txs.get(key)
    if tx_hash is None:
        tx_hash = txs[key] = _hash_field(log, "transactionHash")
    return tx_hash


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
