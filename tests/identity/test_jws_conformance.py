"""The strict compact-serialization gate: one token is one string. Conformance cases in the manner of
the public JOSE suites (every invalid one refused with 401 before any library parses it; every valid
one with an allowed algorithm accepted at the signature layer)."""

from __future__ import annotations

import base64
import json

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from shared.config import parse_config
from shared.errors import Problem
from shared.identity.jws import MalformedToken, parse_compact
from shared.identity.tokens import TokenValidator
from tests.identity.fake_idp import RsaIdp, b64

ISSUER = "https://idp.example/realms/data"
STORE = {
    "kind": "azure-blob",
    "account_url": "https://a.blob.core.windows.net",
    "container": "c",
    "auth": {"method": "managed-identity"},
}


@pytest.fixture(scope="module")
def idp():
    return RsaIdp(ISSUER)


@pytest.fixture(scope="module")
def validator(idp):
    config = parse_config(
        {
            "issuers": [{"issuer": ISSUER, "audiences": ["tvs"]}],
            "stores": {"s": STORE},
            "limits": {"token_cache": {"enabled": False}},
        }
    )
    return TokenValidator(config, fetch=idp.fetch)


def refused(validator, token: str) -> Problem:
    with pytest.raises(Problem) as err:
        validator.validate(token)
    assert err.value.status == 401
    return err.value


def _encode(obj) -> str:
    return b64(json.dumps(obj, separators=(",", ":")).encode())


def _resign(idp, header_b64: str, payload_b64: str) -> str:
    """A token whose signature is valid over exactly these (possibly malformed) segments."""
    signing_input = f"{header_b64}.{payload_b64}".encode()
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    return f"{header_b64}.{payload_b64}.{b64(idp.key.sign(signing_input, padding.PKCS1v15(), hashes.SHA256()))}"


def _flip_trailing_bits(segment: str) -> str:
    """The same bytes, non-canonically: a last character whose unused low bits are set."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    unused = {2: 4, 3: 2}[len(segment) % 4]  # bits the last character carries beyond the bytes
    last = alphabet.index(segment[-1])
    return segment[:-1] + alphabet[last | ((1 << unused) - 1)]


def invalid_cases(idp) -> dict[str, str]:
    good = idp.token()
    h, p, s = good.split(".")
    header = {"alg": "RS256", "kid": idp.kid}
    claims = idp.claims()
    padded_p = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode()
    cases = {
        "padded signature (=)": f"{good}=",
        "padded signature (==)": f"{good}==",
        "standard-alphabet signature": f"{h}.{p}.{s.replace('-', '+').replace('_', '/')}"
        if "-" in s or "_" in s
        else f"{h}.{p}.{s[:-1]}+",
        "non-canonical signature": f"{h}.{p}.{_flip_trailing_bits(s)}" if len(s) % 4 else f"{h}.{p}.{s}A",
        "space inside": f"{h}.{p[:5]} {p[5:]}.{s}",
        "newline at the end": f"{good}\n",
        "tab inside": f"{h}\t.{p}.{s}",
        "two segments": f"{h}.{p}",
        "four segments": f"{good}.{s}",
        "empty signature": f"{h}.{p}.",
        "empty header": f".{p}.{s}",
        "padded payload, re-signed": _resign(idp, h, padded_p if padded_p.endswith("=") else padded_p + "="),
        "header is an array": _resign(idp, _encode(["RS256"]), p),
        "payload is a string": _resign(idp, h, _encode("hello")),
        "duplicate alg in the header": _resign(
            idp, b64(b'{"alg":"none","alg":"RS256","kid":"%s"}' % idp.kid.encode()), p
        ),
        "duplicate sub in the payload": _resign(idp, h, b64(json.dumps(claims)[:-1].encode() + b',"sub":"admin"}')),
        "crit extension": _resign(idp, _encode({**header, "crit": ["exp"], "exp": 1}), p),
        "b64 false": _resign(idp, _encode({**header, "b64": False, "crit": ["b64"]}), p),
        "b64 false without crit": _resign(idp, _encode({**header, "b64": False}), p),
        "NaN in the payload": _resign(idp, h, b64(json.dumps(claims)[:-1].encode() + b',"n":NaN}')),
        "payload not UTF-8": _resign(idp, h, b64(b'{"sub":"\xff"}')),
        "no alg": _resign(idp, _encode({"kid": idp.kid}), p),
        "alg none": f"{_encode({'alg': 'none', 'kid': idp.kid})}.{p}.",
        "signature of another token": f"{h}.{p}.{idp.token(sub='bob').split('.')[2]}",
    }
    return cases


CASES = invalid_cases(RsaIdp(ISSUER))


@pytest.mark.parametrize("name", sorted(CASES))
def test_every_invalid_case_is_refused_with_401(idp, validator, name):
    refused(validator, invalid_cases(idp)[name])


def test_the_padded_signature_the_review_found_is_401_while_the_token_itself_verifies(idp, validator):
    token = idp.token()
    assert validator.validate(token).subject == "alice"
    assert refused(validator, token + "==").slug == "invalid-token"


def _keys():
    return {
        "RS256": rsa.generate_private_key(public_exponent=65537, key_size=2048),
        "PS256": rsa.generate_private_key(public_exponent=65537, key_size=2048),
        "ES256": ec.generate_private_key(ec.SECP256R1()),
        "ES384": ec.generate_private_key(ec.SECP384R1()),
        "ES512": ec.generate_private_key(ec.SECP521R1()),
        "EdDSA": ed25519.Ed25519PrivateKey.generate(),
    }


@pytest.mark.parametrize("alg,key", sorted(_keys().items()))
def test_every_valid_token_with_an_allowed_algorithm_verifies(alg, key):
    from jwt.algorithms import get_default_algorithms

    jwk = json.loads(get_default_algorithms()[alg].to_jwk(key.public_key()))
    jwk.update(kid="k", use="sig", alg=alg)
    config = parse_config(
        {"issuers": [{"issuer": ISSUER, "audiences": ["tvs"], "algorithms": [alg]}], "stores": {"s": STORE}}
    )
    v = TokenValidator(
        config,
        fetch=lambda url, timeout: (
            {"issuer": ISSUER, "jwks_uri": ISSUER + "/k"} if url.endswith("configuration") else {"keys": [jwk]}
        ),
    )
    token = jwt.encode(RsaIdp(ISSUER).claims(), key, algorithm=alg, headers={"kid": "k"})
    assert parse_compact(token).header["alg"] == alg
    assert v.validate(token).subject == "alice"


def test_the_gate_names_what_is_wrong_and_never_the_token(idp):
    token = idp.token() + "=="
    with pytest.raises(MalformedToken) as err:
        parse_compact(token)
    assert "base64url" in str(err.value) and token[:20] not in str(err.value)
