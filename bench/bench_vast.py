"""VAST benchmark: sweep throughput for N due keys, and vends per second, against the VMS simulator.

    .venv/bin/python -m bench.bench_vast [--records 10000] [--vends 2000] [--concurrency 4] [--vms-latency 0]

The simulator runs in its own process over https (the local test CA), so it does not share this
process's interpreter lock. The ledger is SQLite in a temporary directory. Sweep: N ACTIVE records,
all expired, each with a live key in the simulator; one sweep with a generous budget; keys per
second, then the Python heap peak of a second sweep of N records under tracemalloc (which slows it,
so its time is not the throughput figure) and the process's max RSS. Vends: the whole service path
(token validation, authorization, ledger, two VMS calls), one new user per vend, sequential and
from several threads.
"""

from __future__ import annotations

import argparse
import resource
import secrets
import subprocess
import sys
import tempfile
import time
import tracemalloc
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import requests

from localdev.certs import ensure_local_certs
from localdev.devidp import DevIdentityProvider
from localdev.emulators import free_port, wait_for_port
from shared.ledger import ACTIVE, KeyRecord, now_iso
from shared.ledger.sqlite import SqliteLedger
from shared.secrets import SecretResolver
from shared.vast.lifecycle import KeyLifecycle, LifecyclePolicy
from shared.vast.mapping import VastUser
from shared.vast.reclaim import ReclaimSettings, reclaim_store
from shared.vast.vms_client import VmsClient
from tests.support import build_service, call, issuer_block

FIRST_USER = 10001


class Simulator:
    def __init__(self, users: int, workdir: Path):
        self.ca, cert, key = ensure_local_certs(workdir / "certs")
        self.port, self.token = free_port(), secrets.token_urlsafe(16)
        self.url = f"https://127.0.0.1:{self.port}"
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "localdev.vms_simulator",
                "--port",
                str(self.port),
                "--api-token",
                self.token,
                "--certfile",
                str(cert),
                "--keyfile",
                str(key),
                "--generate-local-users",
                str(users),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for_port(self.port, proc=self.proc)
        self.http = requests.Session()
        self.http.trust_env = False  # a CA bundle named in the environment must not replace ours
        self.http.verify = str(self.ca)

    def add_key(self, user_id: int) -> str:
        return self.http.post(f"{self.url}/_sim/keys", json={"user_id": user_id}, timeout=10).json()["access_key"]

    def latency(self, seconds: float) -> None:
        self.http.post(f"{self.url}/_sim/faults", json={"latency": seconds}, timeout=10).raise_for_status()

    def key_count(self) -> int:
        return len(self.http.get(f"{self.url}/_sim/keys", timeout=30).json())

    def calls(self) -> dict:
        return self.http.get(f"{self.url}/_sim/calls", timeout=10).json()

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)


