"""The DynamoDB ledger (AWS).

The table schema is :data:`TABLE_SCHEMA` (the SAM template declares exactly this; tests build
their table from it): hash key ``credential_id``; GSI ``by_user`` (``user_key``, ``created_at``)
and the sparse GSI ``by_due`` (``sweep_bucket``, ``due_at``): only records the sweep must visit
carry ``sweep_bucket``. The TTL attribute ``purge_at`` is set only on terminal records, so the
backstop can never drop a key VMS has not confirmed deleted.

Every write is a ``PutItem`` with a ConditionExpression: ``attribute_not_exists`` for a new
record, ``state`` and ``version`` unchanged for a transition. boto3 is imported on first use.
"""

from __future__ import annotations

import threading
from typing import Any

from . import DuplicateRecord, KeyLedger, KeyRecord, StaleRecord

TTL_ATTRIBUTE = "purge_at"
TABLE_SCHEMA: dict[str, Any] = {
    "AttributeDefinitions": [
        {"AttributeName": "credential_id", "AttributeType": "S"},
        {"AttributeName": "user_key", "AttributeType": "S"},
        {"AttributeName": "created_at", "AttributeType": "S"},
        {"AttributeName": "sweep_bucket", "AttributeType": "S"},
        {"AttributeName": "due_at", "AttributeType": "N"},
    ],
    "KeySchema": [{"AttributeName": "credential_id", "KeyType": "HASH"}],
    "GlobalSecondaryIndexes": [
        {
            "IndexName": "by_user",
            "KeySchema": [
                {"AttributeName": "user_key", "KeyType": "HASH"},
                {"AttributeName": "created_at", "KeyType": "RANGE"},
            ],
            "Projection": {"ProjectionType": "ALL"},
        },
        {
            "IndexName": "by_due",
            "KeySchema": [
                {"AttributeName": "sweep_bucket", "KeyType": "HASH"},
                {"AttributeName": "due_at", "KeyType": "RANGE"},
            ],
            "Projection": {"ProjectionType": "ALL"},
        },
    ],
    "BillingMode": "PAY_PER_REQUEST",
    "TimeToLiveSpecification": {"AttributeName": TTL_ATTRIBUTE, "Enabled": True},
}


def create_table(client, name: str) -> None:
    """Create ``name`` from :data:`TABLE_SCHEMA` and enable its TTL (tests, local set-ups)."""
    kwargs = {k: v for k, v in TABLE_SCHEMA.items() if k != "TimeToLiveSpecification"}
    client.create_table(TableName=name, **kwargs)
    client.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 30})
    client.update_time_to_live(TableName=name, TimeToLiveSpecification=TABLE_SCHEMA["TimeToLiveSpecification"])


def _plain(value: Any) -> Any:
    """DynamoDB numbers come back as Decimal; ours are all integers."""
    from decimal import Decimal

    if isinstance(value, Decimal):
        return int(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, set)):
        return [_plain(v) for v in value]
    return value


