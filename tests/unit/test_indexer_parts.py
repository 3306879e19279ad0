"""Small parts of the indexer: chunk sizing, settings from the environment, node error kinds."""

from __future__ import annotations

from pathlib import Path

import pytest

from marketplace.chain.rpc import NodeRefused, RpcClient, RpcError
from marketplace.chain.scan import ChunkSizer
from marketplace.config import ConfigError, Settings, default_database_url
from marketplace.store.engine import open_engine


def test_the_chunk_halves_on_each_refusal_down_to_one_block() -> None:
    sizer = ChunkSizer(initial=64, maximum=1000, target_logs=100)

    sizes = []
    while sizer.shrink():
        sizes.append(sizer.size)

    assert sizes == [32, 16, 8, 4, 2, 1]
    assert not sizer.shrink()


def test_the_chunk_grows_while_logs_are_few_and_shrinks_when_they_are_many() -> None:
    sizer = ChunkSizer(initial=10, maximum=100, target_logs=100)

    sizer.observe(blocks=10, logs=5)
    assert sizer.size == 20
    sizer.observe(blocks=20, logs=80)
    assert sizer.size == 20  # about right
    sizer.observe(blocks=20, logs=1000)
    assert sizer.size == 10
    for _ in range(10):
        sizer.observe(blocks=sizer.size, logs=0)
    assert sizer.size == 100  # capped at the maximum


def test_after_a_refusal_the_chunk_stays_capped_then_probes_again() -> None:
    sizer = ChunkSizer(initial=8, maximum=64, target_logs=100, probe_after=3)
    sizer.shrink()

    for _ in range(2):
        sizer.observe(blocks=4, logs=0)
        assert sizer.size == 4
    sizer.observe(blocks=4, logs=0)  # the third success at the cap

    assert sizer.size == 8  # the cap was lifted to probe


def test_a_short_range_at_the_head_does_not_grow_the_chunk() -> None:
    sizer = ChunkSizer(initial=50, maximum=100, target_logs=100)

    sizer.observe(blocks=3, logs=0)

    assert sizer.size == 50


def test_settings_come_from_the_environment_with_defaults() -> None:
    settings = Settings.from_env({
        "MARKETPLACE_RPC_URL": "http://node:8545",
        "DATABASE_URL": "postgresql+psycopg://u@h/db",
        "MARKETPLACE_CONFIRMATIONS": "3",
        "MARKETPLACE_CHUNK_BLOCKS": "20",
        "MARKETPLACE_POLL_INTERVAL": "0.5",
        "MARKETPLACE_DEPLOYMENT": "deployments/5.json",
    })

    assert settings.rpc_url == "http://node:8545"
    assert settings.database_url == "postgresql+psycopg://u@h/db"
    assert (settings.confirmations, settings.chunk_blocks, settings.poll_interval) == (3, 20, 0.5)
    assert settings.deployment_path == Path("deployments/5.json")
    assert settings.max_chunk_blocks == 10_000


def test_the_default_store_is_an_sqlite_file_under_var() -> None:
    settings = Settings.from_env({})

    assert settings.database_url == default_database_url()
    assert settings.database_url.startswith("sqlite:///")
    assert settings.database_url.endswith("/var/marketplace.sqlite")


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"MARKETPLACE_CONFIRMATIONS": "many"}, "not a valid int"),
        ({"MARKETPLACE_CONFIRMATIONS": "0"}, "at least 1"),
        ({"MARKETPLACE_CHUNK_BLOCKS": "20000"}, "between 1 and the maximum"),
        ({"MARKETPLACE_POLL_INTERVAL": "-1"}, "must be positive"),
    ],
)
def test_a_bad_setting_is_a_config_error_naming_it(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        Settings.from_env(env)


def test_command_line_overrides_win_over_the_environment_except_when_unset() -> None:
    settings = Settings.from_env({"MARKETPLACE_CONFIRMATIONS": "3"})

    overridden = settings.with_overrides(confirmations=7, rpc_url=None)

    assert overridden.confirmations == 7 and overridden.rpc_url == settings.rpc_url


@pytest.mark.parametrize(
    "message",
    [
        "query returned more than 10000 results",
        "block range is too large",
        "exceed maximum block range: 5000",
        "Log response size exceeded. You can make eth_getLogs requests with up to a 2K block range",
        "query timeout exceeded",
    ],
)
def test_a_node_error_about_size_is_a_refusal(message: str) -> None:
    with pytest.raises(NodeRefused):
        RpcClient._result("eth_getLogs", {"error": {"code": -32005, "message": message}})


def test_other_node_errors_are_plain_rpc_errors() -> None:
    with pytest.raises(RpcError) as raised:
        RpcClient._result("eth_getLogs", {"error": {"code": -32602, "message": "invalid params"}})

    assert not isinstance(raised.value, NodeRefused)
    assert raised.value.code == -32602


def test_an_rpc_url_must_be_http() -> None:
    with pytest.raises(ValueError, match="not an http"):
        RpcClient("ws://127.0.0.1:8545")


def test_the_journal_encodes_args_as_compact_json_does() -> None:
    """The journal's `args` text is what json.dumps(args, separators=(",", ":")) gives, for
    256-bit integers, nested structs, booleans, nulls, slashes and non-ASCII text alike."""
    import json

    from marketplace.indexer.batch import _encode_json

    args = {
        "bookingId": 2**256 - 1,
        "customer": "0x" + "ab" * 20,
        "fee": 10**18,
        "negative": -(2**255),
        "refunded": True,
        "offer": {"price": 7, "region": "a/b", "note": "caf\u00e9 \u2603", "none": None},
        "pair": (1, 2),
    }
    assert _encode_json(args) == json.dumps(args, separators=(",", ":"))
    assert json.loads(_encode_json(args)) == {**args, "pair": [1, 2]}


def test_an_sqlite_store_is_wal_with_normal_sync(tmp_path: Path) -> None:
    engine = open_engine(f"sqlite:///{tmp_path / 'store.sqlite'}")
    try:
        with engine.connect() as conn:
            pragma = {name: conn.exec_driver_sql(f"PRAGMA {name}").scalar() for name in (
                "journal_mode", "synchronous")}
    finally:
        engine.dispose()

    assert pragma == {"journal_mode": "wal", "synchronous": 1}  # what docs/indexer.md promises
