"""Where a GCS store's tokens and signatures come from (docs/gcs.md, Ways in).

A store's ``auth`` names one base credential:

- ``service-account-key``: a service-account key held by secret reference (signs URLs itself);
- ``default``: application default credentials (the metadata server of GCE/GKE/Cloud Run, or
  ``GOOGLE_APPLICATION_CREDENTIALS``: a key file or a federation configuration);
- ``credential-config``: a workload identity federation configuration (``external_account``, as
  ``gcloud iam workload-identity-pools create-cred-config`` writes it);
- ``workload-identity-federation``: federation from the service's own identity with no Google secret
  at all: its Azure managed or workload identity (an Entra ID token for ``azure_audience``), its AWS
  role (a signed ``GetCallerIdentity``, from the runtime's credentials), or a token file.

With ``impersonate``, the base credential only ever calls IAM Credentials: ``generateAccessToken``
mints each source token with exactly the lifetime asked for (at most ``token_lifetime_max``), and
``signBlob`` signs URLs as that service account. Without it, a downscoped token lives as long as
its source token (1 hour).

Each vend gets a source of its own (a new object whose ``refresh`` mints a new token); what is
shared (the parsed key, application default credentials, the federated base credential) is built
once, outside any lock a request could wait on for long. google-auth and the cloud SDKs are
imported inside the functions that use them.
"""

from __future__ import annotations

import base64
import functools
import json
import os
import threading
from collections.abc import Mapping
from typing import Any

from ..errors import unavailable
from ..secrets import SecretResolver
from .config import configuration_problem
from .google_http import Call

STORAGE_SCOPE = "https://www.googleapis.com/auth/devstorage.full_control"
CLOUD_PLATFORM = "https://www.googleapis.com/auth/cloud-platform"
STS_URL = "https://sts.googleapis.com/v1/token"
SIGN_BLOB_URL = "https://iamcredentials.googleapis.com/v1/projects/-/serviceAccounts/{}:signBlob"
JWT_TOKEN = "urn:ietf:params:oauth:token-type:jwt"
AWS_TOKEN = "urn:ietf:params:aws:token-type:aws4_request"


