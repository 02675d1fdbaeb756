"""Generate the Volumetrica protobuf module from `proto/volumetrica.proto` (our own .proto).

    python build/gen_proto.py            # write brokers/volumetrica/protocol/volumetrica_pb2.py(+.pyi)
    python build/gen_proto.py --check    # exit 1 if the committed files differ from a fresh run
    python build/gen_proto.py --out DIR  # write into DIR instead (the regeneration test uses this)

Needs `grpcio-tools` (a dev dependency; it bundles protoc). The runtime needs only `protobuf`.
The generated files get a header that keeps ruff from linting or reformatting them, so a fresh
run reproduces the committed files byte for byte.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROTO_DIR = ROOT / "proto"
PROTO = "volumetrica.proto"
PACKAGE_DIR = ROOT / "host" / "sidedesk" / "brokers" / "volumetrica" / "protocol"
OUTPUTS = ("volumetrica_pb2.py", "volumetrica_pb2.pyi")
HEADER = (
    '# ruff: noqa\n# fmt: off\n# mypy: disable-error-code="type-arg"\n'
    "# Generated from proto/volumetrica.proto by build/gen_proto.py: edit the .proto, not this.\n"
)


def generate(out_dir: Path) -> list[Path]:
    """Run protoc (from grpcio-tools) into `out_dir`; returns the files written."""
    try:
        from grpc_tools import protoc  # type: ignore[import-untyped]
    except ImportError:
        sys.stderr.write("gen_proto: grpcio-tools is not installed (pip install grpcio-tools)\n")
        raise SystemExit(2) from None
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        args = ["protoc", f"-I{PROTO_DIR}", f"--python_out={tmp}", f"--pyi_out={tmp}", str(PROTO_DIR / PROTO)]
        if protoc.main(args) != 0:
            raise SystemExit(f"gen_proto: protoc failed on {PROTO}")
        written = []
        for name in OUTPUTS:
            text = (Path(tmp) / name).read_text(encoding="utf-8")
            target = out_dir / name
            target.write_bytes((HEADER + text).encode("utf-8"))
            written.append(target)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=PACKAGE_DIR, help="output folder (default: the package)")
    parser.add_argument("--check", action="store_true", help="compare a fresh run with the committed files")
    args = parser.parse_args(argv)
    if not args.check:
        for path in generate(args.out):
            print(path)
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        fresh = generate(Path(tmp))
        stale = [p.name for p in fresh if p.read_bytes() != (PACKAGE_DIR / p.name).read_bytes()]
    if stale:
        sys.stderr.write(f"gen_proto: out of date: {', '.join(stale)} (run make proto)\n")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