class DynamoDbLedger(KeyLedger):
    backend = "dynamodb"

    @classmethod
    def sdk_errors(cls):
        from botocore.exceptions import BotoCoreError, ClientError

        return (BotoCoreError, ClientError, OSError)

    @classmethod
    def from_options(cls, options, secrets=None) -> DynamoDbLedger:
        return cls(options["table"], region=options.get("region"), endpoint_url=options.get("endpoint_url"))

    def __init__(self, table: str, region: str | None = None, endpoint_url: str | None = None, client=None):
        self.table = table
        self._region, self._endpoint = region, endpoint_url
        self._client = client
        self._lock = threading.Lock()
        self._ser = self._de = None

    def _c(self):
        with self._lock:
            if self._client is None:
                import boto3
                from botocore.config import Config

                # total_max_attempts counts the first attempt too (botocore's max_attempts counts retries only).
                retries = {"mode": "standard", "total_max_attempts": 3}
                config = Config(connect_timeout=3, read_timeout=5, retries=retries)
                self._client = boto3.client(
                    "dynamodb", region_name=self._region, endpoint_url=self._endpoint, config=config
                )
            if self._ser is None:
                from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

                self._ser, self._de = TypeSerializer(), TypeDeserializer()
            return self._client

    def _item(self, record: KeyRecord) -> dict:
        self._c()
        ser: Any = self._ser
        return {k: ser.serialize(v) for k, v in record.to_item().items()}

    def _record(self, item: dict) -> KeyRecord:
        self._c()
        de: Any = self._de
        return KeyRecord.from_item({k: _plain(de.deserialize(v)) for k, v in item.items()})

    @staticmethod
    def _condition_failed(exc) -> bool:
        return getattr(exc, "response", {}).get("Error", {}).get("Code") == "ConditionalCheckFailedException"

    def create(self, record: KeyRecord) -> KeyRecord:
        client = self._c()
        try:
            client.put_item(
                TableName=self.table, Item=self._item(record), ConditionExpression="attribute_not_exists(credential_id)"
            )
        except client.exceptions.ConditionalCheckFailedException:
            raise DuplicateRecord(record.credential_id) from None
        return record

    def get(self, credential_id: str) -> KeyRecord | None:
        resp = self._c().get_item(
            TableName=self.table, Key={"credential_id": {"S": credential_id}}, ConsistentRead=True
        )
        return self._record(resp["Item"]) if "Item" in resp else None

    def replace(self, current: KeyRecord, new: KeyRecord) -> KeyRecord:
        client = self._c()
        try:
            client.put_item(
                TableName=self.table,
                Item=self._item(new),
                ConditionExpression="#s = :s AND #v = :v",
                ExpressionAttributeNames={"#s": "state", "#v": "version"},
                ExpressionAttributeValues={":s": {"S": current.state}, ":v": {"N": str(current.version)}},
            )
        except client.exceptions.ConditionalCheckFailedException:
            raise StaleRecord(current.credential_id) from None
        return new

    def _query(self, **kwargs) -> tuple[list[KeyRecord], Any]:
        resp = self._c().query(TableName=self.table, **kwargs)
        return [self._record(i) for i in resp.get("Items", [])], resp.get("LastEvaluatedKey")

    def for_user(self, user_key: str) -> list[KeyRecord]:
        out, cursor = [], None
        while True:
            extra: dict[str, Any] = {"ExclusiveStartKey": cursor} if cursor else {}
            page, cursor = self._query(
                IndexName="by_user",
                KeyConditionExpression="user_key = :u",
                ExpressionAttributeValues={":u": {"S": user_key}},
                **extra,
            )
            out.extend(page)
            if not cursor:
                return out

    def _due_query(self, now: int) -> dict:
        return {
            "IndexName": "by_due",
            "KeyConditionExpression": "sweep_bucket = :b AND due_at <= :n",
            "ExpressionAttributeValues": {":b": {"S": "due"}, ":n": {"N": str(int(now))}},
        }

    def due(self, now: int, limit: int, cursor: Any = None) -> tuple[list[KeyRecord], Any]:
        extra = {"ExclusiveStartKey": cursor} if cursor else {}
        return self._query(Limit=limit, **self._due_query(now), **extra)

    def live(self, *, owner=None, store=None, states=(), limit=50, cursor=None) -> tuple[list[KeyRecord], Any]:
        if cursor is not None and not _is_start_key(cursor):
            raise ValueError("not a cursor of this ledger")
        names: dict[str, str] = {}
        values: dict[str, Any] = {":b": {"S": "due"}}
        conditions = []
        if states:
            names["#s"] = "state"
            marks = []
            for i, state in enumerate(states):
                values[f":s{i}"] = {"S": state}
                marks.append(f":s{i}")
            conditions.append(f"#s IN ({', '.join(marks)})")
        for field, value in (("owner", owner), ("store", store)):
            if value is not None:
                names[f"#{field}"] = field
                values[f":{field}"] = {"S": value}
                conditions.append(f"#{field} = :{field}")
        query: dict[str, Any] = {
            "IndexName": "by_due",
            "KeyConditionExpression": "sweep_bucket = :b",
            "ExpressionAttributeValues": values,
        }
        if conditions:
            query.update(FilterExpression=" AND ".join(conditions), ExpressionAttributeNames=names)
        out: list[KeyRecord] = []
        while True:  # a filter applies after Limit: ask for what is missing until the page is full
            extra: dict[str, Any] = {"ExclusiveStartKey": cursor} if cursor else {}
            page, cursor = self._query(Limit=limit - len(out), **query, **extra)
            out.extend(page)
            if len(out) >= limit or not cursor:
                return out, cursor

    def count_due(self, now: int) -> int:
        total, cursor = 0, None
        while True:
            extra: dict[str, Any] = {"ExclusiveStartKey": cursor} if cursor else {}
            resp = self._c().query(TableName=self.table, Select="COUNT", **self._due_query(now), **extra)
            total += resp["Count"]
            cursor = resp.get("LastEvaluatedKey")
            if not cursor:
                return total

    def purge(self, now: int, limit: int) -> int:
        return 0  # the table's TTL on purge_at does it


def _is_start_key(cursor: Any) -> bool:
    """A LastEvaluatedKey of the ``by_due`` index: string and number attributes of its keys only."""
    keys = {"credential_id": "S", "sweep_bucket": "S", "due_at": "N"}
    return (
        isinstance(cursor, dict)
        and set(cursor) == set(keys)
        and all(
            isinstance(cursor[k], dict) and set(cursor[k]) == {t} and isinstance(cursor[k][t], str)
            for k, t in keys.items()
        )
    )
