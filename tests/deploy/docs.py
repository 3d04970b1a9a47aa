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
    """{(kind, name): block text} of one page of docs/."""
    found = {}
    for kind, name, body in _BLOCK.findall((DOCS / page).read_text()):
        assert (kind, name) not in found, f"{page}: two blocks marked {kind}: {name}"
        found[(kind, name)] = body
    return found


def block(page: str, kind: str, name: str) -> str:
    blocks = marked(page)
    assert (kind, name) in blocks, f"{page} has no block marked <!-- {kind}: {name} -->"
    return blocks[(kind, name)]


def json_block(page: str, kind: str, name: str):
    return json.loads(block(page, kind, name))


# -- running an offline block -------------------------------------------------------------------------

# Cloud tools the blocks call: stand-ins record their arguments (one call per record, arguments
# separated by NUL) and print nothing. What a block computes offline (files it writes, arguments it
# builds) is then checked as the real tool would receive it.
RECORDED_TOOLS = ("aws", "az", "sam", "func", "kcadm.sh", "curl")
_STAND_IN = """#!/bin/sh
{ printf '%s\\0' "$(basename "$0")" "$@"; printf '\\036'; } >> "$TVS_DOC_CALLS"
"""
LINKED = ("examples", "shared", ".venv")  # what blocks run from the repository's root may use


def run_offline(page: str, name: str, workdir, env: dict[str, str] | None = None,
                tools: tuple[str, ...] = RECORDED_TOOLS) -> list[list[str]]:
    """Run the block in ``workdir`` (the repository's root as far as the block can tell, its outputs
    staying in ``workdir``); return the calls of the recorded tools."""
    import os
    import subprocess

    bin_dir = workdir / ".doc-bin"
    bin_dir.mkdir(exist_ok=True)
    for tool in tools:
        path = bin_dir / tool
        path.write_text(_STAND_IN)
        path.chmod(0o755)
    for item in LINKED:
        if not (workdir / item).exists():
            (workdir / item).symlink_to(REPO / item)
    calls = workdir / ".doc-calls"
    calls.write_bytes(b"")
    script = "set -euo pipefail\n" + block(page, "offline", name) + "\n"
    result = subprocess.run(["bash", "-c", script], cwd=workdir, capture_output=True, text=True, timeout=120,
                            env={"PATH": f"{bin_dir}:{os.environ['PATH']}", "HOME": str(workdir),
                                 "TVS_DOC_CALLS": str(calls), **(env or {})})
    assert result.returncode == 0, f"{page} block {name} failed:\n{result.stdout}\n{result.stderr}"
    return [record.split("\0")[:-1] for record in calls.read_text().split("\036") if record]
