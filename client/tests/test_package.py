"""What the package may import, and what the command needs to start."""
from __future__ import annotations

import ast
import pathlib
import subprocess
import sys

SOURCE = pathlib.Path(__file__).resolve().parents[1] / "src" / "tvs_client"
SERVICE_PACKAGES = {"shared", "localdev", "lambda", "function_app", "tests", "bench", "tools"}


def test_the_package_imports_nothing_of_the_service():
    imported = set()
    for path in SOURCE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                imported |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                imported.add(node.module.split(".")[0])
    assert imported & SERVICE_PACKAGES == set()


def test_the_command_starts_without_importing_a_cloud_sdk():
    code = ("import sys, tvs_client.cli, tvs_client.sdk, tvs_client.execrun; "
            "print(sorted({m.split('.')[0] for m in sys.modules} & {'boto3', 'botocore', 'azure', 's3fs', 'adlfs', "
            "'aiobotocore', 'keyring', 'requests'}))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={"PYTHONPATH": str(SOURCE.parent), "PATH": "/usr/bin:/bin"}).stdout
    assert out.strip() == "[]"


def test_tvs_help_runs_as_a_module():
    out = subprocess.run([sys.executable, "-m", "tvs_client", "--help"], capture_output=True, text=True,
                         env={"PYTHONPATH": str(SOURCE.parent), "PATH": "/usr/bin:/bin"})
    assert out.returncode == 0 and "credential-process" in out.stdout
