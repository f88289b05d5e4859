"""Tables: changelog-backed state, one module per table family.

Each module declares its Faust tables (RocksDB stores, partitions, sizes from
settings) and the small helpers that read them; :mod:`tables.options` tunes
RocksDB, :mod:`tables.ownership` says which partitions this worker owns, and
:mod:`tables.order_watch` wakes HTTP long-polls when an order's row changes,
and :mod:`tables.commit_cache` keeps changed rows in memory and writes each
once, just before Faust commits.

May import: :mod:`app.main`, :mod:`app.settings`, :mod:`app.kafka`, :mod:`domain`;
never :mod:`agents` or :mod:`app.web` (both of those read and write through here).
"""
