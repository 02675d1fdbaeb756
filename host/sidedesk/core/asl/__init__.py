"""Advanced Stop Loss: a pure per-position state machine, its engine, watchdog and client ids.

Public API (values in, commands out; no I/O, no clock):

- `AslProfile` / `AslLevel` (profile.py): the validated profile;
- `AslEngine` (engine.py): `handle`, `on_position`, `on_mark` (hot path), `on_order`, `on_time`,
  `set_enabled`, `move_to_breakeven`, `snapshot`, `AslEngine.rebuild(...)`;
- `watchdog(engine, open_orders, positions, now)` (watchdog.py), every 500 ms, and
  `follow_positions(engine, positions, now)` right after a burst of the account's events;
- inputs/outputs in model.py; client ids in ids.py.
"""

from .engine import AslEngine, Input, is_working_stop
from .machine import MachineView, Phase, PositionMachine
from .model import (
    AslEvent,
    CancelDone,
    CancelFailed,
    CancelStop,
    ClosePosition,
    Command,
    Notify,
    Output,
    PlaceAcked,
    PlaceRejected,
    PlaceStop,
    PositionKey,
)
from .profile import AslLevel, AslProfile, ProfileError
from .watchdog import WATCHDOG_PERIOD_MS, follow_positions, watchdog

__all__ = [
    "WATCHDOG_PERIOD_MS",
    "AslEngine",
    "AslEvent",
    "AslLevel",
    "AslProfile",
    "CancelDone",
    "CancelFailed",
    "CancelStop",
    "ClosePosition",
    "Command",
    "Input",
    "MachineView",
    "Notify",
    "Output",
    "Phase",
    "PlaceAcked",
    "PlaceRejected",
    "PlaceStop",
    "PositionKey",
    "PositionMachine",
    "ProfileError",
    "follow_positions",
    "is_working_stop",
    "watchdog",
]
