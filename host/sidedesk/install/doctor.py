"""`sidedesk doctor`: explain, browser by browser, why the extension can or cannot reach the host.

Collects facts (files, registry, processes) through the same table `install` uses, judges each
one with the pure rules in `manifest` and `policies`, and renders a table or JSON. Every problem
says what the browser will show and what to do about it.
"""

from __future__ import annotations

import json
import os
import stat
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from sidedesk import __version__
from sidedesk.identity import EXTENSION_IDS, NATIVE_HOST_NAME, origin_for
from sidedesk.install import manifest as mf
from sidedesk.install.browsers import BROWSERS, Browser, Platform, manifest_dirs, registry_key
from sidedesk.install.detect import SNAP_GUIDANCE, Which, detect, flatpak_guidance
from sidedesk.install.plan import manifest_file_name, user_data_dir_claim
from sidedesk.install.policies import PolicyFinding, evaluate, read_linux, read_mac, read_windows
from sidedesk.install.probe import ProbeResult, probe
from sidedesk.install.registry import Hive, RegistryBackend, View
from sidedesk.install.service_state import LoginStartState, Run, ServiceState
from sidedesk.store.config import ConfigError, load_config
from sidedesk.store.paths import Paths

Status = Literal["ok", "warn", "error", "absent"]
RANK = {"absent": 0, "ok": 1, "warn": 2, "error": 3}


@dataclass
class Location:
    where: str  # file path, or registry key naming a manifest file
    scope: str
    exists: bool
    manifest_file: str | None = None
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    host: ProbeResult | None = None

    @property
    def status(self) -> Status:
        if not self.exists:
            return "absent"
        if self.problems:
            return "error"
        return "warn" if self.warnings else "ok"


@dataclass
class BrowserReport:
    name: str
    label: str
    installed: bool
    evidence: list[str]
    locations: list[Location]  # in the order the browser searches them
    notes: list[str] = field(default_factory=list)
    status: Status = "absent"
    summary: str = ""

    @property
    def effective(self) -> Location | None:
        """The browser uses the first manifest it finds, broken or not."""
        return next((loc for loc in self.locations if loc.exists), None)


@dataclass
class FileCheck:
    path: str
    exists: bool
    status: Status
    detail: str


@dataclass
class Report:
    host_version: str
    host_name: str
    expected_ids: list[str]
    browsers: list[BrowserReport]
    policies: list[PolicyFinding]
    vault: FileCheck
    logs: FileCheck
    config: FileCheck
    login_start: LoginStartState | None = None
    service: ServiceState | None = None
    status: Status = "ok"
    problems: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        for b, raw in zip(self.browsers, data["browsers"], strict=True):
            raw["effective"] = b.effective.where if b.effective else None
            for loc, raw_loc in zip(b.locations, raw["locations"], strict=True):
                raw_loc["status"] = loc.status
        return data


# -- collecting ---------------------------------------------------------------------------------


class Prober:
    """Runs each distinct host command once per doctor run."""

    def __init__(self, system: str, timeout: float) -> None:
        self.system = system
        self.timeout = timeout
        self._seen: dict[tuple[str, str], ProbeResult] = {}

    def __call__(self, path: str, origin: str) -> ProbeResult:
        key = (path, origin)
        if key not in self._seen:
            self._seen[key] = probe(path, origin, self.system, self.timeout)
        return self._seen[key]


