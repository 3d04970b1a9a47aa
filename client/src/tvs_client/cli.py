"""The ``tvs`` command. Run ``tvs --help`` or ``tvs COMMAND --help``."""
from __future__ import annotations

import argparse
import json
import logging
import sys
from datetime import datetime, timezone
from typing import Sequence

from . import __version__, shapes
from .api import LEVELS, Client
from .config import Profile, load_profile, save_profile
from .errors import EXIT_SIGN_IN, ApiRefusal, TvsError, UsageError

EPILOG = """\
examples:
  tvs login --issuer https://login.microsoftonline.com/<tenant>/v2.0 --client-id <app> --scope api://tvs/.default
  tvs login --dev --sub alice --group demo-users          (the local service's development identity provider)
  tvs stores
  eval "$(tvs creds demo-s3 --path users/alice/ --access write)"
  tvs exec demo-s3 --access read -- aws s3 ls s3://demo/
  tvs url demo-azure users/alice/hello.txt --method PUT

exit status: 0 done, 1 refused or failed, 2 bad arguments, 3 not signed in ('tvs login'),
4 the service or the identity provider could not be reached; tvs exec: the command's own.
"""


def _global_options(parser: argparse.ArgumentParser, suppress: bool) -> None:
    d = (lambda value: argparse.SUPPRESS) if suppress else (lambda value: value)
    g = parser.add_argument_group("common options")
    g.add_argument("--profile", default=d(None), help="profile name (default: $TVS_PROFILE or 'default')")
    g.add_argument("--service", default=d(None), metavar="URL",
                   help="the service's base URL (default: the profile's, else $TVS_URL, else http://127.0.0.1:7071)")
    g.add_argument("--ca-file", default=d(None), metavar="FILE", help="CA bundle for a service or provider on a private CA")
    g.add_argument("--timeout", type=float, default=d(30.0), metavar="S", help="seconds to wait for an answer (30)")
    g.add_argument("-v", "--verbose", action="count", default=d(0), help="log what happens on stderr (never a token)")


