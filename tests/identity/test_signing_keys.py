"""Which keys of an issuer's JWKS may verify a token: strong, labelled for signatures, not ROCA-weak."""

from __future__ import annotations

import json
import math
import random

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from shared.config import parse_config
from shared.errors import Problem
from shared.identity.jwks import is_roca_weak
from shared.identity.tokens import TokenValidator
from tests.identity.fake_idp import RsaIdp

ISSUER = "https://idp.example/realms/data"
STORE = {
    "kind": "azure-blob",
    "account_url": "https://a.blob.core.windows.net",
    "container": "c",
    "auth": {"method": "managed-identity"},
}
SMALL_PRIMES = [p for p in range(3, 168) if all(p % d for d in range(2, int(p**0.5) + 1))]


def probably_prime(n: int, rounds: int = 32) -> bool:
    if n < 2:
        return False
    for p in SMALL_PRIMES + [2]:
        if n % p == 0:
            return n == p
    d, r = n - 1, 0
    while d % 2 == 0:
        d, r = d // 2, r + 1
    rng = random.Random(n)
    for _ in range(rounds):
        x = pow(rng.randrange(2, n - 1), d, n)
        if x in (1, n - 1):
            continue
        for _ in range(r - 1):
            x = pow(x, 2, n)
            if x == n - 1:
                break
        else:
            return False
    return True


def roca_structured_prime(bits: int, rng: random.Random) -> int:
    """A prime of the form k*M + (65537^a mod M), M the product of the small primes up to 167: the
    structure of the primes the vulnerable Infineon library made (the ROCA paper, CCS 2017). It lies
    above sqrt(2) * 2^(bits-1), so that the product of two has exactly twice the bits."""
    m = 1
    for p in SMALL_PRIMES + [2]:
        m *= p
    lo, hi = math.isqrt(1 << (2 * bits - 1)) + 1, 1 << bits
    while True:
        candidate = rng.randrange(lo // m + 1, hi // m) * m + pow(65537, rng.randrange(1, 2**20), m)
        if candidate < hi and probably_prime(candidate):
            return candidate


def rsa_key_from_primes(p: int, q: int):
    n, e = p * q, 65537
    d = pow(e, -1, (p - 1) * (q - 1))
    numbers = rsa.RSAPrivateNumbers(p, q, d, d % (p - 1), d % (q - 1), pow(q, -1, p), rsa.RSAPublicNumbers(e, n))
    return numbers.private_key()


@pytest.fixture(scope="module")
def roca_key():
    rng = random.Random(2017)
    return rsa_key_from_primes(roca_structured_prime(1024, rng), roca_structured_prime(1024, rng))


class TwoKeyIdp(RsaIdp):
    """Publishes a good key ``k1`` and a second key ``k2`` whose JWK the test shapes."""

    def __init__(self, second_key, **second_jwk):
        super().__init__(ISSUER, kid="k1")
        self.second_key, self.second_jwk = second_key, second_jwk

    def fetch(self, url, timeout):
        if url.endswith("openid-configuration"):
            return {"issuer": self.issuer, "jwks_uri": self.issuer + "/keys"}
        second = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.second_key.public_key()))
        second.update({"kid": "k2", "alg": "RS256", **self.second_jwk})
        return {"keys": [self.jwk(), {k: v for k, v in second.items() if v is not None}]}

    def second_token(self) -> str:
        return self.token(headers={"kid": "k2"}, key=self.second_key)


def validator(idp) -> TokenValidator:
    return TokenValidator(
        parse_config({"issuers": [{"issuer": ISSUER, "audiences": ["tvs"]}], "stores": {"s": STORE}}), fetch=idp.fetch
    )


def refused_401(idp) -> None:
    v = validator(idp)
    assert v.validate(idp.token()).subject == "alice"  # the good key of the same set still verifies
    with pytest.raises(Problem) as err:
        v.validate(idp.second_token())
    assert err.value.status == 401


@pytest.mark.filterwarnings("ignore:The RSA key is 1024 bits long")  # PyJWT's own warning when the test signs
def test_an_rsa_key_under_2048_bits_is_never_used():
    refused_401(TwoKeyIdp(rsa.generate_private_key(public_exponent=65537, key_size=1024), use="sig"))


@pytest.mark.parametrize("key_ops", [["encrypt"], ["sign"], ["wrapKey", "unwrapKey"], []])
def test_a_key_whose_key_ops_lack_verify_is_never_used(key_ops):
    refused_401(TwoKeyIdp(rsa.generate_private_key(public_exponent=65537, key_size=2048), use=None, key_ops=key_ops))


def test_a_key_labelled_for_encryption_is_never_used():
    refused_401(TwoKeyIdp(rsa.generate_private_key(public_exponent=65537, key_size=2048), use="enc"))


def test_a_key_with_verify_in_key_ops_is_used():
    idp = TwoKeyIdp(rsa.generate_private_key(public_exponent=65537, key_size=2048), use=None, key_ops=["verify"])
    assert validator(idp).validate(idp.second_token()).subject == "alice"


def test_a_roca_vulnerable_key_is_never_used(roca_key):
    refused_401(TwoKeyIdp(roca_key, use="sig"))


def test_the_roca_check_flags_the_structured_modulus_and_not_ordinary_ones(roca_key):
    assert roca_key.key_size == 2048
    assert is_roca_weak(roca_key.public_key().public_numbers().n)
    ordinary = [
        rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key().public_numbers().n for _ in range(5)
    ]
    assert not any(is_roca_weak(n) for n in ordinary)
