"""The handlers of the routes of :mod:`shared.api.contract`, one per ``operationId``."""

from __future__ import annotations

from datetime import UTC, datetime

from .. import audit, kinds
from ..access import METHOD_ACCESS
from ..accessmanager.service import AccessManager, organization_dto, space_dto
from ..authz import authorize, is_admin, may_revoke, visible_grants
from ..clock import iso
from ..errors import Problem, bad_request, conflict, forbidden, not_found, unavailable
from ..kinds.contract import RevocableVendor
from ..ledger import LIVE, LedgerUnavailable
from .bodies import (
    accessmanager_query,
    credential_list_query,
    credential_query,
    credential_request,
    encode_cursor,
    json_body,
    organization_id,
    organization_name,
    permission_filter,
    signed_url_request,
)
from .context import RequestContext, Route
from .contract import API_VERSION, OPERATIONS
from .http import SECURITY_HEADERS, HttpResponse
from .openapi import openapi_document
from .page import page_asset, page_config, page_root


def build_routes() -> list[Route]:
    """One route per operation of the contract; an operation without a handler is a KeyError here."""
    return [Route(op, HANDLERS[op.operation_id]) for op in OPERATIONS]


def health(ctx: RequestContext):
    return ctx.json(200, {"status": "ok", "version": API_VERSION})


def openapi(ctx: RequestContext):
    return ctx.json(200, openapi_document([route.operation for route in ctx.service.routes]))


def openapi_30(ctx: RequestContext):
    return ctx.json(200, openapi_document([route.operation for route in ctx.service.routes], "3.0"))


def list_stores(ctx: RequestContext):
    """The caller's grants per store, each saying what it can produce there (a prefix credential,
    per-object signed URLs, or neither), so a client offers only what the store will hand out."""
    stores = visible_grants(ctx.service.config, ctx.caller)
    for entry in stores:
        vendor = ctx.service.vendor(entry["store"])
        for grant in entry["grants"]:
            grant["produces"] = list(vendor.offers(grant["prefix"], grant["access"]))
    return ctx.json(200, {"stores": stores})


def who_am_i(ctx: RequestContext):
    """The caller from verified claims only: what the self-service page shows, and whether it offers the
    administrator's views (another user's or everyone's revocable credentials)."""
    caller = ctx.caller
    return ctx.json(
        200,
        {
            "owner": caller.key,
            "issuer": caller.issuer_name,
            "subject": caller.subject,
            "username": caller.username,
            "email": caller.email,
            "groups": list(caller.groups),
            "roles": list(caller.roles),
            "admin": is_admin(ctx.service.config, caller),
            "expires_at": iso(datetime.fromtimestamp(caller.expires_at, UTC)) if caller.expires_at else None,
        },
    )


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


# Shapes an SDK fetches and refreshes by itself. botocore refreshes once fewer than 15 minutes are left,
# so without a ttl_seconds they default to an hour (clamped to what the grant allows), not the store's
# default: a 900 s credential would be fetched again before every call.
SDK_REFRESHED_FORMATS = frozenset({"credential_process", "container_credentials"})
SDK_DEFAULT_TTL_SECONDS = 3600


def _authorized(config, caller, store: str, path: str, access: str, ttl: int | None):
    """``authorize``; a refusal's audit record says which store, path and access were asked for."""
    try:
        return authorize(config, caller, store, path, access, ttl)
    except Problem as refusal:
        refusal.audit.update(store=store, scope={"path": path}, access=access)
        raise


def _vend(ctx: RequestContext, req, fmt: str) -> dict:
    """Authorize, mint (or reuse from the cache), audit and render one credential request."""
    svc = ctx.service
    _known_store(ctx, req.store)
    ttl = req.ttl_seconds
    if ttl is None and fmt in SDK_REFRESHED_FORMATS:
        ttl = SDK_DEFAULT_TTL_SECONDS
    grant = _authorized(svc.config, ctx.caller, req.store, req.path, req.access, ttl)
    vendor = svc.vendor(req.store)
    if fmt not in vendor.formats:
        offered = sorted(vendor.formats - {"container_credentials"})
        raise bad_request(
            f"store '{req.store}' ({vendor.provider}) does not offer '{fmt}'; it offers {', '.join(offered)}",
            "bad-format",
        )
    if svc.credential_cache is not None and not isinstance(vendor, RevocableVendor):
        key = (ctx.caller.key, req.store, req.path, req.access, grant.ttl_seconds)
        credential, cached = svc.credential_cache.get_or_mint(key, lambda: vendor.issue(grant))
    else:
        credential, cached = vendor.issue(grant), False
    audit.record(
        "issue",
        "issued",
        principal=ctx.caller,
        request_id=ctx.request.request_id,
        store=req.store,
        provider=vendor.provider,
        scope=credential.scope,
        access=req.access,
        ttl_seconds=grant.ttl_seconds,
        expires_at=iso(credential.expires_at),
        credential_id=credential.credential_id,
        cached=cached,
        format=fmt,
    )
    return vendor.render(fmt, credential, grant)


