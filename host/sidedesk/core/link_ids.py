"""The host's id for one account of a broker login.

A Tradovate or Volumetrica login holds several accounts; each is an account of its own in the host
(link, books, P&L, ASL), named `ENTRY:ACCOUNT`: the vault entry's id and the venue's account id.
An entry whose login has one account (Binance, Alpaca) is named by its entry id alone. Entry ids
and venue account ids never contain the separator (vault/entries.py checks both)."""

from __future__ import annotations

SEP = ":"


def link_id(entry_id: str, account: str | None) -> str:
    """`ENTRY:ACCOUNT`, or the entry's id alone."""
    return f"{entry_id}{SEP}{account}" if account else entry_id


def split_link_id(account_id: str) -> tuple[str, str | None]:
    """`ENTRY:ACCOUNT` -> (ENTRY, ACCOUNT); an entry id alone -> (ENTRY, None)."""
    entry_id, sep, account = account_id.partition(SEP)
    return entry_id, (account or None) if sep else None
