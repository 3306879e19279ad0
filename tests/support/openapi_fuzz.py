"""An OpenAPI-driven request generator (schemathesis cannot be installed next to the pinned
hypothesis 6.27.3 that eth-brownie needs, so this walks /api/v1/openapi.json itself).

For every operation it sends generated requests, half of them valid by the schema and half
broken on purpose (random strings, huge integers, odd unicode, wrong types, missing required
fields, junk bodies), and checks each answer: never a 5xx other than a documented 503, a status
the document lists for the operation, a JSON body, and that body matching the documented schema.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

ODD_STRINGS = [
    "", " ", "\x00", "é", "ß", "\u202e", "\ufeff", "\ud7ff", "💥", "🧪" * 50, "Ω≈ç√",
    "ﷺ", "\u0000\u0001\u001f", "%00", "../../etc/passwd", "<script>x</script>", "' OR 1=1 --",
    "0x", "0xZZ", "0x" + "f" * 40, "0x" + "0" * 64, "1e400", "NaN", "-Infinity", "9" * 200,
    "-1", "0", "1.5", "0.1 ether", "7 parsecs", "null", "true", "[]", "{}", "\\", "\n\r\t",
    "a" * 5000,
]
ODD_NUMBERS: list[Any] = [0, -1, 1, 2**31, 2**63, 2**255, 2**256, 2**300, -(2**300), 10**80,
                          1.5, -0.0, 1e308, 3.0e-320]
ANY_JUNK: list[Any] = [None, True, False, [], {}, [None], {"": None}, *ODD_NUMBERS[:6],
                       *ODD_STRINGS[:12]]
DOCUMENTED_EXTRA = {"405", "413", "415"}  # framework answers documented in docs/web.md


@dataclass
class Operation:
    """One method on one path of the document."""

    method: str
    path: str
    spec: dict[str, Any]

    @property
    def name(self) -> str:
        return f"{self.method.upper()} {self.path}"


@dataclass
class Case:
    """One generated request."""

    operation: Operation
    path: str
    query: list[tuple[str, str]]
    body: Any
    valid: bool
    raw_body: bytes | None = None
    content_type: str = "application/json"


@dataclass
class Failure:
    """A response that breaks the rules."""

    case: str
    status: int
    problem: str


@dataclass
class Tally:
    """What a run saw."""

    cases: int = 0
    server_errors: int = 0
    unavailable: int = 0
    statuses: dict[int, int] = field(default_factory=dict)
    unavailable_messages: list[str] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)


class Schemas:
    """Resolve `$ref`s of one document."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document

    def resolve(self, schema: dict[str, Any]) -> dict[str, Any]:
        while "$ref" in schema:
            node: Any = self.document
            for part in schema["$ref"].lstrip("#/").split("/"):
                node = node[part]
            schema = node
        return schema

    def merged(self, schema: dict[str, Any]) -> dict[str, Any]:
        """`allOf` flattened into one object schema."""
        schema = self.resolve(schema)
        if "allOf" not in schema:
            return schema
        out: dict[str, Any] = {"type": "object", "properties": {}, "required": []}
        for part in schema["allOf"]:
            part = self.merged(part)
            out["properties"].update(part.get("properties", {}))
            out["required"] += part.get("required", [])
        return out


def operations(document: dict[str, Any]) -> list[Operation]:
    """Every operation of the document, in a stable order."""
    return [Operation(method, path, spec)
            for path, item in sorted(document["paths"].items())
            for method, spec in sorted(item.items())]


# ---------------------------------------------------------------------------- generation


