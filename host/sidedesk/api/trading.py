"""Trading messages: accounts, market data, tickets, orders, positions, flatten, hotkey commands, risk.

Decimals travel as strings both ways; every reply says what the exchange answered. The pure
checks live in core/, the services in app/; these handlers only translate.
"""

from __future__ import annotations

import time
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from sidedesk.api.dispatch import field_errors
from sidedesk.api.errors import ApiError, Refused
from sidedesk.api.registry import handler
from sidedesk.core.link_ids import link_id, split_link_id
from sidedesk.core.orders import Ticket
from sidedesk.core.views import dec
from sidedesk.domain import PositionSide, Side
from sidedesk.store.config import RiskSettings
from sidedesk.vault.entries import summarize
from sidedesk.vault.service import VaultError

if TYPE_CHECKING:
    from sidedesk.api.context import Ctx, Services
    from sidedesk.app.links import AccountLink

Money = Decimal
LOCKED_TO_DISCONNECT = "Locked — unlock to disconnect (it stops ASL and the watchdog for this login)"


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Empty(Strict):
    pass


# -- accounts -------------------------------------------------------------------------------------


class AccountRow(BaseModel):
    id: str = Field(
        description="the account's id: `ENTRY:ACCOUNT` for one account of a login with several "
        "(Tradovate, Volumetrica), else the vault entry's id"
    )
    name: str
    broker: str
    environment: str
    key_hint: str | None
    state: str
    detail: str = ""
    attempt: int = 0
    next_retry_s: float | None = None
    active: bool
    entry_id: str = Field("", description="the vault entry (login) the account belongs to")
    venue_account: str | None = Field(None, description="the venue's id of the account, when known")
    account_name: str = Field("", description="what the venue calls it, e.g. 'Evaluation — APEX-1234'")
    remembered: bool = Field(False, description="the account its entry trades (Setup or the switcher)")


class AccountsReply(BaseModel):
    accounts: list[AccountRow]
    active_id: str | None


def _row(svc: Services, summary: Any, link: AccountLink | None, row_id: str | None = None) -> AccountRow:
    masked = summary.masked or {}
    view: dict[str, Any] = link.link.view(time.monotonic()) if link is not None else {}
    row_id = link.account_id if link is not None else (row_id or summary.id)
    venue = split_link_id(row_id)[1]
    return AccountRow(
        id=row_id,
        name=summary.name,
        broker=summary.broker,
        environment=summary.environment,
        key_hint=next(iter(masked.values()), None),
        state=view["state"] if view else "disconnected",
        detail=view["detail"] if view else "",
        attempt=view["attempt"] if view else 0,
        next_retry_s=view["next_retry_s"] if view else None,
        active=svc.links.active_id == row_id,
        entry_id=summary.id,
        venue_account=venue,
        account_name=link.account_name() if link is not None else (venue or ""),
        remembered=venue is not None and venue == getattr(summary, "account", None),
    )


def _rows(svc: Services, summary: Any) -> list[AccountRow]:
    """One row per account of the entry's login that the host knows: the connected ones, and the
    remembered one; an entry not connected yet (or with one account) is one row."""
    links = [li for li in svc.links.links.values() if li.entry_id == summary.id]
    rows = [_row(svc, summary, li) for li in sorted(links, key=lambda li: li.account_id)]
    remembered = getattr(summary, "account", None)
    if remembered and link_id(summary.id, remembered) not in {li.account_id for li in links}:
        rows.append(_row(svc, summary, None, link_id(summary.id, remembered)))
    return rows or [_row(svc, summary, None)]


def _entries(svc: Services) -> list[Any]:
    """The vault's accounts; while it is locked, the accounts still connected (their links keep
    what protection needs), so a locked desk keeps showing them. Masked summaries only, one per
    entry (a login's accounts are links of one entry: `_rows` lists each of them once)."""
    try:
        return list(svc.vault.entries())
    except VaultError as exc:
        by_entry = {link.entry_id: link.entry for link in svc.links.links.values()}
        linked = [summarize(entry) for entry in by_entry.values()]
        if not linked:
            raise ApiError("locked", f"unlock the vault first ({exc})") from None
        return sorted(linked, key=lambda e: (e.broker, e.name.lower()))


@handler("accounts.list", Empty, AccountsReply)
async def accounts_list(ctx: Ctx, req: Empty) -> AccountsReply:
    """Broker accounts in the vault with their connection state: one row per account of a login
    (its other accounts are listed once the login has connected)."""
    svc = ctx.services
    rows = [row for s in _entries(svc) for row in _rows(svc, s)]
    return AccountsReply(accounts=rows, active_id=svc.links.active_id)


