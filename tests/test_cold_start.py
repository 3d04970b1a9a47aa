"""Cold start: importing the core, the Azure Functions app or a Lambda handler loads no cloud SDK.

Each import runs in a fresh interpreter, as a cold start does, with a valid deployed
configuration so the adapters also build the service at import time. Vendors import their SDK on
the first request that needs it; platform host libraries (azure.functions, Powertools) are allowed.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
CLOUD_SDKS = (
    "boto3",
    "botocore",
    "azure.storage",
    "azure.identity",
    "azure.core",
    "azure.data",
    "azure.eventhub",
    "google",
)
DEPLOYED_CONFIG = {
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
        },
        "partner-gcs": {
            "kind": "gcs",
            "bucket": "partner-data",
            "auth": {
                "method": "workload-identity-federation",
                "audience": "//iam.googleapis.com/projects/123456789012/locations/global/"
                "workloadIdentityPools/tvs-pool/providers/tvs-azure",
                "subject_token": {"azure_audience": "api://AzureADTokenExchange"},
                "impersonate": "tvs-vendor@partner-project.iam.gserviceaccount.com",
            },
        },
    },
    "grants": [{"match": {"groups": ["analysts"]}, "stores": ["*"], "access": "read"}],
    "accessmanager": {
        "notifier": {"kind": "event-hubs", "fully_qualified_namespace": "ns.servicebus.windows.net"},
        "organizations": {
            "acct": {
                "id": 1,
                "store": "sales-raw",
                "confidentiality": "internal",
                "spaces": {"loadingzone": {"confidentiality": "internal"}},
            }
        },
    },
}
PROBE = """
import importlib, json, sys
importlib.import_module(sys.argv[1])
from shared.api.adapter import current_service
loaded = sorted(m for m in sys.modules if any(m == p or m.startswith(p + ".") for p in {sdks!r}))
print(json.dumps({{"sdks": loaded, "service_built": current_service() is not None,
                  "powertools": "aws_lambda_powertools" in sys.modules,
                  "azure_functions": "azure.functions" in sys.modules}}))
"""


def _cold_import(module: str) -> dict:
    env = {**os.environ, "TVS_CONFIG": json.dumps(DEPLOYED_CONFIG), "TVS_MODE": "deployed"}
    out = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", PROBE.format(sdks=CLOUD_SDKS), module],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize(
    "module",
    [
        "shared",
        "shared.api",
        "shared.api.routes",
        "shared.azure.vendor",
        "shared.gcp",
        "shared.gcp.vendor",
        "function_app",
        "lambda.api",
        "lambda.sweep",
    ],
)
def test_importing_loads_no_cloud_sdk(module):
    assert _cold_import(module)["sdks"] == []


@pytest.mark.parametrize("module", ["function_app", "lambda.api", "lambda.sweep"])
def test_the_adapters_build_the_service_at_cold_start(module):
    assert _cold_import(module)["service_built"] is True


def test_the_core_loads_neither_platform_library():
    probe = _cold_import("shared.api")
    assert (probe["powertools"], probe["azure_functions"]) == (False, False)


def test_no_core_module_imports_a_platform_library_even_lazily():
    statement = re.compile(r"^\s*(?:import|from)\s+(?:aws_lambda_powertools|azure\.functions)\b", re.MULTILINE)
    offenders = [str(p.relative_to(REPO)) for p in (REPO / "shared").rglob("*.py") if statement.search(p.read_text())]
    assert offenders == []


def test_the_probe_would_notice_an_sdk_import():
    assert "azure.storage.blob" in _cold_import("azure.storage.blob")["sdks"]


def test_the_probe_would_notice_google_auth():
    assert "google.auth" in _cold_import("google.auth")["sdks"]
