""".funcignore: the Azure Functions package is function_app.py, host.json, requirements.txt and
shared/, and nothing else, whatever a working copy holds next to them.

What ships is listed the way Azure Functions Core Tools lists it (``func azure functionapp publish``,
``--list-included-files``): every file under the app's root, except folders named ``.git`` or
``.vscode`` and files named ``.funcignore``, ``.gitignore``, ``appsettings.json``,
``local.settings.json`` and ``project.lock.json``, filtered by its .funcignore parser, a port of the
codemix gitignore-parser: each pattern, less a leading ``/``, becomes a regular expression anchored
at the start of the file's path (``**`` -> ``.+``, ``*`` -> ``[^/]+``) and matching a prefix of it;
a file ships when a ``!`` pattern matches it or no other pattern does.
"""

from __future__ import annotations

import os
import re
import subprocess

import pytest

from tests.deploy.template import REPO

SKIPPED_FOLDERS = {".git", ".vscode"}
SKIPPED_FILES = {".funcignore", ".gitignore", "appsettings.json", "local.settings.json", "project.lock.json"}
# What a working copy holds besides the repository's own files after set-up, a test run, a local run,
# a SAM build and the README's session (which writes its answers to JSON files).
LOCAL_FILES = (
    ".git",
    ".venv/bin/python",
    ".venv/lib/python3.11/site-packages/jwt/__init__.py",
    ".venv-sam/bin/sam",
    ".local/certs/ca.pem",
    ".local/vast-ledger.sqlite3",
    ".aws-sam/build/ApiFunction/lambda/api.py",
    ".pytest_cache/v/cache/lastfailed",
    "__pycache__/function_app.cpython-311.pyc",
    "shared/__pycache__/config.cpython-311.pyc",
    "shared/api/__pycache__/adapter.cpython-311.pyc",
    "localdev/node/node_modules/azurite/package.json",
    "local.settings.json",
    "put.json",
    "sas.json",
    "s3.json",
    "tvs.zip",
    ".vscode/settings.json",
)


def _pattern(text: str) -> str:
    escaped = re.sub(r"[\-\[\]/{}()+?.\\^$|]", lambda m: "\\" + m.group(0), text)
    return escaped.replace("**", "(.+)").replace("*", "([^\\/]+)")


class CoreToolsIgnore:
    def __init__(self, text: str):
        positive, negative = [], []
        for line in (raw.strip() for raw in text.split("\n")):
            if not line or line.startswith("#"):
                continue
            target = negative if line.startswith("!") else positive
            line = line[1:] if line.startswith("!") else line
            target.append(_pattern(line[1:] if line.startswith("/") else line))
        self._positive = re.compile("^((" + ")|(".join(positive) + "))") if positive else re.compile("$^")
        self._negative = re.compile("^((" + ")|(".join(negative) + "))") if negative else re.compile("$^")
        self.has_negations = bool(negative)

    def accepts(self, path: str) -> bool:
        return bool(self._negative.match(path)) or not self._positive.match(path)


def shipped(root, ignore: CoreToolsIgnore) -> set[str]:
    """The files Core Tools would put in the package of the app at ``root``."""
    out = set()
    for folder, dirs, files in os.walk(root, followlinks=True):
        rel = os.path.relpath(folder, root).replace(os.sep, "/")
        prefix = "" if rel == "." else rel + "/"
        # A folder whose path is already matched is left out whole: a pattern that matches the start
        # of "folder/" matches the start of every path below it (no "!" pattern could take one back).
        dirs[:] = [
            d for d in dirs if d not in SKIPPED_FOLDERS and (ignore.has_negations or ignore.accepts(prefix + d + "/"))
        ]
        out.update(prefix + f for f in files if f not in SKIPPED_FILES and ignore.accepts(prefix + f))
    return out


def _tracked() -> list[str]:
    return subprocess.run(["git", "ls-files"], cwd=REPO, capture_output=True, text=True, check=True).stdout.split()


@pytest.fixture(scope="module")
def funcignore() -> CoreToolsIgnore:
    return CoreToolsIgnore((REPO / ".funcignore").read_text())


@pytest.fixture(scope="module")
def working_copy(tmp_path_factory):
    """The repository's files plus what a working copy gathers, as empty files."""
    root = tmp_path_factory.mktemp("app")
    for name in {*_tracked(), *LOCAL_FILES}:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch()
    return root


def test_the_package_is_the_app_its_host_settings_its_requirements_and_the_core(funcignore, working_copy):
    core = {name for name in _tracked() if name.startswith("shared/")}
    assert shipped(working_copy, funcignore) == {"function_app.py", "host.json", "requirements.txt", *core}


@pytest.mark.parametrize(
    "left_out",
    [
        "README.md",
        "examples/config.azure.json",
        "tools/tvs_credential_process.py",
        "lambda/api.py",
        "template.yaml",
        "docs/deploy.md",
        "deploy",
        "bench/harness.py",
        "localdev/__main__.py",
        "tests/conftest.py",
        ".venv/bin/python",
    ],
)
def test_what_the_app_does_not_need_stays_home(funcignore, working_copy, left_out):
    assert not {
        name for name in shipped(working_copy, funcignore) if name == left_out or name.startswith(left_out + "/")
    }


def test_bytecode_stays_home_at_every_depth(funcignore, working_copy):
    assert not [name for name in shipped(working_copy, funcignore) if "__pycache__" in name or name.endswith(".pyc")]


def test_a_pattern_matches_the_start_of_a_path_as_core_tools_reads_it():
    ignore = CoreToolsIgnore("docs\n*.pyc\n")
    assert (ignore.accepts("docs/api.md"), ignore.accepts("x.pyc"), ignore.accepts("shared/x.pyc")) == (
        False,
        False,
        True,
    )


def test_the_funcignore_has_no_inline_comments():
    lines = [line.strip() for line in (REPO / ".funcignore").read_text().splitlines()]
    assert not [line for line in lines if line and not line.startswith("#") and (" " in line or "#" in line)]
