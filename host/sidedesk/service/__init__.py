"""The long-lived service: one process per OS user holding the vault, broker links, ASL, journal
and local stream, so protection outlives the browser; `sidedesk native` is its thin proxy."""
