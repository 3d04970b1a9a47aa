"""Bearer-token validation: every hostile token is a 401 and nothing else happens."""

import base64
import json
import time

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from shared.config import parse_config
from shared.errors import Problem
from shared.identity.tokens import TokenValidator
from tests.identity.fake_idp import RsaIdp, b64

ISSUER = "https://idp.example/realms/data"
STORE = {
    "kind": "azure-blob",
    "account_url": "https://a.blob.core.windows.net",
    "container": "c",
    "auth": {"method": "managed-identity"},
}


def validator_for(idp: RsaIdp, **issuer_over) -> TokenValidator:
    issuer = {"issuer": idp.issuer, "audiences": ["tvs"], "algorithms": ["RS256"], "leeway_seconds": 30}
    issuer.update(issuer_over)
    config = parse_config({"issuers": [issuer], "stores": {"s": STORE}})
    return TokenValidator(config, fetch=idp.fetch)


@pytest.fixture
def idp():
    return RsaIdp(ISSUER)


@pytest.fixture
def validator(idp):
    return validator_for(idp)


def refused(validator, token) -> Problem:
    with pytest.raises(Problem) as err:
        validator.validate(token)
    return err.value


def test_a_valid_token_gives_the_principal(idp, validator):
    principal = validator.validate(idp.token(groups=["g1"], roles=["r1"], scope="read write"))
    assert (principal.subject, principal.groups, principal.roles, principal.scopes) == (
        "alice",
        ("g1",),
        ("r1",),
        ("read", "write"),
    )


def test_alg_none_is_refused(idp, validator):
    assert refused(validator, idp.unsigned()).status == 401


def test_hs256_signed_with_the_issuers_public_key_is_refused(idp, validator):
    assert refused(validator, idp.hmac_with_public_key()).status == 401


def test_an_expired_token_is_refused(idp, validator):
    now = int(time.time())
    problem = refused(validator, idp.token(iat=now - 7200, exp=now - 3600))
    assert problem.status == 401 and "expired" in problem.detail


def test_expiry_within_the_small_leeway_is_accepted(idp, validator):
    assert validator.validate(idp.token(exp=int(time.time()) - 5)).subject == "alice"


def test_a_not_yet_valid_token_is_refused(idp, validator):
    now = int(time.time())
    assert refused(validator, idp.token(nbf=now + 3600, iat=now)).status == 401


def test_a_token_issued_in_the_future_is_refused(idp, validator):
    assert refused(validator, idp.token(iat=int(time.time()) + 3600)).status == 401


def test_a_wrong_issuer_is_refused(idp, validator):
    assert "issuer" in refused(validator, idp.token(iss="https://evil.example/")).detail


def test_an_issuer_that_only_starts_like_the_trusted_one_is_refused(idp, validator):
    assert refused(validator, idp.token(iss=ISSUER + "-evil")).status == 401


def test_a_wrong_audience_is_refused(idp, validator):
    assert "audience" in refused(validator, idp.token(aud="someone-else")).detail


@pytest.mark.parametrize("claim", ["exp", "iat", "sub"])
def test_required_claims_must_be_present(idp, validator, claim):
    assert refused(validator, idp.token(**{claim: None})).status == 401


def test_an_unknown_kid_is_refused(idp, validator):
    validator.validate(idp.token())
    assert "unknown key" in refused(validator, idp.token(headers={"kid": "not-there"})).detail


def test_a_tampered_signature_is_refused(idp, validator):
    header, payload, sig = idp.token().split(".")
    flipped = sig[:-4] + ("AAAA" if not sig.endswith("AAAA") else "BBBB")
    assert refused(validator, f"{header}.{payload}.{flipped}").status == 401


def test_a_tampered_payload_is_refused(idp, validator):
    header, payload, sig = idp.token().split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["groups"] = ["admins"]
    assert refused(validator, f"{header}.{b64(json.dumps(claims).encode())}.{sig}").status == 401


def test_an_embedded_jwk_header_is_never_used(idp, validator):
    attacker = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    evil = RsaIdp(ISSUER)
    evil.key = attacker
    token = idp.token(headers={"jwk": evil.jwk(), "jku": "https://evil.example/keys"}, key=attacker)
    assert refused(validator, token).status == 401
    assert all(url.startswith(ISSUER + "/") for url in idp.urls)  # never the jku, never the embedded jwk


