"""Foreground entry point: ``python -m localdev.vms_simulator``."""

from __future__ import annotations

import argparse
import signal
import threading

from .simulator import DEFAULT_LOCAL_USERS, DEFAULT_NON_LOCAL_USERS, VmsSimulator


def _parse_user(spec: str) -> tuple[str, dict]:
    """``local:ID:NAME``, ``uid:UID:NAME``, ``sid:SID:NAME`` or ``uidsid:UID:SID:NAME``."""
    kind, _, rest = spec.partition(":")
    parts = rest.split(":")
    try:
        if kind == "local" and len(parts) == 2:
            return "local", {"user_id": int(parts[0]), "name": parts[1]}
        if kind == "uid" and len(parts) == 2:
            return "non_local", {"uid": int(parts[0]), "name": parts[1]}
        if kind == "sid" and len(parts) == 2:
            return "non_local", {"sid": parts[0], "name": parts[1]}
        if kind == "uidsid" and len(parts) == 3:
            return "non_local", {"uid": int(parts[0]), "sid": parts[1], "name": parts[2]}
    except ValueError:
        pass
    raise argparse.ArgumentTypeError(f"bad --seed-user {spec!r}")


def main(argv: list[str] | None = None) -> int:
    """Run a simulator in the foreground until SIGINT/SIGTERM."""
    ap = argparse.ArgumentParser(prog="python -m localdev.vms_simulator", description=__doc__)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=8444)
    ap.add_argument("--username", default="admin")
    ap.add_argument("--password", default="123456")
    ap.add_argument("--api-token", default="vms-simulator-token")
    ap.add_argument("--certfile")
    ap.add_argument("--keyfile")
    ap.add_argument(
        "--seed-user",
        action="append",
        default=[],
        type=_parse_user,
        help="local:ID:NAME | uid:UID:NAME | sid:SID:NAME | uidsid:UID:SID:NAME",
    )
    ap.add_argument(
        "--generate-local-users",
        type=int,
        default=0,
        metavar="N",
        help="also add N local users with ids 10001.. (benchmarks)",
    )
    ap.add_argument("--no-default-users", action="store_true")
    ap.add_argument("--max-keys-per-user", type=int, default=2)
    ap.add_argument("--hang-seconds", type=float, default=30.0)
    ap.add_argument("--rng-seed", type=int)
    ap.add_argument("--verbose", action="store_true")
    args = ap.parse_args(argv)

    local = {} if args.no_default_users else dict(DEFAULT_LOCAL_USERS)
    non_local = [] if args.no_default_users else list(DEFAULT_NON_LOCAL_USERS)
    for i in range(args.generate_local_users):
        local[10001 + i] = f"user{10001 + i}"
    for kind, spec in args.seed_user:
        if kind == "local":
            local[spec["user_id"]] = spec["name"]
        else:
            non_local.append(spec)

    sim = VmsSimulator(
        host=args.host,
        port=args.port,
        username=args.username,
        password=args.password,
        api_token=args.api_token,
        local_users=local,
        non_local_users=non_local,
        max_keys_per_user=args.max_keys_per_user,
        hang_seconds=args.hang_seconds,
        certfile=args.certfile,
        keyfile=args.keyfile,
        seed=args.rng_seed,
        verbose=args.verbose,
    )
    done = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: done.set())
    print(f"VMS simulator listening on {sim.start()}", flush=True)
    try:
        # wait() with a timeout keeps the main thread responsive to signals.
        while not done.wait(0.5):
            pass
    finally:
        sim.stop()
    print("VMS simulator stopped", flush=True)
    return 0
