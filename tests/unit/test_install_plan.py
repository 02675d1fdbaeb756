"""The browser table turned into locations, and uninstall's shared-location rule."""

from __future__ import annotations

from pathlib import Path

import pytest

from sidedesk.identity import NATIVE_HOST_NAME
from sidedesk.install import browsers as br
from sidedesk.install.plan import (
    USER_DATA_DIR,
    BadReceipt,
    Claim,
    Receipt,
    Target,
    browser_claims,
    plan_uninstall,
    receipt_from_json,
    receipt_to_json,
    user_data_dir_claim,
)

LINUX = br.Platform("linux", Path("/home/u"), Path("/home/u/.config"))
MAC = br.Platform("darwin", Path("/Users/u"), Path("/Users/u/.config"))
WIN = br.Platform("windows", Path("C:/Users/u"), Path("C:/Users/u/.config"), local_app_data=Path("C:/L"))
FILE = f"{NATIVE_HOST_NAME}.json"


def locations(platform: br.Platform, names: list[str], scope: br.Scope) -> set[str]:
    claims = browser_claims(br.lookup(names), platform, scope, NATIVE_HOST_NAME, Path("C:/L/m.json"))
    return {c.target.location for c in claims}


def test_linux_user_folders_follow_xdg_config_home() -> None:
    assert locations(LINUX, ["chrome"], "user") == {
        f"/home/u/.config/google-chrome/NativeMessagingHosts/{FILE}"
    }
    assert locations(LINUX, ["chrome-beta", "chrome-unstable"], "user") == {
        f"/home/u/.config/google-chrome-beta/NativeMessagingHosts/{FILE}",
        f"/home/u/.config/google-chrome-unstable/NativeMessagingHosts/{FILE}",
    }
    assert locations(LINUX, ["brave"], "user") == {
        f"/home/u/.config/BraveSoftware/Brave-Browser/NativeMessagingHosts/{FILE}"
    }
    # Opera has no folder of its own on Linux: it reads Chrome's
    assert locations(LINUX, ["opera"], "user") == locations(LINUX, ["chrome"], "user")


def test_linux_system_folders_and_the_chrome_fallback() -> None:
    assert locations(LINUX, ["chromium"], "system") == {f"/etc/chromium/native-messaging-hosts/{FILE}"}
    assert locations(LINUX, ["edge"], "system") == {f"/etc/opt/edge/native-messaging-hosts/{FILE}"}
    for name in ("brave", "vivaldi", "opera", "chrome"):
        assert locations(LINUX, [name], "system") == {f"/etc/opt/chrome/native-messaging-hosts/{FILE}"}


def test_system_folders_honour_the_root_prefix() -> None:
    rooted = br.Platform("linux", Path("/h"), Path("/h/.config"), root=Path("/tmp/r"))
    assert locations(rooted, ["chromium"], "system") == {f"/tmp/r/etc/chromium/native-messaging-hosts/{FILE}"}


def test_macos_user_and_system_folders() -> None:
    support = "/Users/u/Library/Application Support"
    assert locations(MAC, ["chrome"], "user") == {f"{support}/Google/Chrome/NativeMessagingHosts/{FILE}"}
    assert locations(MAC, ["edge"], "user") == {f"{support}/Microsoft Edge/NativeMessagingHosts/{FILE}"}
    assert locations(MAC, ["opera"], "user") == {
        f"{support}/Google/Chrome/NativeMessagingHosts/{FILE}",
        f"{support}/com.operasoftware.Opera/NativeMessagingHosts/{FILE}",
    }
    assert locations(MAC, ["chrome"], "system") == {f"/Library/Google/Chrome/NativeMessagingHosts/{FILE}"}


