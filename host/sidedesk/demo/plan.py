"""The demo's choices as pure functions: host settings, browser flags, price paths, a password.

Nothing here touches a file, a socket or a process, so every choice is unit tested.
"""

from __future__ import annotations

import random
import secrets
import string
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

from sidedesk.vault import strength

# Argon2id for the throwaway demo vault only: OWASP's minimum (19 MiB, t=2, p=1), so unlocking in
# the panel is quick. The product default (64 MiB, t=3, p=4) is untouched: this goes into the demo's
# own config file, which no other vault reads.
DEMO_KDF: dict[str, int] = {"memory_kib": 19 * 1024, "iterations": 2, "lanes": 1}

ACCOUNT_NAME = "Demo (simulator)"
WATCHLIST = ("BTCUSDT", "ETHUSDT", "SOLUSDT")
DEMO_SYMBOL = "BTCUSDT"
DEMO_NOTIONAL = "1000"  # USDT, below the default confirmation threshold (5000)
DEMO_LEVERAGE = 5

# Playwright adds its own flags; these are the ones both modes need (research/chrome.md §5.2).
BASE_FLAGS = (
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--no-default-browser-check",
)


def demo_config(simulator_url: str) -> dict[str, Any]:
    """The demo host's settings file (validated by the host as any other config)."""
    return {
        "simulators": {"binance": simulator_url},
        "watchlist": list(WATCHLIST),
        "vault_kdf": dict(DEMO_KDF),
        # Explicit, so the demo does not depend on the defaults changing; the ticket stays below it.
        "risk": {"max_orders_per_minute": 60, "confirm_above_notional": "5000"},
    }


def demo_entry(api_key: str, secret: str) -> dict[str, Any]:
    """The vault entry for the simulator's public HMAC test key (`vault.put` payload)."""
    return {
        "name": ACCOUNT_NAME,
        "broker": "binance",
        "environment": "simulator",
        "auth": "hmac",
        "api_key": api_key,
        "secret": secret,
    }


def extension_flags(extension_dir: Path) -> list[str]:
    # --disable-extensions-except also overrides Playwright's default --disable-extensions.
    return [f"--disable-extensions-except={extension_dir}", f"--load-extension={extension_dir}"]


def interactive_args(
    chromium: str, profile: Path, extension_dir: Path, urls: list[str], *, as_root: bool
) -> list[str]:
    """The command line of the visible demo browser: its own profile, the extension, the panel tab."""
    args = [chromium, f"--user-data-dir={profile}", *BASE_FLAGS, *extension_flags(extension_dir)]
    if as_root:
        args.append("--no-sandbox")  # Chromium refuses to run as root with its sandbox on
    return [*args, *urls]


def trend_path(seed: int, legs: int = 60, drift_pct: str = "0.04", noise_pct: str = "0.12") -> str:
    """A gently rising, slightly wavy scripted price path for `/_sim/path` (~10 min at 60 legs).

    Each leg lasts 5-15 s and moves by drift ± noise percent, so the chart looks alive and the
    trend is up on average. Deterministic for a seed.
    """
    if legs < 1:
        raise ValueError("a path needs at least one leg")
    rng = random.Random(seed)
    drift, noise = Decimal(drift_pct), Decimal(noise_pct)
    out = []
    for _ in range(legs):
        seconds = rng.randint(5, 15)
        u = Decimal(rng.randint(-1000, 1000)) / Decimal(1000)
        move = (drift + noise * u).quantize(Decimal("0.001"), ROUND_HALF_UP)
        out.append(f"{'+' if move >= 0 else '-'}{abs(move)}% over {seconds}s")
    return ", ".join(out)


def path_seconds(path: str) -> int:
    """Total duration of a path made by `trend_path` (to know when to re-arm it)."""
    total = 0
    for leg in path.split(","):
        total += int(leg.strip().rsplit(" ", 1)[1].rstrip("s"))
    return total


@dataclass(frozen=True)
class LevelTarget:
    level: int  # 1-based ASL level
    profit_pct: Decimal  # where the level starts
    price: Decimal  # the price the scripted run drives to (a little past the threshold)


def level_targets(
    entry: Decimal, profits_pct: list[Decimal], tick: Decimal, margin_pct: Decimal = Decimal("0.4")
) -> list[LevelTarget]:
    """Prices that put a long position from `entry` safely past each level's profit threshold.

    The margin covers the mark price sitting a little off the last price. Rounded up to the tick.
    """
    out = []
    for i, pct in enumerate(profits_pct, start=1):
        raw = entry * (1 + (pct + margin_pct) / 100)
        price = (raw / tick).to_integral_value(rounding="ROUND_CEILING") * tick
        out.append(LevelTarget(i, pct, price))
    return out


def run_up_path(
    start: Decimal, target: Decimal, tick: Decimal, pullback_pct: Decimal, seconds: int = 4
) -> str:
    """A `/_sim/path` that walks the price from `start` to `target` in `seconds`, with one small dip
    on the way (so the chart looks like a market, and the dip is too small to trip a trailing stop)."""
    if seconds < 3:
        raise ValueError("the run needs at least 3 s")
    if not 0 <= pullback_pct < 1:
        raise ValueError("the pullback must be below 1 %")
    up = start + (target - start) * Decimal("0.6")
    dip = up * (1 - pullback_pct / 100)

    def q(p: Decimal) -> str:
        return f"{(p / tick).to_integral_value(rounding='ROUND_HALF_UP') * tick:f}"

    first = seconds // 2
    return f"={q(up)} over {first}s, ={q(dip)} over 1s, ={q(target)} over {seconds - first - 1}s"


def warm_up_path() -> str:
    """A few seconds of gentle movement before the buy, so the chart has a past."""
    return "+0.12% over 1500ms, -0.06% over 1s, +0.1% over 1500ms"


def pullback_for(callbacks_pct: list[Decimal]) -> Decimal:
    """A dip well inside the tightest trailing callback (a quarter of it, at most 0.25 %)."""
    return min([Decimal("0.25"), *(c / 4 for c in callbacks_pct)])


_ALPHABET = string.ascii_letters + string.digits


def make_password(rng: secrets.SystemRandom | random.Random | None = None) -> str:
    """A readable random password the vault's strength floor accepts: four groups of five."""
    r = rng or secrets.SystemRandom()
    while True:
        groups = ["".join(r.choice(_ALPHABET) for _ in range(5)) for _ in range(4)]
        pw = "-".join(groups)
        if strength.problem(pw) is None:
            return pw
