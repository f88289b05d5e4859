"""``python -m bench.faust_default_worker worker``: ShopStream with Faust's default RocksDB options.

Only for the memory benchmark's comparison: every table gets
``{"driver": "rocksdict"}`` (Faust's defaults: 2 GiB block cache and three
64 MiB write buffers per table partition) instead of
:func:`tables.options.rocksdb_options`, and the process-wide cache and
write-buffer budget (:func:`tables.options.install_shared_memory`) stay
uninstalled. The patches happen before ``app.main`` and any table module are
imported, so it is the same worker in every other respect.
"""

from __future__ import annotations

from typing import Any

import tables.options


def faust_defaults() -> dict[str, Any]:
    return {"driver": "rocksdict"}


def faust_own_memory() -> None:
    """Leave Faust's per-database caches and write buffers as they are."""


for name in ("rocksdb_options", "install_shared_memory"):
    if not hasattr(tables.options, name):
        raise SystemExit(f"tables.options.{name} is gone: update bench/faust_default_worker.py")
setattr(tables.options, "rocksdb_options", faust_defaults)  # noqa: B010 (a patch)
setattr(tables.options, "install_shared_memory", faust_own_memory)  # noqa: B010 (a patch)

if __name__ == "__main__":
    from app.__main__ import main

    main()