class Generator:
    """Valid and invalid values for schemas of one document."""

    def __init__(self, document: dict[str, Any], rng: random.Random,
                 hints: dict[str, list[Any]]) -> None:
        self.schemas = Schemas(document)
        self.rng = rng
        self.hints = hints

    def valid(self, schema: dict[str, Any], name: str = "", depth: int = 0) -> Any:
        """A value the schema accepts (biased towards the hints for known field names)."""
        rng = self.rng
        schema = self.schemas.merged(schema)
        if name in self.hints and rng.random() < 0.6:
            return rng.choice(self.hints[name])
        if "enum" in schema:
            return rng.choice(schema["enum"])
        if "oneOf" in schema:
            return self.valid(rng.choice(schema["oneOf"]), name, depth)
        kind = schema.get("type", "string")
        if isinstance(kind, list):
            kind = rng.choice(kind)
        if kind == "null":
            return None
        if kind == "boolean":
            return rng.random() < 0.5
        if kind == "integer":
            low = int(schema.get("minimum", 0))
            high = int(schema.get("maximum", low + rng.choice([3, 100, 10**18])))
            return rng.randint(low, high)
        if kind == "number":
            floor = float(schema.get("minimum", 0))
            return round(rng.uniform(floor, float(schema.get("maximum", floor + 10))), 2)
        if kind == "array":
            if depth > 3:
                return []
            return [self.valid(schema.get("items", {}), "", depth + 1)
                    for _ in range(rng.randint(0, 3))]
        if kind == "object":
            props = schema.get("properties", {})
            required = set(schema.get("required", []))
            return {key: self.valid(sub, key, depth + 1) for key, sub in props.items()
                    if key in required or rng.random() < 0.5}
        if "pattern" in schema and "0x" in schema["pattern"]:
            return "0x" + "".join(rng.choice("0123456789abcdefABCDEF") for _ in range(40))
        if "pattern" in schema:
            return str(rng.randint(0, 10**20))
        text = "".join(rng.choice("abcdefghijk xyzé0123") for _ in range(rng.randint(0, 12)))
        return text[: schema.get("maxLength", 80)]

    def invalid(self, schema: dict[str, Any], depth: int = 0) -> Any:
        """A value likely to break the schema: wrong type, out of range, odd text."""
        rng = self.rng
        schema = self.schemas.merged(schema)
        kind = schema.get("type")
        roll = rng.random()
        if kind == "object" and depth < 2 and roll < 0.6:
            props = schema.get("properties", {})
            value = {key: self.valid(sub, key, depth + 1) for key, sub in props.items()}
            if value and rng.random() < 0.4:  # drop a field (perhaps a required one)
                value.pop(rng.choice(sorted(value)))
            for key in rng.sample(sorted(props), min(len(props), rng.randint(1, 3))):
                value[key] = self.invalid(props[key], depth + 1)
            if rng.random() < 0.2:
                value[rng.choice(ODD_STRINGS) or "x"] = rng.choice(ANY_JUNK)
            return value
        if roll < 0.35:
            return rng.choice(ODD_STRINGS)
        if roll < 0.65:
            return rng.choice(ODD_NUMBERS)
        return rng.choice(ANY_JUNK)


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ",".join(_text(v) for v in value)
    return "" if value is None else str(value)


