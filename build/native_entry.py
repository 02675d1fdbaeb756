"""Entry point of `sidedesk-native`, the small frozen executable the browsers' manifests name.

Chrome starts it as `<path> chrome-extension://<id>/ [--parent-window=N]` on every connect: it
proxies to the running service (starting it through the main `sidedesk` executable beside it) and
runs that executable's `sidedesk native` when the host must serve in-process. Its bundle holds
only this path, so it starts without the main bundle's imports and runtime hooks.
"""

from __future__ import annotations

import sys

from sidedesk.native.launch import native_entry

if __name__ == "__main__":
    sys.exit(native_entry(sys.argv[1:]))
