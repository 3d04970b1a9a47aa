"""Powertools' structured logging and metrics for both Lambda handlers, loaded without an AWS SDK.

- The Powertools ``Logger`` is the ``tvs`` logger itself, so the core's loggers (``tvs.audit``,
  ``tvs.service``, ...) inherit its JSON handler: each audit record becomes one JSON object in
  CloudWatch Logs, with the correlation id (the API Gateway request id) beside it.
- ``Metrics`` writes CloudWatch embedded-metric-format lines to stdout: no API call, no SDK.
- The redaction filter of :mod:`shared.logsafe` sits on the runtime's and Powertools' handlers.

Powertools imports ``botocore`` when it is first imported, only to add its name to the
User-Agent of SDK calls; it skips that when botocore cannot be imported. Hiding botocore for the
duration of that import keeps the cold start of every request free of the AWS SDK (the vendors
that need boto3 import it on first use); the only loss is that User-Agent suffix.
"""

from __future__ import annotations

import logging
import os
import sys
from contextlib import contextmanager

from shared import logsafe

SERVICE = "tvs"
METRICS_NAMESPACE = os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "TokenVending")


@contextmanager
def _without_botocore():
    if "botocore" in sys.modules:  # already paid for (a warm process, a test run): nothing to hide
        yield
        return
    sys.modules["botocore"] = None  # makes "import botocore" raise ImportError
    try:
        yield
    finally:
        if sys.modules.get("botocore", 0) is None:
            del sys.modules["botocore"]


with _without_botocore():
    from aws_lambda_powertools import Logger, Metrics
    from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
    from aws_lambda_powertools.logging import correlation_paths
    from aws_lambda_powertools.metrics import MetricUnit

logger = Logger(service=SERVICE)
metrics = Metrics(namespace=METRICS_NAMESPACE, service=SERVICE)
logsafe.install()  # the Lambda runtime's handler on the root logger
logsafe.install(logging.getLogger(SERVICE))  # Powertools' JSON handler on the "tvs" logger
logging.getLogger("azure").setLevel(logging.WARNING)  # the storage SDK logs every HTTP exchange at INFO

__all__ = ["APIGatewayHttpResolver", "MetricUnit", "Response", "correlation_paths", "logger", "metrics"]