def create_signed_url(ctx: RequestContext):
    svc = ctx.service
    req = signed_url_request(json_body(ctx.request, svc.config.limits.max_body_bytes))
    _known_store(ctx, req.store)
    grant = _authorized(svc.config, ctx.caller, req.store, req.object, METHOD_ACCESS[req.method], req.ttl_seconds)
    vendor = svc.vendor(req.store)
    signed = vendor.sign_url(grant, req.method, req.content_type)
    audit.record(
        "sign-url",
        "issued",
        principal=ctx.caller,
        request_id=ctx.request.request_id,
        store=req.store,
        provider=vendor.provider,
        scope={"object": req.object},
        access=grant.access,
        method=req.method,
        ttl_seconds=grant.ttl_seconds,
        expires_at=iso(signed.expires_at),
        credential_id=signed.credential_id,
    )
    return ctx.json(
        200,
        {
            "url": signed.url,
            "method": signed.method,
            "headers": signed.headers,
            "expires_at": iso(signed.expires_at),
            "store": req.store,
            "object": req.object,
            "credential_id": signed.credential_id,
        },
    )


LIST_LIMIT_DEFAULT, LIST_LIMIT_MAX = 50, 200


def list_credentials(ctx: RequestContext):
    """The caller's live revocable credentials; an administrator may name another owner (``user``) or
    ask for everyone's (``all=true``). Paginated by an opaque ``cursor``; never a secret."""
    svc, caller = ctx.service, ctx.caller
    q = credential_list_query(ctx.request.query, LIST_LIMIT_DEFAULT, LIST_LIMIT_MAX)
    if (q.user is not None or q.everyone) and not is_admin(svc.config, caller):
        raise forbidden("only an administrator may list another user's credentials")
    if q.store is not None:
        _known_store(ctx, q.store)
    owner = None if q.everyone else (q.user or caller.key)
    ledger = svc.vendor_context.ledger
    if ledger is None:  # no revocable store: nothing is ever listed
        return ctx.json(200, {"credentials": [], "next": None})
    states = (q.state.upper(),) if q.state else LIVE
    try:
        records, cursor = ledger.get().live(owner=owner, store=q.store, states=states, limit=q.limit, cursor=q.cursor)
    except ValueError:
        raise bad_request("'cursor' is not one this service handed out", "bad-cursor") from None
    except LedgerUnavailable:
        raise unavailable("the key ledger is unavailable", retry_after=10) from None
    items = []
    for record in records:
        vendor = svc.vendor(record.store) if record.store in svc.config.stores else None
        if isinstance(vendor, RevocableVendor):
            items.append(vendor.describe(record))
    return ctx.json(200, {"credentials": items, "next": encode_cursor(cursor)})


def _vendor_for_credential(svc, credential_id: str):
    """The vendor of the store whose kind hands out ``credential_id`` (each kind declares its ids)."""
    for store_id, store in svc.config.stores.items():
        if kinds.kind_of(store.kind).owns(credential_id, store_id):
            return svc.vendor(store_id)
    return None


def revoke_credential(ctx: RequestContext):
    """204 once revoked (again: 204); 404 for an unknown id or someone else's credential; 409 for a kind
    that cannot be revoked one by one."""
    svc = ctx.service
    cid = ctx.params["credential_id"]
    vendor = _vendor_for_credential(svc, cid)
    if vendor is None:
        raise not_found("there is no such credential")
    if not isinstance(vendor, RevocableVendor):
        raise conflict(
            "not-revocable", f"{vendor.provider} credentials cannot be revoked one by one; they expire by themselves"
        )
    owner = vendor.owner_of(cid)
    if owner is None or not may_revoke(svc.config, ctx.caller, owner):
        raise not_found("there is no such credential")  # never reveal that someone else's credential exists
    try:
        about = vendor.revoke(cid, "owner" if owner == ctx.caller.key else "admin") or {}
    except Problem as refusal:
        refusal.audit.update(store=vendor.store.id, credential_id=cid)
        raise
    audit.record(
        "revoke",
        "revoked",
        principal=ctx.caller,
        request_id=ctx.request.request_id,
        store=vendor.store.id,
        provider=vendor.provider,
        scope=about.get("scope"),
        expires_at=about.get("expires_at"),
        credential_id=cid,
    )
    return HttpResponse(204, {**SECURITY_HEADERS, "X-Request-Id": ctx.request.request_id}, b"")


