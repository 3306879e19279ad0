"""EIP-2612 permits: the typed data a wallet signs, signed by a dev key, recovers to its owner."""

from __future__ import annotations

from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_utils.crypto import keccak

from marketplace.chain.token import (
    for_wallet,
    permit_typed_data,
    recover_permit_signer,
    sign_permit,
)

KEY = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d"
OWNER = Account.from_key(KEY)
TOKEN = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
MARKET = "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512"


def _typed() -> dict[str, object]:
    return permit_typed_data(
        token_name="Demo USD",
        token_address=TOKEN,
        chain_id=31337,
        owner=OWNER.address,
        spender=MARKET,
        value=25_000_000,
        nonce=0,
        deadline=2_000_000_000,
    )


def test_a_dev_signed_permit_recovers_to_its_owner() -> None:
    typed = _typed()
    permit = sign_permit(typed, OWNER)
    assert permit.value == 25_000_000 and permit.deadline == 2_000_000_000
    assert permit.v in (27, 28) and len(permit.r) == 32 and len(permit.s) == 32
    assert recover_permit_signer(typed, permit) == OWNER.address


def test_the_domain_is_openzeppelins_erc20_permit_domain() -> None:
    typed = _typed()
    domain_type = keccak(
        text="EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"
    )
    from eth_abi.abi import encode

    separator = keccak(
        encode(
            ["bytes32", "bytes32", "bytes32", "uint256", "address"],
            [domain_type, keccak(text="Demo USD"), keccak(text="1"), 31337, TOKEN],
        )
    )
    signable = encode_typed_data(full_message=typed)
    assert signable.header == separator


def test_the_wallet_form_keeps_big_numbers_as_strings() -> None:
    wallet = for_wallet(_typed())
    assert wallet["message"]["value"] == "25000000"
    assert wallet["domain"]["chainId"] == 31337
    assert wallet["primaryType"] == "Permit"