def check_manifest_file(
    loc: Location, file: Path, stem: str, system: str, expected: tuple[str, ...], prober: Prober | None
) -> None:
    """Fill `loc` with what is wrong with the manifest at `file` (which exists)."""
    loc.manifest_file = str(file)
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        loc.problems.append(f"cannot read the manifest: {exc}")
        return
    data, error = mf.parse(text)
    if error:
        loc.problems.append(error)
        return
    loc.problems.extend(mf.validate(data, stem=stem, system=system))
    if not isinstance(data, dict):
        return
    ids = mf.check_ids(data, expected)
    for missing in ids.missing:
        loc.problems.append(
            f"extension {missing} is not in allowed_origins; {mf.FORBIDDEN} Run `sidedesk install` again"
        )
    for extra in ids.unexpected:
        loc.warnings.append(
            f"allowed_origins lists {extra}, which the host refuses to serve; "
            f"run `sidedesk install --extension-id {extra}` to accept it"
        )
    path = data.get("path")
    if not isinstance(path, str) or not path:
        return
    exe = Path(path)
    if not exe.is_absolute() and system == "windows":
        exe = file.parent / exe
    if not exe.exists():
        loc.problems.append(f'the host program {exe} does not exist; the browser says "{_not_found()}"')
        return
    if not exe.is_file():
        loc.problems.append(f"the host path {exe} is not a file")
        return
    if system != "windows" and not os.access(exe, os.X_OK):
        loc.problems.append(
            f"the host program {exe} is not executable (chmod +x it); "
            'the browser says "Native host has exited."'
        )
        return
    if loc.problems or prober is None:
        return
    allowed = mf.allowed_ids(data)
    origin = origin_for(next((i for i in expected if i in allowed), allowed[0] if allowed else expected[0]))
    result = prober(str(exe), origin)
    loc.host = result
    if not result.ok:
        loc.problems.append(f"starting the host as the browser does failed: {result.detail}")


def _not_found() -> str:
    return "Specified native messaging host not found."


def file_locations(b: Browser, platform: Platform) -> list[tuple[str, Path]]:
    out: list[tuple[str, Path]] = []
    for scope in ("user", "system"):
        for d in manifest_dirs(b, platform, scope):
            out.append((scope, d / manifest_file_name(NATIVE_HOST_NAME)))
    return out


def registry_locations(b: Browser, registry: RegistryBackend) -> list[tuple[str, str, str | None]]:
    """(scope, key description, manifest path) in Chrome's search order: HKCU then HKLM, 32 then 64."""
    out: list[tuple[str, str, str | None]] = []
    hives: tuple[tuple[str, Hive], ...] = (("user", "HKCU"), ("system", "HKLM"))
    views: tuple[View, ...] = ("32", "64")
    for scope, hive in hives:
        for key in b.windows_keys:
            full = registry_key(key, NATIVE_HOST_NAME)
            for view in views:
                value = registry.get_default(hive, view, full)
                out.append((scope, f"{hive}\\{full} ({view}-bit view)", value))
                if hive == "HKCU":
                    break  # one key for both views
    return out


def check_browser(
    b: Browser,
    platform: Platform,
    expected: tuple[str, ...],
    prober: Prober | None,
    registry: RegistryBackend | None,
    which: Which,
) -> BrowserReport:
    presence = detect(b, platform, which)
    report = BrowserReport(b.name, b.label, presence.installed, list(presence.evidence), [])
    if platform.system == "windows":
        if registry is not None:
            for scope, where, value in registry_locations(b, registry):
                loc = Location(where, scope, value is not None)
                report.locations.append(loc)
                if value is None:
                    continue
                if not (mf.is_absolute(value, "windows") or Path(value).is_absolute()):
                    loc.problems.append("the registry value must be the manifest's absolute path")
                elif not Path(value).is_file():
                    loc.problems.append(
                        f'the manifest {value} it names does not exist; the browser says "{_not_found()}"'
                    )
                else:
                    eff = report.effective
                    check_manifest_file(
                        loc,
                        Path(value),
                        NATIVE_HOST_NAME,
                        "windows",
                        expected,
                        prober if eff is loc else None,
                    )
    else:
        for scope, path in file_locations(b, platform):
            if any(loc.where == str(path) for loc in report.locations):
                continue  # Chrome channels share the system folder
            loc = Location(str(path), scope, path.is_file())
            report.locations.append(loc)
            if loc.exists:
                # only the manifest the browser will use needs the (slower) start-up check
                use = prober if report.effective is loc else None
                check_manifest_file(loc, path, NATIVE_HOST_NAME, platform.system, expected, use)
    for snap in presence.snap:
        report.notes.append(f"Snap install at {snap}: {SNAP_GUIDANCE}")
    if presence.flatpak:
        report.notes.append(flatpak_guidance(b))
    report.notes.extend(b.notes if presence.installed else ())
    judge_browser(report, sandboxed_only=bool((presence.snap or presence.flatpak) and not presence.evidence))
    return report


