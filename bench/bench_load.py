"""Benchmark: the local service held under load by many concurrent clients, over real HTTP.

    .venv/bin/python -m bench.bench_load [--clients 64] [--requests 200] [--principals 200]

The service runs in a child process (``python -m localdev`` minus the emulators: one account-key
Azure store, whose SAS is signed offline, and the development identity provider), so its memory is
its own. ``--clients`` client threads, spread over four client processes, each send ``--requests``
vends (``POST /api/v1/credentials``) as ``--principals`` distinct callers, one new connection per
request as curl or a short-lived job would, after one untimed vend per caller (steady state: each
token verified once and its credential in the cache, as within a token's first minute).

The floor, measured in the same run with the same clients, is ``GET /api/v1/health``: the HTTP
server alone. Reported: throughput, p50 and p99, their ratio, errors, and the service's resident
memory before, at each quarter of the run and after. Bounded: the run stops by itself after
``clients x requests`` vends (each request has a 30 s timeout).
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import os
import statistics
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from bench.harness import REPO, table

CLIENT_PROCESSES = 4


# -- the service (child process) ----------------------------------------------------------------------
def serve(port: int) -> None:
    import base64
    import logging

    from localdev.devidp import DevIdentityProvider
    from localdev.server import LocalServer
    from shared.api import VendingService
    from shared.config import parse_config

    logging.disable(logging.INFO)  # one audit line per vend would measure the terminal, not the service
    os.environ["BENCH_ACCOUNT_KEY"] = base64.b64encode(b"benchmark-key-" * 5).decode()
    issuer = f"http://127.0.0.1:{port}/dev-idp"
    config = parse_config(
        {
            "issuers": [
                {
                    "name": "dev",
                    "issuer": issuer,
                    "audiences": ["api://tvs-local"],
                    "algorithms": ["ES256"],
                    "jwks_uri": f"{issuer}/jwks",
                    "dev": True,
                }
            ],
            "stores": {
                "s": {
                    "kind": "azure-blob",
                    "account_url": "https://acct.blob.core.windows.net",
                    "account_name": "acct",
                    "container": "data",
                    "auth": {"method": "account-key", "account_key": {"env": "BENCH_ACCOUNT_KEY"}},
                }
            },
            "grants": [{"match": {"groups": ["g"]}, "stores": ["s"], "access": "read"}],
        },
        mode="local",
    )
    server = LocalServer(VendingService(config), DevIdentityProvider(issuer), port=port)
    print("ready", flush=True)
    server.serve_forever()


# -- the clients (child processes, threads in each) -----------------------------------------------------
def _one(port: int, method: str, path: str, headers: dict, body: bytes | None) -> tuple[float, bool]:
    started = time.perf_counter()
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        try:
            conn.request(method, path, body=body, headers={**headers, "Connection": "close"})
            resp = conn.getresponse()
            resp.read()
            ok = resp.status == 200
        finally:
            conn.close()
    except OSError:
        ok = False
    return time.perf_counter() - started, ok


def _client_process(args: tuple) -> tuple[list[float], int]:
    port, threads, requests, tokens, vend = args
    body = json.dumps({"store": "s", "access": "read", "ttl_seconds": 900}).encode()

    def worker(index: int) -> tuple[list[float], int]:
        latencies, errors = [], 0
        for i in range(requests):
            if vend:
                token = tokens[(index * requests + i) % len(tokens)]
                headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
                took, ok = _one(port, "POST", "/api/v1/credentials", headers, body)
            else:
                took, ok = _one(port, "GET", "/api/v1/health", {}, None)
            latencies.append(took)
            errors += not ok
        return latencies, errors

    with ThreadPoolExecutor(threads) as pool:
        results = list(pool.map(worker, range(threads)))
    return [t for lat, _ in results for t in lat], sum(e for _, e in results)


def rss_mib(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def run_load(port: int, clients: int, requests: int, tokens: list[str], vend: bool, pid: int) -> dict:
    per_process = [clients // CLIENT_PROCESSES + (i < clients % CLIENT_PROCESSES) for i in range(CLIENT_PROCESSES)]
    samples: list[float] = []
    stop = threading.Event()

    def sample_memory():
        while not stop.wait(0.5):
            samples.append(rss_mib(pid))

    sampler = threading.Thread(target=sample_memory, daemon=True)
    started = time.perf_counter()
    sampler.start()
    with multiprocessing.get_context("spawn").Pool(CLIENT_PROCESSES) as pool:
        results = pool.map(_client_process, [(port, n, requests, tokens, vend) for n in per_process if n])
    took = time.perf_counter() - started
    stop.set()
    sampler.join()
    latencies = sorted(t for lat, _ in results for t in lat)
    quarters = [samples[min(len(samples) - 1, len(samples) * q // 4)] for q in (1, 2, 3, 4)] if samples else []
    return {
        "count": len(latencies),
        "errors": sum(e for _, e in results),
        "throughput": len(latencies) / took,
        "p50": statistics.median(latencies),
        "p99": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))],
        "rss_quarters": quarters,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_load")
    parser.add_argument("--clients", type=int, default=64)
    parser.add_argument("--requests", type=int, default=200, help="vends per client")
    parser.add_argument("--principals", type=int, default=200)
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        serve(args.serve)
        return

    from localdev.emulators import free_port

    port = free_port()
    child = subprocess.Popen(
        [sys.executable, "-m", "bench.bench_load", "--serve", str(port)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        env={**os.environ, "TVS_MODE": "local"},
    )
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == b"ready"
        tokens = []
        for i in range(args.principals):
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            conn.request("POST", "/dev-idp/token", body=json.dumps({"sub": f"user-{i}", "groups": ["g"]}))
            tokens.append(json.loads(conn.getresponse().read())["access_token"])
            conn.close()
        body = json.dumps({"store": "s", "access": "read", "ttl_seconds": 900}).encode()
        for tok in tokens:  # warm: each caller's token verified and credential minted once, untimed
            _one(port, "POST", "/api/v1/credentials", {"Authorization": f"Bearer {tok}"}, body)
        before = rss_mib(child.pid)
        floor = run_load(port, args.clients, args.requests, tokens, vend=False, pid=child.pid)
        ours = run_load(port, args.clients, args.requests, tokens, vend=True, pid=child.pid)
        after = rss_mib(child.pid)
    finally:
        child.terminate()
        child.wait(10)

    def ms(seconds: float) -> str:
        return f"{seconds * 1000:.1f} ms"

    rows = []
    for name, r in (("floor: GET /api/v1/health", floor), ("vend: POST /api/v1/credentials", ours)):
        rows += [
            (f"{name}: requests, errors", f"{r['count']}, {r['errors']}"),
            (f"{name}: throughput", f"{r['throughput']:.0f} requests/s"),
            (f"{name}: p50 / p99", f"{ms(r['p50'])} / {ms(r['p99'])} (p99 = {r['p99'] / r['p50']:.1f} × p50)"),
        ]
    rows += [
        ("vend p50 against the floor's p50", f"{ours['p50'] / floor['p50']:.2f}×"),
        ("service RSS before the runs", f"{before:.1f} MiB"),
        (
            "service RSS at each quarter of the vend run",
            ", ".join(f"{m:.1f}" for m in ours["rss_quarters"]) + " MiB",
        ),
        ("service RSS after", f"{after:.1f} MiB"),
    ]
    table(
        f"{args.clients} concurrent clients, {args.requests} requests each, {args.principals} principals, "
        "a new connection per request",
        rows,
    )


if __name__ == "__main__":
    main()