def generate(document: dict[str, Any], count: int, seed: int,
             hints: dict[str, list[Any]]) -> Iterator[Case]:
    """`count` cases spread evenly over the operations, alternating valid and invalid."""
    rng = random.Random(seed)
    gen = Generator(document, rng, hints)
    ops = operations(document)
    for index in range(count):
        op = ops[index % len(ops)]
        valid = (index // len(ops)) % 2 == 0
        path = op.path
        query: list[tuple[str, str]] = []
        for param in op.spec.get("parameters", []):
            param = gen.schemas.resolve(param)
            if param["in"] == "path":
                value = (gen.valid(param["schema"], param["name"]) if valid or rng.random() < .3
                         else gen.invalid(param["schema"]))
                text = _text(value) or "x"
                path = path.replace("{" + param["name"] + "}", quote(text, safe=""))
            elif param["in"] == "query" and (param.get("required") or rng.random() < 0.5):
                value = (gen.valid(param["schema"], param["name"]) if valid
                         else gen.invalid(param["schema"]))
                query.append((param["name"], _text(value)))
        body: Any = None
        raw: bytes | None = None
        content_type = "application/json"
        request_body = op.spec.get("requestBody")
        if request_body is not None:
            schema = request_body["content"]["application/json"]["schema"]
            body = gen.valid(schema) if valid else gen.invalid(schema)
            if not valid and rng.random() < 0.15:
                raw, content_type = rng.choice([
                    (b"{not json", "application/json"),
                    (b"\xff\xfe\x00junk", "application/json"),
                    (json.dumps(body, default=str).encode(), "text/plain"),
                    (b"a=1&b=2", "application/x-www-form-urlencoded"),
                    (b"[" * 500 + b"]" * 500, "application/json"),
                ])
        elif op.method in ("post", "put", "delete") and not valid and rng.random() < 0.3:
            body = rng.choice(ANY_JUNK)
        yield Case(op, path, query, body, valid, raw, content_type)


# ---------------------------------------------------------------------------- checking


def conforms(schemas: Schemas, schema: dict[str, Any], value: Any, where: str = "$") -> str | None:
    """None when `value` matches `schema` (the subset of JSON Schema the document uses)."""
    schema = schemas.resolve(schema)
    if "allOf" in schema:
        for part in schema["allOf"]:
            problem = conforms(schemas, part, value, where)
            if problem:
                return problem
        return None
    if "oneOf" in schema:
        if any(conforms(schemas, part, value, where) is None for part in schema["oneOf"]):
            return None
        return f"{where}: matches no alternative"
    if "enum" in schema:
        return None if value in schema["enum"] else f"{where}: {value!r} not in the enum"
    kinds = schema.get("type")
    if kinds is not None:
        kinds = kinds if isinstance(kinds, list) else [kinds]
        checks: dict[str, Callable[[Any], bool]] = {
            "string": lambda v: isinstance(v, str),
            "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
            "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
            "boolean": lambda v: isinstance(v, bool),
            "null": lambda v: v is None,
            "array": lambda v: isinstance(v, list),
            "object": lambda v: isinstance(v, dict),
        }
        if not any(checks[k](value) for k in kinds):
            return f"{where}: {type(value).__name__} is not {kinds}"
    if isinstance(value, str) and "pattern" in schema and not re.search(schema["pattern"],
                                                                         value):
        return f"{where}: {value!r} does not match {schema['pattern']}"
    if isinstance(value, dict):
        for key in schema.get("required", []):
            if key not in value:
                return f"{where}: missing {key}"
        for key, sub in schema.get("properties", {}).items():
            if key in value:
                problem = conforms(schemas, sub, value[key], f"{where}.{key}")
                if problem:
                    return problem
    if isinstance(value, list) and "items" in schema:
        for i, item in enumerate(value):
            problem = conforms(schemas, schema["items"], item, f"{where}[{i}]")
            if problem:
                return problem
    return None


def check(document: dict[str, Any], case: Case, status: int, content_type: str,
          body: bytes) -> str | None:
    """None when the answer follows the document; otherwise what is wrong with it."""
    responses = case.operation.spec["responses"]
    key = str(status)
    if status >= 500 and status != 503:  # 503 is counted (Tally.unavailable), judged by callers
        return f"server error {status}: {body[:300]!r}"
    if key not in responses:
        if key in DOCUMENTED_EXTRA or (key == "503" and "/healthz" in case.path):
            return None
        return f"undocumented status {status}: {body[:300]!r}"
    if not content_type.startswith("application/json"):
        return f"{status} is not JSON but {content_type}"
    try:
        data = json.loads(body)
    except ValueError:
        return f"{status} body is not JSON: {body[:200]!r}"
    schemas = Schemas(document)
    response = schemas.resolve(responses[key])
    schema = response.get("content", {}).get("application/json", {}).get("schema")
    if schema is None:
        return None
    problem = conforms(schemas, schema, data)
    return f"{status} breaks the schema: {problem}" if problem else None


def describe(case: Case) -> str:
    """The case in one line, for failure messages."""
    query = "&".join(f"{k}={v[:40]}" for k, v in case.query)
    body = repr(case.raw_body[:80]) if case.raw_body is not None else json.dumps(
        case.body, default=str)[:160]
    return f"{case.operation.method.upper()} {case.path}?{query} {case.content_type} {body}"


Sender = Callable[[Case], tuple[int, str, bytes]]


def run(document: dict[str, Any], send: Sender, count: int, seed: int,
        hints: dict[str, list[Any]]) -> Tally:
    """Generate `count` cases, send each with `send`, and tally the answers."""
    tally = Tally()
    for case in generate(document, count, seed, hints):
        status, content_type, body = send(case)
        tally.cases += 1
        tally.statuses[status] = tally.statuses.get(status, 0) + 1
        if status >= 500 and status != 503:
            tally.server_errors += 1
        if status == 503:
            tally.unavailable += 1
            tally.unavailable_messages.append(f"{describe(case)} -> {body[:300]!r}")
        problem = check(document, case, status, content_type, body)
        if problem:
            tally.failures.append(Failure(describe(case), status, problem))
    return tally


def body_bytes(case: Case) -> bytes | None:
    """The request body as sent (None when there is none)."""
    if case.raw_body is not None:
        return case.raw_body
    if case.body is None and case.operation.spec.get("requestBody") is None:
        return None
    return json.dumps(case.body, default=str).encode()
