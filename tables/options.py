"""RocksDB options shared by every table, and one memory budget for all their databases.

Faust opens one RocksDB database per table partition and gives each its own
block cache (2 GiB by default) and write buffers (3 x 64 MiB) (FAUST_NOTES.md),
so memory would grow with partitions x tables: 5 tables x 32 partitions are
160 databases. :func:`install_shared_memory` makes every database of the
process share one block cache (:data:`SHARED_BLOCK_CACHE_BYTES`, holding
index and filter blocks too) and one write-buffer budget
(:data:`SHARED_WRITE_BUFFER_BYTES`, enforced by a RocksDB write buffer
manager that flushes memtables early when the sum of all of them reaches
it). What RocksDB holds in memory is then bounded by about their sum, however
many partitions a worker owns; the OS page cache does the rest.
"""

from __future__ import annotations

from functools import cache
from typing import Any, Final

import rocksdict
from faust.stores.rocksdb import RocksDBOptions

__all__ = [
    "SHARED_BLOCK_CACHE_BYTES",
    "SHARED_WRITE_BUFFER_BYTES",
    "install_shared_memory",
    "rocksdb_options",
]

_MIB: Final = 1024 * 1024
#: One block cache for all databases of the process (data, index and filter blocks).
SHARED_BLOCK_CACHE_BYTES: Final = 64 * _MIB
#: All memtables of all databases of the process together.
SHARED_WRITE_BUFFER_BYTES: Final = 64 * _MIB
_MARK: Final = "_shopstream_shared_memory"


def rocksdb_options() -> dict[str, Any]:
    """A fresh options dict per table: Faust's store pops keys out of the one it is given.

    Per database: memtables of 8 MiB, at most two, and small files; the cache
    and the write-buffer budget are the shared ones (:func:`install_shared_memory`).
    """
    return {
        "driver": "rocksdict",
        "write_buffer_size": 8 * _MIB,
        "max_write_buffer_number": 2,
        "target_file_size_base": 16 * _MIB,
        "max_open_files": 256,
    }


@cache
def shared_block_cache() -> rocksdict.Cache:
    return rocksdict.Cache(SHARED_BLOCK_CACHE_BYTES)


@cache
def shared_write_buffer_manager() -> rocksdict.WriteBufferManager:
    # allow_stall=False: over budget, RocksDB flushes sooner rather than blocking the event loop.
    return rocksdict.WriteBufferManager(SHARED_WRITE_BUFFER_BYTES, False)


def shared_memory_options(options: RocksDBOptions) -> rocksdict.Options:
    """Faust's rocksdict options for one database, with the process-wide cache and budget."""
    db_options = rocksdict.Options(raw_mode=True)
    db_options.create_if_missing(True)
    open_files = options.max_open_files
    db_options.set_max_open_files(-1 if open_files is None else open_files)  # -1: no limit
    db_options.set_write_buffer_size(options.write_buffer_size)
    db_options.set_target_file_size_base(options.target_file_size_base)
    db_options.set_max_write_buffer_number(options.max_write_buffer_number)
    db_options.set_write_buffer_manager(shared_write_buffer_manager())
    table = rocksdict.BlockBasedOptions()
    table.set_bloom_filter(options.bloom_filter_size, block_based=True)
    table.set_block_cache(shared_block_cache())
    table.set_cache_index_and_filter_blocks(True)
    table.set_index_type(rocksdict.BlockBasedIndexType.binary_search())
    db_options.set_block_based_table_factory(table)
    return db_options


def install_shared_memory() -> None:
    """Make Faust open every rocksdict database with :func:`shared_memory_options`.

    Faust builds each database's options in ``RocksDBOptions.as_options``
    with a new cache of its own and offers no hook, so that method is
    replaced (once; python-rocksdb keeps Faust's own).
    """
    if getattr(RocksDBOptions.as_options, _MARK, False):
        return
    original = RocksDBOptions.as_options

    def as_options(self: RocksDBOptions) -> Any:
        return shared_memory_options(self) if self.use_rocksdict else original(self)

    setattr(as_options, _MARK, True)
    RocksDBOptions.as_options = as_options  # type: ignore[method-assign]
