"""Entry validation per broker, masking, and that secrets stay out of reprs and errors."""

from __future__ import annotations

from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ec import SECP256R1, generate_private_key
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from sidedesk.vault.entries import (
    EntryInvalid,
    mask,
    merge_update,
    parse_entry,
    secret_values,
    summarize,
    to_storage,
)

SECRET = "S3cretS3cretS3cretS3cretX"


def ed25519_pem() -> str:
    return (
        Ed25519PrivateKey.generate()
        .private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        .decode()
    )


def binance(**over: Any) -> dict[str, Any]:
    return {
        "broker": "binance",
        "name": "main",
        "environment": "testnet",
        "auth": "hmac",
        "api_key": "AKEYabcdefghijklmnopWXYZ",
        "secret": SECRET,
        **over,
    }


def test_binance_hmac_and_summary_masks() -> None:
    e = parse_entry(binance())
    s = summarize(e)
    assert s.masked == {"api_key": "AKEY…WXYZ"} and s.secrets_set == ["secret"]
    dumped = s.model_dump_json()
    assert SECRET not in dumped and "abcdefghijklmnop" not in dumped
    assert SECRET not in repr(e) and SECRET not in str(e)
    assert to_storage(e)["secret"] == SECRET


def test_ed25519_pem_must_parse_and_be_ed25519() -> None:
    pem = ed25519_pem()
    e = parse_entry(binance(auth="ed25519", secret=None, private_key_pem=pem))
    assert summarize(e).secrets_set == ["private_key_pem"]
    assert pem.strip() in secret_values(e)
    with pytest.raises(EntryInvalid) as info:
        parse_entry(
            binance(auth="ed25519", secret=None, private_key_pem="-----BEGIN PRIVATE KEY-----\nnot base64\n")
        )
    assert info.value.errors[0]["field"] == "private_key_pem"
    ec = (
        generate_private_key(SECP256R1())
        .private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        .decode()
    )
    with pytest.raises(EntryInvalid, match="not Ed25519"):
        parse_entry(binance(auth="ed25519", secret=None, private_key_pem=ec))


@pytest.mark.parametrize(
    ("data", "field"),
    [
        (binance(secret=None), "(entry)"),  # HMAC without a secret
        (binance(api_key="short"), "api_key"),
        (binance(api_key="has space in the middle!!"), "api_key"),
        (binance(environment="paper"), "environment"),
        (binance(name=""), "name"),
        (binance(extra="x"), "extra"),
        (
            {
                "broker": "alpaca",
                "name": "a",
                "environment": "testnet",
                "key_id": "PKABCDEFGHIJKL",
                "secret_key": SECRET,
            },
            "environment",
        ),
        (
            {
                "broker": "tradovate",
                "name": "t",
                "environment": "demo",
                "username": "u",
                "password": "p",
                "cid": -1,
                "sec": SECRET,
            },
            "cid",
        ),
        (
            {"broker": "volumetrica", "name": "v", "environment": "demo", "login": "l", "password": "p"},
            "platform_key",
        ),
        ({"broker": "ftx", "name": "x"}, "broker"),
    ],
)
def test_bad_entries_name_the_field_and_never_echo_values(data: dict[str, Any], field: str) -> None:
    with pytest.raises(EntryInvalid) as info:
        parse_entry(data)
    assert field in [e["field"] for e in info.value.errors]
    text = str(info.value) + repr(info.value.errors)
    assert SECRET not in text and "PKABCDEFGHIJKL" not in text


def test_every_broker_parses() -> None:
    t = parse_entry(
        {
            "broker": "tradovate",
            "name": "t",
            "environment": "demo",
            "username": "joe",
            "password": "pw",
            "cid": 8,
            "sec": SECRET,
        }
    )
    v = parse_entry(
        {
            "broker": "volumetrica",
            "name": "v",
            "environment": "live",
            "login": "joe",
            "password": "pw",
            "platform_key": SECRET,
        }
    )
    a = parse_entry(
        {
            "broker": "alpaca",
            "name": "a",
            "environment": "demo",
            "key_id": "PKABCDEFGHIJKL",
            "secret_key": SECRET,
        }
    )
    assert summarize(t).secrets_set == ["password", "sec"]
    assert summarize(v).secrets_set == ["platform_key", "password"]
    assert summarize(a).masked == {"key_id": "PKAB…IJKL"}


def test_update_keeps_omitted_secrets_and_refuses_broker_change() -> None:
    e = parse_entry(binance())
    renamed = merge_update(
        e, {"id": e.id, "broker": "binance", "name": "renamed", "environment": "live", "auth": "hmac"}
    )
    assert renamed.name == "renamed" and to_storage(renamed)["secret"] == SECRET and renamed.id == e.id
    with pytest.raises(EntryInvalid, match="broker"):
        merge_update(e, {"id": e.id, "broker": "alpaca"})


def test_mask_hides_most_of_short_values() -> None:
    assert mask("ABCDEFGHIJKLMNOP") == "ABCD…MNOP"
    assert mask("ABCDEFG") == "AB…G"
    assert mask("ABC") == "…"
