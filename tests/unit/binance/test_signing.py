"""Known-answer signatures from binance.md §3.3, and the payload rules around them."""

from __future__ import annotations

import base64
import json
from decimal import Decimal

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, padding, rsa

from sidedesk.brokers.binance.protocol import messages as m
from sidedesk.brokers.binance.protocol.signing import (
    KeyFormatError,
    make_signer,
    render_value,
    rest_payload,
    ws_payload,
)

KAT1_KEY = "dbefbc809e3e83c283a984c3a1459732ea7db1360ca80c5c2c8867408d28cc83"
KAT1_SECRET = "2b5eb11e18796d12d88f13dc27dbbd02c2cc51ff7059765ed9821957d82bb4d9"
KAT2_KEY = "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A"
KAT2_SECRET = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j"
KAT4_PEM = (
    "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIIJEYWtGBrhACmb9Dvy+qa8WEf0lQOl1s4CLIAB9m89u\n"
    "-----END PRIVATE KEY-----\n"
)
KAT4_PUBLIC = "MCowBQYDK2VwAyEAGUIKv9dSpWXBViXp2m6vAIb8QMFJYBgyFEQsFJlqgA0="


def test_kat1_rest_hmac() -> None:
    payload = (
        "symbol=BTCUSDT&side=BUY&type=LIMIT&quantity=1&price=9000&timeInForce=GTC"
        "&recvWindow=5000&timestamp=1591702613943"
    )
    assert make_signer(KAT1_SECRET).sign(rest_payload(payload)) == (
        "3c661234138461fcc7a7d8746c6558c9842d4e10870d2ecbedf7777cad694af9"
    )


def test_kat1b_rest_query_plus_body_is_concatenated_without_separator() -> None:
    signer = make_signer(KAT1_SECRET)
    query, body = (
        "symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC",
        "quantity=1&price=9000&recvWindow=5000&timestamp=",
    )
    # the docs' printed payload carries a stray space; the signature reproduces only with it
    assert signer.sign(rest_payload(query, body + " 1591702613943")) == (
        "f9d0ae5e813ef6ccf15c2b5a434047a0181cb5a342b903b367ca6d27a66e36f2"
    )
    assert signer.sign(rest_payload(query, body + "1591702613943")) == (
        "30baaf0fab549bbeda7f5ef201898b34122da25fd23c646cac2c529aebe670a4"
    )


KAT2_PARAMS: dict[str, str | int] = {
    "symbol": "BTCUSDT",
    "side": "SELL",
    "type": "LIMIT",
    "timeInForce": "GTC",
    "quantity": "0.01000000",
    "price": "52000.00",
    "recvWindow": 100,
    "timestamp": 1645423376532,
    "apiKey": KAT2_KEY,
}


def test_kat2_ws_sorted_payload_and_signature() -> None:
    payload = ws_payload(KAT2_PARAMS)
    assert payload == (
        f"apiKey={KAT2_KEY}&price=52000.00&quantity=0.01000000&recvWindow=100&side=SELL&symbol=BTCUSDT"
        "&timeInForce=GTC&timestamp=1645423376532&type=LIMIT"
    )
    assert (
        make_signer(KAT2_SECRET).sign(payload)
        == "aa1b5712c094bc4e57c05a1a5c1fd8d88dcd628338ea863fec7b88e59fe2db24"
    )


def test_kat2_non_ascii_symbol_is_signed_raw() -> None:
    params = dict(
        KAT2_PARAMS,
        symbol="１２３４５６",
        side="BUY",
        quantity="1.00000000",
        price="0.10000000",
        recvWindow=5000,
    )
    assert make_signer(KAT2_SECRET).sign(ws_payload(params)) == (
        "b33892ae8e687c939f4468c6268ddd4c40ac1af18ad19a064864c47bae0752cd"
    )


def test_signature_param_is_excluded_from_payload() -> None:
    assert ws_payload({"b": "2", "a": "1", "signature": "x"}) == "a=1&b=2"


