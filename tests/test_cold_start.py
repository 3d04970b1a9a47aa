"""Cold start: importing the core or a request handler imports no cloud SDK (each provider loads its
own on first use). Checked in a fresh interpreter, where nothing else has been imported."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SDK_PREFIXES = ("boto3", "botocore", "s3transfer", "azure.storage", "azure.identity", "azure.core", "azure.data",
                "google", "msal", "requests", "urllib3")


def modules_after(statement: str) -> list[str]:
    code = f"import sys, json\n{statement}\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True,
                         env={"PATH": "/usr/bin:/bin", "TVS_MODE": "deployed"})
    return json.loads(out.stdout.splitlines()[-1])


def sdk_modules(modules: list[str]) -> list[str]:
    return [m for m in modules if m.startswith(SDK_PREFIXES)]


@pytest.mark.parametrize("statement", [
    "import shared",
    "import shared.api",
    "from shared.api.routes import build_routes; build_routes()",
    "import shared.providers.azure_blob",
])
def test_importing_the_core_imports_no_cloud_sdk(statement):
    assert sdk_modules(modules_after(statement)) == []


def test_the_check_itself_would_notice_an_sdk_import():
    assert "azure.storage.blob" in sdk_modules(modules_after("import azure.storage.blob"))