@pytest.mark.parametrize("garbage", ["", "abc", "a.b.c", "x" * 20000, "Bearer", "eyJ.eyJ.", "...."])
def test_garbage_is_refused(validator, garbage):
    assert refused(validator, garbage).status == 401


def test_idp_down_with_warm_cache_keeps_working(idp):
    now = [1000.0]
    v = TokenValidator(
        parse_config({"issuers": [{"issuer": idp.issuer, "audiences": ["tvs"]}], "stores": {"s": STORE}}),
        fetch=idp.fetch,
        clock=lambda: now[0],
    )
    v.validate(idp.token())
    idp.up = False
    now[0] += 7200  # past the periodic refresh: the refetch fails, the cached keys still verify
    assert v.validate(idp.token()).subject == "alice"


def test_idp_down_with_cold_cache_answers_503_with_retry_after(idp, validator):
    idp.up = False
    problem = refused(validator, idp.token())
    assert problem.status == 503 and "Retry-After" in problem.headers


def test_last_known_good_keys_expire_after_the_stale_limit(idp):
    now = [1000.0]
    config = parse_config(
        {"issuers": [{"issuer": idp.issuer, "audiences": ["tvs"], "max_stale_seconds": 7200}], "stores": {"s": STORE}}
    )
    v = TokenValidator(config, fetch=idp.fetch, clock=lambda: now[0])
    v.validate(idp.token())
    idp.up = False
    now[0] += 7201
    assert refused(v, idp.token()).status == 503


def test_an_unknown_kid_refetches_at_most_once_per_cooldown(idp):
    now = [1000.0]
    v = TokenValidator(
        parse_config({"issuers": [{"issuer": idp.issuer, "audiences": ["tvs"]}], "stores": {"s": STORE}}),
        fetch=idp.fetch,
        clock=lambda: now[0],
    )
    v.validate(idp.token())
    loaded = idp.fetches
    now[0] += 61  # past the cool-down of the first load
    for i in range(20):
        refused(v, idp.token(headers={"kid": f"forged-{i}"}))
    assert idp.fetches == loaded + 1


def test_a_rotated_key_is_picked_up_through_the_unknown_kid_refetch(idp):
    now = [1000.0]
    v = TokenValidator(
        parse_config({"issuers": [{"issuer": idp.issuer, "audiences": ["tvs"]}], "stores": {"s": STORE}}),
        fetch=idp.fetch,
        clock=lambda: now[0],
    )
    v.validate(idp.token())
    idp.rotate("k2")
    now[0] += 61
    assert v.validate(idp.token()).subject == "alice"


def test_keys_are_found_through_oidc_discovery(idp):
    v = validator_for(idp)  # no jwks_uri: discovery at issuer/.well-known/openid-configuration
    assert v.validate(idp.token()).subject == "alice"


# -- issuer families ---------------------------------------------------------------------------


def test_cognito_access_tokens_use_client_id_and_cognito_groups():
    idp = RsaIdp("https://cognito-idp.eu-west-3.amazonaws.com/eu-west-3_X")
    v = validator_for(idp, claims_profile="cognito", audiences=["client123"])
    p = v.validate(idp.token(aud=None, client_id="client123", token_use="access", **{"cognito:groups": ["ops"]}))
    assert p.groups == ("ops",)


def test_cognito_id_tokens_are_refused_as_access_tokens():
    idp = RsaIdp("https://cognito-idp.eu-west-3.amazonaws.com/eu-west-3_X")
    v = validator_for(idp, claims_profile="cognito", audiences=["client123"])
    assert refused(v, idp.token(aud="client123", token_use="id")).status == 401


def test_keycloak_realm_roles_are_read_and_id_tokens_refused(idp):
    v = validator_for(idp, claims_profile="keycloak")
    assert v.validate(idp.token(typ="Bearer", realm_access={"roles": ["analyst"]})).roles == ("analyst",)
    assert refused(v, idp.token(typ="ID")).status == 401


def test_entra_multi_tenant_accepts_allowed_tenants_only():
    template = "https://login.microsoftonline.com/{tenantid}/v2.0"
    good, bad = "11111111-1111-1111-1111-111111111111", "99999999-9999-9999-9999-999999999999"
    idp = RsaIdp("https://login.microsoftonline.com/common/v2.0")
    v = validator_for(
        idp,
        issuer=template,
        claims_profile="entra",
        tenants=[good],
        jwks_uri="https://login.microsoftonline.com/common/discovery/v2.0/keys",
    )
    p = v.validate(
        idp.token(
            iss=f"https://login.microsoftonline.com/{good}/v2.0", tid=good, oid="o-1", groups=["g"], scp="Vend.All"
        )
    )
    assert (p.tenant_id, p.object_id, p.scopes) == (good, "o-1", ("Vend.All",))
    assert refused(v, idp.token(iss=f"https://login.microsoftonline.com/{bad}/v2.0", tid=bad)).status == 401


