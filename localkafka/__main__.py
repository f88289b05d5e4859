"""``python -m localkafka``: see :mod:`localkafka.cli`."""

import sys

from localkafka.cli import main

if __name__ == "__main__":
    sys.exit(main())
