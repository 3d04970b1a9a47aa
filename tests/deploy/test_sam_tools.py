"""The AWS tools accept the template and build the package, offline and without Docker.

The SAM CLI and cfn-lint live in their own virtual environment (``scripts/setup-sam``, run here
if it has not been: it is idempotent). The build runs the Makefile, which needs the interpreter of
the functions' runtime, ``python3.13``: found on PATH, or else among pyenv's versions, and handed to
make as ``PYTHON`` (the Makefile's default is the bare name ``python3.13``).
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess

import pytest

from tests.deploy.docs import block
from tests.deploy.template import REPO

SAM_ENV = {**os.environ, "SAM_CLI_TELEMETRY": "0", "AWS_DEFAULT_REGION": "eu-west-3"}  # docs/deploy.md step 1
VALIDATE, BUILD = (shlex.split(line) for line in block("deploy.md", "offline", "aws-build").splitlines())
FUNCTIONS = ("ApiFunction", "SweepFunction")
RUNTIME_VERSION = "3.13"  # template.yaml's python3.13 (test_template holds the Makefile to it)
ELF_MACHINE_AARCH64 = 183  # e_machine of an ELF file built for arm64 (the template's Architectures)


@pytest.fixture(scope="session")
def sam_venv():
    subprocess.run([str(REPO / "scripts" / "setup-sam")], check=True, timeout=900)
    return REPO / ".venv-sam" / "bin"


def runtime_python(version: str = RUNTIME_VERSION) -> str:
    """An interpreter of the functions' Python version: ``python3.13`` on PATH if it runs, else pyenv's."""
    name = f"python{version}"
    candidates = [shutil.which(name)]
    pyenv = shutil.which("pyenv")
    if pyenv:
        listed = subprocess.run([pyenv, "versions", "--bare"], capture_output=True, text=True).stdout.split()
        for v in sorted((v for v in listed if v == version or v.startswith(version + ".")), reverse=True):
            prefix = subprocess.run([pyenv, "prefix", v], capture_output=True, text=True).stdout.strip()
            candidates.append(os.path.join(prefix, "bin", name) if prefix else None)
    for candidate in filter(None, candidates):
        probe = subprocess.run(
            [candidate, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"], capture_output=True, text=True
        )
        if probe.returncode == 0 and probe.stdout.strip() == version:
            return candidate
    raise AssertionError(f"the Lambda build needs {name} (the functions' runtime): put it on PATH")


@pytest.fixture(scope="session")
def lambda_build(sam_venv, tmp_path_factory):
    build_dir = tmp_path_factory.mktemp("sam") / "build"
    env = {**SAM_ENV, "PYTHON": runtime_python()}
    # the documented command; samconfig.toml makes it build in source; the build goes to a temporary place
    result = subprocess.run(
        [str(sam_venv / BUILD[0]), *BUILD[1:], "--build-dir", str(build_dir)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return build_dir


def test_the_documented_sam_validate_with_lint_accepts_the_template(sam_venv):
    result = subprocess.run(
        [str(sam_venv / VALIDATE[0]), *VALIDATE[1:]], cwd=REPO, env=SAM_ENV, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "is a valid SAM Template" in result.stdout + result.stderr


def test_cfn_lint_finds_nothing(sam_venv):
    result = subprocess.run(
        [str(sam_venv / "cfn-lint"), "template.yaml"],
        cwd=REPO,
        env=SAM_ENV,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert (result.returncode, result.stdout + result.stderr) == (0, "")


@pytest.mark.parametrize("function", FUNCTIONS)
def test_sam_build_packages_the_adapter_the_core_its_page_and_their_libraries(lambda_build, function):
    root = lambda_build / function
    for path in (
        "lambda/api.py",
        "lambda/sweep.py",
        "lambda/observability.py",
        "shared/api/adapter.py",
        "shared/ui/static/index.html",
        "shared/ui/static/page.js",
        "shared/ui/static/page.css",
        "shared/ui/static/icon.svg",
        "jwt/__init__.py",
        "aws_lambda_powertools/__init__.py",
        "cryptography/__init__.py",
    ):
        assert (root / path).is_file(), path


@pytest.mark.parametrize("function", FUNCTIONS)
def test_sam_build_leaves_out_the_azure_app_the_local_service_and_the_tests(lambda_build, function):
    root = lambda_build / function
    present = sorted(
        p
        for p in (
            "function_app.py",
            "host.json",
            "localdev",
            "tests",
            "template.yaml",
            "Makefile",
            ".venv",
            "docs",
            "azure/functions",
            "boto3",
        )
        if (root / p).exists()
    )
    assert present == []


def test_sam_build_ships_bytecode_compiled_for_the_runtime(lambda_build):
    tag = "cpython-" + RUNTIME_VERSION.replace(".", "")
    caches = {p.name.split(".")[1] for p in (lambda_build / "ApiFunction" / "shared").rglob("*.pyc")}
    assert caches == {tag}
    assert (lambda_build / "ApiFunction" / "shared" / "api" / "__pycache__" / f"adapter.{tag}.pyc").is_file()


def test_sam_build_ships_native_libraries_for_the_runtimes_python(lambda_build):
    tag = "cpython-" + RUNTIME_VERSION.replace(".", "")
    extensions = [p.name for p in (lambda_build / "ApiFunction").rglob("*.so") if ".cpython-" in p.name]
    assert extensions and all(tag in name for name in extensions)


def test_sam_build_ships_native_libraries_for_arm64_only(lambda_build):
    machines = {int.from_bytes(p.read_bytes()[18:20], "little") for p in (lambda_build / "ApiFunction").rglob("*.so")}
    assert machines == {ELF_MACHINE_AARCH64}
