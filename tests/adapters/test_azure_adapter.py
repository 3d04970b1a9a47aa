"""The Azure Functions app: its registrations, its request id, its refusal to serve on a bad
configuration, its timer, and the files that deploy it."""

from __future__ import annotations

import json
import logging
import subprocess
from pathlib import Path

import pytest

from shared.api import reset_service
from shared.api.routes import build_routes
from shared.config import parse_config
from tests.adapters.channels import AzureChannel, azure_functions

REPO = Path(__file__).resolve().parents[2]
# Routes other issues bring to the core; the app registers them already (the core answers 404 until then).
FORTHCOMING = {("DELETE", "/api/v1/credentials/{credential_id}"), ("GET", "/api/v1/aws/container-credentials/{store}")}


def _http_registrations() -> set[tuple[str, str]]:
    out = set()
    for fn in azure_functions():
        trigger = fn.get_trigger().get_dict_repr()
        if trigger["type"] == "httpTrigger" and "{*" not in trigger["route"]:
            out |= {(str(getattr(m, "value", m)), "/api/" + trigger["route"]) for m in trigger["methods"]}
    return out


def test_every_route_of_the_core_has_its_own_function():
    core = {(r.method, r.template) for r in build_routes()}
    assert core <= _http_registrations()


def test_the_routes_other_issues_bring_are_registered_already():
    assert _http_registrations() >= FORTHCOMING


def test_every_function_is_anonymous_because_the_bearer_check_is_the_services():
    levels = {
        str(getattr(t["authLevel"], "value", t["authLevel"]))
        for fn in azure_functions()
        if (t := fn.get_trigger().get_dict_repr())["type"] == "httpTrigger"
    }
    assert levels == {"anonymous"}


def test_a_path_no_route_takes_reaches_the_core_through_the_catch_all(service):
    reply = AzureChannel().send("PATCH", "/api/v2/anything")
    assert (reply.status, reply.header("Content-Type")) == (404, "application/problem+json")


def test_the_invocation_id_is_the_request_id_when_the_client_sends_none(service):
    reply = AzureChannel().send("GET", "/api/v1/health", invocation_id="3f2a9c1e-7d4b-4c8e-9a61-0b5d2e7f8a90")
    assert reply.header("X-Request-Id") == "3f2a9c1e-7d4b-4c8e-9a61-0b5d2e7f8a90"


def test_the_clients_request_id_wins_over_the_invocation_id(service):
    reply = AzureChannel().send("GET", "/api/v1/health", headers={"X-Request-Id": "client-42"}, invocation_id="inv-1")
    assert reply.header("X-Request-Id") == "client-42"


def test_an_invalid_configuration_answers_503_without_naming_it(monkeypatch, caplog):
    reset_service(None)
    monkeypatch.setenv("TVS_CONFIG", json.dumps({"issuers": [], "stores": {}}))
    monkeypatch.setenv("TVS_MODE", "deployed")
    with caplog.at_level(logging.CRITICAL, logger="tvs.adapter"):
        reply = AzureChannel().send("GET", "/api/v1/health")
    body = reply.json()
    assert (reply.status, body["type"], reply.header("Retry-After")) == (
        503,
        "https://tvs.dev/problems/service-misconfigured",
        "300",
    )
    assert "issuers" not in reply.body.decode()
    assert any("issuers: must list at least one issuer" in r.getMessage() for r in caplog.records)


def test_the_timer_runs_the_cores_sweep(service, caplog):
    with caplog.at_level(logging.INFO, logger="tvs.audit"):
        _timer().get_user_function()(type("Timer", (), {"past_due": False})())
    records = [json.loads(r.getMessage()) for r in caplog.records if r.name == "tvs.audit"]
    assert [r["event"] for r in records] == ["sweep"]


def test_the_timer_fails_its_run_on_an_invalid_configuration(monkeypatch):
    from shared.errors import ConfigError

    reset_service(None)
    monkeypatch.setenv("TVS_CONFIG", "{}")
    with pytest.raises(ConfigError):
        _timer().get_user_function()(type("Timer", (), {"past_due": False})())


def test_the_timer_runs_every_five_minutes_and_not_at_start_up():
    trigger = _timer().get_trigger().get_dict_repr()
    assert (trigger["schedule"], trigger["runOnStartup"]) == ("0 */5 * * * *", False)


def _timer():
    return next(fn for fn in azure_functions() if fn.get_trigger().get_dict_repr()["type"] == "timerTrigger")


def test_host_json_prefixes_routes_with_api_and_leaves_the_sweep_time_to_finish():
    import function_app

    host = json.loads((REPO / "host.json").read_text())
    assert host["version"] == "2.0"
    assert host["extensionBundle"] == {"id": "Microsoft.Azure.Functions.ExtensionBundle", "version": "[4.*, 5.0.0)"}
    assert host["extensions"]["http"]["routePrefix"] == "api"
    h, m, s = (int(x) for x in host["functionTimeout"].split(":"))
    assert h * 3600 + m * 60 + s > function_app.SWEEP_BUDGET_SECONDS


def test_host_json_never_samples_away_requests_or_audit_records():
    sampling = json.loads((REPO / "host.json").read_text())["logging"]["applicationInsights"]["samplingSettings"]
    assert {"Request", "Trace"} <= set(sampling["excludedTypes"].split(";"))


def test_the_sample_settings_hold_a_configuration_a_deployment_accepts():
    values = json.loads((REPO / "local.settings.sample.json").read_text())["Values"]
    assert values["FUNCTIONS_WORKER_RUNTIME"] == "python"
    parse_config(json.loads(values["TVS_CONFIG"]), values["TVS_MODE"])


def test_the_real_local_settings_are_ignored_by_git():
    result = subprocess.run(["git", "check-ignore", "-q", "local.settings.json"], cwd=REPO)
    assert result.returncode == 0


def test_the_azure_package_leaves_out_the_lambda_adapter_tooling_and_tests():
    ignored = {
        line.strip()
        for line in (REPO / ".funcignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    assert {"lambda/", "localdev/", "tests/", "template.yaml", "local.settings.json", ".venv/"} <= ignored
    assert not {"shared/", "function_app.py", "host.json", "requirements.txt"} & ignored


def _ignored_by_funcignore(paths: list[str]) -> list[str]:
    """The paths .funcignore leaves out of the package (gitignore rules, as Core Tools reads them)."""
    result = subprocess.run(
        ["git", "-c", "core.excludesFile=.funcignore", "check-ignore", "--no-index", "--stdin"],
        cwd=REPO,
        input="\n".join(paths),
        capture_output=True,
        text=True,
    )
    return result.stdout.split()


def test_the_azure_package_carries_the_pages_files():
    from shared.ui import ASSETS

    page = [f"shared/ui/static/{name}" for name in sorted(ASSETS)]
    assert _ignored_by_funcignore([*page, "lambda/api.py"]) == ["lambda/api.py"]


@pytest.mark.parametrize(
    "raw,expected", [(None, 240.0), ("120", 120.0), ("soon", 240.0), ("nan", 240.0), ("-5", 0.0), ("9999", 280.0)]
)
def test_the_timer_budget_setting_never_breaks_the_app_and_stays_below_the_function_timeout(raw, expected):
    import function_app

    assert function_app._sweep_budget(raw) == expected


def test_a_store_that_cannot_be_swept_fails_the_timer_run(service):
    import function_app
    from shared.api.adapter import SweepIncomplete
    from tests.adapters.channels import UnsweepableStore

    service._vendors["s"] = UnsweepableStore()
    with pytest.raises(SweepIncomplete):
        function_app.sweep(None)
