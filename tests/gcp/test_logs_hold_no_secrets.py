"""A GCS session logs no token, signature or key, even at DEBUG and through Google's failures."""

from __future__ import annotations

import logging
from urllib.parse import parse_qs, urlsplit

from tests.gcp.support import KEY, KEY_AUTH, SIGNER, make_service, sign, store_block, vend


def test_a_gcs_session_logs_no_token_signature_or_key(gcs, google, caplog):
    caplog.set_level(logging.DEBUG)
    service = make_service(
        google, {"gcs": store_block(gcs), "imp": store_block(gcs, {**KEY_AUTH, "impersonate": SIGNER})}
    )
    secrets = [KEY["private_key"].splitlines()[1]]
    secrets.append(vend(service, groups=("team-a",), path="team-a/", access="write")["credentials"]["access_token"])
    secrets.append(vend(service, store="imp")["credentials"]["access_token"])
    for store in ("gcs", "imp"):
        url = sign(service, store=store, object="users/alice/a.txt", method="PUT")["url"]
        secrets.append(parse_qs(urlsplit(url).query)["X-Goog-Signature"][0])
    google.fail("sts", 400, {"error": "invalid_grant", "error_description": "bad"})
    vend(service, store="imp", ttl_seconds=601, status=503)
    secrets += [token for token in google.tokens]  # every source and downscoped token Google handed out
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert '"event":"issue"' in text and "invalid_grant" in text  # the audit trail and the failure are there
    assert [s[:12] for s in secrets if s in text] == []