class Sources:
    """The credentials of one store; thread-safe."""

    def __init__(self, options: Mapping[str, Any], secrets: SecretResolver):
        self.auth = options["auth"]
        self.method: str = self.auth["method"]
        self.impersonate: str | None = self.auth["impersonate"]
        self.secrets = secrets
        self._lock = threading.Lock()  # guards the cached fields; never held during a network call
        self._renewing = threading.Lock()  # one refresh of the shared base credential at a time
        self._key_info: dict | None = None
        self._key_credentials = None
        self._base = None

    # -- what the store can do -------------------------------------------------------------------
    @property
    def exact_lifetimes(self) -> bool:
        """True when each token can be minted with the lifetime asked for (impersonation)."""
        return self.impersonate is not None

    @property
    def signs_with_key(self) -> bool:
        return self.method == "service-account-key" and self.impersonate is None

    @property
    def may_sign(self) -> bool:
        """False only where no service account is known to sign as (federation without impersonation)."""
        return self.impersonate is not None or self.method in ("service-account-key", "default")

    # -- the key -------------------------------------------------------------------------------------
    def key_info(self) -> dict:
        info = self._key_info
        if info is None:
            text = self.secrets.resolve(self.auth["key"])
            try:
                info = json.loads(text)
                if info.get("type") != "service_account" or not info.get("client_email") or not info.get("private_key"):
                    raise ValueError("not a service-account key")
            except (ValueError, AttributeError):
                raise unavailable(
                    "the store's service-account key is not a service-account key in JSON; its operators must fix "
                    "the secret",
                    60,
                    "store-misconfigured",
                ) from None
            with self._lock:
                self._key_info = self._key_info or info
                info = self._key_info
        return info

    def key_credentials(self):
        """The service-account credentials of the key (parsed once: signing is local and thread-safe)."""
        creds = self._key_credentials
        if creds is None:
            from google.oauth2 import service_account

            try:
                creds = service_account.Credentials.from_service_account_info(self.key_info(), scopes=[STORAGE_SCOPE])
            except ValueError:
                raise unavailable(
                    "the store's service-account key cannot be read; its operators must fix the secret",
                    60,
                    "store-misconfigured",
                ) from None
            with self._lock:
                self._key_credentials = self._key_credentials or creds
                creds = self._key_credentials
        return creds

    # -- the shared base credential -----------------------------------------------------------------
    def _build_base(self, call: Call):
        """The credential that calls IAM Credentials (impersonation, signBlob) or, for ADC, mints itself."""
        if self.method == "service-account-key":
            return self.key_credentials().with_scopes([CLOUD_PLATFORM])
        if self.method == "default":
            import google.auth

            credentials, _project = google.auth.default(scopes=[CLOUD_PLATFORM], request=call)  # type: ignore[arg-type]
            return credentials
        return self._external_account()

    def base(self, call: Call, fresh: bool = True):
        """The shared base credential, refreshed (one refresh at a time) when ``fresh`` and it is stale."""
        base = self._base
        if base is not None and (not fresh or base.valid):
            return base
        with self._renewing:
            base = self._base
            if base is None:
                base = self._build_base(call)
            if fresh and not base.valid:
                base.refresh(call)
            with self._lock:
                self._base = base
            return base

    def _external_account(self):
        """A federation credential: a configuration, or the service's own Azure, AWS or file token."""
        if self.method == "credential-config":
            return _from_configuration(self._configuration())
        source = self.auth["subject_token"]
        audience = self.auth["audience"]
        if "aws_region" in source:
            from google.auth import aws

            return aws.Credentials(
                audience=audience,
                subject_token_type=AWS_TOKEN,
                token_url=STS_URL,
                aws_security_credentials_supplier=_aws_supplier_class()(source["aws_region"]),
                scopes=[CLOUD_PLATFORM],
            )
        from google.auth import identity_pool

        supplier = (
            _azure_supplier_class()(source["azure_audience"], source.get("client_id"))
            if "azure_audience" in source
            else _file_supplier_class()(source["file"])
        )
        return identity_pool.Credentials(
            audience=audience,
            subject_token_type=JWT_TOKEN,
            token_url=STS_URL,
            subject_token_supplier=supplier,
            scopes=[CLOUD_PLATFORM],
        )

    def _configuration(self) -> dict:
        """The federation configuration, checked as a configuration of our own would be."""
        if "config" in self.auth:
            return dict(self.auth["config"])
        try:
            with open(self.auth["config_file"], encoding="utf-8") as fh:
                info = json.load(fh)
        except (OSError, ValueError):
            info = None
        why = configuration_problem(info)
        if why:
            raise unavailable(f"the store's federation configuration {why}", 60, "store-misconfigured")
        return info

    # -- per vend -------------------------------------------------------------------------------------
    def token_source(self, call: Call, lifetime: int):
        """Credentials whose ``refresh`` mints a new source token for one downscoped token."""
        if self.impersonate is not None:
            from google.auth import impersonated_credentials

            return impersonated_credentials.Credentials(
                source_credentials=_shared_class()(self, call),
                target_principal=self.impersonate,
                target_scopes=[STORAGE_SCOPE],
                lifetime=lifetime,
            )
        if self.method == "service-account-key":
            return self.key_credentials().with_scopes([STORAGE_SCOPE])  # a new object: its own token
        if self.method == "default":
            return self.base(call, fresh=False)
        return self._external_account()

    def signer(self, call: Call):
        """``google.auth.credentials.Signing`` for V4 URLs: the key itself, or signBlob as a service account."""
        if self.signs_with_key:
            return self.key_credentials()
        if self.impersonate is not None:
            return _iam_signing_class()(self, call, self.impersonate)
        base = self.base(call)
        from google.auth import credentials as auth_credentials

        if isinstance(base, auth_credentials.Signing):  # ADC from a key file
            return base
        email = getattr(base, "service_account_email", None)
        if not email or email == "default":
            return None
        return _iam_signing_class()(self, call, email)


def _from_configuration(info: dict):
    from google.auth import aws, identity_pool

    if str(info["credential_source"].get("environment_id", "")).startswith("aws"):
        return aws.Credentials.from_info(info, scopes=[CLOUD_PLATFORM])
    return identity_pool.Credentials.from_info(info, scopes=[CLOUD_PLATFORM])


@functools.cache
def _shared_class():
    """The shared base credential seen by one impersonation: not ``Scoped``, so google-auth uses the
    base's token as it is instead of a rescoped copy that would mint a token of its own every time."""
    from google.auth import credentials as auth_credentials

    class Shared(auth_credentials.Credentials):
        def __init__(self, sources: Sources, call: Call):
            super().__init__()
            self._sources, self._call = sources, call
            self._take()

        def _take(self) -> None:
            base = self._sources.base(self._call)
            self.token, self.expiry = base.token, base.expiry

        def refresh(self, request):
            self._take()

    return Shared