def _credential_options(p: argparse.ArgumentParser, ttl_default: int | None, ttl_help: str) -> None:
    p.add_argument("store", metavar="STORE", help="a store id (see 'tvs stores')")
    p.add_argument("--path", default="", metavar="P",
                   help="a prefix ending in '/' or one object (default: the whole store)")
    p.add_argument("--access", default="read", choices=LEVELS, help="access level (default: read)")
    p.add_argument("--ttl", type=int, default=ttl_default, metavar="S", help=ttl_help)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tvs", description="Short-lived object-storage credentials from the token "
                                     "vending service.", epilog=EPILOG,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"tvs-client {__version__}")
    _global_options(parser, suppress=False)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    def command(name: str, help_: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_, description=help_)
        _global_options(p, suppress=True)
        return p

    p = command("login", "sign in (device code, browser with PKCE, or the local development identity provider)")
    p.add_argument("--issuer", "--authority", dest="issuer", metavar="URL",
                   help="the identity provider (its /.well-known/openid-configuration is read)")
    p.add_argument("--client-id", metavar="ID", help="the public client (application) id registered for tvs")
    p.add_argument("--scope", action="append", metavar="SCOPE",
                   help="a scope to ask for (repeatable; default: openid, plus offline_access where offered)")
    p.add_argument("--flow", choices=("auto", "device", "code"), default="auto",
                   help="auto: the device code where the provider offers it, else the browser")
    p.add_argument("--redirect-port", type=int, metavar="N",
                   help="port of the browser flow's http://127.0.0.1:N/callback (default: a free one)")
    p.add_argument("--redirect-host", choices=("127.0.0.1", "localhost"),
                   help="host of the browser flow's redirect URI (Cognito accepts plain http only for localhost)")
    p.add_argument("--no-browser", action="store_true", help="print the sign-in address without opening a browser")
    p.add_argument("--dev", action="store_true", help="use the local service's development identity provider")
    p.add_argument("--sub", help="--dev: the subject to sign in as")
    p.add_argument("--group", action="append", metavar="GROUP", help="--dev: a group of the token (repeatable)")
    p.set_defaults(handler=cmd_login)

    p = command("logout", "forget the profile's sign-in (and revoke its refresh token where the provider can)")
    p.set_defaults(handler=cmd_logout)

    p = command("status", "show the profile and whether it is signed in (exit 3 when not)")
    p.set_defaults(handler=cmd_status)

    p = command("stores", "the stores, prefixes and access levels you may ask for")
    p.add_argument("--json", action="store_true", help="print the service's answer")
    p.set_defaults(handler=cmd_stores)

    p = command("creds", "a credential for a store, as shell variables or JSON")
    _credential_options(p, None, "lifetime in seconds (default: the store's; clamped to what your grant allows; "
                                 "credential_process: 3600)")
    p.add_argument("--format", default="env", choices=("env", "json", "credential_process", "iceberg"),
                   help="env: 'export' lines for eval; json: the service's answer (default: env)")
    p.set_defaults(handler=cmd_creds)

    p = command("url", "a signed URL for one object")
    p.add_argument("store", metavar="STORE")
    p.add_argument("object", metavar="OBJECT", help="the object's name, e.g. users/alice/report.csv")
    p.add_argument("--method", default="GET", type=str.upper, choices=("GET", "PUT", "DELETE"))
    p.add_argument("--ttl", type=int, metavar="S", help="lifetime in seconds (clamped by the service)")
    p.add_argument("--content-type", metavar="T", help="PUT: the Content-Type the upload must send")
    p.add_argument("--json", action="store_true", help="print the service's answer")
    p.set_defaults(handler=cmd_url)

    p = command("keys", "your revocable credentials (VAST key pairs)")
    p.add_argument("--json", action="store_true", help="print them as JSON")
    p.set_defaults(handler=cmd_keys)

    p = command("revoke", "revoke credentials by id (see 'tvs keys')")
    p.add_argument("ids", nargs="+", metavar="ID")
    p.set_defaults(handler=cmd_revoke)

    p = command("credential-process", "print AWS credential_process JSON (for a profile in ~/.aws/config)")
    _credential_options(p, shapes.AWS_DEFAULT_TTL_SECONDS,
                        "lifetime in seconds (default 3600: AWS SDKs refresh 15 minutes before expiry)")
    p.add_argument("--no-cache", action="store_true",
                   help="always ask the service (by default an answer is reused until half its life has passed)")
    p.set_defaults(handler=cmd_credential_process)

    p = command("exec", "run a command with a credential in its environment: tvs exec STORE [options] -- CMD ARGS...")
    _credential_options(p, shapes.AWS_DEFAULT_TTL_SECONDS, "lifetime in seconds (default 3600, clamped by the service)")
    p.add_argument("--refresh", action="store_true",
                   help="also write credential files that are renewed before expiry (AWS_SHARED_CREDENTIALS_FILE, "
                        "TVS_CREDENTIALS_FILE) for long runs; see the README for which tools re-read them")
    p.add_argument("--keep", action="store_true", help="do not revoke revocable credentials (VAST keys) at the end")
    p.set_defaults(handler=cmd_exec)
    return parser


# -- helpers ----------------------------------------------------------------------------------------
def _opt(args, name, default=None):
    return getattr(args, name, default)


def _profile(args) -> Profile:
    return load_profile(_opt(args, "profile"))


def _client(args) -> Client:
    from .tokens import SignIn

    profile = _profile(args)
    timeout = _opt(args, "timeout", 30.0)
    return Client(profile.service_url(_opt(args, "service")), SignIn(profile, timeout=min(timeout, 30.0)),
                  timeout=timeout, ca_file=_opt(args, "ca_file") or profile.ca_file, profile=profile.name)


def _when(epoch: float | None) -> str:
    if epoch is None:
        return "an unknown time"
    return datetime.fromtimestamp(epoch, timezone.utc).strftime("%Y-%m-%d %H:%M:%SZ")