def test_kat3_session_logon_example_is_hmac() -> None:
    creds = m.Credentials(KAT2_KEY, make_signer(KAT2_SECRET))
    params = m.ws_params(m.session_logon(), creds, timestamp=1649729878532)
    assert params["signature"] == "1cf54395b336b0a9727ef27d5d98987962bc47aca6e13fe978612d0adee066ed"
    assert "recvWindow" not in params


def test_kat4_ed25519_fix_vector() -> None:
    signer = make_signer(KAT4_PEM)
    assert signer.kind == "ed25519" and signer.supports_session_logon
    payload = "\x01".join(["A", "EXAMPLE", "SPOT", "1", "20240627-11:17:25.223"])
    assert signer.sign(payload) == (
        "4MHXelVVcpkdwuLbl6n73HQUXUf1dse2PCgT1DYqW9w8AVZ1RACFGM+5UdlGPrQHrgtS3CvsRURC1oj73j8gCA=="
    )
    key = serialization.load_pem_private_key(KAT4_PEM.encode(), None)
    assert isinstance(key, ed25519.Ed25519PrivateKey)
    spki = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    assert base64.b64encode(spki).decode() == KAT4_PUBLIC


DERIVED = {
    "apiKey": KAT1_KEY,
    "newClientOrderId": "sim:test/1",
    "price": "9000",
    "quantity": "1",
    "recvWindow": 5000,
    "side": "BUY",
    "symbol": "BTCUSDT",
    "timeInForce": "GTC",
    "timestamp": 1591702613943,
    "type": "LIMIT",
}


def test_derived_vectors_special_characters_raw_not_percent_encoded() -> None:
    assert make_signer(KAT1_SECRET).sign(ws_payload(DERIVED)) == (
        "4ce285e23aa8c1bc31f895d003fce509882f677c7431a68dace6dabbef3c0660"
    )
    assert make_signer(KAT4_PEM).sign(ws_payload(DERIVED)) == (
        "JLjj84VdmXoIR/XblKJ6HPEShYPA3ue/4MWe2wzG+Z7cXZF+KHQyBkcJa+Jzz6c+B+qLLXF1/cLAXiKcCRuGAg=="
    )


def test_derived_ed25519_session_logon() -> None:
    creds = m.Credentials(KAT1_KEY, make_signer(KAT4_PEM))
    params = m.ws_params(m.session_logon(), creds, timestamp=1591702613943)
    assert params["signature"] == (
        "p8pPGLrMBR3xw7yNSJbDAraI70lUKb8bNJT357s4H13282eT+y0sBjGMzM+H98R/3kLyfTR0pEvxrdZVTnd6DQ=="
    )


def test_kat5_ed25519_payload_construction() -> None:
    key = "4yNzx3yWC5bS6YTwEkSRaC0nRmSQIIStAUOh1b6kqaBrTLIhjCpI5lJH8q8R8WNO"
    assert ws_payload(dict(KAT2_PARAMS, apiKey=key)) == (
        f"apiKey={key}&price=52000.00&quantity=0.01000000&recvWindow=100&side=SELL&symbol=BTCUSDT"
        "&timeInForce=GTC&timestamp=1645423376532&type=LIMIT"
    )


def test_encoded_ws_request_verifies_with_the_simulator_reader() -> None:
    """What we put in the JSON is what the server rebuilds the payload from (sim's verifier)."""
    from sidedesk_sim.binance import auth

    creds = m.Credentials(KAT1_KEY, make_signer(KAT1_SECRET))
    call = m.WsCall(
        "order.place",
        {k: v for k, v in DERIVED.items() if k not in ("apiKey", "recvWindow", "timestamp")},
        "signed",
    )
    params = m.ws_params(call, creds, timestamp=1591702613943, recv_window=5000)
    assert params["signature"] == "4ce285e23aa8c1bc31f895d003fce509882f677c7431a68dace6dabbef3c0660"
    frame = json.loads(m.encode_ws("r1", "order.place", params), parse_float=str, parse_int=auth.RawNumber)
    sig = frame["params"].pop("signature")
    ident = next(i for i in auth.builtin_identities() if i.api_key == KAT1_KEY)
    assert auth.verify(ident, auth.ws_payload(frame["params"]), sig)


