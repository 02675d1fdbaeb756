"""Endpoint handlers shared by REST (`/v1/<endpoint>`) and the trading WebSocket (brokers.md §1.5-§1.7).

`call(session, endpoint, query, body)` returns `(status, data)`; order failures are status 200
with `failureReason`/`failureText`, malformed bodies 400, unknown endpoints 404, entities of
another user's account 403 (for orders: failureReason `Unauthorized`). The caller answers first
and then flushes the `props` events the call produced (`TradovateSim.flush`).
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sidedesk_sim.tradovate.auth import Session, SimAccount
from sidedesk_sim.tradovate.book import BadBody, Failure, TvOrder, parse_leg
from sidedesk_sim.tradovate.instruments import Contract

if TYPE_CHECKING:
    from sidedesk_sim.tradovate.sim import TradovateSim

Result = tuple[int, Any]

SYNC_ARRAYS = (
    "users",
    "accounts",
    "accountRiskStatuses",
    "marginSnapshots",
    "userAccountAutoLiqs",
    "cashBalances",
    "currencies",
    "positions",
    "fillPairs",
    "orders",
    "contracts",
    "contractMaturities",
    "products",
    "exchanges",
    "spreadDefinitions",
    "commands",
    "commandReports",
    "executionReports",
    "orderVersions",
    "fills",
    "orderStrategies",
    "orderStrategyLinks",
    "orderStrategyTypes",
    "userProperties",
    "properties",
    "userPlugins",
    "contractGroups",
)
# entityTypes (singular, as in props events) -> the sync response array
ENTITY_ARRAYS = {name[:-1] if not name.endswith("ies") else name[:-3] + "y": name for name in SYNC_ARRAYS}
ENTITY_ARRAYS["fillPair"] = "fillPairs"
ENTITY_ARRAYS["currency"] = "currencies"
ENTITY_ARRAYS["property"] = "properties"
ENTITY_ARRAYS["contractMaturity"] = "contractMaturities"
ENTITY_ARRAYS["orderStrategy"] = "orderStrategies"


class Exchange:
    def __init__(self, sim: TradovateSim) -> None:
        self.sim = sim
        self.routes: dict[str, Callable[[Session, dict[str, str], Any], Result]] = {
            "account/list": self.account_list,
            "contract/find": self.contract_find,
            "contract/item": self.contract_item,
            "contract/suggest": self.contract_suggest,
            "product/find": self.product_find,
            "position/list": self.position_list,
            "order/list": self.order_list,
            "order/item": self.order_item,
            "orderversion/list": self.version_list,
            "executionreport/list": self.report_list,
            "fill/list": self.fill_list,
            "fillpair/list": self.pair_list,
            "cashbalance/list": self.cash_list,
            "cashbalance/getcashbalancesnapshot": self.cash_snapshot,
            "order/placeorder": self.place_order,
            "order/placeoso": self.place_oso,
            "order/modifyorder": self.modify_order,
            "order/cancelorder": self.cancel_order,
            "order/liquidateposition": self.liquidate,
        }

    def call(self, session: Session, endpoint: str, query: dict[str, str], body: Any) -> Result:
        fn = self.routes.get(endpoint.lower())
        if fn is None:
            return 404, f"Not found: {endpoint}"
        forced = self.sim.faults.take("reject", endpoint.lower())
        if forced is not None:
            return 200, {"failureReason": forced.reason, "failureText": forced.text}
        try:
            return fn(session, query, body)
        except BadBody as exc:
            return 400, str(exc)
        except Failure as exc:
            return 200, exc.body()

    # -- helpers ---------------------------------------------------------------------------------
    def _ids(self, session: Session) -> list[int]:
        return [a.id for a in session.user.accounts]

    def _account(self, session: Session, body: dict[str, Any]) -> SimAccount:
        aid, spec = body.get("accountId"), body.get("accountSpec")
        for a in session.user.accounts:
            if (aid is not None and str(aid) == str(a.id)) or (aid is None and spec == a.name):
                if spec is not None and spec != a.name:
                    raise Failure("Unauthorized", "accountSpec does not name the account accountId")
                return a
        if aid is None and spec is None:
            raise BadBody("accountId (or accountSpec) is required")
        raise Failure("Unauthorized", "This account is not accessible with this token")

    def _contract(self, ref: object) -> Contract:
        c = self.sim.book.contract(ref)
        if c is None:
            raise Failure("InvalidContract", f"Unknown contract {ref!r}")
        return c

    def _order(self, session: Session, body: Any) -> TvOrder:
        if not isinstance(body, dict):
            raise BadBody("the body must be a JSON object")
        oid = body.get("orderId")
        if isinstance(oid, bool) or not isinstance(oid, int | Decimal) or oid != int(oid):
            raise BadBody("orderId must be an integer")
        tv = self.sim.book.orders.get(int(oid))
        if tv is None or tv.account.id not in self._ids(session):
            raise Failure("UnknownReason", f"Unknown order id {oid}")
        return tv

    @staticmethod
    def _automated(body: dict[str, Any]) -> bool:
        return body.get("isAutomated") is True

    # -- queries ---------------------------------------------------------------------------------
    def account_list(self, session: Session, query: dict[str, str], body: Any) -> Result:
        return 200, [a.to_json() for a in session.user.accounts]

    def contract_find(self, session: Session, query: dict[str, str], body: Any) -> Result:
        c = self.sim.book.contract(query.get("name", ""))
        return (200, c.contract_json()) if c is not None else (404, f"Not found: {query.get('name', '')}")

    def contract_item(self, session: Session, query: dict[str, str], body: Any) -> Result:
        c = self.sim.book.contract(query.get("id", ""))
        return (200, c.contract_json()) if c is not None else (404, f"Not found: {query.get('id', '')}")

    def contract_suggest(self, session: Session, query: dict[str, str], body: Any) -> Result:
        text = query.get("t", "").upper()
        try:
            limit = max(1, min(int(query.get("l", "10")), 100))
        except ValueError:
            return 400, "l must be an integer"
        hits = [c.contract_json() for c in self.sim.book.contracts.values() if c.name.startswith(text)]
        return 200, hits[:limit]

    def product_find(self, session: Session, query: dict[str, str], body: Any) -> Result:
        name = query.get("name", "").upper()
        c = next((c for c in self.sim.book.contracts.values() if c.product.root == name), None)
        return (200, c.product_json()) if c is not None else (404, f"Not found: {name}")

    def position_list(self, session: Session, query: dict[str, str], body: Any) -> Result:
        return 200, self.sim.book.position_rows(self._ids(session))

    def order_list(self, session: Session, query: dict[str, str], body: Any) -> Result:
        return 200, self.sim.book.order_rows(self._ids(session))

    def order_item(self, session: Session, query: dict[str, str], body: Any) -> Result:
        rows = [r for r in self.sim.book.order_rows(self._ids(session)) if str(r["id"]) == query.get("id")]
        return (200, rows[0]) if rows else (404, f"Not found: {query.get('id')}")

    def version_list(self, session: Session, query: dict[str, str], body: Any) -> Result:
        return 200, self.sim.book.version_rows(self._ids(session))

    def report_list(self, session: Session, query: dict[str, str], body: Any) -> Result:
        return 200, self.sim.book.report_rows(self._ids(session))

    def fill_list(self, session: Session, query: dict[str, str], body: Any) -> Result:
        return 200, self.sim.book.fill_rows(self._ids(session))

    def pair_list(self, session: Session, query: dict[str, str], body: Any) -> Result:
        return 200, self.sim.book.pair_rows(self._ids(session))

    def cash_list(self, session: Session, query: dict[str, str], body: Any) -> Result:
        return 200, self.sim.book.cash_rows(self._ids(session))

    def cash_snapshot(self, session: Session, query: dict[str, str], body: Any) -> Result:
        if not isinstance(body, dict):
            return 400, "the body must be a JSON object"
        account = self._account(session, body)
        cash = self.sim.book.cash_rows([account.id])[0]
        engine = self.sim.engine
        unreal = sum((p.unrealized_pnl for p in engine.positions(account.name)), Decimal(0))
        return 200, {
            "totalCashValue": cash["amount"],
            "totalPnL": cash["realizedPnL"] + unreal,
            "initialMargin": engine.balance(account.name, "USD").initial_margin,
            "maintenanceMargin": engine.balance(account.name, "USD").maint_margin,
            "netLiq": cash["amount"] + unreal,
            "openPnL": unreal,
            "realizedPnL": cash["realizedPnL"],
            "weekRealizedPnL": cash["weekRealizedPnL"],
        }

    def sync(self, session: Session, body: Any) -> tuple[int, Any, list[int]]:
        """user/syncrequest: `{"users":[id]}` / `{"accounts":[id]}` (classic) or with `entityTypes`."""
        if not isinstance(body, dict):
            return 400, "the body must be a JSON object", []
        users, accounts = body.get("users"), body.get("accounts")
        ids = self._ids(session)
        if users is not None:
            if not isinstance(users, list) or any(u != session.user.id for u in users):
                return 403, "Access is denied", []
            wanted = ids
        elif accounts is not None:
            if not isinstance(accounts, list) or any(a not in ids for a in accounts):
                return 403, "Access is denied", []
            wanted = list(accounts)
        else:
            return 400, "users or accounts is required", []
        types = body.get("entityTypes")
        if types is not None and (not isinstance(types, list) or not all(isinstance(t, str) for t in types)):
            return 400, "entityTypes must be a list of entity type names", []
        book = self.sim.book
        contracts = list(book.contracts.values())
        full: dict[str, list[Any]] = {name: [] for name in SYNC_ARRAYS}
        full.update(
            {
                "users": [session.user.to_json()],
                "accounts": [a.to_json() for a in session.user.accounts if a.id in wanted],
                "cashBalances": book.cash_rows(wanted),
                "currencies": [{"id": 1, "name": "USD", "symbol": "$"}],
                "positions": book.position_rows(wanted),
                "fillPairs": book.pair_rows(wanted),
                "orders": book.order_rows(wanted),
                "contracts": [c.contract_json() for c in contracts],
                "contractMaturities": [c.maturity_json() for c in contracts],
                "products": [c.product_json() for c in contracts],
                "exchanges": [{"id": 1, "name": "CME"}],
                "executionReports": book.report_rows(wanted),
                "orderVersions": book.version_rows(wanted),
                "fills": book.fill_rows(wanted),
            }
        )
        if types is not None:
            keep = {"users"} | {ENTITY_ARRAYS.get(t, "") for t in types}
            full = {k: v for k, v in full.items() if k in keep}
        return 200, full, wanted

    # -- orders ----------------------------------------------------------------------------------
    def _leg_and_contract(self, session: Session, body: Any) -> tuple[Any, ...]:
        leg, qty = parse_leg(body, require_qty=True)
        assert isinstance(body, dict) and qty is not None
        account = self._account(session, body)
        symbol = body.get("symbol")
        if symbol is None:
            raise BadBody("symbol is required")
        return leg, qty, account, self._contract(symbol)

    def place_order(self, session: Session, query: dict[str, str], body: Any) -> Result:
        leg, qty, account, contract = self._leg_and_contract(session, body)
        tv = self.sim.book.place(account, contract, leg, qty, self._automated(body), self.sim.now_ms())
        return 200, {"orderId": tv.id}

    def place_oso(self, session: Session, query: dict[str, str], body: Any) -> Result:
        leg, qty, account, contract = self._leg_and_contract(session, body)
        brackets = []
        for name in ("bracket1", "bracket2"):
            b = body.get(name)
            if b is None:
                continue
            bleg, _ = parse_leg(b)
            brackets.append(bleg)
        if not brackets:
            raise BadBody("bracket1 is required")
        entry, legs = self.sim.book.place_oso(
            account, contract, leg, qty, self._automated(body), brackets, self.sim.now_ms()
        )
        out: dict[str, Any] = {"orderId": entry.id}
        for i, b in enumerate(legs, start=1):
            out[f"oso{i}Id"] = b.id
        return 200, out

    def modify_order(self, session: Session, query: dict[str, str], body: Any) -> Result:
        tv = self._order(session, body)
        merged = dict(body)
        merged["action"] = tv.leg.action
        merged.setdefault("orderType", tv.leg.order_type)
        leg, qty = parse_leg(merged, require_qty=True)
        assert qty is not None
        self.sim.book.modify(tv, qty, leg, self.sim.now_ms())
        return 200, {"commandId": tv.version_id}

    def cancel_order(self, session: Session, query: dict[str, str], body: Any) -> Result:
        tv = self._order(session, body)
        self.sim.book.cancel(tv, self.sim.now_ms())
        return 200, {"commandId": tv.id}

    def liquidate(self, session: Session, query: dict[str, str], body: Any) -> Result:
        if not isinstance(body, dict):
            raise BadBody("the body must be a JSON object")
        # LiquidatePosition: accountId, contractId and admin are required (partner docs)
        for name in ("accountId", "contractId"):
            v = body.get(name)
            if isinstance(v, bool) or not isinstance(v, int | Decimal) or v != int(v):
                raise BadBody(f"{name} must be an integer")
        if not isinstance(body.get("admin"), bool):
            raise BadBody("admin is required (a boolean)")
        account = self._account(session, body)
        contract = self._contract(int(body["contractId"]))
        tv = self.sim.book.liquidate(account, contract, self.sim.now_ms())
        return 200, {"orderId": tv.id if tv is not None else None}