def seed(sim: Simulator, ledger: SqliteLedger, first_user: int, records: int) -> None:
    """``records`` expired ACTIVE records, two per user, each with its live key in the simulator."""
    users = [first_user + i // 2 for i in range(records)]
    with ThreadPoolExecutor(8) as pool:
        keys = list(pool.map(sim.add_key, users))
    created = datetime.now(UTC) - timedelta(hours=2)
    for i, (user_id, key) in enumerate(zip(users, keys, strict=True)):
        ledger.create(
            KeyRecord(
                credential_id=f"vast.bench.{first_user}-{i:06d}",
                store="bench",
                owner="https://idp|bench",
                user_key=f"bench|local:{user_id}",
                holder=VastUser(user_id=user_id).as_ref(),
                state=ACTIVE,
                created_at=now_iso(created),
                expires_at=int(created.timestamp()) + 60,
                due_at=int(created.timestamp()) + 60,
                access_key=key,
            )
        )


def lifecycle(sim: Simulator, ledger: SqliteLedger) -> KeyLifecycle:
    vms = VmsClient(sim.url, auth=("api-token", sim.token), ca_bundle=str(sim.ca), timeout=10)
    return KeyLifecycle("bench", ledger, vms, LifecyclePolicy(), lambda: datetime.now(UTC))


def bench_sweep(sim: Simulator, workdir: Path, records: int, concurrency: int, latency: float) -> dict:
    ledger = SqliteLedger(workdir / "sweep.sqlite3")
    seed(sim, ledger, FIRST_USER, records)
    settings = ReclaimSettings(page_size=100, concurrency=concurrency)
    sim.latency(latency)
    started = time.perf_counter()
    summary = reclaim_store(lifecycle(sim, ledger), 600, settings)
    elapsed = time.perf_counter() - started
    sim.latency(0)
    assert summary["revoked"] == records and sim.key_count() == 0, summary

    traced = SqliteLedger(workdir / "sweep-traced.sqlite3")
    second = FIRST_USER + records // 2
    seed(sim, traced, second, records)
    tracemalloc.start()
    reclaim_store(lifecycle(sim, traced), 600, settings)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {"records": records, "seconds": elapsed, "keys_per_second": records / elapsed, "heap_peak_mb": peak / 2**20}


def bench_vends(sim: Simulator, workdir: Path, first_user: int, vends: int, threads: int) -> dict:
    idp = DevIdentityProvider("http://127.0.0.1:7071/dev-idp")
    raw = {
        "issuers": [issuer_block(idp)],
        "stores": {
            "bench": {
                "kind": "vast-s3",
                "vms_url": sim.url,
                "s3_endpoint": "https://s3.bench.invalid",
                "ca_bundle": str(sim.ca),
                "auth": {"method": "api-token", "token": {"env": "VMS"}},
                "key_access": "read",
                "mapping": {"claims": {"user_id": "vast_user_id"}},
            }
        },
        "grants": [{"match": {"groups": ["bench"]}, "stores": ["*"], "access": "read"}],
        "ledger": {"backend": "sqlite", "path": str(workdir / "vend.sqlite3")},
    }
    service = build_service(raw, idp, secrets=SecretResolver({"VMS": sim.token}))
    tokens = [
        idp.mint(f"u{first_user + i}", ["bench"], {"vast_user_id": first_user + i})["access_token"]
        for i in range(vends)
    ]

    def vend(tok: str) -> int:
        return call(service, "POST", "/api/v1/credentials", token=tok, body={"store": "bench", "access": "read"}).status

    half = vends // 2
    call(service, "POST", "/api/v1/credentials", token=tokens[0], body={"store": "bench", "access": "read"})  # warm
    started = time.perf_counter()
    statuses = [vend(t) for t in tokens[1:half]]
    sequential = (half - 1) / (time.perf_counter() - started)
    started = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        statuses += list(pool.map(vend, tokens[half:]))
    parallel = (vends - half) / (time.perf_counter() - started)
    assert set(statuses) == {200}, sorted(set(statuses))
    return {"vends": vends, "sequential_per_second": sequential, "threads": threads, "parallel_per_second": parallel}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=10_000)
    parser.add_argument("--vends", type=int, default=2_000)
    parser.add_argument("--concurrency", type=int, default=4, help="sweep worker threads")
    parser.add_argument("--threads", type=int, default=4, help="concurrent vend callers")
    parser.add_argument(
        "--vms-latency",
        type=float,
        default=0.0,
        help="seconds the simulator adds to each answer during the timed sweep (a distant VMS)",
    )
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="tvs-bench-vast-") as tmp:
        workdir = Path(tmp)
        users = args.records + args.vends + 10
        sim = Simulator(users, workdir)
        try:
            sweep = bench_sweep(sim, workdir, args.records, args.concurrency, args.vms_latency)
            vends = bench_vends(sim, workdir, FIRST_USER + args.records + 1, args.vends, args.threads)
        finally:
            sim.stop()
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    rows = [
        (
            f"sweep: {sweep['records']} due keys, {args.concurrency} workers, +{args.vms_latency * 1000:.0f} ms (s)",
            f"{sweep['seconds']:.2f}",
        ),
        ("sweep: keys revoked per second", f"{sweep['keys_per_second']:.0f}"),
        ("sweep: Python heap peak (tracemalloc, MiB)", f"{sweep['heap_peak_mb']:.2f}"),
        ("process max RSS (MiB)", f"{rss_mb:.1f}"),
        ("vends per second, one caller", f"{vends['sequential_per_second']:.0f}"),
        (f"vends per second, {vends['threads']} callers", f"{vends['parallel_per_second']:.0f}"),
    ]
    print(f"{'measure':<46} {'value':>10}")
    print(f"{'-' * 46} {'-' * 10}")
    for name, value in rows:
        print(f"{name:<46} {value:>10}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
