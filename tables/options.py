"""RocksDB options shared by every table.

Faust's defaults give each table partition a 2 GiB block cache and three 64 MiB
write buffers (FAUST_NOTES.md), so memory would grow with partitions x tables.
These options keep each partition's database small; the OS page cache does the rest.
"""

from __future__ import annotations

from typing import Any

__all__ = ["rocksdb_options"]


def rocksdb_options() -> dict[str, Any]:
    """A fresh options dict per table: Faust's store pops keys out of the one it is given."""
    return {
        "driver": "rocksdict",
        "block_cache_size": 16 * 1024 * 1024,
        "write_buffer_size": 8 * 1024 * 1024,
        "max_write_buffer_number": 2,
        "target_file_size_base": 16 * 1024 * 1024,
        "max_open_files": 256,
    }
