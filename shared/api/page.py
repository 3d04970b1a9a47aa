"""The self-service page's routes (docs/design.md, Self-service page; docs/api.md, Self-service page).

The page is a client of the public API like any other: it holds the caller's token in memory and
calls the API with relative URLs, so it works behind API Management or API Gateway under another
base path. Its files are served from a fixed allow-list (:mod:`shared.ui`) with a strict
Content-Security-Policy: scripts, styles and images from the page's own origin only, no inline
script or style, and connections only to the API, the identity provider and the stores' storage
endpoints (where the browser sends signed URLs).
"""

from __future__ import annotations

from ..config import Config, PageConfig
from ..errors import not_found
from ..kinds import kind_of
from ..origins import web_origin
from ..ui import INDEX, asset
from .context import RequestContext
from .http import HttpResponse

NO_PAGE = "this deployment serves no self-service page (its configuration has no 'page' section)"
ORGANIZATIONS_OPERATION = "omListOrganizations"  # the access-manager organization listing (another branch)

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",  # the page's URL carries an authorization code on return from sign-in
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
    "Strict-Transport-Security": "max-age=31536000",
}


def connect_origins(config: Config, page: PageConfig) -> list[str]:
    """Where the page may connect besides its own origin: the identity provider (discovery and the
    token endpoint), the storage endpoints of the stores' signed URLs, and ``page.connect_origins``."""
    found = [page.authority, page.token_endpoint or ""]
    origins = [o for o in map(web_origin, found) if o]
    for store in config.stores.values():
        origins.extend(kind_of(store.kind).browser_origins(store.options))
    origins.extend(page.connect_origins)
    return sorted(dict.fromkeys(origins))


def content_security_policy(config: Config, page: PageConfig) -> str:
    return "; ".join(
        (
            "default-src 'none'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self'",
            "connect-src " + " ".join(["'self'", *connect_origins(config, page)]),
            "base-uri 'none'",
            "form-action 'none'",
            "frame-ancestors 'none'",
            "require-trusted-types-for 'script'",
            "trusted-types 'none'",
        )
    )


def _page(ctx: RequestContext) -> PageConfig:
    page = ctx.service.config.page
    if page is None:
        raise not_found(NO_PAGE)
    return page


def _headers(ctx: RequestContext, page: PageConfig, **more: str) -> dict[str, str]:
    return {
        "Content-Security-Policy": content_security_policy(ctx.service.config, page),
        **SECURITY_HEADERS,
        "X-Request-Id": ctx.request.request_id,
        **more,
    }


def page_config(ctx: RequestContext) -> HttpResponse:
    """The public client settings the page signs in with; nothing in it is a secret."""
    page = _page(ctx)
    served = {route.operation.operation_id for route in ctx.service.routes}
    return ctx.json(
        200,
        {
            "title": page.title,
            "sign_in": {
                "client_id": page.client_id,
                "authority": page.authority,
                "scopes": list(page.scopes),
                "authorization_endpoint": page.authorization_endpoint,
                "token_endpoint": page.token_endpoint,
            },
            # the panel needs the listing route and organizations to list (the accessmanager section)
            "features": {
                "organizations": ORGANIZATIONS_OPERATION in served and ctx.service.config.accessmanager is not None
            },
        },
    )


def page_root(ctx: RequestContext) -> HttpResponse:
    """``/api/ui`` and ``/api/ui/`` lead to the index, by a relative Location (any base path)."""
    page = _page(ctx)
    location = INDEX if ctx.request.path.endswith("/") else f"ui/{INDEX}"
    return HttpResponse(302, _headers(ctx, page, Location=location, **{"Cache-Control": "no-store"}), b"")


def page_asset(ctx: RequestContext) -> HttpResponse:
    page = _page(ctx)
    found = asset(ctx.params["asset"])
    if found is None:
        raise not_found("the page has no such file")
    # The index is small and names the other files: never cached. The others are revalidated by ETag.
    cache = "no-store" if found.name == INDEX else "no-cache"
    headers = _headers(ctx, page, **{"Content-Type": found.content_type, "Cache-Control": cache, "ETag": found.etag})
    if found.name != INDEX and found.etag in (ctx.request.headers.get("if-none-match") or ""):
        return HttpResponse(304, headers, b"")
    return HttpResponse(200, headers, found.body)


__all__ = ["connect_origins", "content_security_policy", "page_asset", "page_config", "page_root"]
