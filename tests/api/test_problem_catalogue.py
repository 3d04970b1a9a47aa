"""Every problem type the code answers is in the catalogue, with one status and one title, and
docs/api.md lists the same catalogue."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from shared.errors import CATALOGUE, Problem, problem

REPO = Path(__file__).resolve().parents[2]
FACTORIES = {"problem": 0, "bad_request": 1, "conflict": 0}


def _slugs_in_code() -> set[str]:
    """Slugs passed to the problem factories, and slug= keywords, across the service's code."""
    found: set[str] = set()
    for path in list((REPO / "shared").rglob("*.py")) + list((REPO / "localdev").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "id", getattr(node.func, "attr", ""))
            args = list(node.args)
            if name in FACTORIES and len(args) > FACTORIES[name] and isinstance(args[FACTORIES[name]], ast.Constant):
                found.add(args[FACTORIES[name]].value)
            found |= {k.value.value for k in node.keywords if k.arg == "slug" and isinstance(k.value, ast.Constant)}
    return found


def test_every_problem_type_the_code_raises_is_catalogued():
    slugs = _slugs_in_code()
    assert len(slugs) > 20  # the scan sees the code
    assert slugs - set(CATALOGUE) == set()


def test_a_catalogued_type_always_carries_its_one_title():
    assert Problem(400, "prefix-scope-unsupported", "any other title").title == CATALOGUE["prefix-scope-unsupported"][1]


def test_a_catalogued_type_with_another_status_is_a_programming_error():
    with pytest.raises(ValueError):
        Problem(404, "bad-path", "x")


def test_the_api_document_lists_exactly_the_catalogue():
    text = (REPO / "docs" / "api.md").read_text()
    section = text.split("## Problem catalogue", 1)[1].split("\n## ", 1)[0]
    rows = {
        m.group(1): (int(m.group(2)), m.group(3).strip())
        for m in re.finditer(r"^\| `([a-z-]+)` \| (\d{3}) \| ([^|]+) \|", section, re.M)
    }
    assert rows == CATALOGUE


def test_the_factory_builds_a_problem_from_the_catalogue():
    p = problem("vast-key-cap", "full")
    assert (p.status, p.title, p.detail) == (409, "Conflict", "full")
