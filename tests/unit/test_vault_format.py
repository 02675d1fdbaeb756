"""The vault file format: round trip, key slots, a version 1 file still opening, and a precise
error for every kind of damage."""

from __future__ import annotations

import os
import struct
from pathlib import Path

import pytest

from sidedesk.vault import format as fmt
from sidedesk.vault.kdf import ARGON2ID_DEFAULT, KdfParams, KdfParamsError, derive, password_bytes

SMALL = KdfParams.argon2id(memory_kib=64, iterations=1, lanes=1)
SALT = bytes(range(32))
DATA_KEY = bytes(range(100, 132))
KEYCHAIN_KEY = bytes(range(200, 232))
V1_FILE = Path(__file__).parent / "data" / "vault_v1.sdv"  # written by the version 1 code
V1_PASSWORD = "version one vault 2026"


def master(password: str, params: KdfParams = SMALL, salt: bytes = SALT) -> bytes:
    return derive(params, salt, password_bytes(password))


def keys_for(password: str, data: bytes) -> fmt.Keys:
    """The body keys, opened through the password slot of `data` (its KDF parameters and salt)."""
    header = fmt.decode_header(data)
    return fmt.split_key(fmt.data_key_from_password(header, master(password, header.params, header.salt)))


def make(
    plaintext: bytes = b'{"v":1,"entries":[]}', password: str = "right-horse-7", keychain: bool = False
) -> bytes:
    slots = fmt.Slots(
        fmt.password_slot(master(password), DATA_KEY),
        fmt.wrap(KEYCHAIN_KEY, DATA_KEY, fmt.KEYCHAIN_LABEL) if keychain else None,
    )
    return fmt.encode(SMALL, SALT, DATA_KEY, slots, plaintext, os.urandom(12))


def test_round_trip_and_fresh_nonce() -> None:
    a, b = make(b"hello"), make(b"hello")
    assert a != b  # a new nonce each write
    assert (
        a[fmt.FIELDS["nonce"][0] : fmt.FIELDS["nonce"][1]]
        != b[fmt.FIELDS["nonce"][0] : fmt.FIELDS["nonce"][1]]
    )
    header = fmt.decode_header(a)
    assert header.params == SMALL and header.salt == SALT and header.version == 2
    assert header.slots is not None and header.slots.keychain is None
    assert fmt.decrypt(header, keys_for("right-horse-7", a), a) == b"hello"
    assert a.startswith(fmt.MAGIC) and b"hello" not in a and DATA_KEY not in a


def test_wrong_password_is_not_damage() -> None:
    data = make()
    with pytest.raises(fmt.WrongPassword):
        keys_for("wrong-horse-7", data)


def test_the_keychain_slot_opens_the_same_data_key() -> None:
    data = make(b"both slots", keychain=True)
    header = fmt.decode_header(data)
    assert header.slots is not None and header.slots.keychain is not None
    assert data[fmt.FIELDS["slots"][0]] == fmt.KEYCHAIN_SLOT_BIT
    assert fmt.data_key_from_keychain(header, KEYCHAIN_KEY) == DATA_KEY
    assert fmt.data_key_from_password(header, master("right-horse-7")) == DATA_KEY
    assert fmt.decrypt(header, fmt.split_key(DATA_KEY), data) == b"both slots"
    with pytest.raises(fmt.SlotMismatch):  # another key (a stale keychain item) opens nothing
        fmt.data_key_from_keychain(header, bytes(32))
    with pytest.raises(fmt.SlotMismatch):  # and without a keychain slot there is nothing to open
        fmt.data_key_from_keychain(fmt.decode_header(make()), KEYCHAIN_KEY)
    assert fmt.decode_header(make()).raw[fmt.FIELDS["keychain_slot"][0] :] == bytes(fmt.SLOT_LEN)


