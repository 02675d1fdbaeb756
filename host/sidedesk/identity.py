"""Who may talk to the host: the native host name and the extension ids allowed to launch it.

The development id is pinned by the public key in extension/manifest.json ("key"); store ids
(Chrome Web Store, Edge Add-ons) are added here when the listings exist.
"""

from __future__ import annotations

NATIVE_HOST_NAME = "com.sidedesk.host"
DEV_EXTENSION_ID = "idfckbhoeeblehnacblcaifkofcekcnk"
EXTENSION_IDS: tuple[str, ...] = (DEV_EXTENSION_ID,)


def origin_for(extension_id: str) -> str:
    # Chrome refuses a manifest whose origin lacks the trailing slash ("not found").
    return f"chrome-extension://{extension_id}/"


def allowed_origins(extra_ids: tuple[str, ...] = ()) -> list[str]:
    return [origin_for(i) for i in (*EXTENSION_IDS, *extra_ids)]