def test_windows_keys_include_the_chrome_key_brave_and_vivaldi_fall_back_to() -> None:
    def keys(name: str, scope: br.Scope) -> list[tuple[str | None, str | None, str]]:
        claims = browser_claims(br.lookup([name]), WIN, scope, NATIVE_HOST_NAME, Path("C:/L/m.json"))
        return [
            (c.target.hive, c.target.view, c.target.location) for c in claims if c.target.kind == "registry"
        ]

    chrome_key = f"Software\\Google\\Chrome\\NativeMessagingHosts\\{NATIVE_HOST_NAME}"
    assert keys("brave", "user") == [
        ("HKCU", "64", f"Software\\BraveSoftware\\Brave-Browser\\NativeMessagingHosts\\{NATIVE_HOST_NAME}"),
        ("HKCU", "64", chrome_key),
    ]
    assert [k for _, _, k in keys("vivaldi", "user")] == [
        f"Software\\Vivaldi\\NativeMessagingHosts\\{NATIVE_HOST_NAME}",
        chrome_key,
    ]
    assert keys("opera", "user") == [("HKCU", "64", chrome_key)]
    assert keys("edge", "user") == [
        ("HKCU", "64", f"Software\\Microsoft\\Edge\\NativeMessagingHosts\\{NATIVE_HOST_NAME}")
    ]
    # HKLM is redirected per view: a system install writes both
    assert keys("chromium", "system") == [
        ("HKLM", "32", f"Software\\Chromium\\NativeMessagingHosts\\{NATIVE_HOST_NAME}"),
        ("HKLM", "64", f"Software\\Chromium\\NativeMessagingHosts\\{NATIVE_HOST_NAME}"),
    ]


def test_hkcu_views_are_one_key_but_hklm_views_are_two() -> None:
    a = Target("registry", "Software\\X", "HKCU", "32")
    b = Target("registry", "software\\x", "HKCU", "64")
    assert a.identity == b.identity
    assert (
        Target("registry", "Software\\X", "HKLM", "32").identity
        != Target("registry", "Software\\X", "HKLM", "64").identity
    )


def test_unknown_browser_is_a_clear_error() -> None:
    with pytest.raises(br.UnknownBrowser, match="choose from: chrome"):
        br.lookup(["firefox"])
    assert br.lookup(["ALL"]) == br.BROWSERS


def claims_for(names: list[str]) -> list[Claim]:
    return browser_claims(br.lookup(names), LINUX, "user", NATIVE_HOST_NAME, None)


def test_uninstalling_opera_keeps_the_folder_chrome_still_uses() -> None:
    receipt = Receipt().merged(claims_for(["chrome", "opera", "brave"]), "/l/sidedesk-host")
    removal = plan_uninstall(claims_for(["opera"]), receipt, lambda c: c.owner == "opera")
    assert removal.targets == ()
    assert [t.location for t in removal.kept] == [
        f"/home/u/.config/google-chrome/NativeMessagingHosts/{FILE}"
    ]
    assert removal.launchers == ()
    assert {c.owner for c in removal.receipt.claims} == {"chrome", "brave"}
    # then chrome goes: now the folder is free, brave still keeps the launcher
    removal = plan_uninstall(claims_for(["chrome"]), removal.receipt, lambda c: c.owner == "chrome")
    assert [t.location for t in removal.targets] == [
        f"/home/u/.config/google-chrome/NativeMessagingHosts/{FILE}"
    ]
    assert removal.launchers == ()
    removal = plan_uninstall(claims_for(["brave"]), removal.receipt, lambda c: c.owner == "brave")
    assert removal.launchers == ("/l/sidedesk-host",)
    assert removal.receipt.claims == ()


def test_uninstall_without_a_receipt_removes_every_table_location() -> None:
    removal = plan_uninstall(claims_for(["all"]), Receipt(), lambda c: True)
    assert len(removal.targets) == len({c.target.location for c in claims_for(["all"])})


def test_receipt_round_trip_and_damage() -> None:
    receipt = Receipt().merged(
        [*claims_for(["chrome"]), user_data_dir_claim(Path("/p"), NATIVE_HOST_NAME)], "/l", ["a" * 32]
    )
    win = browser_claims(br.lookup(["brave"]), WIN, "system", NATIVE_HOST_NAME, Path("C:/m.json"))
    receipt = receipt.merged(win, None)
    assert receipt_from_json(receipt_to_json(receipt)) == receipt
    assert receipt.merged(claims_for(["chrome"]), "/l") == receipt  # idempotent
    assert any(c.owner == USER_DATA_DIR for c in receipt.claims)
    for bad in [
        [],
        {"version": 2},
        {"version": 1, "claims": [{"kind": "disk"}]},
        {"version": 1, "launchers": [1]},
    ]:
        with pytest.raises(BadReceipt):
            receipt_from_json(bad)
