"""Simulator-only control endpoints under ``/_sim/`` (not part of VMS; no auth).

They mirror the in-process API so a simulator run as a separate process
(``python -m localdev.vms_simulator``) can be driven by tests and benchmarks.
"""

from __future__ import annotations

from typing import Any

from .store import ApiError, NotFound


def handle_admin(sim: Any, method: str, route: list[str], query: dict, body: dict) -> tuple[int, Any]:
    """Answer one ``/_sim/<route>`` request as ``(status, json_body)``."""
    what = route[0] if len(route) == 1 else None
    if (method, what) == ("GET", "keys"):
        if {"user_id", "uid", "sid"} & query.keys():
            return 200, _keys_of(sim, query)
        return 200, sim.all_keys()
    if (method, what) == ("POST", "keys"):
        # The user's own key, created outside the service under test.
        fields = {
            k: body[k]
            for k in ("uid", "sid", "access_key", "secret_key", "enabled", "tenant_id", "enforce_cap")
            if k in body
        }
        return 201, sim.add_key(body.get("user_id"), **fields)
    if (method, what) == ("GET", "faults"):
        return 200, sim.faults()
    if (method, what) == ("POST", "faults"):
        _set_faults(sim, body)
        return 200, sim.faults()
    if (method, what) == ("GET", "calls"):
        return 200, sim.calls
    if (method, what) == ("POST", "reset"):
        sim.reset(**{k: bool(body[k]) for k in ("keys", "faults", "counters") if k in body})
        return 200, {"reset": True}
    if (method, what) == ("GET", "users"):
        return 200, sim.store.users()
    if (method, what) == ("POST", "users"):
        try:
            for u in body.get("local", ()):
                sim.add_local_user(u["id"], u["name"], u.get("tenant_id", 1))
            for u in body.get("non_local", ()):
                sim.add_non_local_user(u["name"], u.get("uid"), u.get("sid"), u.get("tenant_id", 1))
        except (KeyError, TypeError, ValueError) as err:
            raise ApiError(400, {"detail": f"bad user spec: {err!r}"}) from None
        return 201, {"local": len(body.get("local", ())), "non_local": len(body.get("non_local", ()))}
    raise NotFound()


def _keys_of(sim: Any, query: dict) -> list[dict]:
    if "user_id" in query:
        return sim.keys_of_local_user(query["user_id"])
    return sim.keys_of_non_local(query.get("uid"), query.get("sid"))


def _set_faults(sim: Any, body: dict) -> None:
    """Body: ``{"clear"?, "fail_next"?: {n, status?, ops?}, "timeout_after_create"?: n | {n, mode?},
    "latency"?: seconds}``; ``clear`` is applied first."""
    try:
        if body.get("clear"):
            sim.clear_faults()
        if "fail_next" in body:
            spec = body["fail_next"]
            sim.fail_next(spec["n"], spec.get("status", 500), spec.get("ops", ("create", "delete", "list")))
        if "timeout_after_create" in body:
            spec = body["timeout_after_create"]
            spec = spec if isinstance(spec, dict) else {"n": spec}
            sim.timeout_after_create(spec["n"], spec.get("mode", "hang"))
        if "latency" in body:
            sim.latency(body["latency"])
    except (KeyError, TypeError, ValueError) as err:
        raise ApiError(400, {"detail": f"bad fault spec: {err!r}"}) from None
