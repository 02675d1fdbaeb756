"""The vault file format, version 2 (pure: bytes in, bytes or errors out); version 1 still opens.

Version 2 layout, big-endian, fixed size up to the body:

    off  len  field
      0    8  magic  b"SDVAULT\\0"
      8    2  format version (2)
     10    1  KDF id (1 = Argon2id, 2 = scrypt)
     11   12  KDF parameters: three u32 (Argon2id: memory KiB, iterations, lanes; scrypt: log2 N, r, p)
     23   32  salt
     55    4  body length
     59    1  key slots: bit 0 = the keychain slot is in use (other bits must be 0)
     60   60  password slot: nonce 12 ‖ AES-256-GCM(password slot key, data key) 48
    120   60  keychain slot: nonce 12 ‖ AES-256-GCM(keychain key, data key) 48 (zeros when unused)
    180   32  key check: HMAC-SHA256(check key, bytes 0..180)
    212   12  nonce (fresh for every write)
    224   32  checksum: SHA-256(bytes 0..224)
    256    *  body: AES-256-GCM(enc key, nonce, JSON entries, associated data = bytes 0..180)

The body is encrypted under a random 256-bit data key (its encryption and key-check keys come from
it by HKDF-Expand with distinct labels). Each key slot wraps that data key, as LUKS does: the
password slot with a key expanded from the KDF output, the optional keychain slot with a random
key kept in the OS keychain (unattended unlock). Changing the password rewraps the password slot
only, so the keychain slot stays valid. A slot that does not open means a wrong password (or a
stale keychain item); the key check, verified before the body, then tells damage apart.

Bytes 0..180 are the header proper: AES-GCM authenticates them as associated data, so a header
that was tampered with cannot decrypt. The unkeyed checksum tells "damaged" apart before the KDF
runs (and stops a damaged header from choosing KDF parameters), as KDBX 4's header hash does.

Version 1 (written before key slots existed) has no slots: the KDF output itself is the data
key, bytes 0..59 are the header proper, then key check, nonce, checksum (to 135) and the body.
It is read, never written: the next write of an opened version 1 vault is version 2.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import struct
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDFExpand

from sidedesk.vault.kdf import KDF_BY_ID, KDF_IDS, KdfParams, KdfParamsError

MAGIC = b"SDVAULT\x00"
FORMAT_VERSION = 2
SALT_LEN = 32
NONCE_LEN = 12
TAG_LEN = 16
KEY_LEN = 32
SLOT_LEN = NONCE_LEN + KEY_LEN + TAG_LEN  # 60
KEYCHAIN_SLOT_BIT = 0x01
PASSWORD_LABEL = b"sidedesk vault v2 password slot"
KEYCHAIN_LABEL = b"sidedesk vault v2 keychain slot"

_HEAD = struct.Struct(">8sHBIII32sI")  # magic .. body length (both versions)
_VERSION = struct.Struct(">H")


@dataclass(frozen=True)
class Layout:
    version: int
    header_len: int  # the header proper: authenticated as associated data

    @property
    def keycheck_end(self) -> int:
        return self.header_len + 32

    @property
    def nonce_end(self) -> int:
        return self.keycheck_end + NONCE_LEN

    @property
    def preamble_len(self) -> int:
        return self.nonce_end + 32


V1 = Layout(1, _HEAD.size)  # 59
V2 = Layout(2, _HEAD.size + 1 + 2 * SLOT_LEN)  # 180
LAYOUTS = {1: V1, 2: V2}
HEADER_LEN = V2.header_len
KEYCHECK_END = V2.keycheck_end  # 212
NONCE_END = V2.nonce_end  # 224
PREAMBLE_LEN = V2.preamble_len  # 256
MAX_BODY = 64 * 1024 * 1024
_SLOTS_AT = _HEAD.size  # 59
_PASSWORD_AT = _SLOTS_AT + 1  # 60
_KEYCHAIN_AT = _PASSWORD_AT + SLOT_LEN  # 120

# Byte ranges by field (version 2), for documentation and the corruption tests.
FIELDS: dict[str, tuple[int, int]] = {
    "magic": (0, 8),
    "version": (8, 10),
    "kdf_id": (10, 11),
    "kdf_params": (11, 23),
    "salt": (23, 55),
    "body_length": (55, 59),
    "slots": (_SLOTS_AT, _PASSWORD_AT),
    "password_slot": (_PASSWORD_AT, _KEYCHAIN_AT),
    "keychain_slot": (_KEYCHAIN_AT, HEADER_LEN),
    "key_check": (HEADER_LEN, KEYCHECK_END),
    "nonce": (KEYCHECK_END, NONCE_END),
    "checksum": (NONCE_END, PREAMBLE_LEN),
}


class VaultFormatError(Exception):
    """The file cannot be opened whatever the password. Messages never contain file contents."""


class NotAVault(VaultFormatError):
    pass


class Truncated(VaultFormatError):
    pass


class UnsupportedVersion(VaultFormatError):
    def __init__(self, version: int) -> None:
        known = " and ".join(str(v) for v in LAYOUTS)
        super().__init__(
            f"the vault file has format version {version}, but this Sidedesk reads versions {known}; "
            "update Sidedesk (if you never ran a newer one, the file is damaged: restore the backup)"
        )
        self.version = version


class VaultDamaged(VaultFormatError):
    pass


class WrongPassword(Exception):
    def __init__(self, retry_after_s: int = 0) -> None:
        super().__init__("wrong password" + (f", try again in {retry_after_s} s" if retry_after_s else ""))
        self.retry_after_s = retry_after_s


class SlotMismatch(Exception):
    """The keychain key does not open this vault's keychain slot (a stale or foreign item)."""


