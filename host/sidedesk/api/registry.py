"""The table of message handlers. Domain modules register with `@handler(...)` at import time.

A handler is `async def fn(ctx, request_model) -> reply_model`, `ctx` being the session it
answers and the services it may use (api/context.py). Domain modules live beside
this file (system.py, vault.py, trading.py, ...) and are listed in `catalog.py`.
"""

from __future__ import annotations

import builtins
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:  # pydantic stays off the start path; handlers import it with their models
    from pydantic import BaseModel

    from sidedesk.api.context import Ctx

Req = TypeVar("Req", bound="BaseModel")
Rep = TypeVar("Rep", bound="BaseModel")
HandlerFn = Callable[["Ctx", Any], Awaitable["BaseModel"]]


@dataclass(frozen=True)
class Handler:
    name: str
    request: builtins.type[BaseModel]
    reply: builtins.type[BaseModel]
    fn: HandlerFn
    doc: str


REGISTRY: dict[str, Handler] = {}


def handler(
    type_: str, request: type[Req], reply: type[Rep]
) -> Callable[[Callable[[Ctx, Req], Awaitable[Rep]]], Callable[[Ctx, Req], Awaitable[Rep]]]:
    def register(fn: Callable[[Ctx, Req], Awaitable[Rep]]) -> Callable[[Ctx, Req], Awaitable[Rep]]:
        if type_ in REGISTRY:
            raise ValueError(f"duplicate handler for {type_!r}")
        REGISTRY[type_] = Handler(type_, request, reply, fn, (fn.__doc__ or "").strip())
        return fn

    return register