# -- the access-manager API (docs/accessmanager.md) ----------------------------------------------------
def _accessmanager(ctx: RequestContext) -> AccessManager:
    if ctx.service.accessmanager is None:
        raise not_found("this service has no organizations and spaces configured (the accessmanager section)")
    return ctx.service.accessmanager


def _text(ctx: RequestContext, text: str) -> HttpResponse:
    headers = {
        "Content-Type": "text/plain;charset=UTF-8",
        **SECURITY_HEADERS,
        "X-Request-Id": ctx.request.request_id,
    }
    return HttpResponse(200, headers, text.encode())


def _sas_handler(operation: str):
    def handler(ctx: RequestContext) -> HttpResponse:
        q = accessmanager_query(ctx.request.query)
        sas = _accessmanager(ctx).sas(ctx.caller, operation, q.organization, q.space)
        credential = sas.credential
        audit.record(
            "issue",
            "issued",
            principal=ctx.caller,
            request_id=ctx.request.request_id,
            route=f"accessmanager/{operation}",
            store=sas.organization.store,
            provider=credential.provider,
            scope={
                "organization": sas.organization.name,
                "space": sas.space.name,
                "container": sas.container,
                "permission": sas.permission,
            },
            ttl_seconds=int((credential.expires_at - credential.issued_at).total_seconds()),
            expires_at=iso(credential.expires_at),
            credential_id=credential.credential_id,
            cached=sas.cached,
            format="sas-token",
        )
        return _text(ctx, sas.token)

    handler.__name__ = f"accessmanager_{operation.replace('/', '_')}"
    return handler


def accessmanager_commit(ctx: RequestContext):
    q = accessmanager_query(ctx.request.query, with_root_dir=True)
    commit = _accessmanager(ctx).commit(ctx.caller, q.organization, q.space, q.root_dir or "none")
    audit.record(
        "commit",
        "published",
        principal=ctx.caller,
        request_id=ctx.request.request_id,
        route="accessmanager/commit",
        store=commit.organization.store,
        scope={
            "organization": commit.organization.name,
            "space": commit.space.name,
            "container": commit.organization.loadingzone.container,
            "root_dir": commit.root_dir,
        },
        count=len(commit.files),
        commit_id=commit.commit_id,
    )
    return ctx.json(200, commit.files, {"X-Commit-Id": commit.commit_id})


def list_organizations(ctx: RequestContext):
    am = _accessmanager(ctx)
    permission = permission_filter(ctx.request.query)
    return ctx.json(200, [organization_dto(o) for o in am.organizations(ctx.caller, permission)])


def organization_by_name(ctx: RequestContext):
    am = _accessmanager(ctx)
    _no_query(ctx)
    return ctx.json(200, organization_dto(am.visible_organization(ctx.caller, organization_name(ctx.params["name"]))))


def list_spaces(ctx: RequestContext):
    am = _accessmanager(ctx)
    permission = permission_filter(ctx.request.query)
    org = am.organization_by_id(ctx.caller, organization_id(ctx.params["orgaId"]))
    return ctx.json(200, [space_dto(org, s) for s in am.spaces(ctx.caller, org, permission)])


def _no_query(ctx: RequestContext) -> None:
    if ctx.request.query:
        name = sorted(ctx.request.query)[0]
        raise bad_request(f"unknown query parameter '{name}'", "unknown-field")


HANDLERS = {
    "health": health,
    "openapi": openapi,
    "openapi30": openapi_30,
    "listStores": list_stores,
    "createCredential": create_credential,
    "listCredentials": list_credentials,
    "revokeCredential": revoke_credential,
    "createSignedUrl": create_signed_url,
    "containerCredentials": container_credentials,
    "amRead": _sas_handler("read"),
    "amUpload": _sas_handler("upload"),
    "amUploadMain": _sas_handler("upload/main"),
    "amDelete": _sas_handler("delete"),
    "amCommit": accessmanager_commit,
    "omListOrganizations": list_organizations,
    "omOrganizationByName": organization_by_name,
    "omListSpaces": list_spaces,
    "omListSpacesV1": list_spaces,
    "whoAmI": who_am_i,
    "pageConfig": page_config,
    "pageRoot": page_root,
    "pageAsset": page_asset,
}
