"""A small in-memory event sink: what an adapter emitted, for tests to read (not product code)."""

from __future__ import annotations

from dataclasses import dataclass, field

from sidedesk.domain import BrokerEvent


@dataclass
class EventLog:
    """Every event an adapter emitted, in order."""

    events: list[BrokerEvent] = field(default_factory=list)

    def __call__(self, event: BrokerEvent) -> None:
        self.events.append(event)

    def of(self, kind: type[BrokerEvent]) -> list[BrokerEvent]:
        return [e for e in self.events if isinstance(e, kind)]
