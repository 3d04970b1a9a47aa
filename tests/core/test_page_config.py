"""The optional ``page`` section: the self-service page's public client, validated like the rest of the
document, each error naming its key (docs/design.md, Self-service page)."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from shared.config import PAGE_TITLE, parse_config
from shared.errors import ConfigError

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
BASE = json.loads((EXAMPLES / "config.azure.json").read_text())
ENTRA = {
    "client_id": "0b8f7c1e-2f5a-4c0e-9d7a-1e2f3a4b5c6d",
    "authority": "https://login.microsoftonline.com/00000000-0000-0000-0000-000000000000/v2.0",
}


def with_page(page, mode="deployed"):
    doc = copy.deepcopy(BASE)
    doc["page"] = page
    return parse_config(doc, mode)


def test_a_document_without_a_page_section_serves_no_page():
    doc = copy.deepcopy(BASE)
    doc.pop("page", None)
    assert parse_config(doc).page is None


def test_a_page_needs_only_a_client_id_and_an_authority():
    page = with_page(ENTRA).page
    assert (page.client_id, page.authority, page.scopes, page.title) == (
        ENTRA["client_id"],
        ENTRA["authority"],
        ("openid",),
        PAGE_TITLE,
    )
    assert (page.authorization_endpoint, page.token_endpoint, page.connect_origins) == (None, None, ())


def test_connect_origins_are_kept_as_origins():
    page = with_page({**ENTRA, "connect_origins": ["https://Acct.blob.core.windows.net:443"]}).page
    assert page.connect_origins == ("https://acct.blob.core.windows.net",)


def test_a_plain_http_authority_is_allowed_in_local_mode():
    assert with_page({**ENTRA, "authority": "http://127.0.0.1:7071/dev-idp"}, mode="local").page.authority.startswith(
        "http://"
    )


CASES = {
    "page": "not an object",
    "page.client_id": {"authority": ENTRA["authority"]},
    "page.authority": {"client_id": "x", "authority": "http://idp.example"},
    "page.colour": {**ENTRA, "colour": "blue"},
    "page.token_endpoint": {**ENTRA, "authorization_endpoint": "https://idp.example/authorize"},
    "page.authorization_endpoint": {**ENTRA, "token_endpoint": "https://idp.example/token"},
    "page.scopes[1]": {**ENTRA, "scopes": ["openid", "two scopes"]},
    "page.title": {**ENTRA, "title": "x" * 81},
    "page.connect_origins[0]": {**ENTRA, "connect_origins": ["https://acct.blob.core.windows.net/container"]},
    "page.connect_origins[1]": {**ENTRA, "connect_origins": ["https://a.example", "http://b.example"]},
}


@pytest.mark.parametrize("key", CASES.keys())
def test_an_invalid_page_section_names_the_offending_key(key):
    with pytest.raises(ConfigError) as err:
        with_page(CASES[key])
    assert err.value.key == key


def test_a_client_id_with_a_space_is_refused():
    with pytest.raises(ConfigError) as err:
        with_page({**ENTRA, "client_id": "my client"})
    assert str(err.value) == "page.client_id: must be 1-256 printable ASCII characters without spaces"


def test_an_authority_whose_host_could_mean_more_than_itself_in_a_policy_is_refused():
    with pytest.raises(ConfigError) as err:
        with_page({**ENTRA, "authority": "https://[::1]/idp"})
    assert err.value.key == "page.authority"
