"""Web origins for the page's Content-Security-Policy: what ``web_origin`` keeps, and where each store
kind says a browser sends its signed URLs."""

from __future__ import annotations

import pytest

from shared.kinds import store_kind
from shared.origins import web_origin


@pytest.mark.parametrize(
    "url,origin",
    [
        ("https://Acct.Blob.Core.Windows.Net/container?sv=x", "https://acct.blob.core.windows.net"),
        ("https://host.example:443/path", "https://host.example"),
        ("http://127.0.0.1:7071/dev-idp", "http://127.0.0.1:7071"),
        ("https://host.example:8443", "https://host.example:8443"),
    ],
)
def test_an_origin_is_scheme_host_and_a_port_other_than_the_default(url, origin):
    assert web_origin(url) == origin


@pytest.mark.parametrize(
    "url", ["ftp://host.example", "https://[::1]:8443", "https://host_example", "https://host.example:99999", "x"]
)
def test_a_url_whose_origin_a_policy_could_misread_has_none(url):
    assert web_origin(url) is None


def _aws(**over):
    return {"bucket": "sales", "region": "eu-west-3", "endpoint_url": None, "path_style": False, **over}


def test_an_azure_store_is_reached_at_its_account():
    assert store_kind("azure-blob").browser_origins({"account_url": "https://acct.blob.core.windows.net"}) == (
        "https://acct.blob.core.windows.net",
    )


def test_an_azure_store_known_only_by_its_connection_string_names_no_origin():
    assert store_kind("azure-blob").browser_origins({"account_url": None}) == ()


def test_an_s3_bucket_is_reached_at_its_regional_and_global_hosts():
    assert store_kind("aws-s3").browser_origins(_aws()) == (
        "https://sales.s3.eu-west-3.amazonaws.com",
        "https://s3.eu-west-3.amazonaws.com",
        "https://sales.s3.amazonaws.com",
    )


def test_an_s3_bucket_in_china_is_reached_in_its_own_partition_only():
    assert store_kind("aws-s3").browser_origins(_aws(region="cn-north-1")) == (
        "https://sales.s3.cn-north-1.amazonaws.com.cn",
        "https://s3.cn-north-1.amazonaws.com.cn",
    )


def test_a_path_style_endpoint_is_reached_at_the_endpoint_only():
    options = _aws(endpoint_url="http://127.0.0.1:5000", path_style=True)
    assert store_kind("aws-s3").browser_origins(options) == ("http://127.0.0.1:5000",)


def test_a_virtual_host_endpoint_is_reached_at_the_bucket_host_too():
    options = _aws(endpoint_url="https://s3.example.com:9000")
    assert store_kind("aws-s3").browser_origins(options) == (
        "https://s3.example.com:9000",
        "https://sales.s3.example.com:9000",
    )


def test_a_vast_store_hands_out_no_signed_url_so_it_names_no_origin():
    assert store_kind("vast-s3").browser_origins({"s3_endpoint": "https://s3.vast.example"}) == ()
