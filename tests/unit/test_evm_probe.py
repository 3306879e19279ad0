"""The EVM feature probe: which features an EVM version needs, and what counts as missing.

The probes' bytecode itself is checked against real nodes: anvil (Osaka and Shanghai) in
tests/integration/test_deploy_cli.py, Hardhat (Cancun and Shanghai) in test_hardhat.py.
"""

from __future__ import annotations

import pytest

from marketplace.chain.evm import (
    FEATURES,
    artifact_evm_version,
    probe_evm,
    required_features,
)
from marketplace.chain.rpc import NodeUnavailable, RpcError


def names(evm_version: str) -> list[str]:
    return [f.name for f in required_features(evm_version)]


def test_each_evm_version_needs_the_features_of_its_hardfork_and_every_earlier_one() -> None:
    assert names("shanghai") == ["PUSH0"]
    assert names("cancun") == ["PUSH0", "TSTORE/TLOAD transient storage", "MCOPY"]
    assert names("prague") == names("cancun")
    assert names("osaka") == [*names("cancun"), "CLZ"]
    assert names("paris") == []  # older than anything probed: nothing to ask


def test_the_project_artifacts_evm_version_is_read_from_its_compiler_settings() -> None:
    assert artifact_evm_version({"compiler": {"settings": {"evmVersion": "prague"}}}) == "prague"
    assert artifact_evm_version({}) == "cancun"


def word(value: int) -> str:
    return "0x" + value.to_bytes(32, "big").hex()


def test_a_node_that_runs_every_probe_is_ok() -> None:
    expected = {f.init_code: f.expected for f in FEATURES}
    support = probe_evm(lambda code: word(expected[code]), "cancun", is_outage=lambda e: False)
    assert support.ok and support.checked and support.sentence() == ""


def test_a_refused_probe_or_a_wrong_word_is_a_missing_feature_named_with_its_hardfork() -> None:
    tstore = FEATURES[1].init_code

    def call(code: str) -> str:
        if code == tstore:
            raise RpcError("eth_call", -32603, "EVM error NotActivated")
        return word(0)  # MCOPY "ran" but returned the wrong word

    support = probe_evm(call, "cancun", is_outage=lambda e: False)

    assert [f.name for f in support.missing] == ["PUSH0", "TSTORE/TLOAD transient storage",
                                                 "MCOPY"]
    said = support.node_messages
    assert said["TSTORE/TLOAD transient storage"] == "EVM error NotActivated"
    assert said["MCOPY"] == "returned 0, expected 42"
    sentence = support.sentence(31337)
    assert sentence.startswith("chain 31337 cannot run the marketplace contracts")
    assert "Cancun hardfork" in sentence and "stakes would be stuck" in sentence


def test_a_node_that_is_down_gets_no_verdict() -> None:
    def down(code: str) -> str:
        raise NodeUnavailable("no node answers")

    with pytest.raises(NodeUnavailable):
        probe_evm(down, "cancun", is_outage=lambda e: isinstance(e, NodeUnavailable))


def test_a_node_without_eth_call_is_not_reported_as_incompatible() -> None:
    def no_method(code: str) -> str:
        raise RpcError("eth_call", -32601, "the method eth_call does not exist")

    support = probe_evm(no_method, "cancun", is_outage=lambda e: False)
    assert support.ok and not support.checked
    assert support.to_dict()["checked"] is False
