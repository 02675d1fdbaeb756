"""What a token limited to some broker accounts may see of each topic. Pure.

Rows carry their `account_id`; rows of other accounts are removed and totals are recomputed
over what remains, so nothing about another account leaks through a sum. Quotes are market
data, but the symbols an account trades are not: a limited token sees the quotes of the
watchlist and of its own accounts' positions and open orders. A token for every account
(`accounts is None`) sees the desk's views as they are. A token limited to a vault entry sees
every account of that entry's login (`ENTRY:ACCOUNT`, core/link_ids.py).
"""

from __future__ import annotations

from collections.abc import Collection
from decimal import Decimal, InvalidOperation
from typing import Any

from sidedesk.core.link_ids import split_link_id
from sidedesk.core.views import MONEY_PLACES, dec

Scope = frozenset[str] | None


def _sees(account_id: Any, accounts: frozenset[str]) -> bool:
    """The account itself, or the vault entry (login) it belongs to, is in the token's scope."""
    if not isinstance(account_id, str):
        return False
    return account_id in accounts or split_link_id(account_id)[0] in accounts


def _rows(payload: Any, key: str, accounts: frozenset[str]) -> list[Any]:
    rows = payload.get(key, []) if isinstance(payload, dict) else []
    return [r for r in rows if isinstance(r, dict) and _sees(r.get("account_id"), accounts)]


def positions(payload: Any, accounts: Scope) -> Any:
    if accounts is None:
        return payload
    rows = _rows(payload, "positions", accounts)
    totals: dict[str, Decimal] = {}
    for r in rows:
        try:
            upnl = Decimal(r["unrealized_pnl"]) if r.get("unrealized_pnl") is not None else None
        except (InvalidOperation, TypeError):
            upnl = None
        if upnl is not None:
            asset = str(r.get("settle_asset", ""))
            totals[asset] = totals.get(asset, Decimal(0)) + upnl
    return {
        "positions": rows,
        "totals": [{"asset": a, "unrealized_pnl": dec(t, MONEY_PLACES)} for a, t in sorted(totals.items())],
    }


def orders(payload: Any, accounts: Scope) -> Any:
    return payload if accounts is None else {"orders": _rows(payload, "orders", accounts)}


def account(payload: Any, accounts: Scope) -> Any:
    return payload if accounts is None else {"accounts": _rows(payload, "accounts", accounts)}


def status(payload: Any, accounts: Scope) -> Any:
    if accounts is None or not isinstance(payload, dict):
        return payload
    # the Unprotected rows name an account and its position: another account's are not shown
    out = {**payload, "brokers": _rows(payload, "brokers", accounts)}
    if "unprotected" in payload:
        out["unprotected"] = _rows(payload, "unprotected", accounts)
    return out


def asl(payload: Any, accounts: Scope) -> Any:
    if accounts is None or not isinstance(payload, dict):
        return payload
    kept = {
        pid: row
        for pid, row in (payload.get("positions") or {}).items()
        if isinstance(row, dict) and _sees(row.get("account_id"), accounts)
    }
    return {**payload, "positions": kept}


def quotes(payload: Any, symbols: Collection[str] | None) -> Any:
    """`symbols` None: every quote (a token for all accounts)."""
    if symbols is None or not isinstance(payload, dict):
        return payload
    return {"quotes": {s: q for s, q in (payload.get("quotes") or {}).items() if s in symbols}}


def symbols_of(positions_payload: Any, orders_payload: Any, accounts: frozenset[str]) -> set[str]:
    """Symbols of these accounts' positions and open orders (from the desk's views)."""
    out = {str(r["symbol"]) for r in _rows(positions_payload, "positions", accounts) if "symbol" in r}
    out.update(str(r["symbol"]) for r in _rows(orders_payload, "orders", accounts) if "symbol" in r)
    return out


def restrict(topic: str, payload: Any, accounts: Scope, symbols: Collection[str] | None = None) -> Any:
    """The payload of `topic` as a connection limited to `accounts` sees it."""
    if topic == "quotes":
        return quotes(payload, None if accounts is None else (symbols or ()))
    fn = {"positions": positions, "orders": orders, "account": account, "status": status, "asl": asl}[topic]
    return fn(payload, accounts)