def is_keyless(signer) -> bool:
    """True when ``signer`` signs through IAM Credentials ``signBlob`` (not with a key of its own)."""
    return isinstance(signer, _iam_signing_class())


@functools.cache
def _iam_signing_class():
    """A ``Signing`` credential that signs through IAM Credentials ``signBlob`` (keyless signing)."""
    from google.auth import credentials as auth_credentials
    from google.auth import exceptions

    class IamSigning(auth_credentials.Signing):
        def __init__(self, sources: Sources, call: Call, email: str):
            self._sources, self._call, self._email = sources, call, email

        @property
        def signer_email(self):
            return self._email

        @property
        def signer(self):
            return None

        def sign_bytes(self, message):
            headers = {"Content-Type": "application/json"}
            self._sources.base(self._call).apply(headers)
            body = json.dumps({"payload": base64.b64encode(message).decode("ascii")}).encode()
            response = self._call(url=SIGN_BLOB_URL.format(self._email), method="POST", body=body, headers=headers)
            if response.status != 200:
                raise exceptions.TransportError("signBlob was refused")
            data = response.data.decode("utf-8") if isinstance(response.data, bytes) else response.data
            return base64.b64decode(json.loads(data)["signedBlob"])

    return IamSigning


@functools.cache
def _azure_supplier_class():
    """The subject token of Azure-to-Google federation: an Entra ID token of the service's own identity."""
    from google.auth import identity_pool

    class AzureIdentityToken(identity_pool.SubjectTokenSupplier):
        def __init__(self, audience: str, client_id: str | None):
            self.scope = audience if audience.endswith("/.default") else audience.rstrip("/") + "/.default"
            self.client_id = client_id
            self._credential = None
            self._lock = threading.Lock()

        def _get_credential(self):
            with self._lock:
                if self._credential is None:
                    import azure.identity as identity

                    if os.environ.get("AZURE_FEDERATED_TOKEN_FILE"):
                        kwargs = {"client_id": self.client_id} if self.client_id else {}
                        self._credential = identity.WorkloadIdentityCredential(**kwargs)
                    else:
                        self._credential = identity.ManagedIdentityCredential(client_id=self.client_id)
                return self._credential

        def get_subject_token(self, context, request):
            from azure.core.exceptions import AzureError

            try:
                return self._get_credential().get_token(self.scope).token
            except (AzureError, ValueError) as exc:
                raise unavailable(
                    f"the Azure identity of this service did not get a token for Google ({type(exc).__name__})", 10
                ) from None

    return AzureIdentityToken


@functools.cache
def _aws_supplier_class():
    """The subject token of AWS-to-Google federation is signed with the runtime's own AWS credentials."""
    from google.auth import aws

    class RuntimeAwsCredentials(aws.AwsSecurityCredentialsSupplier):
        def __init__(self, region: str):
            self.region = region
            self._session = None
            self._lock = threading.Lock()

        def get_aws_security_credentials(self, context, request):
            with self._lock:
                if self._session is None:
                    import botocore.session

                    self._session = botocore.session.get_session()
                session = self._session
            try:
                credentials = session.get_credentials()
            except Exception:  # noqa: BLE001 - a broken provider chain is no credentials
                credentials = None
            if credentials is None:
                raise unavailable("the service has no AWS credentials to federate with Google", 60, "upstream-refused")
            frozen = credentials.get_frozen_credentials()
            return aws.AwsSecurityCredentials(frozen.access_key, frozen.secret_key, frozen.token)

        def get_aws_region(self, context, request):
            return self.region

    return RuntimeAwsCredentials


@functools.cache
def _file_supplier_class():
    """A subject token another agent keeps fresh in a file (Kubernetes projected tokens): read at every use."""
    from google.auth import identity_pool

    class TokenFile(identity_pool.SubjectTokenSupplier):
        def __init__(self, path: str):
            self.path = path

        def get_subject_token(self, context, request):
            try:
                with open(self.path, encoding="utf-8") as fh:
                    value = fh.read().strip()
            except (OSError, UnicodeError):
                value = ""
            if not value:
                raise unavailable("the federation token file of this store is missing or empty", 30, "upstream-refused")
            return value

    return TokenFile
