"""tvs login: the device grant, the code flow with PKCE, the development identity provider."""
from __future__ import annotations

import json
import logging
import threading
import urllib.request
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit


from tvs_client import oidc
from tvs_client.tokens import FileTokenStore


def browser(rewrite_state=None):
    """A stand-in for webbrowser.open: follows the authorization URL (and its redirect to the
    loopback callback) from another thread, as a browser would."""
    def open_(url):
        def go():
            if rewrite_state is None:
                urllib.request.urlopen(url, timeout=10).read()
                return
            # let the provider answer, then deliver its redirect with another state
            class NoFollow(urllib.request.HTTPRedirectHandler):
                def redirect_request(self, *a, **k):
                    return None
            try:
                urllib.request.build_opener(NoFollow).open(url, timeout=10)
            except urllib.error.HTTPError as exc:
                location = urlsplit(exc.headers["Location"])
                query = {k: v[0] for k, v in parse_qs(location.query).items()}
                query["state"] = rewrite_state
                try:
                    urllib.request.urlopen(urlunsplit(location._replace(query=urlencode(query))), timeout=10).read()
                except urllib.error.HTTPError:
                    pass
        threading.Thread(target=go, daemon=True).start()
        return True
    return open_


def test_device_flow_polls_through_authorization_pending_then_saves_the_sign_in(tvs, service, idp):
    run = tvs("login", "--service", service.url, "--issuer", idp.url, "--client-id", "tvs-cli")
    assert run.status == 0, run.err
    assert len(idp.seen("POST", "/token")) == 3  # pending, pending, tokens
    assert tvs("stores").status == 0


def test_device_flow_tells_where_to_enter_which_code(tvs, service, idp):
    run = tvs("login", "--service", service.url, "--issuer", idp.url, "--client-id", "tvs-cli")
    assert f"{idp.url}/activate" in run.err and "WDJB-MJHT" in run.err


def test_device_flow_waits_five_seconds_longer_after_slow_down(service, idp):
    idp.slow_down_polls = 1
    waits = []
    oidc.device_flow(idp.discovery(), "tvs-cli", ["openid"], sleep=waits.append, out=open("/dev/null", "w"))
    assert waits == [0, 5, 5, 5]  # interval 0, then 5 s longer for every later poll


def test_a_declined_device_sign_in_fails_and_saves_nothing(tvs, service, idp):
    idp.deny = True
    run = tvs("login", "--service", service.url, "--issuer", idp.url, "--client-id", "tvs-cli")
    assert run.status == 1 and "declined" in run.err
    assert FileTokenStore().load("default") is None


def test_offline_access_is_asked_for_where_the_provider_offers_it(tvs, service, idp):
    tvs("login", "--service", service.url, "--issuer", idp.url, "--client-id", "tvs-cli", "--scope", "api://tvs/use")
    assert idp.seen("POST", "/device")[0].form()["scope"].split() == ["api://tvs/use", "offline_access"]


def test_offline_access_is_not_asked_for_where_the_provider_does_not_know_it():
    assert oidc.requested_scopes({"scopes_supported": ["openid", "email"]}, []) == ["openid"]


def test_the_code_flow_with_pkce_is_used_when_there_is_no_device_endpoint(tvs, service, idp, monkeypatch):
    idp.device = False
    monkeypatch.setattr("webbrowser.open", browser())
    run = tvs("login", "--service", service.url, "--issuer", idp.url, "--client-id", "tvs-cli")
    assert run.status == 0, run.err
    asked = idp.authorize_params[0]
    assert asked["code_challenge_method"] == "S256"
    assert asked["redirect_uri"].startswith("http://127.0.0.1:") and asked["redirect_uri"].endswith("/callback")
    assert tvs("stores").status == 0  # the fake's token endpoint checked the code_verifier against the challenge


def test_the_code_flow_prints_the_address_to_open(tvs, service, idp, monkeypatch):
    idp.device = False
    monkeypatch.setattr("webbrowser.open", browser())
    run = tvs("login", "--service", service.url, "--issuer", idp.url, "--client-id", "tvs-cli")
    assert f"{idp.url}/authorize?" in run.err


