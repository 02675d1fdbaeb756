"""Services that wire pure decisions (core/) to I/O (brokers, journal, pushes).

Each is built once by the composition root (`sidedesk/main.py`) with what it needs passed in;
none reaches for a global or a locator. API handlers receive them as `Services`.
"""