def test_logged_on_session_omits_key_and_signature_but_keeps_timestamp() -> None:
    creds = m.Credentials(KAT1_KEY, make_signer(KAT4_PEM))
    params = m.ws_params(m.account_status(), creds, timestamp=5, logged_on=True)
    assert params == {"timestamp": 5, "recvWindow": 5000}


def test_user_stream_calls_carry_only_the_api_key() -> None:
    creds = m.Credentials(KAT1_KEY, make_signer(KAT1_SECRET))
    assert m.ws_params(m.user_stream_start(), creds, timestamp=5) == {"apiKey": KAT1_KEY}


def test_rsa_signature_is_pkcs1v15_sha256_base64() -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    signer = make_signer(pem)
    assert signer.kind == "rsa" and not signer.supports_session_logon
    payload = "timestamp=1671090801999&recvWindow=9999999&symbol=BTCUSDT&side=SELL&type=MARKET&quantity=1.23"
    key.public_key().verify(
        base64.b64decode(signer.sign(payload)), payload.encode(), padding.PKCS1v15(), hashes.SHA256()
    )


def test_rest_encoding_percent_encodes_base64_signature_last() -> None:
    creds = m.Credentials(KAT1_KEY, make_signer(KAT4_PEM))
    req = m.encode_rest(m.change_leverage("BTCUSDT", 20), creds, timestamp=1591702613943)
    path, query = req.path_and_query.split("?")
    assert path == "/fapi/v1/leverage"
    body, sig = query.split("&signature=")
    assert body == "symbol=BTCUSDT&leverage=20&recvWindow=5000&timestamp=1591702613943"
    assert "+" not in sig and "/" not in sig and "=" not in sig  # %2B %2F %3D
    assert req.headers == {"X-MBX-APIKEY": KAT1_KEY}
    assert KAT1_KEY not in repr(req) and "signature" not in repr(creds)


def test_rest_hmac_matches_kat1_when_params_match() -> None:
    creds = m.Credentials(KAT1_KEY, make_signer(KAT1_SECRET))
    call = m.RestCall(
        "POST",
        "/fapi/v1/order",
        {
            "symbol": "BTCUSDT",
            "side": "BUY",
            "type": "LIMIT",
            "quantity": 1,
            "price": 9000,
            "timeInForce": "GTC",
        },
        "signed",
    )
    req = m.encode_rest(call, creds, timestamp=1591702613943)
    assert req.path_and_query.endswith(
        "&signature=3c661234138461fcc7a7d8746c6558c9842d4e10870d2ecbedf7777cad694af9"
    )


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (Decimal("1E+1"), "10"),
        (Decimal("0.00010"), "0.00010"),
        (True, "true"),
        (False, "false"),
        (5, "5"),
        ("x", "x"),
    ],
)
def test_render_value(value: Decimal | bool | int | str, text: str) -> None:
    assert render_value(value) == text


@pytest.mark.parametrize(
    "secret",
    ["", "   ", "abc def", "-----BEGIN PRIVATE KEY-----\nnot base64\n-----END PRIVATE KEY-----\n"],
)
def test_bad_secrets_are_refused_without_echoing_them(secret: str) -> None:
    with pytest.raises(KeyFormatError) as info:
        make_signer(secret)
    assert secret.strip() == "" or secret.strip() not in str(info.value)


def test_unsupported_pem_key_type() -> None:
    from cryptography.hazmat.primitives.asymmetric import ec

    pem = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    with pytest.raises(KeyFormatError, match="Ed25519 and RSA"):
        make_signer(pem.decode())
