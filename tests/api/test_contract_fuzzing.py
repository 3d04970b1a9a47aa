"""Contract fuzzing: schemathesis generates requests for every operation of the served OpenAPI
document and sends them to the running local service (the embedded default on Azurite, moto server
a VMS simulator and fake-gcs-server), with a valid development token supplied by an auth hook so that authenticated
routes are exercised past the token check.

Every check schemathesis has runs on every answer: no 5xx (a 503 only where the document declares
it), every status, content type, header and body as the document says, schema-valid requests
accepted and schema-invalid ones refused with a 4xx. A bounded number of examples per operation keeps
the suite to a few minutes (SECURITY.md records the counts of a run).
"""

from __future__ import annotations

import re

import hypothesis
import pytest
import requests
import schemathesis
from hypothesis import strategies as st

from localdev.devidp import DevIdentityProvider
from localdev.emulators import free_port
from shared.api.contract import OPERATIONS, STORE_PATTERN
from shared.api.openapi import openapi_document
from tests.localstack import local_stack

pytestmark = pytest.mark.emulator

EXAMPLES_PER_OPERATION = 40
CASES: dict[str, int] = {}  # operation -> cases sent, for the record (printed at the end of the module)
STATUSES: dict[int, int] = {}  # status -> answers


# The service's port and its development identity provider are chosen when the module is collected:
# schemathesis builds its boundary-value cases then, each with the token the auth hook supplies.
PORT = free_port()
IDP = DevIdentityProvider(f"http://127.0.0.1:{PORT}/dev-idp")


@pytest.fixture(scope="module")
def stack(azurite, moto_server, certs, tmp_path_factory):
    state = tmp_path_factory.mktemp("fuzz-state")
    with local_stack(azurite, moto_server, certs, state, port=PORT, idp=IDP, gcs=True) as running:
        yield running
    total, statuses = sum(CASES.values()), sorted(STATUSES.items())
    print(f"\ncontract fuzzing: {total} cases over {len(CASES)} operations: {CASES}; statuses {statuses}")


# The document the service serves (GET /api/v1/openapi.json answers exactly this; checked below), loaded
# when the module is collected so that each operation is a test of its own.
schema = schemathesis.openapi.from_dict(openapi_document(OPERATIONS))
# No 5xx but the documented 503 (an upstream down: every route declares it, with its problem type).
schema.config.checks.not_a_server_error.expected_statuses = ["2xx", "3xx", "4xx", "503"]


# Random store ids, organizations and spaces would stop almost every request at 404. Where the
# generated value is well formed, it is swapped, some of the time, for one the embedded default has,
# so requests reach every store kind (Azure Blob on Azurite, AWS S3 on moto, VAST on the simulator,
# GCS on fake-gcs-server) and the access manager's organization. A swap never makes a schema-invalid case valid.
STORES = ("demo-azure", "demo-s3", "demo-vast", "demo-gcs")
SPACES = ("main", "open", "loadingzone")
# A store kind may refuse a well-formed request for reasons the document cannot state (they depend on
# the store): these 400s of the problem catalogue (docs/api.md) are answers, not contract failures.
KIND_REFUSALS = frozenset(
    {
        "prefix-scope-unsupported",
        "list-on-object",
        "list-needs-prefix",
        "policy-too-large",
        "credentials-unsupported",
        "signed-urls-unsupported",
        "access-not-offered",
        "bad-format",
        "sas-unsupported",
    }
)


def _swapped(value, choices):
    if isinstance(value, str) and re.fullmatch(STORE_PATTERN[:-1] + r"\Z", value):
        return st.sampled_from((*choices, value))
    return st.just(value)


@schema.hook
def flatmap_body(context, body):
    if isinstance(body, dict) and "store" in body:
        return _swapped(body["store"], STORES).map(lambda store: {**body, "store": store})
    return st.just(body)


@schema.hook
def flatmap_path_parameters(context, path_parameters):
    if isinstance(path_parameters, dict) and "store" in path_parameters:
        return _swapped(path_parameters["store"], STORES).map(lambda store: {**path_parameters, "store": store})
    return st.just(path_parameters)


@schema.hook
def flatmap_query(context, query):
    if not (isinstance(query, dict) and "organization" in query):
        return st.just(query)
    organization = query["organization"]
    space = query.get("space")
    well_formed = isinstance(organization, str) and re.fullmatch(r"[a-z0-9]{3,24}", organization)
    if not (well_formed and isinstance(space, str) and re.fullmatch(r"[a-z0-9-]{3,63}", space)):
        return st.just(query)
    return st.tuples(st.sampled_from(("demo", organization)), st.sampled_from((*SPACES, space))).map(
        lambda pair: {**query, "organization": pair[0], "space": pair[1]}
    )


@schema.hook
def filter_failure(context, failure, case, response):
    if response.status_code == 400 and response.headers.get("content-type") == ["application/problem+json"]:
        slug = response.json().get("type", "").rsplit("/", 1)[-1]
        return slug not in KIND_REFUSALS
    return True


@schema.auth(refresh_interval=None, retry_on=[])
class DevToken:
    """A development token for alice: a demo user with roles on the access manager's organization."""

    def get(self, case, context):
        roles = ["org_demo_access", "spc_main_supplier", "spc_open_user"]
        return IDP.mint("alice", ["demo-users"], roles=roles)["access_token"]

    def set(self, case, data, context):
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}


@schema.parametrize()
@hypothesis.settings(
    max_examples=EXAMPLES_PER_OPERATION,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(hypothesis.HealthCheck),
)
def test_every_answer_of_every_operation_conforms_to_the_document(case, stack):
    CASES[case.operation.label] = CASES.get(case.operation.label, 0) + 1
    if case.meta is not None and case.meta.generation.mode.is_positive and case.query:
        # A page cursor is opaque: only one the service handed out is valid, which no generator can make.
        # A schema-valid request asks for the first page instead (a made-up cursor is still sent in the
        # negative cases, and must be refused).
        case.query.pop("cursor", None)
    response = case.call_and_validate(base_url=stack.url, timeout=30)
    STATUSES[response.status_code] = STATUSES.get(response.status_code, 0) + 1


def test_the_fuzzed_document_is_the_one_the_service_serves(stack):
    assert requests.get(f"{stack.url}/api/v1/openapi.json", timeout=10).json() == openapi_document(OPERATIONS)
