"""``python -m bench.faust_default_worker worker``: ShopStream with Faust's default RocksDB options.

Only for the memory benchmark's comparison: every table gets
``{"driver": "rocksdict"}`` (Faust's defaults: 2 GiB block cache and three
64 MiB write buffers per table partition) instead of
:func:`tables.options.rocksdb_options`. The patch happens before any table
module is imported, so it is the same worker in every other respect.
"""

from __future__ import annotations

from typing import Any

import tables.options


def faust_defaults() -> dict[str, Any]:
    return {"driver": "rocksdict"}


if not hasattr(tables.options, "rocksdb_options"):
    raise SystemExit("tables.options.rocksdb_options is gone: update bench/faust_default_worker.py")
setattr(tables.options, "rocksdb_options", faust_defaults)  # noqa: B010 (a patch)

if __name__ == "__main__":
    from app.__main__ import main

    main()