def judge_browser(report: BrowserReport, sandboxed_only: bool) -> None:
    eff = report.effective
    if eff is None:
        if sandboxed_only:
            report.status, report.summary = "warn", "sandboxed browser: native hosts cannot run (see note)"
        elif report.installed:
            report.status = "warn"
            report.summary = f"not registered: run `sidedesk install --browser {report.name}`"
        else:
            report.status, report.summary = "absent", "not found on this machine"
        return
    report.status = eff.status
    if eff.problems:
        report.summary = eff.problems[0]
    elif eff.host is not None:
        report.summary = eff.host.detail
    else:
        report.summary = "manifest valid"
    if sandboxed_only and report.status == "ok":
        report.status, report.summary = "warn", "registered, but this browser is sandboxed (see note)"


def check_user_data_dir(
    user_data_dir: Path, platform: Platform, expected: tuple[str, ...], prober: Prober
) -> BrowserReport:
    path = Path(user_data_dir_claim(user_data_dir, NATIVE_HOST_NAME).target.location)
    loc = Location(str(path), "user", path.is_file())
    report = BrowserReport("user-data-dir", f"profile {user_data_dir}", True, [], [loc])
    if loc.exists:
        check_manifest_file(loc, path, NATIVE_HOST_NAME, platform.system, expected, prober)
        judge_browser(report, sandboxed_only=False)
    else:
        loc.problems.append(f"no manifest: run `sidedesk install --user-data-dir {user_data_dir}`")
        report.status, report.summary = "error", loc.problems[0]
    return report


def check_policies(
    platform: Platform, registry: RegistryBackend | None, user_level_in_use: bool, user: str
) -> list[PolicyFinding]:
    findings: list[PolicyFinding] = []
    for b in BROWSERS:
        if platform.system == "linux":
            policy, sources, bad = read_linux(b, platform)
        elif platform.system == "darwin":
            policy, sources, bad = read_mac(b, platform, user)
        elif registry is not None:
            policy, sources, bad = read_windows(b, registry)
        else:
            continue
        for f in bad:
            findings.append(
                PolicyFinding(b.name, f, "warn", "policy file is unreadable; the browser may ignore it too")
            )
        if policy:
            found = evaluate(
                policy,
                NATIVE_HOST_NAME,
                user_level_in_use=user_level_in_use,
                browser=b.name,
                source=", ".join(sources),
            )
            # Chrome channels share one policy folder: report each finding once
            findings.extend(
                f for f in found if all((f.source, f.message) != (g.source, g.message) for g in findings)
            )
    return findings


def check_vault(paths: Paths) -> FileCheck:
    path = paths.vault_file
    try:
        st = path.stat()
    except FileNotFoundError:
        return FileCheck(
            str(path), False, "ok", "no vault yet: it is created when you set a password in Setup"
        )
    except OSError as exc:
        return FileCheck(str(path), False, "error", f"cannot read: {exc.strerror}")
    if os.name != "posix":
        return FileCheck(str(path), True, "ok", f"{st.st_size} bytes")
    mode = stat.S_IMODE(st.st_mode)
    if mode & 0o077:
        return FileCheck(
            str(path), True, "warn", f"mode {mode:o}: readable by others, run `chmod 600 {path}`"
        )
    if st.st_uid != os.geteuid():
        return FileCheck(str(path), True, "warn", f"owned by uid {st.st_uid}, not you ({os.geteuid()})")
    return FileCheck(str(path), True, "ok", f"mode {mode:o}, {st.st_size} bytes; {unattended_state(path)}")


