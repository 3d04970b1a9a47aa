"""Where AssumeRoleWithWebIdentity gets its token: the service's own identity, never the caller's.

- :class:`AzureIdentityToken`: an Entra ID token for a configured audience (by default
  ``api://AzureADTokenExchange``), from the workload identity of the pod when
  ``AZURE_FEDERATED_TOKEN_FILE`` is set, else from the managed identity of the Function App / VM.
  With the role's trust policy naming ``sts.windows.net/<tenant>/`` as an OIDC provider, the Azure
  deployment reaches AWS with no AWS secret at all. azure-identity caches and refreshes the token.
- :class:`TokenFile`: a token some other agent keeps fresh in a file (EKS / Kubernetes projected
  service-account tokens, a sidecar); read again on every use because it rotates.
"""

from __future__ import annotations

import os
import threading

from ..errors import problem, unavailable


class TokenFile:
    def __init__(self, path: str):
        self.path = path

    def token(self) -> str:
        """The current token in the file; 503 if it is missing, empty or not UTF-8."""
        try:
            with open(self.path, encoding="utf-8") as fh:
                value = fh.read().strip()
        except (OSError, UnicodeError):  # missing, unreadable, or not text: no usable token
            value = ""
        if not value:
            raise unavailable(
                "the web-identity token file of this store is missing or empty", retry_after=30, slug="upstream-refused"
            )
        return value


class AzureIdentityToken:
    def __init__(self, audience: str, client_id: str | None = None, credential=None):
        self.scope = audience if audience.endswith("/.default") else audience.rstrip("/") + "/.default"
        self.client_id = client_id
        self._credential = credential
        self._lock = threading.Lock()

    def _get_credential(self):
        with self._lock:
            if self._credential is None:
                import azure.identity as identity

                if os.environ.get("AZURE_FEDERATED_TOKEN_FILE"):
                    self._credential = (
                        identity.WorkloadIdentityCredential(client_id=self.client_id)
                        if self.client_id
                        else identity.WorkloadIdentityCredential()
                    )
                else:
                    self._credential = identity.ManagedIdentityCredential(client_id=self.client_id)
            return self._credential

    def token(self) -> str:
        """An access token for the configured audience; 503 if Entra ID does not hand one out."""
        from azure.core.exceptions import AzureError

        credential = self._get_credential()
        try:
            return credential.get_token(self.scope).token
        except (AzureError, ValueError) as exc:
            raise unavailable(
                f"the Azure identity of this service did not get a token for AWS ({type(exc).__name__})", retry_after=10
            ) from None


def token_source(options: dict) -> TokenFile | AzureIdentityToken:
    """The token source a validated ``web-identity`` store block names."""
    if "file" in options:
        return TokenFile(options["file"])
    if "azure_audience" in options:
        return AzureIdentityToken(options["azure_audience"], options.get("client_id"))
    raise problem("internal-error", "no token source")  # validation makes this unreachable