class ActivateRequest(Strict):
    account_id: str = Field(min_length=1, max_length=140)


@handler("accounts.activate", ActivateRequest, AccountRow)
async def accounts_activate(ctx: Ctx, req: ActivateRequest) -> AccountRow:
    """Connect this account and make it the one the ticket and hotkeys trade on. `ENTRY:ACCOUNT`
    picks one account of a login (remembered in the entry); an entry's id alone, the account it
    remembers (or the venue's default, learnt at the first connection)."""
    svc = ctx.services
    entry_id = split_link_id(req.account_id)[0]
    summary = next((s for s in _entries(svc) if s.id == entry_id), None)
    if summary is None and svc.vault.state == "locked":  # only the connected accounts are listed
        raise ApiError("locked", "unlock the vault first to connect another account")
    if summary is None:
        raise ApiError("invalid", f"no account {req.account_id!r} in the vault")
    try:
        link = await svc.links.activate(req.account_id)
    except VaultError as exc:  # an account that is not up needs its keys from the vault
        if svc.vault.state == "locked":
            raise ApiError("locked", "unlock the vault first to connect another account") from None
        raise ApiError("invalid", f"account {req.account_id!r}: {exc}") from None
    summary = next((s for s in _entries(svc) if s.id == entry_id), summary)  # now remembering it
    return _row(svc, summary, link)


@handler("accounts.deactivate", Empty, Empty)
async def accounts_deactivate(ctx: Ctx, req: Empty) -> Empty:
    """Disconnect the active account (positions and exchange-side stops stay on the exchange).
    It stops ASL and the watchdog for the login, so it needs an unlock (core/lock.py)."""
    try:
        ctx.services.entry.allow("unprotect")
    except Refused as exc:  # the lock's sentence, said of what this stops
        raise ApiError(exc.code, LOCKED_TO_DISCONNECT, exc.details) from None
    await ctx.services.links.deactivate()
    return Empty()


class AccountTestRequest(Strict):
    account_id: str = Field(min_length=1, max_length=140)


class CheckRow(BaseModel):
    name: Literal["reachability", "key", "permissions", "ip_restriction", "position_mode", "clock"]
    label: str
    status: Literal["ok", "warn", "fail", "skip"] = Field(
        description="skip: not checked (the detail says why)"
    )
    detail: str = Field(description="one sentence; for warn and fail, what to do")


class AccountTestReply(BaseModel):
    account_id: str
    name: str
    broker: str
    environment: str
    status: Literal["ok", "warn", "fail", "skip"] = Field(description="the worst status of the checks")
    checks: list[CheckRow]


@handler("accounts.test", AccountTestRequest, AccountTestReply)
async def accounts_test(ctx: Ctx, req: AccountTestRequest) -> AccountTestReply:
    """Test connection (Setup): reachability, key accepted, permissions, IP restriction, position
    mode and clock, each ok, warn, fail or skip (not checked) with one sentence. Nothing is traded."""
    from sidedesk.app.checks import check_account  # deferred: off the start path
    from sidedesk.vault.service import EntryNotFound

    svc = ctx.services
    entry_id, account = split_link_id(req.account_id)
    try:
        entry = svc.vault.get_entry(entry_id)
    except EntryNotFound:
        raise ApiError("invalid", f"no account {req.account_id!r} in the vault") from None
    except VaultError as exc:
        raise ApiError("locked", f"unlock the vault first ({exc})") from None
    link = svc.links.links.get(req.account_id)
    config = svc.settings.config
    result = await check_account(
        entry,
        config.simulators,
        contracts=config.volumetrica_contracts,
        in_use=link is not None and link.tradable,
        account=account,
    )
    return AccountTestReply.model_validate(result.to_json())


# -- market ---------------------------------------------------------------------------------------


class SymbolRow(BaseModel):
    symbol: str
    base: str
    quote: str
    tick_size: str
    step_size: str
    min_qty: str
    max_qty: str
    min_notional: str
    price_precision: int
    quantity_precision: int
    quantity_unit: str
    contract: str | None = Field(None, description="the futures contract traded, e.g. MESZ6")
    expires: str | None = Field(None, description="its last trading day (exchange date), e.g. 2026-12-18")


class SymbolsReply(BaseModel):
    symbols: list[SymbolRow]


