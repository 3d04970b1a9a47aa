"""POST /api/v2.0/accessmanager/commit: the loadingzone's files under rootDir, and one commit event."""

from __future__ import annotations

import json
import logging
import uuid

import pytest

from shared.errors import unavailable
from tests.accessmanager.support import admin_container, am_call, am_service, roles_token

SUPPLIER = ("org_demo_access", "spc_main_supplier")


class Recording:
    kind = "recording"

    def __init__(self, failures: int = 0):
        self.events = []
        self.failures = failures

    def publish(self, event):
        if self.failures:
            self.failures -= 1
            raise unavailable("test notifier down", slug="notifier-unavailable")
        self.events.append(event)


@pytest.fixture
def service(am_azurite, idp):
    service = am_service(am_azurite, idp)
    service.accessmanager.notifier = Recording()
    return service


@pytest.fixture
def upload(am_azurite):
    """rootDir with two files (one nested), and a sibling rootDir-2 that shares its name as a prefix."""
    root = f"run-{uuid.uuid4().hex[:8]}"
    zone = admin_container(am_azurite, "loadingzone")
    for name in (f"{root}/a.csv", f"{root}/nested/b.csv", f"{root}-2/c.csv", f"{root}.csv"):
        zone.upload_blob(name, b"x")
    return root


def commit(service, idp, root, roles=SUPPLIER, space="main", **claims):
    return am_call(
        service, "commit", roles_token(idp, *roles, **claims), organization="demo", space=space, rootDir=root
    )


def test_commit_returns_exactly_the_files_under_root_dir(service, idp, upload):
    resp = commit(service, idp, upload)
    assert resp.status == 200, resp.json()
    assert resp.json() == [f"{upload}/a.csv", f"{upload}/nested/b.csv"]


def test_commit_publishes_one_event_saying_who_what_and_where(service, idp, upload):
    resp = commit(service, idp, upload, sub="bob")
    [event] = service.accessmanager.notifier.events
    assert dict(event.body) == {
        "accountName": "demo",
        "storageName": "main",
        "containerName": "loadingzone",
        "userName": "bob",
        "rootDir": upload,
    }
    assert event.commit_id == resp.headers["X-Commit-Id"]


def test_each_commit_call_publishes_one_event(service, idp, upload):
    commit(service, idp, upload)
    commit(service, idp, upload)
    assert len(service.accessmanager.notifier.events) == 2


def test_a_failing_notifier_answers_503_and_the_retry_returns_the_same_answer_and_commit_id(service, idp, upload):
    service.accessmanager.notifier = Recording(failures=1)
    first = commit(service, idp, upload)
    assert first.status == 503 and first.json()["type"].endswith("/notifier-unavailable")
    assert "Retry-After" in first.headers
    retry = commit(service, idp, upload)
    again = commit(service, idp, upload)
    assert retry.status == again.status == 200
    assert retry.json() == again.json() == [f"{upload}/a.csv", f"{upload}/nested/b.csv"]
    ids = {e.commit_id for e in service.accessmanager.notifier.events}
    assert ids == {retry.headers["X-Commit-Id"]} and len(service.accessmanager.notifier.events) == 2


def test_a_new_file_makes_a_new_commit_id(service, idp, upload, am_azurite):
    before = commit(service, idp, upload).headers["X-Commit-Id"]
    admin_container(am_azurite, "loadingzone").upload_blob(f"{upload}/late.csv", b"x")
    assert commit(service, idp, upload).headers["X-Commit-Id"] != before


def test_commit_needs_write_rights_on_the_space(service, idp, upload):
    resp = commit(service, idp, upload, roles=("org_demo_access", "spc_main_user"))
    assert resp.status == 403
    assert service.accessmanager.notifier.events == []


def test_commit_of_an_empty_directory_returns_no_files(service, idp):
    resp = commit(service, idp, f"empty-{uuid.uuid4().hex[:8]}")
    assert resp.status == 200 and resp.json() == []


def test_the_log_notifier_writes_one_line_per_commit(am_azurite, idp, upload, caplog):
    service = am_service(am_azurite, idp)
    with caplog.at_level(logging.INFO, logger="tvs.accessmanager"):
        resp = commit(service, idp, upload)
    lines = [json.loads(r.getMessage()) for r in caplog.records if r.name == "tvs.accessmanager"]
    assert [(line["commit_id"], line["rootDir"]) for line in lines] == [(resp.headers["X-Commit-Id"], upload)]


def test_commit_is_audited_with_its_id_and_file_count(service, idp, upload, caplog):
    with caplog.at_level(logging.INFO, logger="tvs.audit"):
        resp = commit(service, idp, upload)
    records = [json.loads(r.getMessage()) for r in caplog.records if r.name == "tvs.audit"]
    [entry] = [r for r in records if r["event"] == "commit"]
    assert (entry["commit_id"], entry["count"], entry["scope"]["root_dir"]) == (resp.headers["X-Commit-Id"], 2, upload)