def test_entra_tenant_in_issuer_must_match_the_tid_claim():
    template = "https://login.microsoftonline.com/{tenantid}/v2.0"
    good, other = "11111111-1111-1111-1111-111111111111", "22222222-2222-2222-2222-222222222222"
    idp = RsaIdp("https://login.microsoftonline.com/common/v2.0")
    v = validator_for(
        idp,
        issuer=template,
        claims_profile="entra",
        tenants=[good, other],
        jwks_uri="https://login.microsoftonline.com/common/discovery/v2.0/keys",
    )
    assert refused(v, idp.token(iss=f"https://login.microsoftonline.com/{good}/v2.0", tid=other)).status == 401


@pytest.mark.parametrize("kid", [["k1"], {"k": "k1"}])
def test_a_kid_that_is_not_a_string_is_refused_as_401(idp, validator, kid):
    header = b64(json.dumps({"alg": "RS256", "kid": kid}).encode())
    assert refused(validator, header + "." + idp.token().split(".", 1)[1]).status == 401


def test_a_deeply_nested_header_or_payload_is_refused_as_401(idp):
    other = {"issuer": "https://other.example", "audiences": ["tvs"], "jwks_uri": "https://other.example/keys"}
    config = parse_config({"issuers": [{"issuer": idp.issuer, "audiences": ["tvs"]}, other], "stores": {"s": STORE}})
    two_issuers = TokenValidator(config, fetch=idp.fetch)
    deep = b64(b"[" * 5000 + b"]" * 5000)
    header = b64(json.dumps({"alg": "RS256", "kid": idp.kid}).encode())
    assert refused(two_issuers, f"{deep}.{deep}.x").status == 401
    assert refused(two_issuers, f"{header}.{deep}.x").status == 401


def test_a_jwks_entry_that_cannot_be_used_does_not_discard_the_good_keys(idp):
    good = idp.jwk()
    validator = validator_for(idp, jwks_uri=idp.issuer + "/keys")
    validator._jwks[idp.issuer]._fetch = lambda url, timeout: {"keys": ["not-a-key", {**good, "kid": ["odd"]}, good]}
    assert validator.validate(idp.token()).subject == "alice"


@pytest.mark.parametrize("claim", ["exp", "iat", "nbf"])
def test_a_time_claim_that_is_not_a_json_number_is_refused(idp, validator, claim):
    now = int(time.time())
    value = {"exp": str(now + 600), "iat": str(now), "nbf": str(now)}[claim]
    assert refused(validator, idp.token(**{claim: value})).status == 401


# -- multi-tenant issuers ----------------------------------------------------------------------

ENTRA_TEMPLATE = "https://login.microsoftonline.com/{tenantid}/v2.0"
ENTRA_KEYS = "https://login.microsoftonline.com/common/discovery/v2.0/keys"
TENANT_A, TENANT_B = "11111111-1111-1111-1111-111111111111", "99999999-9999-9999-9999-999999999999"


def entra_token(idp, tenant, **claims):
    return idp.token(iss=f"https://login.microsoftonline.com/{tenant}/v2.0", tid=tenant, **claims)


def test_with_any_tenant_a_token_of_a_tenant_no_grant_names_is_granted_nothing():
    from shared.authz import authorize, visible_grants

    idp = RsaIdp("https://login.microsoftonline.com/common/v2.0")
    config = parse_config(
        {
            "issuers": [
                {
                    "name": "entra",
                    "issuer": ENTRA_TEMPLATE,
                    "any_tenant": True,
                    "audiences": ["tvs"],
                    "jwks_uri": ENTRA_KEYS,
                    "claims_profile": "entra",
                }
            ],
            "stores": {"s": STORE},
            "grants": [{"match": {"roles": ["Vend.Read"], "tenants": [TENANT_A]}, "stores": ["s"], "access": "read"}],
        }
    )
    v = TokenValidator(config, fetch=idp.fetch)
    stranger = v.validate(entra_token(idp, TENANT_B, roles=["Vend.Read"]))
    assert stranger.tenant_id == TENANT_B and visible_grants(config, stranger) == []
    with pytest.raises(Problem) as err:
        authorize(config, stranger, "s", "", "read", None)
    assert err.value.status == 403
    member = v.validate(entra_token(idp, TENANT_A, roles=["Vend.Read"]))
    assert authorize(config, member, "s", "", "read", None).access == "read"