def _table(rows: list[list[str]], headers: list[str]) -> str:
    widths = [max(len(str(r[i])) for r in rows + [headers]) for i in range(len(headers))]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths)).rstrip()]
    lines += ["  ".join(str(c).ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows]
    return "\n".join(lines) + "\n"


# -- commands ---------------------------------------------------------------------------------------
def cmd_login(args) -> int:
    from . import _http, oidc
    from .tokens import SignIn, TokenSet, token_subject

    import time

    profile = _profile(args)
    profile.service = _http.check_url(profile.service_url(_opt(args, "service")), "the service URL")
    if _opt(args, "ca_file"):
        profile.ca_file = args.ca_file
    timeout = min(_opt(args, "timeout", 30.0), 30.0)
    if args.dev:
        sub = args.sub or profile.dev_sub
        if not sub:
            raise UsageError("tvs login --dev needs --sub SUBJECT (and --group GROUP for each group)")
        groups = args.group if args.group is not None else (profile.dev_groups if sub == profile.dev_sub else [])
        answer = oidc.dev_token(profile.service, sub, groups, timeout=timeout, ca_file=profile.ca_file)
        profile.flow, profile.dev_sub, profile.dev_groups = "dev", sub, list(groups)
        profile.token_endpoint = profile.revocation_endpoint = None
    else:
        if args.sub or args.group:
            raise UsageError("--sub and --group go with --dev")
        profile.issuer = args.issuer or profile.issuer
        profile.client_id = args.client_id or profile.client_id
        if not profile.issuer or not profile.client_id:
            raise UsageError("tvs login needs --issuer and --client-id the first time (or --dev for the local "
                             "service's development identity provider)")
        if args.redirect_port is not None:
            profile.redirect_port = args.redirect_port
        if args.redirect_host is not None:
            profile.redirect_host = args.redirect_host
        discovery = oidc.discover(profile.issuer, timeout=timeout, ca_file=profile.ca_file)
        scopes = oidc.requested_scopes(discovery, args.scope or profile.scopes)
        flow = args.flow
        if flow == "auto":
            flow = "device" if isinstance(discovery.get("device_authorization_endpoint"), str) else "code"
        if flow == "device":
            if not isinstance(discovery.get("device_authorization_endpoint"), str):
                raise UsageError("this identity provider offers no device authorization endpoint; use --flow code")
            answer = oidc.device_flow(discovery, profile.client_id, scopes, timeout=timeout, ca_file=profile.ca_file)
        else:
            import webbrowser

            answer = oidc.code_flow(discovery, profile.client_id, scopes, redirect_port=profile.redirect_port,
                                    redirect_host=profile.redirect_host or "127.0.0.1",
                                    open_browser=None if args.no_browser else webbrowser.open, timeout=timeout,
                                    ca_file=profile.ca_file)
        profile.flow, profile.scopes = flow, scopes
        profile.token_endpoint = discovery["token_endpoint"]
        profile.revocation_endpoint = discovery.get("revocation_endpoint")
    from .credcache import CredentialCache

    sign_in = SignIn(profile)
    tokens = TokenSet.from_response(answer, time.time())
    sign_in.save(tokens)
    CredentialCache(profile.name).clear()  # credentials of an earlier sign-in are not handed to this one
    save_profile(profile)
    who = token_subject(tokens.access_token)
    where = "the OS keyring" if sign_in.store.kind == "keyring" else "a private file"
    renew = "renewed silently with a refresh token" if tokens.refresh_token else "sign in again then"
    print(f"Signed in to {profile.service} (profile {profile.name})" + (f" as {who}" if who else "") +
          f"; the sign-in is kept in {where} and expires at {_when(tokens.expires_at)} ({renew}).", file=sys.stderr)
    return _check_sign_in(profile, sign_in, timeout)


def _check_sign_in(profile: Profile, sign_in, timeout: float) -> int:
    """Ask the service once whether it accepts the new token (a wrong audience or scope shows here)."""
    from .errors import NotSignedIn, Unreachable

    try:
        stores = Client(profile.service, sign_in, timeout=timeout, ca_file=profile.ca_file, profile=profile.name).stores()
    except NotSignedIn as exc:
        print(f"tvs: the identity provider signed you in, but the service does not accept the token "
              f"({exc.reason.split('(', 1)[-1].rstrip(')')}); check --client-id and --scope (the token's audience)",
              file=sys.stderr)
        return 1
    except (Unreachable, ApiRefusal) as exc:
        print(f"tvs: signed in, but could not check it with the service: {exc}", file=sys.stderr)
        return 0
    print(f"The service accepts it: {len(stores)} store(s) you may ask for ('tvs stores').", file=sys.stderr)
    return 0


def cmd_logout(args) -> int:
    from . import oidc
    from .tokens import SignIn

    profile = _profile(args)
    sign_in = SignIn(profile)
    tokens = sign_in.tokens()
    if tokens is not None and tokens.refresh_token and profile.revocation_endpoint and profile.client_id:
        oidc.revoke(profile.revocation_endpoint, profile.client_id, tokens.refresh_token, ca_file=profile.ca_file)
    from .credcache import CredentialCache

    forgotten = sign_in.forget()
    CredentialCache(profile.name).clear()
    print(f"Signed out (profile {profile.name})." if forgotten else f"Not signed in (profile {profile.name}).",
          file=sys.stderr)
    return 0


def cmd_status(args) -> int:
    import time

    from .tokens import SignIn, token_subject

    profile = _profile(args)
    sign_in = SignIn(profile)
    tokens = sign_in.tokens()
    print(f"profile:  {profile.name}")
    print(f"service:  {profile.service_url(_opt(args, 'service'))}")
    if profile.flow == "dev":
        print(f"sign-in:  development identity provider ({profile.dev_sub}, groups {', '.join(profile.dev_groups) or '-'})")
    elif profile.issuer:
        print(f"sign-in:  {profile.issuer} (client {profile.client_id}, {profile.flow} flow)")
    if tokens is None:
        print("status:   not signed in; run 'tvs login'")
        return EXIT_SIGN_IN
    who = token_subject(tokens.access_token)
    state = "valid" if tokens.fresh(time.time(), margin=0) else "expired"
    refresh = ", refreshed silently" if tokens.refresh_token else ""
    print(f"status:   signed in{' as ' + who if who else ''}; token {state} until {_when(tokens.expires_at)}{refresh} "
          f"(kept in {'the OS keyring' if sign_in.store.kind == 'keyring' else 'a private file'})")
    if state == "expired" and not tokens.refresh_token:
        print("          the sign-in has expired; run 'tvs login'")
        return EXIT_SIGN_IN
    return 0


def cmd_stores(args) -> int:
    stores = _client(args).stores()
    if args.json:
        print(json.dumps({"stores": stores}, indent=2))
        return 0
    rows = [[s.get("store", ""), s.get("kind", ""), g.get("prefix") or "(whole store)", g.get("access", ""),
             str(g.get("max_ttl_seconds", ""))] for s in stores for g in s.get("grants") or [{}]]
    if not rows:
        print("You may not ask for anything on this service.", file=sys.stderr)
        return 0
    sys.stdout.write(_table(rows, ["STORE", "KIND", "PREFIX", "ACCESS", "MAX_TTL_S"]))
    return 0


def cmd_creds(args) -> int:
    fmt = args.format
    ttl = args.ttl
    if fmt == "credential_process" and ttl is None:
        ttl = shapes.AWS_DEFAULT_TTL_SECONDS
    shapes.check_request(args.store, args.path, args.access, ttl)
    api_format = "native" if fmt in ("env", "json") else fmt
    answer = _client(args).credential(args.store, args.path, args.access, ttl, api_format)
    if fmt == "env":
        sys.stdout.write(shapes.env_lines(answer))
    elif fmt == "credential_process":
        print(json.dumps(shapes.credential_process_doc(answer)))
    else:
        print(json.dumps(answer, indent=2))
    return 0


def cmd_url(args) -> int:
    shapes.check_path(args.object, "OBJECT")
    if not args.object or args.object.endswith("/"):
        raise UsageError("OBJECT names one object (not empty, not ending with '/')")
    if args.ttl is not None:
        shapes.check_request(args.store, "", "read", args.ttl)
    answer = _client(args).signed_url(args.store, args.object, args.method, args.ttl, args.content_type)
    if args.json:
        print(json.dumps(answer, indent=2))
        return 0
    print(answer["url"])
    headers = answer.get("headers") or {}
    if headers:
        print("send with the headers: " + " ".join(f"-H '{k}: {v}'" for k, v in headers.items()), file=sys.stderr)
    print(f"expires at {answer.get('expires_at')}", file=sys.stderr)
    return 0


def cmd_keys(args) -> int:
    try:
        keys = _client(args).keys()
    except ApiRefusal as exc:
        if exc.status in (404, 405):
            raise TvsError(f"this service does not list credentials (GET /api/v1/credentials answered {exc.status}); "
                           "'tvs revoke ID' still works with the credential_id of a vend") from None
        raise
    if args.json:
        print(json.dumps({"credentials": keys}, indent=2))
        return 0
    if not keys:
        print("You hold no revocable credentials.", file=sys.stderr)
        return 0
    rows = [[k.get("credential_id", ""), k.get("store", ""), k.get("access_key_id", ""), k.get("state", ""),
             k.get("expires_at", "")] for k in keys]
    sys.stdout.write(_table(rows, ["CREDENTIAL_ID", "STORE", "ACCESS_KEY_ID", "STATE", "EXPIRES_AT"]))
    return 0


def cmd_revoke(args) -> int:
    client = _client(args)
    for cid in args.ids:
        client.revoke(cid)
        print(f"revoked {cid}", file=sys.stderr)
    return 0


def cmd_credential_process(args) -> int:
    from .credcache import CredentialCache

    shapes.check_request(args.store, args.path, args.access, args.ttl)
    client = _client(args)
    cache = CredentialCache(client.profile)
    key = cache.key(client.service, args.store, args.path, args.access, args.ttl)
    doc = None if args.no_cache else cache.get(key)
    if doc is None:
        answer, expires_at = client.credential_with_expiry(args.store, args.path, args.access, args.ttl,
                                                           "credential_process")
        doc = shapes.credential_process_doc(answer)
        if not args.no_cache:
            cache.put(key, doc, expires_at)
    print(json.dumps(doc))
    return 0


def cmd_exec(args) -> int:
    from . import execrun

    shapes.check_request(args.store, args.path, args.access, args.ttl)
    if not args.cmd:
        raise UsageError("tvs exec needs a command: tvs exec STORE [options] -- CMD ARGS...")
    return execrun.run(_client(args), args.store, args.cmd, path=args.path, access=args.access, ttl=args.ttl,
                       refresh=args.refresh, keep=args.keep)


# -- entry point ------------------------------------------------------------------------------------
def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    cmd: list[str] = []
    if "exec" in argv and "--" in argv[argv.index("exec"):]:
        cut = argv.index("--", argv.index("exec"))
        argv, cmd = argv[:cut], argv[cut + 1:]
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if extra:
        if args.command == "exec":
            parser.error("put the command after '--': tvs exec STORE [options] -- CMD ARGS...")
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    args.cmd = cmd
    if _opt(args, "verbose", 0):
        logging.basicConfig(level=logging.DEBUG if args.verbose > 1 else logging.INFO,
                            format="tvs: %(name)s: %(message)s", stream=sys.stderr)
    try:
        return args.handler(args)
    except TvsError as exc:
        print(f"tvs: {exc}", file=sys.stderr)
        return exc.exit_status
    except KeyboardInterrupt:
        print("tvs: interrupted", file=sys.stderr)
        return 130
    except OSError as exc:  # a configuration or token file that cannot be written, a closed pipe
        print(f"tvs: {exc.strerror or type(exc).__name__}" + (f": {exc.filename}" if exc.filename else ""),
              file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
