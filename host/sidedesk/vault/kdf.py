"""Password -> 32-byte key. Argon2id with stored parameters; scrypt only where Argon2id is missing.

The default (64 MiB, t=3, p=4) is RFC 9106's second recommended option and Bitwarden's default.
Callers may pass other parameters explicitly (tests use tiny ones through the host config's
`vault_kdf`); the default itself is never lowered. Parameters read from a file are checked
against hard bounds before use, so a hostile or damaged header cannot ask for 100 GiB of RAM.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Literal

KEY_LEN = 32

KdfKind = Literal["argon2id", "scrypt"]
KDF_IDS: dict[KdfKind, int] = {"argon2id": 1, "scrypt": 2}
KDF_BY_ID: dict[int, KdfKind] = {v: k for k, v in KDF_IDS.items()}

# Hard bounds for parameters found in a file (and for explicit overrides).
ARGON2_MAX_MEMORY_KIB = 4 * 1024 * 1024  # 4 GiB
ARGON2_MAX_ITERATIONS = 100
ARGON2_MAX_LANES = 64
SCRYPT_MIN_LOG2_N, SCRYPT_MAX_LOG2_N = 10, 22
SCRYPT_MAX_R, SCRYPT_MAX_P = 32, 16


class KdfParamsError(ValueError):
    pass


@dataclass(frozen=True)
class KdfParams:
    """argon2id: (memory KiB, iterations, lanes). scrypt: (log2 N, r, p)."""

    kind: KdfKind
    a: int
    b: int
    c: int

    @classmethod
    def argon2id(cls, memory_kib: int, iterations: int, lanes: int) -> KdfParams:
        return cls("argon2id", memory_kib, iterations, lanes)

    @classmethod
    def scrypt(cls, log2_n: int, r: int, p: int) -> KdfParams:
        return cls("scrypt", log2_n, r, p)

    def check(self) -> None:
        """Raise KdfParamsError unless the parameters are within the hard bounds."""
        if self.kind == "argon2id":
            mem, it, lanes = self.a, self.b, self.c
            if not 1 <= lanes <= ARGON2_MAX_LANES:
                raise KdfParamsError(f"argon2id lanes {lanes} outside 1..{ARGON2_MAX_LANES}")
            if not 8 * lanes <= mem <= ARGON2_MAX_MEMORY_KIB:
                raise KdfParamsError(
                    f"argon2id memory {mem} KiB outside {8 * lanes}..{ARGON2_MAX_MEMORY_KIB}"
                )
            if not 1 <= it <= ARGON2_MAX_ITERATIONS:
                raise KdfParamsError(f"argon2id iterations {it} outside 1..{ARGON2_MAX_ITERATIONS}")
        else:
            log2_n, r, p = self.a, self.b, self.c
            if not SCRYPT_MIN_LOG2_N <= log2_n <= SCRYPT_MAX_LOG2_N:
                raise KdfParamsError(
                    f"scrypt log2(N) {log2_n} outside {SCRYPT_MIN_LOG2_N}..{SCRYPT_MAX_LOG2_N}"
                )
            if not (1 <= r <= SCRYPT_MAX_R and 1 <= p <= SCRYPT_MAX_P):
                raise KdfParamsError(f"scrypt r={r} p={p} outside 1..{SCRYPT_MAX_R} / 1..{SCRYPT_MAX_P}")

    def describe(self) -> str:
        if self.kind == "argon2id":
            mem = f"{self.a // 1024} MiB" if self.a % 1024 == 0 else f"{self.a} KiB"
            return f"Argon2id, {mem}, {self.b} passes, {self.c} lanes"
        return f"scrypt, N=2^{self.a}, r={self.b}, p={self.c}"


ARGON2ID_DEFAULT = KdfParams.argon2id(memory_kib=64 * 1024, iterations=3, lanes=4)
SCRYPT_DEFAULT = KdfParams.scrypt(log2_n=17, r=8, p=1)  # OWASP's scrypt minimum


def argon2_available() -> bool:
    try:
        from cryptography.hazmat.primitives.kdf.argon2 import Argon2id  # noqa: F401
    except ImportError:
        return False
    return True


def default_params() -> KdfParams:
    return ARGON2ID_DEFAULT if argon2_available() else SCRYPT_DEFAULT


def password_bytes(password: str) -> bytes:
    """NFC first: the same password typed on macOS (often NFD) and elsewhere must give one key."""
    return unicodedata.normalize("NFC", password).encode("utf-8")


def derive(params: KdfParams, salt: bytes, password: bytes) -> bytes:
    """Slow by design (about 0.15 s and 64 MiB at the default): call it from a worker thread."""
    params.check()
    if params.kind == "argon2id":
        from cryptography.hazmat.primitives.kdf.argon2 import Argon2id

        return Argon2id(
            salt=salt, length=KEY_LEN, iterations=params.b, lanes=params.c, memory_cost=params.a
        ).derive(password)
    from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

    return Scrypt(salt=salt, length=KEY_LEN, n=1 << params.a, r=params.b, p=params.c).derive(password)
