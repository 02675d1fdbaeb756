"""Known-answer signature vectors of binance.md §3.3, verified by the simulator's checks."""

from __future__ import annotations

import json

from sidedesk_sim.binance.auth import (
    ED25519_API_KEY,
    KAT1_API_KEY,
    KAT1_SECRET,
    KAT2_API_KEY,
    KAT2_SECRET,
    KAT4_PRIVATE_PEM,
    KAT4_PUBLIC_PEM,
    Identity,
    RawNumber,
    builtin_identities,
    rest_payload,
    sign,
    verify,
    ws_payload,
    ws_payload_percent_encoded,
)

KAT1 = Identity(KAT1_API_KEY, "hmac", "a", secret=KAT1_SECRET)
KAT2 = Identity(KAT2_API_KEY, "hmac", "a", secret=KAT2_SECRET)
ED = Identity(KAT1_API_KEY, "ed25519", "a", public_pem=KAT4_PUBLIC_PEM, private_pem=KAT4_PRIVATE_PEM)


def test_kat1_rest_hmac() -> None:
    payload = (
        b"symbol=BTCUSDT&side=BUY&type=LIMIT&quantity=1&price=9000&timeInForce=GTC&recvWindow=5000"
        b"&timestamp=1591702613943"
    )
    sig = "3c661234138461fcc7a7d8746c6558c9842d4e10870d2ecbedf7777cad694af9"
    assert verify(KAT1, payload, sig)
    assert verify(KAT1, payload, sig.upper())  # HMAC hex compares case-insensitively
    assert not verify(KAT1, payload.replace(b"9000", b"9001"), sig)


def test_kat1b_query_plus_body_concatenated_without_separator() -> None:
    query = "symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC"
    body = "quantity=1&price=9000&recvWindow=5000&timestamp=1591702613943&signature=" + (
        "30baaf0fab549bbeda7f5ef201898b34122da25fd23c646cac2c529aebe670a4"
    )
    payload, sig = rest_payload(query, body)
    assert payload == (
        b"symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTCquantity=1&price=9000&recvWindow=5000"
        b"&timestamp=1591702613943"
    )
    assert sig is not None and verify(KAT1, payload, sig)
    # the docs' printed variant has a stray space after `timestamp=`; its signature matches only that text
    stray = payload.replace(b"timestamp=", b"timestamp= ")
    assert verify(KAT1, stray, "f9d0ae5e813ef6ccf15c2b5a434047a0181cb5a342b903b367ca6d27a66e36f2")
    assert not verify(KAT1, payload, "f9d0ae5e813ef6ccf15c2b5a434047a0181cb5a342b903b367ca6d27a66e36f2")


def test_rest_signature_may_sit_in_the_query() -> None:
    payload, sig = rest_payload("a=1&signature=abc%2B&b=2", "")
    assert payload == b"a=1&b=2" and sig == "abc+"


def _ws(text: str) -> dict[str, object]:
    params: dict[str, object] = json.loads(text, parse_float=RawNumber, parse_int=RawNumber)
    return params


def test_kat2_ws_sorted_raw_payload_keeps_number_literals() -> None:
    params = _ws(
        '{"symbol":"BTCUSDT","side":"SELL","type":"LIMIT","timeInForce":"GTC","quantity":0.01000000,'
        '"price":52000.00,"recvWindow":100,"timestamp":1645423376532,'
        f'"apiKey":"{KAT2_API_KEY}","signature":"aa1b5712c094bc4e57c05a1a5c1fd8d88dcd628338ea863fec7b88e59fe2db24"}}'
    )
    payload = ws_payload(params)
    assert payload.decode() == (
        f"apiKey={KAT2_API_KEY}&price=52000.00&quantity=0.01000000&recvWindow=100&side=SELL&symbol=BTCUSDT"
        "&timeInForce=GTC&timestamp=1645423376532&type=LIMIT"
    )
    assert verify(KAT2, payload, str(params["signature"]))


