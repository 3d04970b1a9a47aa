"""Generated Credential Access Boundaries: pinned by golden files and checked by an independent evaluator.

fake-gcs-server ignores tokens, so what a downscoped token may do is proven here: each document is
pinned by a golden file, and ``boundary_checker`` evaluates its CEL conditions over probes inside and
outside the grant (another bucket, ``team-ab/`` beside ``team-a/``, listing by a shorter prefix).
Regenerate the golden files after an intended change with
``python tests/gcp/test_access_boundary.py --update`` and review the diff.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from urllib.parse import unquote

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from shared.gcp.boundary import MAX_RULES, Scope, TooManyRules, UnsafeBoundaryInput, access_boundary, prefix_condition
from shared.paths import validate_path
from tests.gcp.boundary_checker import Request, allowed, probes, violations
from tests.gcp.support import make_service, store_block, vend

GOLDEN = Path(__file__).resolve().parent.parent / "golden" / "gcs"
BUCKET = "gcs-demo"
PLACES = {"bucket": "", "prefix": "team-a/", "object": "team-a/report.csv"}
CASES = {
    f"{access}-{place}": Scope(BUCKET, path, access)
    for access in ("list", "read", "write", "delete")
    for place, path in PLACES.items()
    if not (access == "list" and place == "object")
}
NAMES = ("seed.txt", "team-a/report.csv", "team-a/deep/x.csv", "team-ab/report.csv", "team-a", "team-a/", "x/team-a/y")
LIST_PREFIXES = (None, "", "team-a/", "team-a/deep/", "team-a", "team-ab/", "team-")
PROBES = probes((BUCKET, "gcs-demo2", "other"), NAMES, LIST_PREFIXES)


@pytest.mark.parametrize("name", sorted(CASES))
def test_generated_boundary_matches_its_golden_file(name):
    assert access_boundary([CASES[name]]) == json.loads((GOLDEN / f"{name}.json").read_text())


def test_every_golden_file_is_generated_by_a_case():
    assert {p.stem for p in GOLDEN.glob("*.json")} == set(CASES)


@pytest.mark.parametrize("name", sorted(CASES))
def test_boundary_allows_exactly_its_grant(name):
    scope = CASES[name]
    assert violations(access_boundary([scope]), scope.bucket, scope.path, scope.access, PROBES) == []


def test_a_prefix_boundary_never_reaches_the_prefix_that_only_starts_like_it():
    document = access_boundary([Scope(BUCKET, "team-a/", "delete")])
    assert allowed(document, Request.on_object("storage.objects.delete", BUCKET, "team-a/x"))
    assert not allowed(document, Request.on_object("storage.objects.get", BUCKET, "team-ab/x"))
    assert not allowed(document, Request.listing(BUCKET, "team-a"))


def test_list_access_reads_no_object():
    document = access_boundary([Scope(BUCKET, "", "list")])
    assert allowed(document, Request.listing(BUCKET, None))
    assert not allowed(document, Request.on_object("storage.objects.get", BUCKET, "seed.txt"))


def test_write_access_creates_but_neither_deletes_nor_replaces():
    document = access_boundary([Scope(BUCKET, "team-a/", "write")])
    assert allowed(document, Request.on_object("storage.objects.create", BUCKET, "team-a/new"))
    assert not allowed(document, Request.on_object("storage.objects.delete", BUCKET, "team-a/new"))


def test_the_checker_notices_a_boundary_broader_than_its_grant():
    broader = access_boundary([Scope(BUCKET, "team-a/", "read")])
    assert violations(broader, BUCKET, "team-a/deep/", "read", PROBES) != []


def test_the_token_exchange_carries_exactly_the_generated_boundary(gcs, google):
    service = make_service(google, {"gcs": store_block(gcs)})
    vend(service, groups=("team-a",), path="team-a/", access="write")
    sent = [c for c in google.calls if c["api"] == "sts"][-1]
    assert json.loads(unquote(sent["options"])) == access_boundary([Scope(BUCKET, "team-a/", "write")])


def test_a_boundary_needs_at_most_ten_rules():
    scopes = [Scope(BUCKET, f"p{i}/", "write") for i in range(MAX_RULES // 2 + 1)]
    with pytest.raises(TooManyRules):
        access_boundary(scopes)
    assert len(access_boundary(scopes[:-1])["accessBoundary"]["accessBoundaryRules"]) == MAX_RULES


def test_a_prefix_condition_refuses_a_prefix_without_its_trailing_slash():
    with pytest.raises(UnsafeBoundaryInput):
        prefix_condition(BUCKET, "team-a")


@pytest.mark.parametrize("path", ["team-'a/", "a\\b/", 'x"/', "new\nline/"])
def test_the_generator_refuses_what_could_end_a_cel_string(path):
    with pytest.raises(UnsafeBoundaryInput):
        access_boundary([Scope(BUCKET, path, "read")])


@pytest.mark.parametrize("bucket", ["Demo", "ab", "goog-data", "my-google-bucket", "192.168.1.1", "a..b", "-x-"])
def test_the_generator_refuses_a_bucket_name_that_is_not_one(bucket):
    with pytest.raises(UnsafeBoundaryInput):
        access_boundary([Scope(bucket, "", "read")])


def _valid(path: str) -> bool:
    try:
        validate_path(path)
        return True
    except ValueError:
        return False


@settings(max_examples=150, deadline=None)
@given(
    segments=st.lists(st.text(alphabet="ab-é. _+=&;", min_size=1, max_size=4), min_size=1, max_size=3),
    access=st.sampled_from(["list", "read", "write", "delete"]),
    as_object=st.booleans(),
)
def test_any_valid_path_gets_a_boundary_that_allows_exactly_its_grant(segments, access, as_object):
    path = "/".join(segments) + ("" if as_object else "/")
    assume(_valid(path) and not (as_object and access == "list"))
    names = (path, path + "x", path.rstrip("/") + "x/y", "ab/x", "a", "")
    requests = probes((BUCKET, "other"), tuple(n for n in names if n), (None, "", path, path[:-1], path + "z"))
    assert violations(access_boundary([Scope(BUCKET, path, access)]), BUCKET, path, access, requests) == []


if __name__ == "__main__" and "--update" in sys.argv:
    GOLDEN.mkdir(parents=True, exist_ok=True)
    for name, scope in CASES.items():
        (GOLDEN / f"{name}.json").write_text(json.dumps(access_boundary([scope]), indent=2) + "\n")
    print(f"wrote {len(CASES)} golden files to {GOLDEN}")