def unattended_state(path: Path) -> str:
    """Whether the vault has a keychain slot (unattended unlock), read from its header alone: no
    password, no keychain access."""
    from sidedesk.vault.format import VaultFormatError, decode_header

    try:
        with path.open("rb") as f:
            header = decode_header(f.read())
    except (OSError, VaultFormatError) as exc:
        return f"unattended unlock: unknown ({exc})"
    on = header.slots is not None and header.slots.keychain is not None
    return (
        "unattended unlock: on (the OS keychain opens it after a restart)" if on else "unattended unlock: off"
    )


def check_logs(paths: Paths) -> FileCheck:
    path = paths.log_file
    if path.is_file():
        return FileCheck(str(path), True, "ok", f"{path.stat().st_size} bytes; attach it to bug reports")
    return FileCheck(str(path), False, "ok", "no log yet: the host writes it when a browser starts it")


def check_config(paths: Paths) -> tuple[FileCheck, tuple[str, ...]]:
    path = paths.config_file
    try:
        config = load_config(path)
    except ConfigError as exc:
        return FileCheck(str(path), True, "error", str(exc)), ()
    detail = "valid" if path.exists() else "not created yet (defaults apply)"
    return FileCheck(str(path), path.exists(), "ok", detail), tuple(config.extra_extension_ids)


def run_doctor(
    platform: Platform,
    paths: Paths,
    *,
    registry: RegistryBackend | None = None,
    user_data_dir: Path | None = None,
    timeout: float = 10.0,
    which: Which | None = None,
    user: str = "",
    ask: Run | None = None,
) -> Report:
    """`ask` runs the service manager's queries (`systemctl --user is-enabled …`); None: for real."""
    import shutil

    from sidedesk.install.service_state import check_login_start, check_service, run_command

    config, extra = check_config(paths)
    expected = tuple(dict.fromkeys((*EXTENSION_IDS, *extra)))
    prober = Prober(platform.system, timeout)
    if user_data_dir is not None:
        browsers = [check_user_data_dir(user_data_dir, platform, expected, prober)]
    else:
        browsers = [
            check_browser(b, platform, expected, prober, registry, which or shutil.which) for b in BROWSERS
        ]
    user_level = any((b.effective is not None and b.effective.scope == "user") for b in browsers)
    policies = check_policies(platform, registry, user_level, user or os.environ.get("USER", ""))
    report = Report(
        __version__,
        NATIVE_HOST_NAME,
        list(expected),
        browsers,
        policies,
        check_vault(paths),
        check_logs(paths),
        config,
        check_login_start(platform.system, platform.home, platform.config_home, paths, ask or run_command),
        check_service(paths),
    )
    judge(report)
    return report


def judge(report: Report) -> None:
    problems: list[str] = []
    for b in report.browsers:
        if b.status == "error":
            problems.append(f"{b.label}: {b.summary}")
    problems.extend(f"{p.browser}: {p.message}" for p in report.policies if p.level == "error")
    for check in (report.vault, report.config):
        if check.status == "error":
            problems.append(f"{check.path}: {check.detail}")
    if not any(
        b.status in ("ok", "warn") and b.effective is not None and not b.effective.problems
        for b in report.browsers
    ):
        problems.append(
            "no browser has a working registration: run `sidedesk install` (see `sidedesk install --help`)"
        )
    warnings = [b for b in report.browsers if b.status == "warn"] + [
        p for p in report.policies if p.level == "warn"
    ]
    report.problems = problems
    report.status = "error" if problems else ("warn" if warnings or report.vault.status == "warn" else "ok")


