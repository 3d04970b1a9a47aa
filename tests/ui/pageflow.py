"""What a person does on the self-service page, as steps the tests share: sign in through the
development identity provider's form, open a section, ask for access; and the checks every screen
gets: axe-core's accessibility rules, and screenshots for the README when asked for."""

from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
AXE = REPO / "localdev" / "node" / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = REPO / "docs" / "screenshots"
SCREENSHOTS_ENV = "TVS_SCREENSHOTS"  # set to 1 to (re)write docs/screenshots/*.png


def sign_in(page, site, sub="alice", groups=("demo-users",), *, lifetime=None, url=None, other_groups=""):
    """Open the page, press "Sign in", fill the development identity provider's form, and wait for the
    signed-in page."""
    page.goto(url or site.page)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/dev-idp/authorize?**")
    page.get_by_label("User name").fill(sub)
    for group in ("demo-users", "demo-admins"):
        box = page.get_by_label(group, exact=True)
        if (group in groups) != box.is_checked():
            box.click()
    page.get_by_label("Other groups").fill(other_groups)
    if lifetime is not None:
        page.get_by_label("Token lifetime in seconds").fill(str(lifetime))
    page.get_by_role("button", name="Sign in").click()
    page.get_by_text("Signed in as").wait_for()
    page.locator("#stores-list:not([aria-busy])").wait_for(state="attached")


def loaded(page, list_id):
    """Wait until the list ``list_id`` has finished loading."""
    page.locator(f"#{list_id}:not([aria-busy])").wait_for(state="attached")


def open_section(page, name):
    page.get_by_role("navigation", name="Sections").get_by_role("button", name=name).click()
    page.get_by_role("heading", level=1, name=name).wait_for()
    if name in ("What I can use", "My keys"):
        loaded(page, "stores-list" if name == "What I can use" else "keys-list")


def ask(page, store, *, need="credential", path="", access=None, show_as=None, file=None):
    """Fill "Get access" and submit it; returns nothing (the result or the alert shows)."""
    open_section(page, "Get access")
    page.get_by_label("Store", exact=True).select_option(store)
    page.get_by_label(
        {
            "credential": "Access for tools and scripts (a credential)",
            "upload": "Upload one file from this browser",
            "download": "Download one file to this browser",
        }[need]
    ).check()
    page.locator("#f-path").fill(path)
    if access:
        page.get_by_label("Access", exact=True).select_option(access)
    if show_as:
        page.get_by_label("Show it as").select_option(show_as)
    if file:
        page.get_by_label("File to upload").set_input_files(file)
    page.locator("#f-submit").click()


def alert_text(page, section):
    box = page.locator(f"#{section}-alert")
    box.locator("p").first.wait_for()
    return box.inner_text()


def snippet(page, title):
    """The text of the snippet captioned ``title`` in the result."""
    figure = page.locator("figure.snippet").filter(has=page.locator("figcaption", has_text=title))
    return figure.locator("code").inner_text()


def axe_violations(page, impacts=("serious", "critical")) -> list[dict]:
    """axe-core's violations of the given impacts on the page as it is now (WCAG 2.0/2.1 A and AA, best
    practices). axe is injected through the DevTools protocol, which the page's CSP does not govern."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(AXE.read_text(encoding="utf-8"))
    result = page.evaluate(
        """async () => {
            const r = await axe.run(document, {resultTypes: ["violations"],
                runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]}});
            return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.map(n => n.target.join(" "))}));
        }"""
    )
    return [v for v in result if v["impact"] in impacts]


def screenshot(page, name: str, *, full_page: bool = True) -> None:
    """docs/screenshots/<name>.png, written only when $TVS_SCREENSHOTS asks (ordinary runs leave the tree
    alone)."""
    if os.environ.get(SCREENSHOTS_ENV) != "1":
        return
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=full_page)
