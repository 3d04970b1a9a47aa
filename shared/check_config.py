"""``python -m shared.check_config [PATH]``: validate a configuration document before deploying it.

Exit status 0 when valid (a one-line summary on stdout), 2 with the offending key on stderr.
"""

from __future__ import annotations

import sys

from .config import load_config
from .errors import ConfigError


def main(argv: list[str]) -> int:
    try:
        config = load_config(argv[0] if argv else None)
    except ConfigError as exc:
        print(f"invalid configuration: {exc}", file=sys.stderr)
        return 2
    print(
        f"valid: {len(config.issuers)} issuer(s), {len(config.stores)} store(s), {len(config.grants)} grant(s), "
        f"mode {config.mode}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
