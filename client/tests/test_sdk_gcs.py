"""Google Cloud Storage: google-auth credentials that renew the service's downscoped token by the
half-life rule, for google-cloud-storage and gcsfs."""

from __future__ import annotations

from tvs_client import sdk
from tvs_client.renew import Renewer


def gcs_answer(token: str) -> dict:
    return {"provider": "gcs", "credentials": {"access_token": token, "project": "demo", "bucket": "b",
                                               "endpoint_url": "http://127.0.0.1:4443"}}


class Clock:
    def __init__(self):
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


def renewer(clock, fetched: list) -> Renewer:
    def fetch():
        fetched.append(clock())
        return gcs_answer(f"token-{len(fetched)}"), clock() + 600

    return Renewer(fetch, clock=clock, rng=lambda: 0.0)


def test_the_credentials_carry_the_services_token_and_a_naive_utc_expiry():
    clock, fetched = Clock(), []
    creds = sdk.google_credentials(None, "g", renewer=renewer(clock, fetched))
    assert creds.token == "token-1" and creds.valid and creds.expiry.tzinfo is None


def test_they_turn_expired_at_half_their_life_and_a_refresh_fetches_once():
    clock, fetched = Clock(), []
    creds = sdk.google_credentials(None, "g", renewer=renewer(clock, fetched))
    clock.now += 250
    assert not creds.expired
    clock.now += 60  # past half of the 600 s life
    assert creds.expired
    creds.refresh(None)
    assert creds.token == "token-2" and not creds.expired and len(fetched) == 2


def test_gcsfs_options_hold_the_credentials_the_project_and_an_emulators_endpoint(monkeypatch):
    clock, fetched = Clock(), []
    r = renewer(clock, fetched)
    monkeypatch.setattr(sdk, "credential_renewer", lambda *a, **k: r)
    options = sdk.gcsfs_storage_options(None, "g")
    assert options["project"] == "demo" and options["endpoint_url"] == "http://127.0.0.1:4443"
    assert options["token"].token == "token-1"
