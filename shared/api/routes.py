"""The route table of API.md and the handlers of the v1 routes."""
from __future__ import annotations

import re

from .. import audit
from ..authz import authorize, is_admin, visible_grants
from ..errors import bad_request, not_found
from ..providers.base import iso
from .bodies import credential_query, credential_request, json_body, signed_url_request
from .http import SECURITY_HEADERS, HttpResponse
from .openapi import openapi_document
from .service import RequestContext, Route

VERSION = "0.1.0"


def build_routes() -> list[Route]:
    return [
        Route("GET", "/api/v1/health", health, auth=False),
        Route("GET", "/api/v1/openapi.json", openapi, auth=False),
        Route("GET", "/api/v1/stores", list_stores),
        Route("POST", "/api/v1/credentials", create_credential),
        Route("POST", "/api/v1/signed-urls", create_signed_url),
        Route("DELETE", "/api/v1/credentials/{credential_id}", revoke_credential),
        Route("GET", "/api/v1/aws/container-credentials/{store}", container_credentials, raw_token=True),
    ]


def health(ctx: RequestContext):
    return ctx.json(200, {"status": "ok", "version": VERSION})


def openapi(ctx: RequestContext):
    return ctx.json(200, openapi_document(ctx.service.routes))


def list_stores(ctx: RequestContext):
    return ctx.json(200, {"stores": visible_grants(ctx.service.config, ctx.principal)})


def _known_store(ctx: RequestContext, store_id: str) -> None:
    if store_id not in ctx.service.config.stores:
        raise not_found(f"there is no store '{store_id}'")


def create_credential(ctx: RequestContext):
    req = credential_request(json_body(ctx.request, ctx.service.config.limits.max_body_bytes))
    return ctx.json(200, _vend(ctx, req, req.format))


def container_credentials(ctx: RequestContext):
    """AWS container-credentials shape: any AWS SDK fetches and refreshes from here by itself."""
    req = credential_query(ctx.params["store"], ctx.request.query)
    return ctx.json(200, _vend(ctx, req, "container_credentials"))


def _vend(ctx: RequestContext, req, fmt: str) -> dict:
    """Authorize, mint (or reuse from the cache), audit and render one credential request."""
    svc = ctx.service
    _known_store(ctx, req.store)
    grant = authorize(svc.config, ctx.principal, req.store, req.path, req.access, req.ttl_seconds)
    vendor = svc.vendor(req.store)
    if fmt not in vendor.formats:
        offered = sorted(vendor.formats - {"container_credentials"})
        raise bad_request(f"store '{req.store}' ({vendor.provider}) does not offer '{fmt}'; it offers {', '.join(offered)}",
                          "bad-format")
    if svc.credential_cache is not None and not vendor.revocable:
        key = (ctx.principal.key, req.store, req.path, req.access, grant.ttl_seconds)
        credential, cached = svc.credential_cache.get_or_mint(key, lambda: vendor.issue(grant))
    else:
        credential, cached = vendor.issue(grant), False
    audit.record("issue", "issued", principal=ctx.principal, request_id=ctx.request.request_id, store=req.store,
                 provider=vendor.provider, scope=credential.scope, access=req.access, ttl_seconds=grant.ttl_seconds,
                 expires_at=iso(credential.expires_at), credential_id=credential.credential_id, cached=cached,
                 format=fmt)
    return vendor.render(fmt, credential, grant)


def create_signed_url(ctx: RequestContext):
    from ..access import METHOD_ACCESS

    svc = ctx.service
    req = signed_url_request(json_body(ctx.request, svc.config.limits.max_body_bytes))
    _known_store(ctx, req.store)
    grant = authorize(svc.config, ctx.principal, req.store, req.object, METHOD_ACCESS[req.method], req.ttl_seconds)
    vendor = svc.vendor(req.store)
    signed = vendor.sign_url(grant, req.method, req.content_type)
    audit.record("sign-url", "issued", principal=ctx.principal, request_id=ctx.request.request_id, store=req.store,
                 provider=vendor.provider, scope={"object": req.object}, access=grant.access, method=req.method,
                 ttl_seconds=grant.ttl_seconds, expires_at=iso(signed.expires_at), credential_id=signed.credential_id)
    return ctx.json(200, {"url": signed.url, "method": signed.method, "headers": signed.headers,
                          "expires_at": iso(signed.expires_at), "store": req.store, "object": req.object,
                          "credential_id": signed.credential_id})


# "<kind>.<store>.<id>": credential ids of revocable kinds name the store that can take them back.
SELF_ROUTING_ID = re.compile(r"^[a-z0-9-]{1,20}\.([a-z0-9][a-z0-9-]{0,62})\.[A-Za-z0-9-]{1,64}\Z")
# Ids of non-revocable kinds, and the provider that hands them out: an STS session's access key id;
# a SAS's fingerprint (shared.providers.base.fingerprint with the prefix "sas").
NON_REVOCABLE_IDS = ((re.compile(r"^ASIA[A-Z0-9]{16}\Z"), "aws-s3"), (re.compile(r"^sas-[0-9a-f]{24}\Z"), "azure-blob"))


def _non_revocable_vendor(svc, credential_id: str):
    for pattern, provider in NON_REVOCABLE_IDS:
        if pattern.match(credential_id):
            for store_id in svc.config.stores:
                vendor = svc.vendor(store_id)
                if not vendor.revocable and vendor.provider == provider:
                    return vendor
    return None


def revoke_credential(ctx: RequestContext):
    """204 once revoked (again: 204); 404 for an unknown id or someone else's credential; 409 for a kind
    that cannot be revoked one by one."""
    svc = ctx.service
    cid = ctx.params["credential_id"]
    vendor = None
    m = SELF_ROUTING_ID.match(cid)
    if m and m.group(1) in svc.config.stores:
        vendor = svc.vendor(m.group(1))
    else:
        vendor = _non_revocable_vendor(svc, cid)
    if vendor is None:
        raise not_found("there is no such credential")
    vendor.revoke(cid, principal=ctx.principal, admin=is_admin(svc.config, ctx.principal))
    audit.record("revoke", "revoked", principal=ctx.principal, request_id=ctx.request.request_id,
                 store=vendor.store.id, provider=vendor.provider, credential_id=cid)
    return HttpResponse(204, {**SECURITY_HEADERS, "X-Request-Id": ctx.request.request_id}, b"")
