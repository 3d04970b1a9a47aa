"""``python -m shared.openapi_export [--openapi 3.0|3.1]``: print the OpenAPI document of the HTTP
contract, for a gateway to import (API Gateway imports 3.0; API Management 3.0 or 3.1)."""

from __future__ import annotations

import argparse
import json
import sys

from .api.contract import OPERATIONS
from .api.openapi import OPENAPI_VERSIONS, openapi_document


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m shared.openapi_export", description=__doc__.splitlines()[0])
    parser.add_argument("--openapi", choices=sorted(OPENAPI_VERSIONS), default="3.1")
    args = parser.parse_args(argv)
    print(json.dumps(openapi_document(OPERATIONS, args.openapi), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
