"""The self-service page end to end in headless Chromium, against the local service started by the
tests (the embedded default on Azurite, moto server and the VMS simulator; the development identity
provider's sign-in form). Every file, upload and key is real: what the page shows is then checked
against the emulators or the API."""

from __future__ import annotations

import json
import uuid
from urllib.parse import urlsplit

import pytest
import requests

from tests.ui.conftest import OFFLINE_STORE
from tests.ui.gateway import Gateway
from tests.ui.pageflow import alert_text, ask, open_section, screenshot, sign_in, snippet

pytestmark = pytest.mark.emulator


def api_token(site, sub, groups):
    return site.idp.mint(sub, list(groups))["access_token"]


def api(site, method, path, token, **kw):
    return requests.request(
        method, f"{site.url}/api/v1/{path}", headers={"Authorization": f"Bearer {token}"}, timeout=30, **kw
    )


def live_keys(site, token, **query):
    return api(site, "GET", "credentials", token, params=query).json()["credentials"]


def test_a_demo_user_signs_in_through_the_development_identity_provider_and_sees_the_stores_granted(page, site):
    page.goto(site.page)
    screenshot(page, "sign-in", full_page=False)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/dev-idp/authorize?**")
    screenshot(page, "dev-identity-provider", full_page=False)
    page.get_by_label("User name").fill("alice")
    page.get_by_role("button", name="Sign in").click()
    page.get_by_text("Signed in as alice").wait_for()
    page.locator("#stores-list:not([aria-busy])").wait_for(state="attached")
    cards = {
        card.get_by_role("heading", level=2).inner_text(): card.locator("tbody tr").all_inner_texts()
        for card in page.locator("article.card").all()
    }
    assert set(cards) == {"demo-azure", "demo-s3", "demo-vast", OFFLINE_STORE}
    assert any("users/alice/" in row and "write" in row for row in cards["demo-s3"])
    screenshot(page, "what-i-can-use")


def test_signing_in_leaves_no_token_in_storage_cookies_or_the_address_bar(page, site, context):
    sign_in(page, site)
    stored = page.evaluate("() => [localStorage.length, sessionStorage.length, document.cookie]")
    assert stored == [0, 0, ""] and context.cookies() == []
    assert "code=" not in page.url and urlsplit(page.url).path == "/api/ui/index.html"


def test_a_file_uploaded_through_a_signed_url_is_read_back_with_the_sas_the_page_hands_out(page, site, tmp_path):
    sign_in(page, site)
    name = f"upload-{uuid.uuid4().hex[:8]}.txt"
    (tmp_path / name).write_text("hello from the page")
    ask(page, "demo-azure", need="upload", path="users/alice/", file=str(tmp_path / name))
    page.get_by_role("heading", name=f"Uploaded {name}").wait_for()
    screenshot(page, "upload")
    ask(page, "demo-azure", path="", access="read")
    page.get_by_role("heading", name="Access granted").wait_for()
    sas_url = snippet(page, "SAS URL")
    container, _, sas = sas_url.partition("?")
    blob = requests.get(f"{container}/users/alice/{name}?{sas}", verify=str(site.azurite.ca), timeout=10)
    assert blob.text == "hello from the page"
    screenshot(page, "get-access-azure")


def test_a_file_is_downloaded_to_the_browser_through_a_signed_url(page, site, tmp_path):
    sign_in(page, site)
    name = f"round-trip-{uuid.uuid4().hex[:8]}.csv"
    (tmp_path / name).write_text("a,b\n1,2\n")
    ask(page, "demo-s3", need="upload", path="users/alice/", file=str(tmp_path / name))
    page.get_by_role("heading", name=f"Uploaded {name}").wait_for()
    with page.expect_download() as started:
        ask(page, "demo-s3", need="download", path=f"users/alice/{name}")
    saved = tmp_path / "downloaded.csv"
    started.value.save_as(saved)
    assert (started.value.suggested_filename, saved.read_text()) == (name, "a,b\n1,2\n")


def test_an_s3_credential_comes_with_environment_variables_that_work_and_a_credential_process_profile(page, site):
    import boto3

    sign_in(page, site)
    ask(page, "demo-s3", path="users/alice/", access="write")
    page.get_by_role("heading", name="Access granted").wait_for()
    env = dict(
        line.removeprefix("export ").split("=", 1)
        for line in snippet(page, "AWS CLI (environment variables)").splitlines()
        if line.startswith("export ")
    )
    env = {k: v.strip("'") for k, v in env.items()}
    s3 = boto3.client(
        "s3",
        endpoint_url=site.moto.url,
        region_name=env["AWS_DEFAULT_REGION"],
        aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
        aws_session_token=env["AWS_SESSION_TOKEN"],
    )
    s3.put_object(Bucket="demo", Key="users/alice/from-env.txt", Body=b"x")
    profile = snippet(page, "AWS CLI profile with credential_process")
    assert f"--url {site.url} --store demo-s3 --path users/alice/ --access write" in profile
    assert '"key":' in snippet(page, "Python (fsspec with s3fs)")
    screenshot(page, "get-access-s3")


