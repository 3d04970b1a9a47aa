"""Benchmark of the AWS vendor: STS calls saved by the session cache, and the cost of a cached vend.

    .venv/bin/python -m bench.bench_aws [--requests 1000] [--principals 50]

Runs the service in process against a moto server it starts itself (free port), with the same
configuration as the tests' ``demo`` store.

1. STS calls per N requests from P principals, each asking in turn for ``read`` on the whole
   bucket and ``write`` on its own prefix (2·P distinct (principal, scope, access) keys), with the
   credential cache on and off, sequentially and from 8 threads at once.
2. Time of a vend answered from the credential cache (the whole request pipeline: parse, token
   check, authorization, cache hit, render, audit) against the floor: verifying the same ES256
   token alone with ``jwt.decode`` and the same key. Twice: with a token the service has not seen
   (its signature is verified) and with the same token again (the verified-token cache answers).
   Medians of many runs.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import time
from concurrent.futures import ThreadPoolExecutor

import jwt

from localdev.devidp import DevIdentityProvider
from localdev.emulators import MotoServer
from shared.aws import sts
from shared.secrets import SecretResolver
from tests.support import TEST_ISSUER, build_service, call, issuer_block, token

ROLE = "arn:aws:iam::123456789012:role/tvs-bench"
SECRETS = {"BENCH_KEY_ID": "testing", "BENCH_SECRET": "testing"}


def prepare(moto: MotoServer) -> None:
    import boto3

    keys = dict(
        endpoint_url=moto.url, region_name="eu-west-3", aws_access_key_id="testing", aws_secret_access_key="testing"
    )
    boto3.client("s3", **keys).create_bucket(
        Bucket="bench", CreateBucketConfiguration={"LocationConstraint": "eu-west-3"}
    )
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": ["sts:AssumeRole", "sts:SetSourceIdentity"]}
        ],
    }
    boto3.client("iam", **keys).create_role(RoleName="tvs-bench", AssumeRolePolicyDocument=json.dumps(trust))


def make_service(moto: MotoServer, idp: DevIdentityProvider, cache: bool):
    store = {
        "kind": "aws-s3",
        "bucket": "bench",
        "region": "eu-west-3",
        "endpoint_url": moto.url,
        "sts_endpoint_url": moto.url,
        "path_style": True,
        "emulator": True,
        "auth": {
            "method": "assume-role",
            "role_arn": ROLE,
            "source": {"access_key_id": {"env": "BENCH_KEY_ID"}, "secret_access_key": {"env": "BENCH_SECRET"}},
        },
    }
    raw = {
        "issuers": [issuer_block(idp)],
        "stores": {"bench": store},
        "grants": [
            {"match": {"groups": ["users"]}, "stores": ["bench"], "access": "read"},
            {"match": {"groups": ["users"]}, "stores": ["bench"], "prefix": "users/{sub}/", "access": "write"},
        ],
        "limits": {"credential_cache": {"enabled": cache}},
    }
    return build_service(raw, idp, secrets=SecretResolver(SECRETS))


def workload(idp: DevIdentityProvider, requests: int, principals: int) -> list[tuple[str, dict]]:
    tokens = {f"user{i:02d}": token(idp, f"user{i:02d}", ["users"]) for i in range(principals)}
    rng = random.Random(7)
    out = []
    for n in range(requests):
        sub = rng.choice(sorted(tokens))
        body = (
            {"store": "bench", "access": "read"}
            if n % 2
            else {"store": "bench", "path": f"users/{sub}/", "access": "write"}
        )
        out.append((tokens[sub], body))
    return out


def sts_calls(service, work, threads: int) -> int:
    before = sts.CALLS.total("AssumeRole")

    def one(item):
        resp = call(service, "POST", "/api/v1/credentials", token=item[0], body=item[1])
        assert resp.status == 200, resp.body[:300]

    if threads == 1:
        for item in work:
            one(item)
    else:
        with ThreadPoolExecutor(threads) as pool:
            list(pool.map(one, work))
    return sts.CALLS.total("AssumeRole") - before


def median_us(fn, runs: int) -> float:
    for _ in range(50):
        fn()  # warm up
    samples = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t0)
    return statistics.median(samples) * 1e6


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--principals", type=int, default=50)
    parser.add_argument("--runs", type=int, default=2000, help="timed runs for the cached-vend measurement")
    args = parser.parse_args(argv)
    idp = DevIdentityProvider(TEST_ISSUER)
    with MotoServer() as moto:
        prepare(moto)
        work = workload(idp, args.requests, args.principals)
        print(
            f"STS AssumeRole calls for {args.requests} requests from {args.principals} principals "
            f"({2 * args.principals} distinct principal/scope/access keys):"
        )
        print(f"  {'cache':<6} {'threads':>7} {'STS calls':>10} {'per 1,000':>10}")
        for cache in (False, True):
            for threads in (1, 8):
                calls = sts_calls(make_service(moto, idp, cache), work, threads)
                print(f"  {'on' if cache else 'off':<6} {threads:>7} {calls:>10} {calls * 1000 / args.requests:>10.0f}")

        service = make_service(moto, idp, cache=True)
        jwt_ = token(idp, "alice", ["users"])
        body = {"store": "bench", "path": "users/alice/", "access": "write"}
        call(service, "POST", "/api/v1/credentials", token=jwt_, body=body)  # mint once; the rest are hits
        key = jwt.PyJWK(idp.jwks()["keys"][0])
        floor = median_us(
            lambda: jwt.decode(jwt_, key=key, algorithms=["ES256"], audience=idp.audience, issuer=idp.issuer), args.runs
        )
        cached = median_us(lambda: call(service, "POST", "/api/v1/credentials", token=jwt_, body=body), args.runs)
        # The same caller with a token the service has not seen (new jti): the credential cache answers,
        # the signature is verified.
        fresh = iter([token(idp, "alice", ["users"]) for _ in range(args.runs + 50)])
        cached_fresh = median_us(
            lambda: call(service, "POST", "/api/v1/credentials", token=next(fresh), body=body), args.runs
        )
        print(f"\nCached vend vs. the floor (median of {args.runs} runs):")
        print(f"  token check alone (jwt.decode, ES256):        {floor:8.0f} µs")
        print(
            f"  cached vend, a token not seen before:      {cached_fresh:8.0f} µs   ratio {cached_fresh / floor:5.2f}"
        )
        print(f"  cached vend, the same token again (token cache): {cached:5.0f} µs   ratio {cached / floor:5.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
