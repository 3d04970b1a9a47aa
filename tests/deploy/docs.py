"""The parts of the documentation the tests run or check, found by an HTML comment before a fenced
block (invisible once rendered): ``<!-- offline: NAME -->`` marks commands that run without a cloud
account, ``<!-- token: NAME -->`` a sample token payload, ``<!-- issuer: NAME -->`` an issuer block."""

from __future__ import annotations

import json
import re

from tests.deploy.template import REPO

DOCS = REPO / "docs"
_BLOCK = re.compile(r"<!-- (\w[\w-]*): ([\w-]+) -->\n```[a-z]*\n(.*?)\n```", re.DOTALL)


def marked(page: str) -> dict[tuple[str, str], str]:
    """{(kind, name): block text} of one page of docs/ (or of the README)."""
    found = {}
    for kind, name, body in _BLOCK.findall((REPO / page if page == "README.md" else DOCS / page).read_text()):
        assert (kind, name) not in found, f"{page}: two blocks marked {kind}: {name}"
        found[(kind, name)] = body
    return found


def block(page: str, kind: str, name: str) -> str:
    blocks = marked(page)
    assert (kind, name) in blocks, f"{page} has no block marked <!-- {kind}: {name} -->"
    return blocks[(kind, name)]


def json_block(page: str, kind: str, name: str):
    return json.loads(block(page, kind, name))


# -- running offline blocks -----------------------------------------------------------------------------

# Cloud tools the blocks call: stand-ins record their arguments and print a canned answer for the
# calls whose output a block keeps (``answers``: the start of the command line -> what it prints).
# What the blocks compute offline (files they write, arguments they build) is then checked as the
# real tool would receive it.
RECORDED_TOOLS = ("aws", "az", "sam", "func", "kcadm.sh", "curl")
LINKED = ("examples", "shared", ".venv", ".venv-sam", "scripts", "samconfig.toml", "template.yaml")
_STAND_IN = """#!{python}
import json, os, sys
argv = [os.path.basename(sys.argv[0]), *sys.argv[1:]]
with open(os.environ["TVS_DOC_CALLS"], "a") as fh:
    fh.write(json.dumps(argv) + "\\n")
line = " ".join(argv)
answers = json.loads(os.environ.get("TVS_DOC_ANSWERS", "{{}}"))
for start in sorted(answers, key=len, reverse=True):
    if line.startswith(start):
        print(answers[start])
        break
"""


def run_offline(
    page: str, names: str | list[str], workdir, env: dict[str, str] | None = None, answers: dict[str, str] | None = None
) -> list[list[str]]:
    """Run the blocks (one shell, in order) in ``workdir``, which stands for the repository's root:
    the repository's files the blocks use are linked there, and their outputs stay there. Returns
    the calls of the stand-in tools, each as its argument list."""
    import os
    import subprocess
    import sys

    names = [names] if isinstance(names, str) else names
    bin_dir = workdir / ".doc-bin"
    bin_dir.mkdir(exist_ok=True)
    for tool in RECORDED_TOOLS:
        path = bin_dir / tool
        path.write_text(_STAND_IN.format(python=sys.executable))
        path.chmod(0o755)
    for item in LINKED:
        if not (workdir / item).exists():
            # ".venv" is the environment running the tests (another one on a second interpreter in CI)
            (workdir / item).symlink_to(sys.prefix if item == ".venv" else REPO / item)
    calls = workdir / ".doc-calls"
    calls.write_text("")
    script = "set -euo pipefail\n" + "\n".join(block(page, "offline", name) for name in names) + "\n"
    result = subprocess.run(
        ["bash", "-c", script],
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=300,
        env={
            "PATH": f"{bin_dir}:{os.environ['PATH']}",
            "HOME": str(workdir),
            "TVS_DOC_CALLS": str(calls),
            "TVS_DOC_ANSWERS": json.dumps(answers or {}),
            **(env or {}),
        },
    )
    assert result.returncode == 0, f"{page} blocks {names} failed:\n{result.stdout}\n{result.stderr}"
    return [json.loads(line) for line in calls.read_text().splitlines()]
