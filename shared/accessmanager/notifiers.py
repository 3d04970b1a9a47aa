"""Where a commit event goes (docs/accessmanager.md, Commit events): one event per commit.

- ``event-hubs``: Azure Event Hubs, what that service publishes to (through the Kafka endpoint of an
  Event Hubs namespace); identity-based (managed identity, workload identity, the default chain) or
  by a connection string held by secret reference. The event body is the JSON its consumers read
  (``accountName``, ``storageName``, ``containerName``, ``userName``, ``rootDir``); the commit id
  travels as the message id and the application property ``commit_id``.
- ``eventbridge``: Amazon EventBridge ``PutEvents``, one entry whose ``Detail`` is the same body
  plus ``commitId``.
- ``log``: one JSON line on the ``tvs.accessmanager`` logger (the local service, and deployments
  that forward their logs).

The notifier block is validated here (light); each SDK is imported on the first publish. A failed
publish raises the 503 ``notifier-unavailable``: the caller retries the commit, and the retry
carries the same commit id, so consumers can drop the duplicate.
"""

from __future__ import annotations

import json
import logging
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from ..aws.clients import CLIENTS, Keys
from ..errors import ConfigError, unavailable
from ..secrets import SecretResolver, validate_ref
from ..sections import Section

log = logging.getLogger("tvs.accessmanager")

NOTIFIER_KINDS = ("log", "event-hubs", "eventbridge")
EVENT_HUBS_AUTH = ("managed-identity", "workload-identity", "default", "connection-string")
DEFAULT_TOPIC = "accessmanager-commit"  # that service's accessmanager.topic.upload-complete
NAMESPACE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.-]{0,252}\.[A-Za-z]{2,}\Z")
EVENT_HUB = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,255}\Z")
EVENT_BUS = re.compile(r"^[A-Za-z0-9._/:-]{1,1600}\Z")
REGION = re.compile(r"^[a-z0-9][a-z0-9-]{0,30}[a-z0-9]\Z")
SEND_TIMEOUT_SECONDS = 10


@dataclass(frozen=True)
class CommitEvent:
    """One commit: its id (the same for a retried commit) and the body consumers read."""

    commit_id: str
    body: Mapping[str, Any]


class Notifier(Protocol):
    kind: str

    def publish(self, event: CommitEvent) -> None: ...


def validate_notifier(s: Section, mode: str) -> dict[str, Any]:
    """The ``notifier`` block (default ``{"kind": "log"}``); errors name their key."""
    kind = s.string("kind", "log", choices=NOTIFIER_KINDS)
    if kind == "log":
        Section(s.key, s.raw, ("kind",))
        return {"kind": "log"}
    if kind == "event-hubs":
        s = Section(
            s.key,
            s.raw,
            ("kind", "fully_qualified_namespace", "eventhub", "auth", "client_id", "connection_string"),
        )
        auth = s.string("auth", "managed-identity", choices=EVENT_HUBS_AUTH)
        options: dict[str, Any] = {
            "kind": kind,
            "auth": auth,
            "eventhub": _matching(s, "eventhub", EVENT_HUB, "an event hub name", DEFAULT_TOPIC),
            "client_id": s.get("client_id", str, None),
        }
        if auth == "connection-string":
            if s.has("fully_qualified_namespace"):
                raise ConfigError(
                    s.path("fully_qualified_namespace"), "comes from the connection string with auth connection-string"
                )
            options["connection_string"] = validate_ref(s.path("connection_string"), s.get("connection_string", object))
        else:
            if s.has("connection_string"):
                raise ConfigError(s.path("connection_string"), f"is used only with auth connection-string, not {auth}")
            options["fully_qualified_namespace"] = _matching(
                s, "fully_qualified_namespace", NAMESPACE, "a host name such as ns.servicebus.windows.net"
            )
        return options
    s = Section(
        s.key,
        s.raw,
        ("kind", "event_bus", "region", "source", "detail_type", "endpoint_url", "ca_bundle", "emulator", "keys"),
    )
    emulator = s.local_only("emulator", mode, "emulator notifiers")
    options = {
        "kind": kind,
        "event_bus": _matching(s, "event_bus", EVENT_BUS, "an event bus name or ARN", "default"),
        "region": _matching(s, "region", REGION, "a region name such as eu-west-3"),
        "source": s.string("source", "tvs.accessmanager"),
        "detail_type": s.string("detail_type", DEFAULT_TOPIC),
        "endpoint_url": s.url("endpoint_url", None, allow_http=emulator),
        "ca_bundle": s.get("ca_bundle", str, None),
        "keys": None,
    }
    if s.has("keys"):
        keys = s.section("keys", ("access_key_id", "secret_access_key"))
        options["keys"] = {
            "access_key_id": validate_ref(keys.path("access_key_id"), keys.get("access_key_id", object)),
            "secret_access_key": validate_ref(keys.path("secret_access_key"), keys.get("secret_access_key", object)),
        }
    return options


