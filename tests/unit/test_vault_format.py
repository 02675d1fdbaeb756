"""The vault file format: round trip, and a precise error for every kind of damage."""

from __future__ import annotations

import os
import struct

import pytest

from sidedesk.vault import format as fmt
from sidedesk.vault.kdf import ARGON2ID_DEFAULT, KdfParams, KdfParamsError, derive, password_bytes

SMALL = KdfParams.argon2id(memory_kib=64, iterations=1, lanes=1)
SALT = bytes(range(32))


def keys_for(password: str, params: KdfParams = SMALL, salt: bytes = SALT) -> fmt.Keys:
    return fmt.split_key(derive(params, salt, password_bytes(password)))


def make(plaintext: bytes = b'{"v":1,"entries":[]}', password: str = "right-horse-7") -> bytes:
    return fmt.encode(SMALL, SALT, keys_for(password), plaintext, os.urandom(12))


def test_round_trip_and_fresh_nonce() -> None:
    a, b = make(b"hello"), make(b"hello")
    assert a != b  # a new nonce each write
    assert (
        a[fmt.FIELDS["nonce"][0] : fmt.FIELDS["nonce"][1]]
        != b[fmt.FIELDS["nonce"][0] : fmt.FIELDS["nonce"][1]]
    )
    header = fmt.decode_header(a)
    assert header.params == SMALL and header.salt == SALT
    assert fmt.decrypt(header, keys_for("right-horse-7"), a) == b"hello"
    assert a.startswith(fmt.MAGIC) and b"hello" not in a


def test_wrong_password_is_not_damage() -> None:
    data = make()
    with pytest.raises(fmt.WrongPassword):
        fmt.decrypt(fmt.decode_header(data), keys_for("wrong-horse-7"), data)


def test_header_is_associated_data() -> None:
    """Re-sealing the checksum after editing the header still fails: the header is authenticated."""
    data = bytearray(make())
    data[fmt.FIELDS["salt"][0]] ^= 1
    data[fmt.NONCE_END : fmt.PREAMBLE_LEN] = (
        __import__("hashlib").sha256(bytes(data[: fmt.NONCE_END])).digest()
    )
    header = fmt.decode_header(bytes(data))
    with pytest.raises(fmt.WrongPassword):  # the key check covers the header, so the forgery cannot pass
        fmt.decrypt(header, keys_for("right-horse-7"), bytes(data))


def flip_positions(n: int) -> dict[str, list[int]]:
    classes = {name: [lo, hi - 1] for name, (lo, hi) in fmt.FIELDS.items()}
    classes["ciphertext"] = [fmt.PREAMBLE_LEN, n - fmt.TAG_LEN - 1]
    classes["tag"] = [n - fmt.TAG_LEN, n - 1]
    return classes


@pytest.mark.parametrize(
    "field",
    [*fmt.FIELDS, "ciphertext", "tag"],
)
def test_a_flipped_byte_anywhere_is_damage_not_a_wrong_password(field: str) -> None:
    data = make(b'{"v":1,"entries":[{"x":"' + b"y" * 40 + b'"}]}')
    for pos in flip_positions(len(data))[field]:
        for bit in (0x01, 0x80):
            bad = bytearray(data)
            bad[pos] ^= bit
            with pytest.raises(fmt.VaultFormatError) as info:
                fmt.decrypt(fmt.decode_header(bytes(bad)), keys_for("right-horse-7"), bytes(bad))
            assert isinstance(info.value, fmt.VaultDamaged), (field, pos, type(info.value))
            assert "damaged" in str(info.value)


def test_truncated_at_every_length_class() -> None:
    data = make()
    for n in (0, 3, 8, 20, fmt.PREAMBLE_LEN - 1, fmt.PREAMBLE_LEN, len(data) - 1):
        with pytest.raises(fmt.Truncated):
            fmt.decode_header(data[:n])


def test_trailing_garbage_is_damage() -> None:
    with pytest.raises(fmt.VaultDamaged):
        fmt.decode_header(make() + b"\x00")


def test_not_a_vault() -> None:
    for junk in (b"{}", b"PK\x03\x04" + bytes(200), b"hello world, this is a text file" * 10):
        with pytest.raises(fmt.NotAVault):
            fmt.decode_header(junk)


def test_newer_version_is_reported_as_such() -> None:
    """A genuine newer file (its checksum covers its own version) asks for an update."""
    import hashlib

    data = bytearray(make())
    struct.pack_into(">H", data, 8, 2)
    data[fmt.NONCE_END : fmt.PREAMBLE_LEN] = hashlib.sha256(bytes(data[: fmt.NONCE_END])).digest()
    with pytest.raises(fmt.UnsupportedVersion) as info:
        fmt.decode_header(bytes(data))
    assert info.value.version == 2 and "update Sidedesk" in str(info.value)


def test_hostile_kdf_parameters_are_refused_before_deriving() -> None:
    import hashlib

    data = bytearray(make())
    struct.pack_into(">I", data, 11, 64 * 1024 * 1024)  # 64 GiB of memory
    data[fmt.NONCE_END : fmt.PREAMBLE_LEN] = hashlib.sha256(bytes(data[: fmt.NONCE_END])).digest()
    with pytest.raises(fmt.VaultDamaged, match="key-derivation"):
        fmt.decode_header(bytes(data))


def test_default_kdf_is_the_strong_one() -> None:
    assert KdfParams.argon2id(65536, 3, 4) == ARGON2ID_DEFAULT
    with pytest.raises(KdfParamsError):
        KdfParams.argon2id(8, 1, 4).check()  # below 8 KiB per lane
    with pytest.raises(KdfParamsError):
        KdfParams.scrypt(30, 8, 1).check()


def test_scrypt_fallback_derives() -> None:
    params = KdfParams.scrypt(10, 8, 1)
    assert len(derive(params, SALT, b"pw")) == 32


def test_password_is_nfc_normalised() -> None:
    assert password_bytes("cafe\u0301-latte") == password_bytes("caf\u00e9-latte")
