"""Patches to faust-streaming's internals: one module per defect or speed-up, installed together.

Each module names the defect it fixes (what was lost, how the tests caught
it) and has its own unit test under ``tests/unit/faust_patches/`` that fails
against unpatched Faust. Several patched methods are copies of Faust's, so
:func:`install` refuses any faust-streaming, aiokafka or mode-streaming (Faust's
service library, whose thread service :mod:`~app.faust_patches.inline_consumer`
reuses) other than the exact versions they were checked against: an upgrade
re-checks every patch first.

- :mod:`~app.faust_patches.producer_flush`: a commit waits until every output
  and table update sent before it is acknowledged (a commit overtook changelog
  writes lost in a crash), no longer (continuous writes postponed commits), and
  does not pass a send the broker refused;
- :mod:`~app.faust_patches.recovery_flow`: a takeover that needs no restore
  (standbys) keeps the input records fetched for it;
- :mod:`~app.faust_patches.fetch_snapshot`: a fetch whose partitions are all
  paused while it waits no longer consumes, and loses, every partition's records;
- :mod:`~app.faust_patches.fatal_stop`: a crashed agent or a failed send stops
  the worker without committing, instead of acknowledging the record it was on;
- :mod:`~app.faust_patches.producer_ebb` (speed-up): a producer buffer of
  1,000 messages, drained without two log lines per record;
- :mod:`~app.faust_patches.inline_consumer` (speed-up): the worker's Kafka
  consumer runs on the worker's event loop instead of a thread of its own that
  shared the GIL with it (every fetch crossed threads twice);
- :mod:`~app.faust_patches.table_registration` (speed-up): a worker registers
  its tables, and joins its group, without Faust's fixed one-second wait;
- :mod:`~app.faust_patches.idle_take` (speed-up): a stream's ``take_events``
  sleeps while its buffer is empty instead of waking every ``within`` (an idle
  worker's three batched agents woke ~250 times a second);
- :mod:`~app.faust_patches.fetch_batching` (speed-up): under live load a
  fetch gathers up to 1 ms (or 16 KiB) of records instead of one or two; an
  idle worker, or one that gets a record or two per fetch, long-polls as Faust's does;
- :mod:`~app.faust_patches.record_batches` (speed-up): records handed to
  aiokafka as whole record batches, one ledger-tracked future per batch (the
  order pipeline's outputs);
- :mod:`~app.faust_patches.bulk_table_writes` (speed-up): a table partition's
  changed rows in one RocksDB write batch and whole changelog record batches,
  the persisted changelog offset set once per batch; a row of a known
  partition read with one lookup in that partition's database;
- :mod:`~app.faust_patches.batch_delivery` (speed-up): the records of the
  batched agents (order lifecycle, customer-orders, analytics) reach their
  batch handlers a fetch at a time, around Faust's per-record path, acked
  after the handler as Faust's stream acks them; a pipelined route (the order
  lifecycle's) takes the next batch while earlier ones complete, in order.

The speed-ups record_batches and bulk_table_writes are not patches of Faust's
methods but use private parts of Faust's store and aiokafka's producer;
batch_delivery replaces Faust's drain loop (a copy with one change) and keeps
the consumer's ack books itself. The same version guard covers all three.

May import: Faust, aiokafka, mode; nothing of the project (the App installs these).
"""

from __future__ import annotations

import importlib.metadata

import aiokafka
import faust

from app.faust_patches import (
    fatal_stop,
    fetch_batching,
    fetch_snapshot,
    idle_take,
    inline_consumer,
    producer_ebb,
    producer_flush,
    recovery_flow,
    table_registration,
)
from app.faust_patches.fatal_stop import FatalHooks

__all__ = ["PATCHED_VERSIONS", "install"]

#: The versions these patches were written against and proven on (pyproject.toml pins them):
#: the patched methods are copies of theirs, so another version must be re-checked first.
PATCHED_VERSIONS = {"faust-streaming": "0.15.3", "aiokafka": "0.14.0", "mode-streaming": "0.7.1"}


def _check_versions() -> None:
    found = {
        "faust-streaming": faust.__version__,
        "aiokafka": aiokafka.__version__,
        "mode-streaming": importlib.metadata.version("mode-streaming"),
    }
    if found != PATCHED_VERSIONS:
        raise RuntimeError(
            f"app/faust_patches/ patches {PATCHED_VERSIONS}, found {found}: "
            "re-check each patch against the new sources before changing the pins"
        )


def install(fatal: FatalHooks) -> None:
    """Install every patch once (idempotent); called when the App is built, before any producer.

    ``fatal`` is how a failure Faust would survive by acknowledging the record
    stops the worker instead (:mod:`app.kafka.fatal`).
    """
    _check_versions()
    producer_flush.install()
    recovery_flow.install()
    fetch_snapshot.install()
    fatal_stop.install(fatal)
    producer_ebb.install()
    fetch_batching.install()
    inline_consumer.install()
    table_registration.install()
    idle_take.install()