@handler("market.symbols", Empty, SymbolsReply)
async def market_symbols(ctx: Ctx, req: Empty) -> SymbolsReply:
    """Tradable symbols of the active account, with the rules the ticket rounds to."""
    link = ctx.services.links.active()
    unit = link.broker.capabilities.quantity_unit
    # futures adapters name the contract each symbol trades and its expiry (the ticket shows it)
    details_of = getattr(link.broker, "contract_details", None)
    details: dict[str, tuple[str, str]] = details_of() if callable(details_of) else {}
    rows = [
        SymbolRow(
            symbol=r.symbol,
            base=r.base_asset,
            quote=r.quote_asset,
            tick_size=f"{r.tick_size:f}",
            step_size=f"{r.step_size:f}",
            min_qty=f"{r.min_qty:f}",
            max_qty=f"{r.max_qty:f}",
            min_notional=f"{r.min_notional:f}",
            price_precision=r.price_precision,
            quantity_precision=r.quantity_precision,
            quantity_unit=unit,
            contract=details[r.symbol][0] if r.symbol in details else None,
            expires=details[r.symbol][1] if r.symbol in details else None,
        )
        for r in sorted(link.broker.instruments().values(), key=lambda r: r.symbol)
        if r.trading
    ]
    return SymbolsReply(symbols=rows)


class WatchRequest(Strict):
    symbols: list[str] = Field(min_length=1, max_length=50)


class WatchReply(BaseModel):
    symbols: list[str]


@handler("market.watch", WatchRequest, WatchReply)
async def market_watch(ctx: Ctx, req: WatchRequest) -> WatchReply:
    """Start quotes for these symbols (they arrive on the `quotes` topic)."""
    return WatchReply(symbols=await ctx.services.links.watch(req.symbols))


# -- tickets and orders -------------------------------------------------------------------------------


class TicketModel(Strict):
    symbol: str = Field(min_length=1, max_length=32)
    side: Literal["BUY", "SELL"]
    type: Literal["MARKET", "LIMIT"] = "MARKET"
    notional: Money | None = Field(None, gt=0, allow_inf_nan=False)
    quantity: Money | None = Field(None, gt=0, allow_inf_nan=False)
    price: Money | None = Field(None, gt=0, allow_inf_nan=False)
    leverage: int | None = Field(None, ge=1, le=125)
    post_only: bool = False
    ioc: bool = False
    reduce_only: bool = False
    asl: bool = True

    @model_validator(mode="after")
    def _size(self) -> TicketModel:
        if (self.notional is None) == (self.quantity is None):
            raise ValueError("give exactly one of notional (quote currency) and quantity")
        return self

    def ticket(self) -> Ticket:
        return Ticket(
            symbol=self.symbol.upper(),
            side=Side(self.side),
            type=self.type,
            notional=self.notional,
            quantity=self.quantity,
            price=self.price,
            post_only=self.post_only,
            ioc=self.ioc,
            reduce_only=self.reduce_only,
        )


class PreviewRequest(Strict):
    ticket: TicketModel


class PreviewReply(BaseModel):
    symbol: str
    side: str
    type: str
    quantity: str
    price: str | None
    notional: str
    needs_confirmation: bool
    refused: bool
    reason: str


@handler("order.preview", PreviewRequest, PreviewReply)
async def order_preview(ctx: Ctx, req: PreviewRequest) -> PreviewReply:
    """What the ticket would send after rounding, and whether a risk limit objects."""
    pv = ctx.services.entry.preview(req.ticket.ticket(), "panel")
    return PreviewReply(
        symbol=pv.request.symbol,
        side=pv.request.side.value,
        type=pv.request.type.value,
        quantity=str(pv.request.quantity),
        price=dec(pv.request.price),
        notional=dec(pv.notional, 2) or "0",
        needs_confirmation=pv.decision.action == "confirm",
        refused=pv.decision.action == "refuse",
        reason=pv.decision.reason,
    )


class PlaceRequest(Strict):
    ticket: TicketModel
    source: Literal["panel", "hotkey"] = "panel"
    confirmed: bool = False


class PlaceReply(BaseModel):
    status: Literal["placed", "confirm"]
    client_id: str | None = None
    order_id: str | None = None
    order_status: str | None = None
    filled: str | None = None
    avg_price: str | None = None
    quantity: str | None = None
    price: str | None = None
    notional: str | None = None
    currency: str | None = None
    host_us: float | None = None
    roundtrip_ms: float | None = None
    message: str = ""
    reason: str = ""


