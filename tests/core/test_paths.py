"""Path rules: literal paths only, refused before anything else happens."""

import re

import hypothesis
import pytest
from hypothesis import strategies as st

from shared.paths import (
    OBJECT_PATTERN,
    PATH_PATTERN,
    fill_prefix,
    validate_object,
    validate_path,
    validate_prefix_template,
)

HOSTILE = {
    "traversal": "users/alice/../bob/",
    "dot segment": "users/./alice/",
    "leading slash": "/users/alice/",
    "empty segment": "users//alice/",
    "iam wildcard star": "users/*",
    "iam wildcard question": "users/a?c/",
    "policy variable": "users/${aws:username}/",
    "percent encoding": "users/%2e%2e/",
    "backslash": "users\\alice\\",
    "nul": "users/al\x00ice/",
    "newline": "users/alice\n/",
    "delete char": "users/alice\x7f/",
    "bidi override": "users/\u202ealice/",
    "zero width joiner": "users/al\u200dice/",
    "non NFC": "users/cafe\u0301/",
    "cel quote": "users/a'||true||'/",
    "brackets": "users/[a-z]/",
    "trailing space segment": "users/alice /",
    "too long": "a/" * 600,
}


@pytest.mark.parametrize("path", HOSTILE.values(), ids=HOSTILE.keys())
def test_hostile_paths_are_refused(path):
    with pytest.raises(ValueError):
        validate_path(path)


@pytest.mark.parametrize("path", ["", "users/alice/", "exports/2026/report.csv", "caf\u00e9/x", "a b/c-d_e.f/"])
def test_plain_paths_pass_unchanged(path):
    assert validate_path(path) == path


@pytest.mark.parametrize("obj", ["", "users/alice/"])
def test_an_object_is_neither_empty_nor_a_prefix(obj):
    with pytest.raises(ValueError):
        validate_object(obj)


def test_placeholders_are_filled_from_claims():
    assert fill_prefix("users/{sub}/", {"sub": "alice"}) == "users/alice/"


@pytest.mark.parametrize("sub", ["..", "a/b", "a*", "", "x\u202e"])
def test_a_claim_that_is_not_one_safe_segment_makes_the_grant_not_apply(sub):
    assert fill_prefix("users/{sub}/", {"sub": sub}) is None


def test_a_missing_claim_makes_the_grant_not_apply():
    assert fill_prefix("tenants/{tid}/", {"sub": "alice"}) is None


@pytest.mark.parametrize("template", ["users/{sub}", "users/{nope}/", "users/{sub!r}/", "a/*/"])
def test_bad_grant_prefix_templates_are_refused(template):
    with pytest.raises(ValueError):
        validate_prefix_template(template, ("sub",))


@hypothesis.settings(max_examples=150, derandomize=True)
@hypothesis.given(st.from_regex(PATH_PATTERN, fullmatch=True).filter(lambda p: len(p) <= 1024))
def test_every_path_the_documents_pattern_allows_passes_the_path_rules(path):
    assert validate_path(path) == path


@hypothesis.settings(max_examples=150, derandomize=True)
@hypothesis.given(st.from_regex(OBJECT_PATTERN, fullmatch=True).filter(lambda p: len(p) <= 1024))
def test_every_object_the_documents_pattern_allows_passes_the_object_rules(obj):
    assert validate_object(obj) == obj


@pytest.mark.parametrize("path", HOSTILE.values(), ids=HOSTILE.keys())
def test_the_documents_pattern_refuses_every_hostile_path(path):
    assert re.search(PATH_PATTERN, path) is None or len(path) > 1024