@pytest.mark.parametrize("tid", ["a|b", "../x", "", "x" * 100, "11111111-1111-1111-1111-11111111111\u0661"])
def test_a_tenant_id_that_is_not_one_plain_identifier_is_refused(tid):
    idp = RsaIdp("https://login.microsoftonline.com/common/v2.0")
    v = validator_for(
        idp,
        issuer=ENTRA_TEMPLATE,
        claims_profile="entra",
        tenants=[TENANT_A, tid] if tid else [TENANT_A],
        jwks_uri=ENTRA_KEYS,
    )
    assert refused(v, idp.token(iss=f"https://login.microsoftonline.com/{tid}/v2.0", tid=tid)).status == 401


# -- where keys are fetched from -----------------------------------------------------------------


def test_a_jwks_uri_from_discovery_over_plain_http_is_never_fetched_in_deployed_mode(idp):
    def fetch(url, timeout):
        idp.urls.append(url)
        if url.endswith("openid-configuration"):
            return {"issuer": idp.issuer, "jwks_uri": "http://idp.example/realms/data/keys"}
        return {"keys": [idp.jwk()]}

    v = validator_for(idp)  # deployed mode, discovery at the issuer
    v._jwks[idp.issuer]._fetch = fetch
    problem = refused(v, idp.token())
    assert problem.status == 503
    assert not any(url.startswith("http://") for url in idp.urls)


def test_a_jwks_uri_from_discovery_over_plain_http_is_fetched_in_local_mode(idp):
    local = parse_config(
        {"issuers": [{"issuer": idp.issuer, "audiences": ["tvs"]}], "stores": {"s": STORE}}, mode="local"
    )
    served = []

    def fetch(url, timeout):
        served.append(url)
        if url.endswith("openid-configuration"):
            return {"issuer": idp.issuer, "jwks_uri": "http://127.0.0.1:9/keys"}
        return {"keys": [idp.jwk()]}

    assert TokenValidator(local, fetch=fetch).validate(idp.token()).subject == "alice"
    assert served[-1] == "http://127.0.0.1:9/keys"


# -- claim shapes ----------------------------------------------------------------------------------


def test_a_groups_claim_sent_as_one_string_is_one_group_not_split_on_spaces(idp, validator):
    principal = validator.validate(idp.token(groups="not admins"))
    assert principal.groups == ("not admins",)


def test_a_roles_claim_sent_as_one_string_is_one_role(idp, validator):
    assert validator.validate(idp.token(roles="Vend.Read Vend.Admin")).roles == ("Vend.Read Vend.Admin",)


def test_a_scope_claim_is_still_space_separated(idp, validator):
    assert validator.validate(idp.token(scope="read  write")).scopes == ("read", "write")


def test_an_entra_token_with_group_overage_is_refused_with_a_reason_a_person_can_act_on():
    from shared.authz import authorize

    idp = RsaIdp("https://login.microsoftonline.com/common/v2.0")
    config = parse_config(
        {
            "issuers": [
                {
                    "name": "entra",
                    "issuer": ENTRA_TEMPLATE,
                    "tenants": [TENANT_A],
                    "audiences": ["tvs"],
                    "jwks_uri": ENTRA_KEYS,
                    "claims_profile": "entra",
                }
            ],
            "stores": {"s": STORE},
            "grants": [{"match": {"groups": ["0c5f-analysts"]}, "stores": ["s"], "access": "read"}],
        }
    )
    principal = TokenValidator(config, fetch=idp.fetch).validate(
        entra_token(
            idp,
            TENANT_A,
            _claim_names={"groups": "src1"},
            _claim_sources={"src1": {"endpoint": "https://graph.microsoft.com/v1.0/users/x/getMemberObjects"}},
        )
    )
    assert principal.groups == () and principal.groups_omitted
    with pytest.raises(Problem) as err:
        authorize(config, principal, "s", "", "read", None)
    assert err.value.status == 403 and "group overage" in err.value.detail


def test_a_token_with_its_groups_is_not_taken_for_an_overage(idp, validator):
    assert not validator.validate(idp.token(groups=["g"], hasgroups=True)).groups_omitted