@dataclass(frozen=True)
class Slots:
    password: bytes  # SLOT_LEN bytes
    keychain: bytes | None = None  # SLOT_LEN bytes, or None: unattended unlock is off


@dataclass(frozen=True)
class Header:
    params: KdfParams
    salt: bytes
    body_len: int
    raw: bytes  # the header proper, the associated data
    key_check: bytes
    nonce: bytes
    version: int = FORMAT_VERSION
    slots: Slots | None = None  # None in a version 1 file

    @property
    def layout(self) -> Layout:
        return LAYOUTS[self.version]


@dataclass(frozen=True)
class Keys:
    enc: bytes
    check: bytes


def split_key(data_key: bytes) -> Keys:
    def expand(label: bytes) -> bytes:
        return HKDFExpand(algorithm=hashes.SHA256(), length=32, info=b"sidedesk vault v1 " + label).derive(
            data_key
        )

    return Keys(enc=expand(b"encryption"), check=expand(b"key check"))


# -- key slots --------------------------------------------------------------------------------------
def password_slot_key(master: bytes) -> bytes:
    """The key that wraps the data key in the password slot, from the KDF output."""
    return HKDFExpand(algorithm=hashes.SHA256(), length=KEY_LEN, info=PASSWORD_LABEL).derive(master)


def wrap(key: bytes, data_key: bytes, label: bytes) -> bytes:
    """A key slot: `data_key` sealed under `key` (fresh nonce), bound to the slot's `label`."""
    if len(key) != KEY_LEN or len(data_key) != KEY_LEN:
        raise ValueError("slot keys are 32 bytes")
    nonce = os.urandom(NONCE_LEN)
    return nonce + AESGCM(key).encrypt(nonce, data_key, label)


def unwrap(key: bytes, slot: bytes, label: bytes) -> bytes | None:
    """The data key in `slot`, or None if `key` does not open it."""
    if len(key) != KEY_LEN or len(slot) != SLOT_LEN:
        return None
    try:
        return AESGCM(key).decrypt(slot[:NONCE_LEN], slot[NONCE_LEN:], label)
    except InvalidTag:
        return None


def password_slot(master: bytes, data_key: bytes) -> bytes:
    return wrap(password_slot_key(master), data_key, PASSWORD_LABEL)


def data_key_from_password(header: Header, master: bytes) -> bytes:
    """The key the body is encrypted under, given the KDF output of a password. Raises
    WrongPassword if it is not this file's password (VaultDamaged if the slot opens but the
    key check then fails: only a forged header does that)."""
    if header.slots is None:  # version 1: the KDF output is the data key
        check_key(header, split_key(master))
        return master
    data_key = unwrap(password_slot_key(master), header.slots.password, PASSWORD_LABEL)
    if data_key is None:
        raise WrongPassword()
    _check_opened(header, data_key)
    return data_key


def data_key_from_keychain(header: Header, keychain_key: bytes) -> bytes:
    """The data key through the keychain slot. Raises SlotMismatch if the file has no keychain
    slot or `keychain_key` does not open it."""
    slot = header.slots.keychain if header.slots is not None else None
    data_key = None if slot is None else unwrap(keychain_key, slot, KEYCHAIN_LABEL)
    if data_key is None:
        raise SlotMismatch()
    _check_opened(header, data_key)
    return data_key


def _check_opened(header: Header, data_key: bytes) -> None:
    try:
        check_key(header, split_key(data_key))
    except WrongPassword:
        raise VaultDamaged("the vault file is damaged (its key check does not match its key slot)") from None


# -- writing ----------------------------------------------------------------------------------------
def _pack_header(params: KdfParams, salt: bytes, body_len: int, slots: Slots) -> bytes:
    head = _HEAD.pack(
        MAGIC, FORMAT_VERSION, KDF_IDS[params.kind], params.a, params.b, params.c, salt, body_len
    )
    keychain = slots.keychain if slots.keychain is not None else bytes(SLOT_LEN)
    flags = KEYCHAIN_SLOT_BIT if slots.keychain is not None else 0
    return head + bytes([flags]) + slots.password + keychain


