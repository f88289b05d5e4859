"""``python -m localservices.registry``: see :mod:`localservices.registry.cli`."""

import sys

from localservices.registry.cli import main

if __name__ == "__main__":
    sys.exit(main())
