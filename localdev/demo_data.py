"""The demo data of the embedded default: the container, bucket and role its stores point at, and the
CORS rules that let the self-service page use signed URLs on them from the browser (idempotent)."""

from __future__ import annotations

import json

from .cors import allow_page_on_azurite, allow_page_on_moto
from .default_config import DEMO_AWS_EXTERNAL_ID, DEMO_AWS_ROLE_ARN, DEMO_GCS_PROJECT, DEMO_SPACES


def prepare_demo_data(emulators: dict, origins: list[str]) -> None:
    """Create the demo containers/buckets the embedded stores point at, and let the page's ``origins``
    use signed URLs on them from the browser (CORS; no ``origins``, no rules); idempotent."""
    azurite = emulators.get("azurite")
    if azurite is not None:
        from azure.core.exceptions import ResourceExistsError
        from azure.storage.blob import BlobServiceClient

        client = BlobServiceClient.from_connection_string(azurite.connection_string, connection_verify=str(azurite.ca))
        for container in ("demo", *DEMO_SPACES):  # the demo-azure store, and the spaces of organization demo
            try:
                client.create_container(container)
            except ResourceExistsError:
                pass
        if origins:
            allow_page_on_azurite(azurite.connection_string, str(azurite.ca), origins)
    moto = emulators.get("moto")
    if moto is not None:
        prepare_moto(moto)
        if origins:
            allow_page_on_moto(moto.url, "demo", origins)
    gcs = emulators.get("gcs")
    if gcs is not None:
        gcs.server.create_bucket("demo", DEMO_GCS_PROJECT)


def prepare_moto(moto) -> None:
    """Bucket 'demo' and the role the demo-s3 store assumes (trusting the account, with the ExternalId)."""
    import boto3

    keys = dict(
        endpoint_url=moto.url, region_name="eu-west-3", aws_access_key_id="testing", aws_secret_access_key="testing"
    )
    s3, iam = boto3.client("s3", **keys), boto3.client("iam", **keys)
    try:
        s3.create_bucket(Bucket="demo", CreateBucketConfiguration={"LocationConstraint": "eu-west-3"})
    except (s3.exceptions.BucketAlreadyOwnedByYou, s3.exceptions.BucketAlreadyExists):
        pass
    account = DEMO_AWS_ROLE_ARN.split(":")[4]
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{account}:root"},
                "Action": ["sts:AssumeRole", "sts:SetSourceIdentity", "sts:TagSession"],
                "Condition": {"StringEquals": {"sts:ExternalId": DEMO_AWS_EXTERNAL_ID}},
            }
        ],
    }
    try:
        iam.create_role(
            RoleName=DEMO_AWS_ROLE_ARN.rsplit("/", 1)[1],
            AssumeRolePolicyDocument=json.dumps(trust),
            MaxSessionDuration=43_200,
        )
    except iam.exceptions.EntityAlreadyExistsException:
        pass