def test_the_iceberg_properties_are_offered_as_lines_to_paste(page, site):
    sign_in(page, site)
    ask(page, "demo-s3", path="users/alice/", access="read", show_as="iceberg")
    page.get_by_role("heading", name="Access granted").wait_for()
    lines = snippet(page, "Iceberg properties for s3://demo/users/alice/").splitlines()
    assert {line.split("=", 1)[0] for line in lines} >= {
        "s3.access-key-id",
        "s3.secret-access-key",
        "s3.session-token",
    }


def test_an_azure_credential_comes_with_azcopy_azure_cli_and_fsspec_snippets(page, site):
    sign_in(page, site)
    ask(page, "demo-azure", path="", access="read")
    page.get_by_role("heading", name="Access granted").wait_for()
    assert snippet(page, "azcopy").startswith("azcopy list '")
    assert "--sas-token '" in snippet(page, "Azure CLI")
    assert '"sas_token":' in snippet(page, "Python (fsspec with adlfs)")


def test_the_expiry_countdown_runs_down_live(page, site):
    sign_in(page, site)
    ask(page, "demo-azure", path="", access="read")
    timer = page.get_by_role("timer").first
    first = timer.inner_text()
    page.wait_for_function("t => document.querySelector('[role=timer]').textContent !== t", arg=first)
    assert first.startswith("expires in ") and timer.inner_text() != first


def test_a_copy_button_puts_the_snippet_on_the_clipboard(page, site):
    sign_in(page, site)
    ask(page, "demo-azure", path="", access="read")
    page.get_by_role("heading", name="Access granted").wait_for()
    figure = page.locator("figure.snippet").filter(has=page.locator("figcaption", has_text="SAS URL"))
    figure.get_by_role("button", name="Copy").click()
    page.get_by_role("status").filter(has_text="Copied").wait_for()
    assert page.evaluate("() => navigator.clipboard.readText()") == snippet(page, "SAS URL")


def test_a_prefix_outside_the_grant_is_refused_with_the_reason_the_api_gave(page, site):
    sign_in(page, site)
    ask(page, "demo-s3", path="users/bob/", access="write")
    text = alert_text(page, "access")
    assert text.startswith("Not allowed: you are not granted 'write' on store 'demo-s3' at 'users/bob/'")
    assert "Reference for support: " in text and page.locator("#status").inner_text() == ""
    screenshot(page, "refused")


def test_a_store_whose_storage_is_down_is_reported_in_plain_words(page, site):
    sign_in(page, site)
    ask(page, OFFLINE_STORE, path="", access="read")
    text = alert_text(page, "access")
    assert text.startswith(f"Store {OFFLINE_STORE} is not answering right now:") and "Try again in" in text


def test_a_vast_key_shows_under_my_keys_and_is_gone_once_revoked(page, site):
    sign_in(page, site, "bob")
    ask(page, "demo-vast", path="", access="read")
    page.get_by_role("heading", name="Access granted").wait_for()
    credential = page.locator(".summary dd code").first.inner_text()
    open_section(page, "My keys")
    row = page.locator(f'tr[data-credential="{credential}"]')
    row.wait_for()
    assert "active" in row.inner_text()
    screenshot(page, "my-keys")
    row.get_by_role("button", name="Revoke").click()
    dialog = page.get_by_role("dialog", name="Revoke this key?")
    dialog.wait_for()
    screenshot(page, "revoke-confirmation", full_page=False)
    dialog.get_by_role("button", name="Revoke").click()
    page.get_by_role("status").filter(has_text="is revoked").wait_for()
    assert row.count() == 0
    assert credential not in [k["credential_id"] for k in live_keys(site, api_token(site, "bob", ["demo-users"]))]


def test_cancelling_the_confirmation_keeps_the_key(page, site):
    token = api_token(site, "alice", ["demo-users"])
    vended = api(site, "POST", "credentials", token, json={"store": "demo-vast", "access": "read"}).json()
    sign_in(page, site)
    open_section(page, "My keys")
    row = page.locator(f'tr[data-credential="{vended["credential_id"]}"]')
    row.get_by_role("button", name="Revoke").click()
    page.get_by_role("dialog").get_by_role("button", name="Cancel").click()
    assert row.count() == 1 and row.get_by_role("button", name="Revoke").evaluate("b => b === document.activeElement")
    assert vended["credential_id"] in [k["credential_id"] for k in live_keys(site, token)]


def test_an_administrator_sees_and_revokes_another_users_key(page, site):
    bob = api_token(site, "bob", ["demo-users"])
    vended = api(site, "POST", "credentials", bob, json={"store": "demo-vast", "access": "read"}).json()
    sign_in(page, site, "root", ("demo-admins",))
    open_section(page, "My keys")
    page.get_by_label("One person's").check()
    page.get_by_label("Person", exact=True).fill("bob")
    page.get_by_role("button", name="Show keys").click()
    row = page.locator(f'tr[data-credential="{vended["credential_id"]}"]')
    row.wait_for()
    assert row.locator('td[data-label="Owner"]').inner_text().endswith("|bob")
    screenshot(page, "admin-keys")
    row.get_by_role("button", name="Revoke").click()
    page.get_by_role("dialog").get_by_role("button", name="Revoke").click()
    page.get_by_role("status").filter(has_text="is revoked").wait_for()
    assert vended["credential_id"] not in [k["credential_id"] for k in live_keys(site, bob)]


