"""Benchmark: a GCS signed-URL vend against its floor, and what a GCS store costs the adapters' cold start.

    .venv/bin/python -m bench.bench_gcs

Vend = token check + authorization + a V4 signed URL with a service-account key + response JSON +
audit line, through ``VendingService.handle``. Floor = bare ``jwt.decode`` with the same key and
checks + a bare ``generate_signed_url`` (google-cloud-storage, v4) with the same service-account key,
object, method and lifetime. Both are measured in this run: with a token not seen before each time,
and a burst with one token (the verified-token cache answers).

Cold start: each adapter imported in fresh interpreters with a deployed configuration holding a GCS
store, and without it. A GCS store must load neither google-auth nor google-cloud-storage before a
GCS request: the probe fails loudly if either is loaded, and the times should match.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time

import jwt

from bench.bench_cold_import import CONFIG as AZURE_CONFIG
from bench.harness import REPO, table
from localdev.devidp import DevIdentityProvider
from localdev.google_sim import generate_service_account_key
from shared.api import HttpRequest
from shared.secrets import SecretResolver
from tests.support import TEST_ISSUER, build_service, issuer_block

KEY = generate_service_account_key("bench@tvs-bench.iam.gserviceaccount.com", "tvs-bench")
OBJECT = "users/alice/report.csv"
GCS_STORE = {
    "kind": "gcs",
    "bucket": "partner-data",
    "auth": {
        "method": "workload-identity-federation",
        "audience": "//iam.googleapis.com/projects/123456789012/locations/global/"
        "workloadIdentityPools/tvs-pool/providers/tvs-azure",
        "subject_token": {"azure_audience": "api://AzureADTokenExchange"},
        "impersonate": "tvs-vendor@partner-project.iam.gserviceaccount.com",
    },
}
PROBE = (
    "import time, sys, importlib; t0 = time.perf_counter(); importlib.import_module(sys.argv[1]); "
    "t = time.perf_counter() - t0; "
    "bad = sorted(m for m in sys.modules if m == 'google' or m.startswith(('google.auth', 'google.cloud'))); "
    "print(t if not bad else 'LOADED ' + ' '.join(bad[:3]))"
)


def interleaved(ours, floor, batch: int = 200, rounds: int = 15, warmup: int = 50) -> tuple[float, float]:
    """Medians of the mean time of one call, batches of ``ours`` and ``floor`` taking turns, so a busy
    machine slows both alike and the ratio holds."""
    for _ in range(warmup):
        ours()
        floor()
    samples: tuple[list[float], list[float]] = ([], [])
    for _ in range(rounds):
        for fn, out in ((ours, samples[0]), (floor, samples[1])):
            start = time.perf_counter()
            for _ in range(batch):
                fn()
            out.append((time.perf_counter() - start) / batch)
    return statistics.median(samples[0]), statistics.median(samples[1])


def signed_url_vend() -> list[tuple[str, str]]:
    idp = DevIdentityProvider(TEST_ISSUER)
    raw = {
        "issuers": [issuer_block(idp)],
        "stores": {
            "g": {"kind": "gcs", "bucket": "demo", "auth": {"method": "service-account-key", "key": {"env": "K"}}}
        },
        "grants": [{"match": {"groups": ["g"]}, "stores": ["g"], "access": "read"}],
    }
    service = build_service(raw, idp, secrets=SecretResolver({"K": json.dumps(KEY)}))
    body = json.dumps({"store": "g", "object": OBJECT, "ttl_seconds": 900}).encode()
    runs = 50 + 200 * 15 + 1  # warm-up and rounds of interleaved()
    fresh = [idp.mint("alice", ["g"])["access_token"] for _ in range(runs)]
    ours_tokens, floor_tokens = iter(fresh), iter(list(fresh))
    tok = fresh[0]

    def vend(tokens=None):
        headers = {"Authorization": f"Bearer {next(tokens) if tokens else tok}", "Content-Type": "application/json"}
        resp = service.handle(HttpRequest("POST", "/api/v1/signed-urls", headers=headers, body=body))
        assert resp.status == 200, resp.body

    from google.cloud import storage
    from google.oauth2 import service_account

    credentials = service_account.Credentials.from_service_account_info(KEY)
    blob = storage.Blob(OBJECT, bucket=storage.Bucket(storage.Client.create_anonymous_client(), "demo"))
    public = jwt.PyJWK(idp.jwks()["keys"][0])

    def floor(tokens=None):
        jwt.decode(
            next(tokens) if tokens else tok,
            public,
            algorithms=["ES256"],
            audience=idp.audience,
            issuer=idp.issuer,
            options={"require": ["exp", "iat", "sub"]},
        )
        blob.generate_signed_url(
            version="v4",
            expiration=900,
            method="GET",
            credentials=credentials,
            api_access_endpoint="https://storage.googleapis.com",
        )

    ours_fresh, base_fresh = interleaved(lambda: vend(ours_tokens), lambda: floor(floor_tokens))
    vend()
    ours, base = interleaved(vend, floor)
    return [
        ("a new token each request: floor (jwt.decode + generate_signed_url v4)", f"{base_fresh * 1e6:8.1f} µs"),
        ("a new token each request: ours (POST /api/v1/signed-urls via handle())", f"{ours_fresh * 1e6:8.1f} µs"),
        ("a new token each request: ratio ours / floor", f"{ours_fresh / base_fresh:8.2f} x"),
        ("one token, a burst: floor", f"{base * 1e6:8.1f} µs"),
        ("one token, a burst: ours (verified-token cache)", f"{ours * 1e6:8.1f} µs"),
        ("one token, a burst: ratio ours / floor", f"{ours / base:8.2f} x"),
    ]


def _cold(module: str, config: dict) -> float:
    env = {**os.environ, "TVS_CONFIG": json.dumps(config), "TVS_MODE": "deployed"}
    out = (
        subprocess.run(
            [sys.executable, "-c", PROBE, module], cwd=REPO, env=env, capture_output=True, text=True, check=True
        )
        .stdout.strip()
        .splitlines()[-1]
    )
    if out.startswith("LOADED"):
        raise SystemExit(f"{module} loaded a Google SDK at cold start: {out}")
    return float(out)


def cold_imports(runs: int = 15) -> list[tuple[str, str]]:
    with_gcs = {**AZURE_CONFIG, "stores": {**AZURE_CONFIG["stores"], "partner-gcs": GCS_STORE}}
    rows = []
    for module in ("function_app", "lambda.api"):
        samples: dict[str, list[float]] = {"without": [], "with": []}
        _cold(module, with_gcs)  # warm the file cache
        for _ in range(runs):
            samples["without"].append(_cold(module, AZURE_CONFIG))
            samples["with"].append(_cold(module, with_gcs))
        a, b = statistics.median(samples["without"]), statistics.median(samples["with"])
        rows.append(
            (
                f"cold import of {module}: without / with a GCS store (no Google SDK loaded)",
                f"{a * 1e3:6.1f} / {b * 1e3:6.1f} ms",
            )
        )
    first = [
        float(
            subprocess.run(
                [
                    sys.executable,
                    "-c",
                    "import time; t=time.perf_counter(); import google.auth.downscoped, "
                    "google.auth.impersonated_credentials, google.cloud.storage; print(time.perf_counter()-t)",
                ],
                cwd=REPO,
                capture_output=True,
                text=True,
                check=True,
            ).stdout
        )
        for _ in range(5)
    ]
    rows.append(
        (
            "paid once, by the first GCS request: import google-auth + google-cloud-storage",
            f"{statistics.median(first) * 1e3:6.1f} ms",
        )
    )
    return rows


def main() -> None:
    table("GCS signed-URL vend (service-account key), median per call", signed_url_vend())
    table("Cold start with a GCS store configured, median of fresh interpreters", cold_imports())


if __name__ == "__main__":
    main()
