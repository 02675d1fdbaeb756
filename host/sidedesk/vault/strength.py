"""Refuse the weakest vault passwords (pure). Not a strength meter: a floor.

Refused: shorter than MIN_LENGTH; one character class only (all lower-case letters, all digits,
...); few distinct characters; keyboard or alphabet runs; and anything that is a common word or
password once case, leetspeak and leading/trailing digits and symbols are stripped
("P@ssw0rd2024!" -> "password"). The word list is small and built in: no downloads.
"""

from __future__ import annotations

MIN_LENGTH = 10
MAX_LENGTH = 1024

_WORDS = """
    password passwort motdepasse contrasena qwerty qwertz azerty asdf asdfgh asdfghjkl zxcvbn zxcvbnm
    qwertyuiop letmein welcome admin administrator root login master secret iloveyou love monkey dragon
    sunshine princess football baseball soccer hockey basketball superman batman shadow michael jordan
    trustno1 whatever freedom starwars pokemon charlie donald computer internet summer winter spring
    autumn hello hellothere changeme default guest test tester testing access abc abcdef abcdefgh
    mustang ninja killer pepper cheese chocolate cookie flower butterfly samsung apple google
    microsoft facebook linkedin yahoo hunter ranger buster thomas george daniel andrew joshua
    matthew robert jennifer jessica ashley nicole michelle amanda sidedesk vault binance tradovate
    volumetrica alpaca bitcoin ethereum crypto trading trader money dollar profit futures stocks
    lambo moon tothemoon hodl satoshi nakamoto wallet passphrase mypassword yourpassword newpassword
    oldpassword secure security private openup opensesame unlock tradingview
"""
COMMON = frozenset(_WORDS.split())

RUNS = (
    "abcdefghijklmnopqrstuvwxyz",
    "qwertyuiopasdfghjklzxcvbnm",
    "qwertzuiopasdfghjklyxcvbnm",
    "azertyuiopqsdfghjklmwxcvbn",
    "01234567890",
    "1qaz2wsx3edc4rfv5tgb6yhn",
)

LEET = str.maketrans(
    {"@": "a", "4": "a", "0": "o", "1": "i", "!": "i", "3": "e", "$": "s", "5": "s", "7": "t"}
)


def _classes(pw: str) -> int:
    kinds = (
        any(c.islower() for c in pw),
        any(c.isupper() for c in pw),
        any(c.isdigit() for c in pw),
        any(not c.isalnum() for c in pw),
    )
    return sum(kinds)


def _is_run(text: str) -> bool:
    """Entirely a stretch of a keyboard row or the alphabet, forwards or backwards."""
    if len(text) < 4:
        return False
    return any(text in run or text[::-1] in run for run in RUNS)


def _core(pw: str) -> str:
    """Lower-case, strip digits/symbols at both ends, undo common leetspeak."""
    low = pw.lower()
    stripped = low.strip("0123456789!@#$%^&*()_-+=.,;:?~ '\"")
    return stripped.translate(LEET)


def problem(password: str) -> str | None:
    """None if acceptable, else a short reason a person can act on (never echoing the password)."""
    if len(password) < MIN_LENGTH:
        return f"use at least {MIN_LENGTH} characters"
    if len(password) > MAX_LENGTH:
        return f"use at most {MAX_LENGTH} characters"
    if len(set(password)) < 5:
        return "use more different characters"
    low = password.lower()
    if _is_run(low) or _is_run(low.strip("0123456789")) or _is_run(_core(password)):
        return "a run of keyboard keys or letters is easy to guess"
    core = _core(password)
    if low in COMMON or core in COMMON or len(core) < 4 or core.rstrip("0123456789") in COMMON:
        return (
            "this is a common password (perhaps with digits or symbols added); choose a less predictable one"
        )
    halves = [core[: len(core) // 2], core[len(core) // 2 :]]
    if halves[0] == halves[1] and halves[0] in COMMON:
        return "this is a common password repeated"
    if _classes(password) < 2 and len(password) < 20:
        return "mix character kinds (letters with digits or symbols), or use a passphrase of 20+ characters"
    return None
