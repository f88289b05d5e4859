"""``python -m localservices.kafka``: see :mod:`localservices.kafka.cli`."""

import sys

from localservices.kafka.cli import main

if __name__ == "__main__":
    sys.exit(main())