def test_the_code_flow_refuses_an_answer_with_another_state(tvs, service, idp, monkeypatch):
    idp.device = False
    monkeypatch.setattr("webbrowser.open", browser(rewrite_state="forged"))
    run = tvs("login", "--service", service.url, "--issuer", idp.url, "--client-id", "tvs-cli")
    assert run.status == 1 and "state" in run.err
    assert idp.seen("POST", "/token") == []  # the code was never exchanged


def test_dev_login_posts_the_subject_and_groups_to_the_development_identity_provider(tvs, service):
    run = tvs("login", "--dev", "--sub", "alice", "--group", "demo-users", "--group", "demo-admins",
              "--service", service.url)
    assert run.status == 0, run.err
    assert service.seen("POST", "/dev-idp/token")[0].json() == {"sub": "alice", "groups": ["demo-users", "demo-admins"]}
    assert "as alice" in run.err


def test_dev_login_on_a_service_without_the_development_provider_says_so(tvs, service):
    service.overrides[("POST", "/dev-idp/token")] = (404, {"title": "Not found"}, {})
    run = tvs("login", "--dev", "--sub", "alice", "--service", service.url)
    assert run.status == 1 and "only a local service" in run.err


def test_login_saves_the_profile_in_the_configuration_directory(tvs, service, idp, config_dir):
    tvs("login", "--profile", "work", "--service", service.url, "--issuer", idp.url, "--client-id", "tvs-cli")
    saved = json.loads((config_dir / "config.json").read_text())["profiles"]["work"]
    assert saved["service"] == service.url and saved["issuer"] == idp.url and saved["client_id"] == "tvs-cli"
    assert saved["token_endpoint"] == f"{idp.url}/token" and saved["flow"] == "device"


def test_login_without_an_issuer_says_what_it_needs(tvs, service):
    run = tvs("login", "--service", service.url)
    assert run.status == 2 and "--issuer and --client-id" in run.err


def test_a_second_login_reuses_the_saved_issuer_and_client(tvs, service, idp):
    tvs("login", "--service", service.url, "--issuer", idp.url, "--client-id", "tvs-cli")
    run = tvs("login")
    assert run.status == 0, run.err
    assert len(idp.seen("POST", "/device")) == 2


def test_no_token_is_ever_printed_or_logged(tvs, service, idp, caplog, monkeypatch):
    caplog.set_level(logging.DEBUG)
    outputs = [tvs("-vv", "login", "--service", service.url, "--issuer", idp.url, "--client-id", "tvs-cli")]
    saved = FileTokenStore().load("default")
    saved.expires_at = 0  # make the next command refresh
    FileTokenStore().save("default", saved)
    outputs += [tvs("-vv", "stores"), tvs("-vv", "status"), tvs("-vv", "creds", "demo-s3"), tvs("-vv", "logout")]
    idp.device = False
    monkeypatch.setattr("webbrowser.open", browser())
    outputs.append(tvs("-vv", "login"))
    secrets = service.tokens | set(idp.refresh_tokens) | set(idp.revoked)
    assert len(secrets) >= 4  # device login, refresh, code-flow login
    text = "\n".join([r.out + r.err for r in outputs] + [caplog.text])
    for secret in secrets:
        assert secret not in text


def test_the_code_flow_can_name_its_listener_localhost_with_a_fixed_port(tvs, service, idp, monkeypatch):
    import socket

    idp.device = False
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setattr("webbrowser.open", browser())
    run = tvs("login", "--service", service.url, "--issuer", idp.url, "--client-id", "tvs-cli",
              "--redirect-host", "localhost", "--redirect-port", str(port))
    assert run.status == 0, run.err
    assert idp.authorize_params[0]["redirect_uri"] == f"http://localhost:{port}/callback"


def test_login_says_when_the_service_does_not_accept_the_new_token(tvs, service, idp, monkeypatch):
    monkeypatch.setattr(service, "tokens", type("Nothing", (set,), {"add": lambda self, item: None})())
    run = tvs("login", "--service", service.url, "--issuer", idp.url, "--client-id", "wrong-app")
    assert run.status == 1 and "does not accept the token" in run.err and "--scope" in run.err


def test_login_checks_the_new_token_with_the_service(tvs, service, idp):
    run = tvs("login", "--service", service.url, "--issuer", idp.url, "--client-id", "tvs-cli")
    assert "The service accepts it: 3 store(s)" in run.err
