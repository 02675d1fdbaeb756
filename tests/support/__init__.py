"""Helpers every kind of test shares (no tests here).

- `wait`: the one bounded poll, `eventually` (and `eventually_async` inside a running loop).
- `simthread`: an event loop in a daemon thread and a simulator (any broker's) running on it, with
  its `/_sim` control plane over HTTP; `BinanceSimThread` adds the Binance shortcuts.
- `hostproc`: the real host as Chrome runs it (a subprocess, native frames over pipes).
- `config`: the host's settings file, written into a test's `SIDEDESK_HOME`.
"""