# -- rendering ----------------------------------------------------------------------------------


def render_json(report: Report) -> str:
    return json.dumps(report.to_json(), indent=2, default=str)


MARK = {"ok": "ok", "warn": "WARN", "error": "ERROR", "absent": "-"}


def render_table(report: Report) -> str:
    lines = [f"Sidedesk doctor: host {report.host_version}, native host name {report.host_name}"]
    lines.append(f"extension ids the host accepts: {', '.join(report.expected_ids)}")
    lines.append("")
    rows = [("BROWSER", "FOUND", "STATUS", "MANIFEST / DETAIL")]
    for b in report.browsers:
        eff = b.effective
        rows.append(
            (b.label, "yes" if b.installed else "no", MARK[b.status], eff.where if eff else b.summary)
        )
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    for r in rows:
        lines.append("  ".join(r[i].ljust(widths[i]) for i in range(3)) + "  " + r[3])
    for b in report.browsers:
        eff = b.effective
        details: list[str] = []
        if eff is not None:
            details += [f"ERROR {p}" for p in eff.problems] + [f"warn  {w}" for w in eff.warnings]
            if eff.host is not None and eff.host.ok:
                details.append(f"ok    {eff.host.detail}")
            shadowed = [loc.where for loc in b.locations if loc.exists and loc is not eff]
            details += [
                f"note  also present but not used (the browser stops at the first): {s}" for s in shadowed
            ]
        elif b.status == "warn":
            details.append(f"warn  {b.summary}")
        details += [f"note  {n}" for n in b.notes]
        if details:
            lines.append("")
            lines.append(f"{b.label}:")
            lines += [f"  {d}" for d in details]
    lines.append("")
    if report.policies:
        lines.append("Browser policies:")
        lines += [f"  {p.level.upper():5} {p.browser}: {p.message} ({p.source})" for p in report.policies]
    else:
        lines.append("Browser policies: none affecting native messaging")
    for name, check in (("Vault", report.vault), ("Settings", report.config), ("Log", report.logs)):
        lines.append(
            f"{name}: {check.path} ({MARK[check.status] if check.status != 'ok' else 'ok'}: {check.detail})"
        )
    if report.service is not None:
        lines.append(f"Service: {report.service.detail}")
    if report.login_start is not None:
        ls = report.login_start
        lines.append(f"Start at login ({ls.kind}): {ls.path} ({ls.detail})")
    lines.append("")
    if report.problems:
        lines.append(f"Result: {len(report.problems)} problem(s)")
        lines += [f"  - {p}" for p in report.problems]
    else:
        lines.append("Result: " + ("OK" if report.status == "ok" else "OK, with warnings above"))
    return "\n".join(lines) + "\n"


# -- sidedesk doctor --account ID: one broker account's Test connection ------------------------------

CHECK_MARK = {"ok": "ok", "warn": "WARN", "fail": "FAIL", "skip": "skip"}


def render_account_checks(result: dict[str, Any]) -> str:
    """The checks of `app/checks.py` (the same rows the panel's Test connection shows)."""
    lines = [
        f"Sidedesk doctor: account {result['name']} ({result['broker']}, {result['environment']}, "
        f"id {result['account_id']})",
        "",
    ]
    width = max(len(c["label"]) for c in result["checks"])
    for c in result["checks"]:
        lines.append(f"  {CHECK_MARK[c['status']]:<4}  {c['label']:<{width}}  {c['detail']}")
    lines.append("")
    failed = [c for c in result["checks"] if c["status"] == "fail"]
    warned = [c for c in result["checks"] if c["status"] == "warn"]
    if failed:
        lines.append(f"Result: {len(failed)} problem(s): " + "; ".join(c["label"] for c in failed))
    elif warned:
        lines.append("Result: OK, with warnings above")
    else:
        lines.append("Result: OK (skip = not checked; the line says why)")
    return "\n".join(lines) + "\n"
