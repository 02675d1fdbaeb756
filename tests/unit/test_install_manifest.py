"""Host-manifest build and validation: each rule Chromium enforces, and what breaks it."""

from __future__ import annotations

import pytest

from sidedesk.identity import DEV_EXTENSION_ID, NATIVE_HOST_NAME
from sidedesk.install import manifest as mf

OTHER_ID = "abcdefghijklmnopabcdefghijklmnop"


def good() -> dict[str, object]:
    return mf.build(NATIVE_HOST_NAME, "/opt/sidedesk/sidedesk", (DEV_EXTENSION_ID,))


def test_build_has_every_required_field_and_the_trailing_slash() -> None:
    m = mf.build(NATIVE_HOST_NAME, "/opt/sidedesk/sidedesk", (DEV_EXTENSION_ID, OTHER_ID, DEV_EXTENSION_ID))
    assert m["name"] == NATIVE_HOST_NAME
    assert m["type"] == "stdio"
    assert m["description"]
    assert m["allowed_origins"] == [
        f"chrome-extension://{DEV_EXTENSION_ID}/",
        f"chrome-extension://{OTHER_ID}/",
    ]
    assert mf.validate(m, stem=NATIVE_HOST_NAME, system="linux") == []


@pytest.mark.parametrize("bad", ["abc", "A" * 32, "q" * 32, DEV_EXTENSION_ID + "a", ""])
def test_build_refuses_malformed_extension_ids(bad: str) -> None:
    with pytest.raises(mf.InvalidExtensionId, match="32 letters a-p"):
        mf.build(NATIVE_HOST_NAME, "/x", (bad,))


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        ({"name": "Bad-Name"}, "not a valid host name"),
        ({"name": "com.sidedesk.other"}, "differs from the file/key name"),
        ({"name": ".com.sidedesk"}, "not a valid host name"),
        ({"description": ""}, "description is missing"),
        ({"description": "   "}, "description is missing"),
        ({"path": "sidedesk"}, "is not absolute"),
        ({"path": ""}, "path is missing"),
        ({"type": "pipe"}, "not 'stdio'"),
        ({"allowed_origins": []}, "allowed_origins is missing"),
        ({"allowed_origins": f"chrome-extension://{DEV_EXTENSION_ID}/"}, "allowed_origins is missing"),
        ({"allowed_origins": [f"chrome-extension://{DEV_EXTENSION_ID}"]}, "lacks the trailing slash"),
        ({"allowed_origins": ["chrome-extension://*/"]}, "wildcard"),
        ({"allowed_origins": [f"https://{DEV_EXTENSION_ID}/"]}, "not a chrome-extension:// origin"),
        ({"allowed_origins": ["chrome-extension://short/"]}, "32 letters a-p"),
        ({"allowed_origins": [42]}, "not a string"),
    ],
)
def test_each_broken_rule_is_named_with_the_browser_symptom(change: dict[str, object], fragment: str) -> None:
    m = {**good(), **change}
    problems = mf.validate(m, stem=NATIVE_HOST_NAME, system="linux")
    assert len(problems) == 1, problems
    assert fragment in problems[0]
    assert "not found" in problems[0]


def test_missing_fields_and_non_objects() -> None:
    assert "not a JSON object" in mf.validate([], stem=NATIVE_HOST_NAME, system="linux")[0]
    problems = mf.validate({}, stem=NATIVE_HOST_NAME, system="linux")
    assert len(problems) == 5


def test_relative_path_is_allowed_on_windows_only() -> None:
    m = {**good(), "path": "sidedesk.exe"}
    assert mf.validate(m, stem=NATIVE_HOST_NAME, system="windows") == []
    assert mf.validate(m, stem=NATIVE_HOST_NAME, system="darwin")
    assert mf.is_absolute("C:\\Program Files\\Sidedesk\\sidedesk.exe", "windows")
    assert not mf.is_absolute("C:\\Program Files", "linux")


def test_check_ids_reports_missing_and_unexpected() -> None:
    m = mf.build(NATIVE_HOST_NAME, "/x", (OTHER_ID,))
    ids = mf.check_ids(m, (DEV_EXTENSION_ID,))
    assert ids.missing == (DEV_EXTENSION_ID,)
    assert ids.unexpected == (OTHER_ID,)
    assert mf.check_ids(good(), (DEV_EXTENSION_ID,)) == mf.IdCheck((), ())


def test_parse_reports_invalid_json_as_not_found() -> None:
    value, error = mf.parse('{"name": ')
    assert value is None and error is not None and "not valid JSON" in error
    value, error = mf.parse(mf.render(good()))
    assert value == good() and error is None


def test_the_checked_in_template_matches_what_install_writes() -> None:
    import json
    from pathlib import Path

    from sidedesk.identity import EXTENSION_IDS

    template = Path(__file__).resolve().parents[2] / "manifests" / f"{NATIVE_HOST_NAME}.json"
    data = json.loads(template.read_text().replace("@HOST_PATH@", "/opt/sidedesk/sidedesk"))
    assert data == mf.build(NATIVE_HOST_NAME, "/opt/sidedesk/sidedesk", EXTENSION_IDS)