def _matching(s: Section, name: str, pattern: re.Pattern, what: str, default: Any = ...) -> str:
    value = s.string(name, default)
    if not pattern.match(value):
        raise ConfigError(s.path(name), f"must be {what}")
    return value


def _unpublished(kind: str, reason: str) -> Exception:
    log.warning("commit event not published: %s %s", kind, reason)
    return unavailable(
        f"the commit event could not be published ({kind}); nothing was committed: retry the commit",
        retry_after=5,
        slug="notifier-unavailable",
    )


class LogNotifier:
    kind = "log"

    def publish(self, event: CommitEvent) -> None:
        log.info(json.dumps({"event": "commit", "commit_id": event.commit_id, **event.body}, separators=(",", ":")))


class EventHubsNotifier:
    """One producer per process, built on first use; ``send_batch`` of one event per commit."""

    kind = "event-hubs"

    def __init__(self, options: Mapping[str, Any], secrets: SecretResolver):
        self._options = options
        self._secrets = secrets
        self._producer: Any = None
        self._lock = threading.Lock()

    def _credential(self):
        import azure.identity as identity

        auth, client_id = self._options["auth"], self._options.get("client_id")
        if auth == "managed-identity":
            return identity.ManagedIdentityCredential(client_id=client_id)
        if auth == "workload-identity":
            return (
                identity.WorkloadIdentityCredential(client_id=client_id)
                if client_id
                else identity.WorkloadIdentityCredential()
            )
        return identity.DefaultAzureCredential(exclude_interactive_browser_credential=True)

    def producer(self):
        with self._lock:
            if self._producer is None:
                from azure.eventhub import EventHubProducerClient

                o = self._options
                if o["auth"] == "connection-string":
                    self._producer = EventHubProducerClient.from_connection_string(
                        self._secrets.resolve(o["connection_string"]), eventhub_name=o["eventhub"]
                    )
                else:
                    self._producer = EventHubProducerClient(
                        fully_qualified_namespace=o["fully_qualified_namespace"],
                        eventhub_name=o["eventhub"],
                        credential=self._credential(),
                    )
            return self._producer

    def publish(self, event: CommitEvent) -> None:
        from azure.core.exceptions import AzureError
        from azure.eventhub import EventData
        from azure.eventhub.exceptions import EventHubError

        data = EventData(json.dumps(dict(event.body), separators=(",", ":")))
        data.message_id = event.commit_id
        data.content_type = "application/json"
        data.properties = {"commit_id": event.commit_id}
        try:
            self.producer().send_batch([data], timeout=SEND_TIMEOUT_SECONDS)
        except (EventHubError, AzureError, OSError) as exc:
            raise _unpublished(self.kind, type(exc).__name__) from None


class EventBridgeNotifier:
    kind = "eventbridge"

    def __init__(self, options: Mapping[str, Any], secrets: SecretResolver):
        self._options = options
        self._secrets = secrets

    def _client(self):
        o = self._options
        keys = None
        if o["keys"]:
            keys = Keys(
                self._secrets.resolve(o["keys"]["access_key_id"]), self._secrets.resolve(o["keys"]["secret_access_key"])
            )
        return CLIENTS.client("events", o["region"], o["endpoint_url"], keys, o["ca_bundle"])

    def publish(self, event: CommitEvent) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        o = self._options
        entry = {
            "Source": o["source"],
            "DetailType": o["detail_type"],
            "Detail": json.dumps({**event.body, "commitId": event.commit_id}, separators=(",", ":")),
            "EventBusName": o["event_bus"],
        }
        try:
            answer = self._client().put_events(Entries=[entry])
        except (BotoCoreError, ClientError) as exc:
            raise _unpublished(self.kind, type(exc).__name__) from None
        if answer.get("FailedEntryCount"):
            code = (answer.get("Entries") or [{}])[0].get("ErrorCode", "failed entry")
            raise _unpublished(self.kind, str(code))


def build_notifier(options: Mapping[str, Any], secrets: SecretResolver) -> Notifier:
    if options["kind"] == "event-hubs":
        return EventHubsNotifier(options, secrets)
    if options["kind"] == "eventbridge":
        return EventBridgeNotifier(options, secrets)
    return LogNotifier()


__all__ = ["CommitEvent", "Notifier", "build_notifier", "validate_notifier", "NOTIFIER_KINDS"]