def test_kat2_non_ascii_signed_raw_not_percent_encoded() -> None:
    params: dict[str, object] = {
        "apiKey": KAT2_API_KEY, "price": "0.10000000", "quantity": "1.00000000", "recvWindow": "5000",
        "side": "BUY", "symbol": "１２３４５６", "timeInForce": "GTC", "timestamp": "1645423376532",
        "type": "LIMIT",
    }  # fmt: skip
    sig = "b33892ae8e687c939f4468c6268ddd4c40ac1af18ad19a064864c47bae0752cd"
    assert verify(KAT2, ws_payload(params), sig)
    assert not verify(KAT2, ws_payload_percent_encoded(params), sig)


def test_kat3_session_logon_example_is_hmac() -> None:
    payload = f"apiKey={KAT2_API_KEY}&timestamp=1649729878532".encode()
    assert verify(KAT2, payload, "1cf54395b336b0a9727ef27d5d98987962bc47aca6e13fe978612d0adee066ed")


def test_kat4_ed25519_fix_logon_vector() -> None:
    payload = b"\x01".join([b"A", b"EXAMPLE", b"SPOT", b"1", b"20240627-11:17:25.223"])
    sig = "4MHXelVVcpkdwuLbl6n73HQUXUf1dse2PCgT1DYqW9w8AVZ1RACFGM+5UdlGPrQHrgtS3CvsRURC1oj73j8gCA=="
    assert verify(ED, payload, sig)
    assert sign(ED, payload) == sig  # Ed25519 is deterministic
    assert not verify(ED, payload + b"x", sig)
    assert not verify(ED, payload, "not base64!!")


def test_derived_vectors_raw_vs_percent_encoded() -> None:
    params: dict[str, object] = {
        "apiKey": KAT1_API_KEY, "newClientOrderId": "sim:test/1", "price": "9000", "quantity": "1",
        "recvWindow": "5000", "side": "BUY", "symbol": "BTCUSDT", "timeInForce": "GTC",
        "timestamp": "1591702613943", "type": "LIMIT",
    }  # fmt: skip
    raw = ws_payload(params)
    assert verify(KAT1, raw, "4ce285e23aa8c1bc31f895d003fce509882f677c7431a68dace6dabbef3c0660")
    assert not verify(KAT1, raw, "ed6100d5a8b515f75f5d450a9ace702ef3e94feba293e026c18be4bd59f75960")
    assert verify(
        KAT1,
        ws_payload_percent_encoded(params),
        "ed6100d5a8b515f75f5d450a9ace702ef3e94feba293e026c18be4bd59f75960",
    )
    ed_sig = "JLjj84VdmXoIR/XblKJ6HPEShYPA3ue/4MWe2wzG+Z7cXZF+KHQyBkcJa+Jzz6c+B+qLLXF1/cLAXiKcCRuGAg=="
    assert verify(ED, raw, ed_sig)
    logon = f"apiKey={KAT1_API_KEY}&timestamp=1591702613943".encode()
    assert verify(
        ED, logon, "p8pPGLrMBR3xw7yNSJbDAraI70lUKb8bNJT357s4H13282eT+y0sBjGMzM+H98R/3kLyfTR0pEvxrdZVTnd6DQ=="
    )


def test_booleans_render_as_json_literals() -> None:
    assert ws_payload({"b": True, "a": False, "signature": "x"}) == b"a=false&b=true"


def test_builtin_identities_are_the_dossier_keys() -> None:
    keys = {i.api_key: i for i in builtin_identities()}
    assert keys[KAT1_API_KEY].secret == KAT1_SECRET
    assert keys[KAT2_API_KEY].secret == KAT2_SECRET
    assert keys[ED25519_API_KEY].kind == "ed25519"
    assert "privateKey" in keys[ED25519_API_KEY].describe()
