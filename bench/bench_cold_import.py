"""Cold import of the adapters against the platform libraries they stand on, and the Lambda package size.

    .venv/bin/python bench/bench_cold_import.py [--runs 21] [--sam-build]

Each import runs in a fresh interpreter (a cold start), timed inside the process from the first
import to the last, with a valid deployed configuration so the adapters also build the service.
Rounds interleave the four imports so machine noise hits them alike; the table shows medians:

- ``function_app`` against ``import azure.functions`` + ``import jwt`` (what any Python function
  app that checks a JWT loads anyway);
- ``lambda.api`` against Powertools' ``APIGatewayHttpResolver`` + ``import jwt``.

Bytecode is compiled first, as both deployments ship it (the Lambda build compiles it; installed
libraries have it). ``--sam-build`` also builds the Lambda package with the SAM CLI of
``.venv-sam`` and reports its size, unzipped and zipped.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CONFIG = {
    "issuers": [
        {
            "name": "entra",
            "issuer": "https://login.microsoftonline.com/00000000-0000-0000-0000-000000000000/v2.0",
            "audiences": ["api://tvs"],
            "claims_profile": "entra",
        }
    ],
    "stores": {
        "sales-raw": {
            "kind": "azure-blob",
            "account_url": "https://acct.blob.core.windows.net",
            "container": "sales-raw",
            "auth": {"method": "managed-identity"},
        }
    },
    "grants": [{"match": {"groups": ["analysts"]}, "stores": ["*"], "access": "read"}],
}
IMPORTS = {
    "azure baseline": "import azure.functions, jwt",
    "function_app": "import function_app",
    "lambda baseline": "from aws_lambda_powertools.event_handler import APIGatewayHttpResolver; import jwt",
    "lambda.api": "import importlib; importlib.import_module('lambda.api')",
}
PAIRS = (("function_app", "azure baseline"), ("lambda.api", "lambda baseline"))
TIMER = "import time; t0 = time.perf_counter(); {stmt}; print(time.perf_counter() - t0)"


def cold_import_seconds(stmt: str) -> float:
    env = {**os.environ, "TVS_CONFIG": json.dumps(CONFIG), "TVS_MODE": "deployed"}
    out = subprocess.run(
        [sys.executable, "-c", TIMER.format(stmt=stmt)], cwd=REPO, env=env, capture_output=True, text=True, check=True
    )
    return float(out.stdout.strip().splitlines()[-1])


def measure(runs: int) -> dict[str, float]:
    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", "shared", "lambda", "function_app.py"], cwd=REPO, check=True
    )
    for stmt in IMPORTS.values():
        cold_import_seconds(stmt)  # warm the file cache, not the interpreter
    samples: dict[str, list[float]] = {name: [] for name in IMPORTS}
    for _ in range(runs):
        for name, stmt in IMPORTS.items():
            samples[name].append(cold_import_seconds(stmt))
    return {name: statistics.median(values) for name, values in samples.items()}


def package_size() -> dict[str, float]:
    sam = REPO / ".venv-sam" / "bin" / "sam"
    with tempfile.TemporaryDirectory() as tmp:
        build = Path(tmp) / "build"
        subprocess.run(
            [str(sam), "build", "--build-in-source", "--build-dir", str(build)],
            cwd=REPO,
            check=True,
            capture_output=True,
            env={**os.environ, "SAM_CLI_TELEMETRY": "0"},
        )
        root = build / "ApiFunction"
        files = [p for p in root.rglob("*") if p.is_file()]
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
            for p in files:
                zf.write(p, p.relative_to(root))
        by_top: dict[str, int] = {}
        for p in files:
            top = p.relative_to(root).parts[0]
            by_top[top] = by_top.get(top, 0) + p.stat().st_size
        largest = sorted(by_top.items(), key=lambda kv: -kv[1])[:6]
        return {
            "unzipped_mb": sum(p.stat().st_size for p in files) / 1e6,
            "zipped_mb": len(buf.getvalue()) / 1e6,
            "ours_kb": (by_top.get("lambda", 0) + by_top.get("shared", 0)) / 1e3,
            "largest": ", ".join(f"{k} {v / 1e6:.1f} MB" for k, v in largest),
        }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=21)
    parser.add_argument("--sam-build", action="store_true", help="also build the Lambda package and report its size")
    args = parser.parse_args(argv)

    medians = measure(args.runs)
    print(f"cold import, median of {args.runs} fresh interpreters (ms)")
    print(f"{'module':<18}{'median ms':>10}   {'baseline':<18}{'median ms':>10}{'ratio':>8}")
    for module, baseline in PAIRS:
        ratio = medians[module] / medians[baseline]
        print(
            f"{module:<18}{medians[module] * 1e3:>10.1f}   {baseline:<18}{medians[baseline] * 1e3:>10.1f}{ratio:>8.2f}"
        )
    if args.sam_build:
        size = package_size()
        print(
            f"\nLambda package (ApiFunction): {size['unzipped_mb']:.1f} MB unzipped, "
            f"{size['zipped_mb']:.1f} MB zipped; "
            f"lambda/ + shared/ {size['ours_kb']:.0f} kB"
        )
        print(f"largest: {size['largest']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
