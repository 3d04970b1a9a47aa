"""Every screen of the self-service page passes axe-core's WCAG 2.1 A/AA and best-practice rules with no
serious or critical violation (contrast, labels, names, landmarks, focusable dialogs...). axe-core
ships from npm (localdev/node) and is injected by the test; the page itself never loads it."""

from __future__ import annotations

import pytest

from tests.ui.pageflow import ask, axe_violations, open_section, sign_in

pytestmark = pytest.mark.emulator


def _sign_in_screen(page, site):
    page.goto(site.page)
    page.get_by_role("button", name="Sign in").wait_for()


def _identity_provider_form(page, site):
    _sign_in_screen(page, site)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_label("User name").wait_for()


def _what_i_can_use(page, site):
    sign_in(page, site)


def _get_access_form(page, site):
    sign_in(page, site)
    open_section(page, "Get access")


def _a_credential(page, site):
    sign_in(page, site)
    ask(page, "demo-s3", path="users/alice/", access="write")
    page.get_by_role("heading", name="Access granted").wait_for()


def _a_refusal(page, site):
    sign_in(page, site)
    ask(page, "demo-s3", path="users/bob/", access="write")
    page.locator("#access-alert p").first.wait_for()


def _my_keys(page, site):
    sign_in(page, site)
    ask(page, "demo-vast", access="read")
    page.get_by_role("heading", name="Access granted").wait_for()
    open_section(page, "My keys")
    page.locator("#keys-table").wait_for()


def _revoke_confirmation(page, site):
    _my_keys(page, site)
    page.locator("#keys-table").get_by_role("button", name="Revoke").first.click()
    page.get_by_role("dialog").wait_for()


def _administrators_keys(page, site):
    sign_in(page, site, "root", ("demo-admins",))
    open_section(page, "My keys")
    page.get_by_label("Everyone's").check()
    page.get_by_role("button", name="Show keys").click()
    page.locator("#keys-list:not([aria-busy])").wait_for(state="attached")


def _session_expired(page, site):
    sign_in(page, site, lifetime=2)
    page.get_by_text("Your session has expired").wait_for(timeout=10_000)


SCREENS = {
    "sign-in": _sign_in_screen,
    "identity provider form": _identity_provider_form,
    "what I can use": _what_i_can_use,
    "get access form": _get_access_form,
    "a credential": _a_credential,
    "a refusal": _a_refusal,
    "my keys": _my_keys,
    "revoke confirmation": _revoke_confirmation,
    "administrator's keys": _administrators_keys,
    "session expired": _session_expired,
}


@pytest.mark.parametrize("screen", SCREENS)
def test_the_screen_has_no_serious_or_critical_accessibility_violation(page, site, screen):
    SCREENS[screen](page, site)
    assert axe_violations(page) == []


@pytest.mark.parametrize("screen", ["what I can use", "a credential", "my keys"])
def test_the_screen_on_a_phone_has_no_serious_or_critical_accessibility_violation(browser, site, screen):
    phone = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    page = phone.new_page()
    try:
        SCREENS[screen](page, site)
        assert axe_violations(page) == []
    finally:
        phone.close()


def test_the_checker_reports_a_violation_when_there_is_one(page, site):
    _sign_in_screen(page, site)
    page.evaluate("() => document.getElementById('sign-in').setAttribute('aria-label', '')")
    page.evaluate("() => { document.getElementById('sign-in').textContent = ''; }")
    assert [v["id"] for v in axe_violations(page)] == ["button-name"]