def test_rewrapping_the_password_slot_keeps_the_keychain_slot_valid() -> None:
    old = fmt.decode_header(make(keychain=True))
    assert old.slots is not None
    new_salt = os.urandom(32)
    slots = fmt.Slots(fmt.password_slot(master("new-horse-8", salt=new_salt), DATA_KEY), old.slots.keychain)
    data = fmt.encode(SMALL, new_salt, DATA_KEY, slots, b"x", os.urandom(12))
    header = fmt.decode_header(data)
    assert fmt.data_key_from_keychain(header, KEYCHAIN_KEY) == DATA_KEY
    assert fmt.data_key_from_password(header, master("new-horse-8", salt=new_salt)) == DATA_KEY
    with pytest.raises(fmt.WrongPassword):
        fmt.data_key_from_password(header, master("right-horse-7", salt=new_salt))


def test_a_version_1_file_still_opens() -> None:
    data = V1_FILE.read_bytes()
    assert data[8:10] == b"\x00\x01"
    header = fmt.decode_header(data)
    assert header.version == 1 and header.slots is None and len(header.raw) == fmt.V1.header_len
    with pytest.raises(fmt.WrongPassword):
        fmt.data_key_from_password(header, master("not the password", header.params, header.salt))
    with pytest.raises(fmt.SlotMismatch):
        fmt.data_key_from_keychain(header, KEYCHAIN_KEY)
    key = fmt.data_key_from_password(header, master(V1_PASSWORD, header.params, header.salt))
    body = fmt.decrypt(header, fmt.split_key(key), data)
    assert b'"broker":"alpaca"' in body and b'"items"' in body
    damaged = bytearray(data)
    damaged[fmt.V1.preamble_len + 3] ^= 1
    with pytest.raises(fmt.VaultDamaged):
        fmt.decrypt(header, fmt.split_key(key), bytes(damaged))


def test_header_is_associated_data() -> None:
    """Re-sealing the checksum after editing the header still fails: the header is authenticated."""
    data = bytearray(make())
    data[fmt.FIELDS["salt"][0]] ^= 1
    data[fmt.NONCE_END : fmt.PREAMBLE_LEN] = (
        __import__("hashlib").sha256(bytes(data[: fmt.NONCE_END])).digest()
    )
    with pytest.raises(fmt.WrongPassword):  # the salt feeds the KDF: the password slot no longer opens
        keys_for("right-horse-7", bytes(data))
    # a forged field the KDF does not read: the slot opens, the key check (over the header) fails
    data = bytearray(make())
    data[fmt.FIELDS["keychain_slot"][0]] ^= 1
    data[fmt.NONCE_END : fmt.PREAMBLE_LEN] = (
        __import__("hashlib").sha256(bytes(data[: fmt.NONCE_END])).digest()
    )
    with pytest.raises(fmt.VaultDamaged):
        keys_for("right-horse-7", bytes(data))


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
    data = make(b'{"v":1,"entries":[{"x":"' + b"y" * 40 + b'"}]}', keychain=True)
    pw = master("right-horse-7")
    for pos in flip_positions(len(data))[field]:
        for bit in (0x01, 0x80):
            bad = bytearray(data)
            bad[pos] ^= bit
            with pytest.raises(fmt.VaultFormatError) as info:
                keys = fmt.split_key(fmt.data_key_from_password(fmt.decode_header(bytes(bad)), pw))
                fmt.decrypt(fmt.decode_header(bytes(bad)), keys, bytes(bad))
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
    struct.pack_into(">H", data, 8, 3)
    data[fmt.NONCE_END : fmt.PREAMBLE_LEN] = hashlib.sha256(bytes(data[: fmt.NONCE_END])).digest()
    with pytest.raises(fmt.UnsupportedVersion) as info:
        fmt.decode_header(bytes(data))
    assert info.value.version == 3 and "update Sidedesk" in str(info.value)


def test_unknown_slot_flags_ask_for_an_update() -> None:
    import hashlib

    data = bytearray(make())
    data[fmt.FIELDS["slots"][0]] = 0x02  # a slot kind a newer Sidedesk might add
    data[fmt.NONCE_END : fmt.PREAMBLE_LEN] = hashlib.sha256(bytes(data[: fmt.NONCE_END])).digest()
    with pytest.raises(fmt.VaultDamaged, match="update Sidedesk"):
        fmt.decode_header(bytes(data))


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
