"""The vault file format, version 1 (pure: bytes in, bytes or errors out).

Layout, big-endian, fixed size up to the body:

    off  len  field
      0    8  magic  b"SDVAULT\\0"
      8    2  format version (1)
     10    1  KDF id (1 = Argon2id, 2 = scrypt)
     11   12  KDF parameters: three u32 (Argon2id: memory KiB, iterations, lanes; scrypt: log2 N, r, p)
     23   32  salt
     55    4  body length
     59   32  key check: HMAC-SHA256(check key, bytes 0..59)
     91   12  nonce (fresh for every write)
    103   32  checksum: SHA-256(bytes 0..103)
    135    *  body: AES-256-GCM(enc key, nonce, JSON entries, associated data = bytes 0..59)

Bytes 0..59 are the header proper: AES-GCM authenticates them as associated data, so a header
that was tampered with cannot decrypt. The two extra fields give precise errors, as KDBX 4's
header hash and header HMAC do: the unkeyed checksum tells "damaged" apart before the KDF runs
(and stops a damaged header from choosing KDF parameters), and the key check, verified before the
body, tells a wrong password apart from a damaged body. Both keys come from the KDF output by
HKDF-Expand with distinct labels.
"""

from __future__ import annotations

import hashlib
import hmac
import struct
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDFExpand

from sidedesk.vault.kdf import KDF_BY_ID, KDF_IDS, KdfParams, KdfParamsError

MAGIC = b"SDVAULT\x00"
FORMAT_VERSION = 1
SALT_LEN = 32
NONCE_LEN = 12
TAG_LEN = 16

_HEAD = struct.Struct(">8sHBIII32sI")  # magic .. body length
HEADER_LEN = _HEAD.size  # 59
CHECK_LEN = 32
KEYCHECK_END = HEADER_LEN + CHECK_LEN  # 91
NONCE_END = KEYCHECK_END + NONCE_LEN  # 103
PREAMBLE_LEN = NONCE_END + 32  # 135
MAX_BODY = 64 * 1024 * 1024

# Byte ranges by field, for documentation and the corruption tests.
FIELDS: dict[str, tuple[int, int]] = {
    "magic": (0, 8),
    "version": (8, 10),
    "kdf_id": (10, 11),
    "kdf_params": (11, 23),
    "salt": (23, 55),
    "body_length": (55, 59),
    "key_check": (59, KEYCHECK_END),
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
        super().__init__(
            f"the vault file has format version {version}, but this Sidedesk reads version {FORMAT_VERSION}; "
            "update Sidedesk (if you never ran a newer one, the file is damaged: restore the backup)"
        )
        self.version = version


class VaultDamaged(VaultFormatError):
    pass


class WrongPassword(Exception):
    def __init__(self, retry_after_s: int = 0) -> None:
        super().__init__("wrong password" + (f", try again in {retry_after_s} s" if retry_after_s else ""))
        self.retry_after_s = retry_after_s


@dataclass(frozen=True)
class Header:
    params: KdfParams
    salt: bytes
    body_len: int
    raw: bytes  # bytes 0..59, the associated data
    key_check: bytes
    nonce: bytes


@dataclass(frozen=True)
class Keys:
    enc: bytes
    check: bytes


def split_key(master: bytes) -> Keys:
    def expand(label: bytes) -> bytes:
        return HKDFExpand(algorithm=hashes.SHA256(), length=32, info=b"sidedesk vault v1 " + label).derive(
            master
        )

    return Keys(enc=expand(b"encryption"), check=expand(b"key check"))


def _pack_header(
    params: KdfParams, salt: bytes, body_len: int, magic: bytes = MAGIC, version: int = FORMAT_VERSION
) -> bytes:
    return _HEAD.pack(magic, version, KDF_IDS[params.kind], params.a, params.b, params.c, salt, body_len)


def encode(params: KdfParams, salt: bytes, keys: Keys, plaintext: bytes, nonce: bytes) -> bytes:
    """Serialize one vault file. `nonce` must be fresh (os.urandom(12)) for every call."""
    if len(salt) != SALT_LEN or len(nonce) != NONCE_LEN:
        raise ValueError("salt must be 32 bytes and nonce 12 bytes")
    header = _pack_header(params, salt, len(plaintext) + TAG_LEN)
    key_check = hmac.new(keys.check, header, hashlib.sha256).digest()
    pre = header + key_check + nonce
    body = AESGCM(keys.enc).encrypt(nonce, plaintext, header)
    return pre + hashlib.sha256(pre).digest() + body


def _checksum_ok(data: bytes) -> bool:
    return hmac.compare_digest(hashlib.sha256(data[:NONCE_END]).digest(), data[NONCE_END:PREAMBLE_LEN])


def decode_header(data: bytes) -> Header:
    """Everything that can be checked without the password. Raises a VaultFormatError subclass."""
    if not data:
        raise Truncated("the vault file is empty")
    if data[: len(MAGIC)] != MAGIC[: len(data)]:
        # A real vault whose magic got damaged still checks out with the true magic restored.
        if len(data) >= PREAMBLE_LEN and _checksum_ok(MAGIC + data[len(MAGIC) : PREAMBLE_LEN]):
            raise VaultDamaged("the vault file is damaged (its first bytes are corrupt)")
        raise NotAVault("this file is not a Sidedesk vault")
    if len(data) < PREAMBLE_LEN:
        raise Truncated(
            f"the vault file is truncated ({len(data)} bytes; the header alone is {PREAMBLE_LEN})"
        )
    (version,) = struct.unpack_from(">H", data, 8)
    if version != FORMAT_VERSION:
        if _checksum_ok(data[:8] + struct.pack(">H", FORMAT_VERSION) + data[10:PREAMBLE_LEN]):
            raise VaultDamaged("the vault file is damaged (its version field is corrupt)")
        raise UnsupportedVersion(version)
    if not _checksum_ok(data):
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
    actual = len(data) - PREAMBLE_LEN
    if actual < body_len:
        raise Truncated(f"the vault file is truncated ({actual} of {body_len} body bytes present)")
    if actual > body_len:
        raise VaultDamaged(f"the vault file has {actual - body_len} unexpected bytes at the end")
    return Header(
        params=params,
        salt=salt,
        body_len=body_len,
        raw=data[:HEADER_LEN],
        key_check=data[HEADER_LEN:KEYCHECK_END],
        nonce=data[KEYCHECK_END:NONCE_END],
    )


def check_key(header: Header, keys: Keys) -> None:
    """Raise WrongPassword unless `keys` came from the password this file was written with."""
    expected = hmac.new(keys.check, header.raw, hashlib.sha256).digest()
    if not hmac.compare_digest(expected, header.key_check):
        raise WrongPassword()


def decrypt(header: Header, keys: Keys, data: bytes) -> bytes:
    """The plaintext body. Call after `check_key`: a tag failure then means the body is damaged."""
    check_key(header, keys)
    try:
        return AESGCM(keys.enc).decrypt(header.nonce, data[PREAMBLE_LEN:], header.raw)
    except InvalidTag:
        raise VaultDamaged("the vault file is damaged (encrypted body fails authentication)") from None