def encode(
    params: KdfParams, salt: bytes, data_key: bytes, slots: Slots, plaintext: bytes, nonce: bytes
) -> bytes:
    """Serialize one version 2 vault file. `nonce` must be fresh (os.urandom(12)) for every call."""
    if len(salt) != SALT_LEN or len(nonce) != NONCE_LEN or len(data_key) != KEY_LEN:
        raise ValueError("salt must be 32 bytes, nonce 12 bytes and the data key 32 bytes")
    if len(slots.password) != SLOT_LEN or (slots.keychain is not None and len(slots.keychain) != SLOT_LEN):
        raise ValueError(f"key slots are {SLOT_LEN} bytes")
    keys = split_key(data_key)
    header = _pack_header(params, salt, len(plaintext) + TAG_LEN, slots)
    key_check = hmac.new(keys.check, header, hashlib.sha256).digest()
    pre = header + key_check + nonce
    body = AESGCM(keys.enc).encrypt(nonce, plaintext, header)
    return pre + hashlib.sha256(pre).digest() + body


# -- reading ----------------------------------------------------------------------------------------
def _checksum_ok(layout: Layout, data: bytes) -> bool:
    if len(data) < layout.preamble_len:
        return False
    return hmac.compare_digest(
        hashlib.sha256(data[: layout.nonce_end]).digest(), data[layout.nonce_end : layout.preamble_len]
    )


def decode_header(data: bytes) -> Header:
    """Everything that can be checked without the password. Raises a VaultFormatError subclass."""
    if not data:
        raise Truncated("the vault file is empty")
    if data[: len(MAGIC)] != MAGIC[: len(data)]:
        # A real vault whose magic got damaged still checks out with the true magic restored.
        fixed = MAGIC + data[len(MAGIC) :]
        if any(_checksum_ok(layout, fixed) for layout in LAYOUTS.values()):
            raise VaultDamaged("the vault file is damaged (its first bytes are corrupt)")
        raise NotAVault("this file is not a Sidedesk vault")
    if len(data) < _HEAD.size:  # not even the fields both versions share
        raise Truncated(
            f"the vault file is truncated ({len(data)} bytes; the header alone is {PREAMBLE_LEN})"
        )
    (version,) = _VERSION.unpack_from(data, 8)
    layout = LAYOUTS.get(version)
    if layout is None:
        for known in LAYOUTS.values():
            if _checksum_ok(known, data[:8] + _VERSION.pack(known.version) + data[10:]):
                raise VaultDamaged("the vault file is damaged (its version field is corrupt)")
        raise UnsupportedVersion(version)
    if len(data) < layout.preamble_len:
        raise Truncated(
            f"the vault file is truncated ({len(data)} bytes; the header alone is {layout.preamble_len})"
        )
    if not _checksum_ok(layout, data):
        raise VaultDamaged("the vault file is damaged (header checksum mismatch)")
    _, _, kdf_id, a, b, c, salt, body_len = _HEAD.unpack_from(data)
    kind = KDF_BY_ID.get(kdf_id)
    if kind is None:
        raise VaultDamaged(f"the vault file names an unknown key-derivation function (id {kdf_id})")
    params = KdfParams(kind, a, b, c)
    try:
        params.check()
    except KdfParamsError as exc:
        raise VaultDamaged(f"the vault file has unusable key-derivation parameters: {exc}") from None
    if not TAG_LEN <= body_len <= MAX_BODY:
        raise VaultDamaged(f"the vault file declares an impossible body length ({body_len})")
    actual = len(data) - layout.preamble_len
    if actual < body_len:
        raise Truncated(f"the vault file is truncated ({actual} of {body_len} body bytes present)")
    if actual > body_len:
        raise VaultDamaged(f"the vault file has {actual - body_len} unexpected bytes at the end")
    return Header(
        params=params,
        salt=salt,
        body_len=body_len,
        raw=data[: layout.header_len],
        key_check=data[layout.header_len : layout.keycheck_end],
        nonce=data[layout.keycheck_end : layout.nonce_end],
        version=version,
        slots=_slots(data) if version >= 2 else None,
    )


def _slots(data: bytes) -> Slots:
    flags = data[_SLOTS_AT]
    if flags & ~KEYCHAIN_SLOT_BIT:
        raise VaultDamaged(
            f"the vault file uses key slots this Sidedesk does not know (flags {flags:#04x}): update Sidedesk"
        )
    keychain = data[_KEYCHAIN_AT:HEADER_LEN] if flags & KEYCHAIN_SLOT_BIT else None
    return Slots(password=data[_PASSWORD_AT:_KEYCHAIN_AT], keychain=keychain)


def check_key(header: Header, keys: Keys) -> None:
    """Raise WrongPassword unless `keys` are the ones this file was written with."""
    expected = hmac.new(keys.check, header.raw, hashlib.sha256).digest()
    if not hmac.compare_digest(expected, header.key_check):
        raise WrongPassword()


def decrypt(header: Header, keys: Keys, data: bytes) -> bytes:
    """The plaintext body. Call after `check_key`: a tag failure then means the body is damaged."""
    check_key(header, keys)
    try:
        return AESGCM(keys.enc).decrypt(header.nonce, data[header.layout.preamble_len :], header.raw)
    except InvalidTag:
        raise VaultDamaged("the vault file is damaged (encrypted body fails authentication)") from None
