"""CORS rules on the emulators, so the self-service page can upload and download one file through a
signed URL straight from the browser (docs/design.md, Self-service page, has the rules per cloud).

The page's origin calls the storage endpoint directly: the storage must allow that origin, the
methods of signed URLs (GET, PUT, HEAD) and the headers they carry (``Content-Type``, Azure's
``x-ms-blob-type``). Real accounts need the same rules, set by their operators.
"""

from __future__ import annotations

SIGNED_URL_METHODS = ("GET", "PUT", "HEAD")
AZURE_HEADERS = ("content-type", "x-ms-blob-type", "x-ms-version", "x-ms-date", "x-ms-client-request-id")
MAX_AGE_SECONDS = 600


def page_origins(port: int) -> list[str]:
    """The origins of the local service's page: a browser may name the loopback address either way."""
    return [f"http://127.0.0.1:{port}", f"http://localhost:{port}"]


def allow_page_on_azurite(connection_string: str, ca: str, origins: list[str]) -> None:
    """Blob service CORS rules of the Azurite account (Set Blob Service Properties)."""
    from azure.storage.blob import BlobServiceClient, CorsRule

    client = BlobServiceClient.from_connection_string(connection_string, connection_verify=ca)
    rule = CorsRule(
        allowed_origins=origins,
        allowed_methods=list(SIGNED_URL_METHODS),
        allowed_headers=list(AZURE_HEADERS),
        exposed_headers=["etag", "content-length", "content-type", "x-ms-request-id"],
        max_age_in_seconds=MAX_AGE_SECONDS,
    )
    client.set_service_properties(cors=[rule])


def allow_page_on_moto(endpoint_url: str, bucket: str, origins: list[str]) -> None:
    """The bucket's CORS configuration on moto server (PutBucketCors, as on AWS)."""
    import boto3

    s3 = boto3.client(
        "s3",
        endpoint_url=endpoint_url,
        region_name="eu-west-3",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    rule = {
        "AllowedOrigins": origins,
        "AllowedMethods": list(SIGNED_URL_METHODS),
        "AllowedHeaders": ["content-type"],
        "ExposeHeaders": ["ETag", "Content-Length", "Content-Type"],
        "MaxAgeSeconds": MAX_AGE_SECONDS,
    }
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": [rule]})
