"""The stack's alarms watch metrics the Lambda handlers really emit: same namespace, same name, same
dimensions (an alarm on a metric nobody writes never fires)."""

from __future__ import annotations

import importlib
import json

import pytest

from shared.api import reset_service
from tests.adapters.channels import FakeLambdaContext, LambdaChannel
from tests.deploy.template import Stack, load_template
from tests.support import build_service, issuer_block


def emitted(text: str) -> set[tuple[str, str, frozenset]]:
    """(namespace, metric name, dimensions) of the CloudWatch embedded-metric-format lines in ``text``."""
    out = set()
    for line in text.splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if not isinstance(record, dict) or "_aws" not in record:
            continue
        for directive in record["_aws"]["CloudWatchMetrics"]:
            for dimension_set in directive["Dimensions"]:
                dims = frozenset((name, record[name]) for name in dimension_set)
                out.update((directive["Namespace"], m["Name"], dims) for m in directive["Metrics"])
    return out


def _alarm(name: str) -> tuple[str, str, frozenset]:
    alarm = Stack(load_template(), TvsConfig="{}").resource(name)
    return alarm["Namespace"], alarm["MetricName"], frozenset((d["Name"], d["Value"]) for d in alarm["Dimensions"])


@pytest.fixture
def running_service(idp):
    reset_service(
        build_service(
            {
                "issuers": [issuer_block(idp)],
                "stores": {
                    "s": {
                        "kind": "azure-blob",
                        "container": "c",
                        "account_url": "https://acct.blob.core.windows.net",
                        "auth": {"method": "managed-identity"},
                    }
                },
            },
            idp,
        )
    )
    yield
    reset_service(None)


def test_the_5xx_alarm_watches_the_metric_a_5xx_answer_writes(monkeypatch, capsys):
    reset_service(None)
    monkeypatch.setenv("TVS_CONFIG", json.dumps({"issuers": "one"}))  # every request answers 503
    monkeypatch.setenv("TVS_MODE", "deployed")
    try:
        assert LambdaChannel().send("GET", "/api/v1/health").status == 503
    finally:
        reset_service(None)
    assert _alarm("ApiServerErrorsAlarm") in emitted(capsys.readouterr().out)


def test_the_failed_revocations_alarm_watches_a_metric_every_sweep_writes(running_service, capsys):
    importlib.import_module("lambda.sweep").handler({"source": "aws.scheduler"}, FakeLambdaContext(remaining_ms=60_000))
    assert _alarm("SweepFailedAlarm") in emitted(capsys.readouterr().out)