def test_a_user_who_is_not_an_administrator_is_offered_only_their_own_keys(page, site):
    sign_in(page, site)
    open_section(page, "My keys")
    assert page.locator("#keys-admin").is_hidden()


def test_an_expired_session_asks_to_sign_in_again(page, site):
    sign_in(page, site, lifetime=2)
    page.get_by_text("Your session has expired. Sign in again to continue.").wait_for(timeout=10_000)
    assert page.get_by_role("button", name="Sign in").is_visible() and page.locator("#nav").is_hidden()


def test_a_cancelled_sign_in_is_explained(page, site):
    page.goto(site.page)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("button", name="Cancel").click()
    assert alert_text(page, "signin") == "Sign-in did not complete: it was cancelled."


def test_signing_out_forgets_the_credential_on_screen(page, site):
    sign_in(page, site)
    ask(page, "demo-azure", path="", access="read")
    page.get_by_role("heading", name="Access granted").wait_for()
    page.get_by_role("button", name="Sign out").click()
    assert page.locator("#result").is_hidden() and page.locator("#result code").count() == 0


def test_the_organizations_panel_is_offered_where_the_service_lists_organizations(page, site):
    sign_in(page, site)  # the embedded default configures organization demo, and the service lists them
    assert page.locator("#nav-orgs").is_visible()


def test_the_organizations_panel_lists_organizations_when_the_service_says_it_serves_them(page, site):
    """The listing is another branch's route: the page's configuration and that route are stood in for."""

    def enabled(route):
        config = route.fetch().json()
        config["features"]["organizations"] = True
        route.fulfill(json=config)

    page.route("**/api/v1/page-config", enabled)
    page.route("**/api/v1.0/organization", lambda route: route.fulfill(json=[{"name": "acme", "displayName": "Acme"}]))
    sign_in(page, site)
    open_section(page, "Organizations")
    assert page.locator("#orgs-list").inner_text() == "Acme (acme)"


def test_the_page_requests_nothing_but_the_service_and_the_storage_and_breaks_no_policy(page, site, tmp_path):
    seen = set()
    page.on("request", lambda request: seen.add("{0.scheme}://{0.netloc}".format(urlsplit(request.url))))
    sign_in(page, site)
    (tmp_path / "policy.txt").write_text("x")
    ask(page, "demo-azure", need="upload", path="users/alice/", file=str(tmp_path / "policy.txt"))
    page.get_by_role("heading", name="Uploaded policy.txt").wait_for()
    open_section(page, "My keys")
    assert seen <= site.origins
    assert [m for m in page.console_messages if "Content Security Policy" in m or "Refused to" in m] == []


def test_the_page_works_behind_a_gateway_under_another_base_path(page, site):
    """As behind API Management or API Gateway: another origin, every route under /gateway/tvs."""
    with Gateway(site.server.port) as gateway:
        sign_in(page, site, url=f"{gateway.url}/api/ui/index.html")
        page.get_by_role("heading", name="demo-azure").wait_for()
        open_section(page, "My keys")
        assert page.url == f"{gateway.url}/api/ui/index.html"
        assert page.locator("#keys-alert").inner_text() == ""


def test_the_page_is_usable_on_a_phone_sized_screen(browser, site):
    phone = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    page = phone.new_page()
    try:
        sign_in(page, site)
        page.get_by_role("heading", name="demo-azure").wait_for()
        assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")
        screenshot(page, "phone", full_page=False)
        ask(page, "demo-azure", path="", access="read")
        page.get_by_role("heading", name="Access granted").wait_for()
        assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")
    finally:
        phone.close()


def test_the_page_can_be_used_with_the_keyboard_alone(page, site):
    sign_in(page, site)
    page.locator(".brand").click()  # where sequential focus navigation starts: the top of the page
    page.keyboard.press("Shift+Tab")
    assert page.evaluate("() => document.activeElement.textContent") == "Skip to the content"
    focused = []
    for _ in range(4):
        page.keyboard.press("Tab")
        focused.append(page.evaluate("() => document.activeElement.textContent.trim()"))
    assert focused == ["Sign out", "What I can use", "Get access", "My keys"]
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Enter")
    assert page.evaluate("() => document.activeElement.textContent") == "Get access"
    assert page.evaluate("() => document.activeElement.tagName") == "H1"


def test_an_unknown_file_of_the_page_is_a_problem_not_a_page(site):
    resp = requests.get(f"{site.url}/api/ui/secrets.txt", timeout=10)
    assert (resp.status_code, resp.headers["Content-Type"]) == (404, "application/problem+json")
    assert json.loads(resp.text)["type"].endswith("/not-found")
