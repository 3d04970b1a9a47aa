"""Commit events through each notifier: Azure Event Hubs (a fake producer at the SDK boundary: no
Event Hubs emulator exists), Amazon EventBridge (moto server, delivered to an SQS queue by a rule)."""

from __future__ import annotations

import json
import uuid

import pytest

from shared.accessmanager.notifiers import CommitEvent, EventBridgeNotifier, EventHubsNotifier
from shared.errors import Problem
from shared.secrets import SecretResolver

BODY = {"accountName": "demo", "storageName": "main", "containerName": "loadingzone", "userName": "bob", "rootDir": "r"}
EVENT = CommitEvent("commit-0123456789abcdef01234567", BODY)


class FakeProducer:
    """EventHubProducerClient's surface the notifier uses; records how it was built and what it sent."""

    built: list = []

    def __init__(self, fully_qualified_namespace=None, eventhub_name=None, credential=None, **kw):
        self.args = {"namespace": fully_qualified_namespace, "eventhub": eventhub_name, "credential": credential}
        self.sent: list = []
        self.fail = False
        FakeProducer.built.append(self)

    @classmethod
    def from_connection_string(cls, conn_str, eventhub_name=None, **kw):
        producer = cls(eventhub_name=eventhub_name)
        producer.args["connection_string"] = conn_str
        return producer

    def send_batch(self, batch, timeout=None):
        from azure.eventhub.exceptions import EventHubError

        if self.fail:
            raise EventHubError("the namespace did not answer")
        self.sent.extend(batch)


@pytest.fixture
def fake_sdk(monkeypatch):
    import azure.eventhub

    FakeProducer.built = []
    monkeypatch.setattr(azure.eventhub, "EventHubProducerClient", FakeProducer)
    return FakeProducer


def test_event_hubs_sends_the_body_that_services_consumers_read(fake_sdk):
    options = {
        "kind": "event-hubs",
        "auth": "connection-string",
        "eventhub": "accessmanager-commit",
        "connection_string": {"env": "EH"},
        "client_id": None,
    }
    notifier = EventHubsNotifier(options, SecretResolver({"EH": "Endpoint=sb://ns.servicebus.windows.net/;x=y"}))
    notifier.publish(EVENT)
    [producer] = fake_sdk.built
    [data] = producer.sent
    assert json.loads(data.body_as_str()) == BODY
    assert (data.message_id, data.properties) == (EVENT.commit_id, {"commit_id": EVENT.commit_id})
    assert producer.args["eventhub"] == "accessmanager-commit"
    assert producer.args["connection_string"].startswith("Endpoint=sb://ns.")


def test_event_hubs_by_managed_identity_uses_the_namespace_and_a_token_credential(fake_sdk):
    from azure.identity import ManagedIdentityCredential

    options = {
        "kind": "event-hubs",
        "auth": "managed-identity",
        "eventhub": "commits",
        "fully_qualified_namespace": "ns.servicebus.windows.net",
        "client_id": "0000",
    }
    EventHubsNotifier(options, SecretResolver({})).publish(EVENT)
    [producer] = fake_sdk.built
    assert producer.args["namespace"] == "ns.servicebus.windows.net"
    assert isinstance(producer.args["credential"], ManagedIdentityCredential)


def test_event_hubs_builds_one_producer_per_process(fake_sdk):
    options = {
        "kind": "event-hubs",
        "auth": "default",
        "eventhub": "commits",
        "fully_qualified_namespace": "ns.servicebus.windows.net",
        "client_id": None,
    }
    notifier = EventHubsNotifier(options, SecretResolver({}))
    notifier.publish(EVENT)
    notifier.publish(EVENT)
    assert len(fake_sdk.built) == 1 and len(fake_sdk.built[0].sent) == 2


def test_an_event_hubs_failure_is_a_503_notifier_unavailable(fake_sdk):
    options = {
        "kind": "event-hubs",
        "auth": "default",
        "eventhub": "commits",
        "fully_qualified_namespace": "ns.servicebus.windows.net",
        "client_id": None,
    }
    notifier = EventHubsNotifier(options, SecretResolver({}))
    notifier.producer().fail = True
    with pytest.raises(Problem) as err:
        notifier.publish(EVENT)
    assert (err.value.status, err.value.slug) == (503, "notifier-unavailable")


# -- EventBridge on moto server ----------------------------------------------------------------
def admin(moto, service):
    import boto3

    return boto3.client(
        service,
        endpoint_url=moto.url,
        region_name="eu-west-3",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


@pytest.fixture
def bus(moto_server):
    """An event bus whose rule forwards commit events to an SQS queue the test reads."""
    name = f"commits-{uuid.uuid4().hex[:8]}"
    events, sqs = admin(moto_server, "events"), admin(moto_server, "sqs")
    events.create_event_bus(Name=name)
    queue = sqs.create_queue(QueueName=name)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(Name=name, EventBusName=name, EventPattern=json.dumps({"source": ["tvs.accessmanager"]}))
    events.put_targets(Rule=name, EventBusName=name, Targets=[{"Id": "q", "Arn": arn}])
    return name, queue, sqs


def eventbridge(moto_server, bus_name):
    options = {
        "kind": "eventbridge",
        "event_bus": bus_name,
        "region": "eu-west-3",
        "source": "tvs.accessmanager",
        "detail_type": "accessmanager-commit",
        "endpoint_url": moto_server.url,
        "ca_bundle": None,
        "keys": {"access_key_id": {"env": "K"}, "secret_access_key": {"env": "S"}},
    }
    return EventBridgeNotifier(options, SecretResolver({"K": "testing", "S": "testing"}))


def test_eventbridge_puts_one_event_with_the_body_and_the_commit_id(moto_server, bus):
    name, queue, sqs = bus
    eventbridge(moto_server, name).publish(EVENT)
    messages = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10, WaitTimeSeconds=2).get("Messages", [])
    [event] = [json.loads(m["Body"]) for m in messages]
    assert (event["source"], event["detail-type"]) == ("tvs.accessmanager", "accessmanager-commit")
    assert event["detail"] == {**BODY, "commitId": EVENT.commit_id}


def test_an_eventbridge_failure_is_a_503_notifier_unavailable(moto_server):
    with pytest.raises(Problem) as err:
        eventbridge(moto_server, f"no-such-bus-{uuid.uuid4().hex[:6]}").publish(EVENT)
    assert (err.value.status, err.value.slug) == (503, "notifier-unavailable")
