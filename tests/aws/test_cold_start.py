"""The AWS modules import no cloud SDK until a request needs one (docs/design.md, Cold start)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SCRIPT = """
import json, sys
import shared.api, shared.aws.vendor
import shared.aws.clients, shared.aws.formats, shared.aws.policy, shared.aws.sessions, shared.aws.sts
import shared.aws.web_identity
from shared.config import load_config
from shared.api import VendingService
service = VendingService(load_config("examples/config.aws-s3.json", mode="deployed"))
for store in service.config.stores:
    service.vendor(store)
print(json.dumps(sorted(m for m in sys.modules if m.split(".")[0] in ("boto3", "botocore", "azure", "google"))))
"""


def test_configuring_the_aws_stores_and_building_their_vendors_imports_no_cloud_sdk():
    done = subprocess.run([sys.executable, "-c", SCRIPT], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stdout) == []