async def place_ticket(
    svc: Services, t: TicketModel, source: Literal["panel", "hotkey"], confirmed: bool
) -> PlaceReply:
    result = await svc.entry.place_ticket(
        t.ticket(), source, confirmed=confirmed, leverage=t.leverage, asl=t.asl
    )
    return PlaceReply(**result)


@handler("order.place", PlaceRequest, PlaceReply)
async def order_place(ctx: Ctx, req: PlaceRequest) -> PlaceReply:
    """Validate, round, risk-check, journal and send one order; reply with the exchange's answer."""
    return await place_ticket(ctx.services, req.ticket, req.source, req.confirmed)


class CancelRequest(Strict):
    symbol: str = Field(min_length=1, max_length=32)
    order_id: str | None = Field(None, max_length=64)
    client_id: str | None = Field(None, max_length=64)
    conditional: bool = False

    @model_validator(mode="after")
    def _one_id(self) -> CancelRequest:
        if self.order_id is None and self.client_id is None:
            raise ValueError("give order_id or client_id")
        return self


class OrderStateReply(BaseModel):
    order_id: str
    client_id: str
    status: str


@handler("order.cancel", CancelRequest, OrderStateReply)
async def order_cancel(ctx: Ctx, req: CancelRequest) -> OrderStateReply:
    """Cancel one order (regular or conditional)."""
    ack = await ctx.services.entry.cancel(
        req.symbol.upper(), order_id=req.order_id, client_id=req.client_id, conditional=req.conditional
    )
    return OrderStateReply(order_id=ack.order_id, client_id=ack.client_id, status=ack.status.value)


class ModifyRequest(Strict):
    symbol: str = Field(min_length=1, max_length=32)
    order_id: str = Field(min_length=1, max_length=64)
    side: Literal["BUY", "SELL"]
    price: Money = Field(gt=0, allow_inf_nan=False)
    quantity: Money = Field(gt=0, allow_inf_nan=False)


@handler("order.modify", ModifyRequest, OrderStateReply)
async def order_modify(ctx: Ctx, req: ModifyRequest) -> OrderStateReply:
    """Change a resting LIMIT order's price and quantity (rounded to the symbol's rules)."""
    ack = await ctx.services.entry.modify(
        req.symbol.upper(), req.order_id, Side(req.side), req.price, req.quantity
    )
    return OrderStateReply(order_id=ack.order_id, client_id=ack.client_id, status=ack.status.value)


class CancelAllRequest(Strict):
    symbol: str | None = Field(None, max_length=32)


class CancelAllReply(BaseModel):
    cancelled: int


@handler("orders.cancel_all", CancelAllRequest, CancelAllReply)
async def orders_cancel_all(ctx: Ctx, req: CancelAllRequest) -> CancelAllReply:
    """Cancel every open order, regular and conditional, for one symbol or all."""
    return CancelAllReply(
        cancelled=await ctx.services.entry.cancel_all(req.symbol.upper() if req.symbol else None)
    )


class ClosePositionRequest(Strict):
    symbol: str = Field(min_length=1, max_length=32)
    position_side: Literal["BOTH", "LONG", "SHORT"] = "BOTH"
    fraction: Literal["0.25", "0.5", "1"] = "1"


@handler("position.close", ClosePositionRequest, PlaceReply)
async def position_close(ctx: Ctx, req: ClosePositionRequest) -> PlaceReply:
    """Close 25 %, 50 % or all of a position with a reduce-only market order."""
    placed = await ctx.services.entry.close_position(
        req.symbol.upper(), PositionSide(req.position_side), Decimal(req.fraction), "panel"
    )
    return PlaceReply(**placed.reply())


class FlattenReply(BaseModel):
    cancelled: int
    closed: int
    errors: list[str]


@handler("flatten", Empty, FlattenReply)
async def flatten(ctx: Ctx, req: Empty) -> FlattenReply:
    """Cancel all orders and algo orders, then close every position reduce-only."""
    return FlattenReply(**await ctx.services.entry.flatten("panel"))


# -- hotkeys --------------------------------------------------------------------------------------


class PositionRef(Strict):
    symbol: str = Field(min_length=1, max_length=32)
    position_side: Literal["BOTH", "LONG", "SHORT"] = "BOTH"


class CommandRequest(Strict):
    name: Literal["buy", "sell", "flatten", "cancel_all", "close_half", "breakeven"]
    ticket: dict[str, Any] | None = None
    position: PositionRef | None = None
    # buy/sell above the confirmation threshold answer status "confirm" (nothing sent); the
    # extension asks the trader and sends the same ticket again with confirmed: true
    confirmed: bool = False


