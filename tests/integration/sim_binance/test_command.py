# ruff: noqa: E501  (wire payloads and signature vectors read best unbroken)
"""`sidedesk sim binance` as a real process: one JSON line with URLs and keys, then it serves."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request


def test_cli_prints_ready_line_and_serves() -> None:
    code = "import sys; from sidedesk_sim.command import configure, run; import argparse; " \
           "p = argparse.ArgumentParser(); configure(p); sys.exit(run(p.parse_args(sys.argv[1:])))"  # fmt: skip
    proc = subprocess.Popen([sys.executable, "-c", code, "binance", "--port", "0", "--seed", "5"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        info = json.loads(line)
        assert info["rest"].startswith("http://127.0.0.1:") and info["ws_api"].endswith("/ws-fapi/v1")
        assert info["control"].endswith("/_sim") and info["seed"] == 5
        assert {k["type"] for k in info["keys"]} == {"hmac", "ed25519"}
        with urllib.request.urlopen(info["rest"] + "/fapi/v1/time", timeout=5) as r:
            assert "serverTime" in json.loads(r.read())
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    assert proc.returncode == 0


def test_cli_rejects_bad_arguments() -> None:
    code = "import sys; from sidedesk_sim.command import configure, run; import argparse; " \
           "p = argparse.ArgumentParser(); configure(p); sys.exit(run(p.parse_args(sys.argv[1:])))"  # fmt: skip
    out = subprocess.run([sys.executable, "-c", code, "binance", "--tick-ms", "0"], capture_output=True, text=True,
                         timeout=30)  # fmt: skip
    assert out.returncode == 2 and "--tick-ms" in out.stderr