class CommandReply(BaseModel):
    name: str
    summary: str
    result: dict[str, Any]


@handler("command", CommandRequest, CommandReply)
async def command(ctx: Ctx, req: CommandRequest) -> CommandReply:
    """A keyboard command: the same as the matching request, with a one-line summary to notify."""
    if req.name in ("buy", "sell"):
        if req.ticket is None:
            raise ApiError("invalid", "no ticket yet: set one up in the panel first")
        data = {**req.ticket, "side": "BUY" if req.name == "buy" else "SELL"}
        try:
            ticket = TicketModel.model_validate(data)
        except ValidationError as exc:
            raise ApiError(
                "invalid",
                "the saved ticket is incomplete: set it up in the panel",
                {"errors": field_errors(exc)},
            ) from None
        placed = await place_ticket(ctx.services, ticket, "hotkey", confirmed=req.confirmed)
        return CommandReply(name=req.name, summary=placed.message, result=placed.model_dump())
    if req.name == "flatten":
        out = await ctx.services.entry.flatten("hotkey")
        summary = f"flattened: {out['cancelled']} orders cancelled, {out['closed']} positions closed"
        if out["errors"]:
            summary += f"; {len(out['errors'])} problem(s): {out['errors'][0]}"
        return CommandReply(name=req.name, summary=summary, result=out)
    if req.name == "cancel_all":
        n = await ctx.services.entry.cancel_all(None)
        return CommandReply(name=req.name, summary=f"{n} orders cancelled", result={"cancelled": n})
    if req.position is None:
        raise ApiError("invalid", f"{req.name} needs a selected position: select one in the positions table")
    side = PositionSide(req.position.position_side)
    if req.name == "close_half":
        half = await ctx.services.entry.close_position(
            req.position.symbol.upper(), side, Decimal("0.5"), "hotkey"
        )
        reply = half.reply()
        return CommandReply(name=req.name, summary=str(reply["message"]), result=reply)
    ctx.services.protection.breakeven(req.position.symbol.upper(), side)
    summary = f"{req.position.symbol.upper()}: moving the stop to breakeven"
    return CommandReply(name=req.name, summary=summary, result={})


# -- risk -------------------------------------------------------------------------------------------


class RiskReply(BaseModel):
    limits: RiskSettings


class RiskSetRequest(Strict):
    limits: RiskSettings


@handler("risk.get", Empty, RiskReply)
async def risk_get(ctx: Ctx, req: Empty) -> RiskReply:
    """Current pre-trade limits."""
    return RiskReply(limits=ctx.services.settings.config.risk)


@handler("risk.set", RiskSetRequest, RiskReply)
async def risk_set(ctx: Ctx, req: RiskSetRequest) -> RiskReply:
    """Replace the pre-trade limits (saved in the settings file)."""
    limits = req.limits
    if "confirm_above_by_broker" not in limits.model_fields_set:
        # the Setup form edits the four common limits: per-broker thresholds set in the settings
        # file stay as they are
        current = ctx.services.settings.config.risk.confirm_above_by_broker
        limits = limits.model_copy(update={"confirm_above_by_broker": dict(current)})
    ctx.services.settings.update(risk=limits)
    return RiskReply(limits=ctx.services.settings.config.risk)


# -- contract ids -------------------------------------------------------------------------------

ContractKey = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9/:._-]+$")]


class ContractsMap(Strict):
    """Volumetrica contract ids pinned by the trader: feed symbol (`/ESZ26:XCME`) or symbol
    (`ESZ26`) -> contract id. Pins win over lookups; they apply from the next connection."""

    volumetrica: dict[ContractKey, Annotated[int, Field(gt=0)]] = Field(default_factory=dict, max_length=200)


@handler("settings.contracts.get", Empty, ContractsMap)
async def contracts_get(ctx: Ctx, req: Empty) -> ContractsMap:
    """The pinned contract ids (Setup -> Contracts)."""
    return ContractsMap(volumetrica=dict(ctx.services.settings.config.volumetrica_contracts))


@handler("settings.contracts.set", ContractsMap, ContractsMap)
async def contracts_set(ctx: Ctx, req: ContractsMap) -> ContractsMap:
    """Replace the pinned contract ids (saved in the settings file; used from the next connection)."""
    ctx.services.settings.update(volumetrica_contracts=dict(req.volumetrica))
    return ContractsMap(volumetrica=dict(ctx.services.settings.config.volumetrica_contracts))
