"""Applying one input record to a partition's analytics rows: exactly once, in event time.

The agent calls :func:`apply_click` or :func:`apply_purchase` for each record,
inside its stream loop, with a :class:`~domain.analytics_rows.RowStore` bound
to the record's partition. Everything here is synchronous and pure apart from
that store, so it is tested with a dict.

**Idempotence.** The same ``event_id`` (clicks) or ``order_id`` (purchases)
seen twice must count once, also when a crash makes Kafka deliver records
again. Per record, writes happen in this order: minute aggregates, the index
entry of the owner row, the owner row (session), expiry deletes, the
watermark. Then:

* the owner row remembers each applied id *with the offset it came from*. An id
  found there with the **same** offset is a *replay* of a record already
  applied (redelivered after a crash): its aggregates are re-applied, each
  guarded by the offset stored in the aggregate row (a row whose offset for
  that stream is not below the record's already holds it), so a crash between
  two writes of one record is completed, never doubled. Rows already holding
  it are written back unchanged, which re-sends them to the changelog in case
  the local store got ahead of it. An id found with a **different** offset is
  a true *duplicate* (the producer sent the event twice): nothing changes;
* all rows of a partition are in one table, whose changelog partition keeps
  the writes in order: after a crash a suffix of them may be lost, never a
  write in the middle. So the watermark (written last) has not moved past a
  record whose owner row is missing, and the lateness decision of a replayed
  record is the one made the first time.

**Lateness.** A new record is judged against its stream's watermark
(:meth:`~domain.analytics_windows.WindowPolicy.lateness`; purchases per
source ``orders`` partition) before it changes anything; a late record changes nothing and is reported, so that the agent
counts it and dead-letters it with the reason ``late``.

**Expiry.** When the partition's event time moves the horizon forward, the
rows older than the horizon are deleted, here, inside the stream loop, so
the deletes reach the changelog on the right partition and also apply to
rows restored after a restart. At most :data:`EXPIRY_BATCH` rows go per
record; the rest go with the next records (queries ignore rows older than
the horizon meanwhile, so answers never depend on how far deletion got).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum
from functools import lru_cache
from typing import Final

from domain.analytics_rows import (
    OWNER_ORDER,
    OWNER_SESSION,
    PartitionKeys,
    ProductMinute,
    RevenueMinute,
    RowStore,
    TypedRowStore,
    parse_index_key,
    typed_rows,
)
from domain.analytics_session import SessionState, fold_click, fold_purchase
from domain.analytics_windows import (
    MINUTE_MS,
    Stream,
    Watermark,
    WindowPolicy,
    epoch_minute,
    epoch_ms,
)
from domain.click_events import ClickEvent, ClickType
from domain.session_purchase import SessionPurchase

__all__ = [
    "EXPIRY_BATCH",
    "Outcome",
    "Result",
    "apply_click",
    "apply_purchase",
]

#: Most rows one record may delete, so expiry never stalls the stream.
EXPIRY_BATCH: Final = 1000


class Outcome(StrEnum):
    APPLIED = "applied"
    REPLAYED = "replayed"
    DUPLICATE = "duplicate"
    LATE = "late"


@dataclass(frozen=True, slots=True)
class Result:
    """What happened to one record; ``reason`` says why it was late."""

    outcome: Outcome
    reason: str | None = None
    expired_rows: int = 0


#: The result of most records (results are immutable: one object serves them all).
_APPLIED: Final = Result(Outcome.APPLIED)


def _applied(expired_rows: int) -> Result:
    return _APPLIED if expired_rows == 0 else Result(Outcome.APPLIED, expired_rows=expired_rows)


@lru_cache(maxsize=256)
def _partition_keys(partition: int) -> PartitionKeys:
    return PartitionKeys(partition)


def _load_owner(store: TypedRowStore, key: bytes) -> SessionState | None:
    return store.get_row(key, SessionState.from_row)


def _count_product(
    store: TypedRowStore,
    key: bytes,
    stream: Stream,
    offset: int,
    *,
    views: int = 0,
    add_to_cart: int = 0,
    units: int = 0,
) -> None:
    row = store.get_row(key, ProductMinute.from_dict)
    if not row.applied(stream, offset):
        row = row.counted(stream, offset, views=views, add_to_cart=add_to_cart, units=units)
    store.put_row(key, row)


def _click_aggregates(
    store: TypedRowStore, keys: PartitionKeys, offset: int, click: ClickEvent, minute: int
) -> None:
    if click.sku is None:
        return
    if click.type is ClickType.PRODUCT_VIEW:
        _count_product(store, keys.product(minute, click.sku), Stream.CLICKS, offset, views=1)
    elif click.type is ClickType.ADD_TO_CART:
        key = keys.product(minute, click.sku)
        _count_product(store, key, Stream.CLICKS, offset, add_to_cart=1)


def _purchase_aggregates(
    store: TypedRowStore, keys: PartitionKeys, offset: int, purchase: SessionPurchase
) -> None:
    minute = epoch_minute(purchase.occurred_at)
    revenue_key = keys.revenue(minute, purchase.currency)
    revenue = store.get_row(revenue_key, RevenueMinute.from_dict)
    if not revenue.applied(Stream.PURCHASES, offset):
        revenue = revenue.counted(Stream.PURCHASES, offset, purchase.total)
    store.put_row(revenue_key, revenue)
    for sku, units in sorted(purchase.units_per_sku().items()):
        key = keys.product(minute, sku)
        _count_product(store, key, Stream.PURCHASES, offset, units=units)


def _store_owner(
    store: TypedRowStore,
    keys: PartitionKeys,
    kind: str,
    owner_id: str,
    previous: SessionState | None,
    state: SessionState,
) -> None:
    """Move the owner's index entry to its latest minute, then write the owner row.

    Index first: a crash in between leaves the row saying where its entry was,
    so the replay (which finds the record not yet applied) moves it again.
    """
    latest = state.latest_minute
    old = None if previous is None else previous.indexed
    if latest is not None and old != latest:
        store.put(keys.index(latest, kind, owner_id), {})
        if old is not None:
            store.delete(keys.index(old, kind, owner_id))
    store.put_row(keys.owner(kind, owner_id), state.indexed_at(latest))


def _expired(horizon: int | None, minute: int) -> bool:
    """Whether ``minute``'s buckets are behind the horizon (a replay must not revive them)."""
    return horizon is not None and minute < horizon


def _heal_owner(
    store: TypedRowStore, keys: PartitionKeys, kind: str, owner_id: str, state: SessionState
) -> None:
    """Write a replayed record's owner row and index again (the changelog may lack them)."""
    store.put_row(keys.owner(kind, owner_id), state)
    if state.indexed is not None:
        store.put(keys.index(state.indexed, kind, owner_id), {})


def _expire(
    store: TypedRowStore, keys: PartitionKeys, start: int | None, horizon: int
) -> tuple[int, bool]:
    """Delete up to EXPIRY_BATCH rows of minutes in [start, horizon); (deleted, finished)."""
    budget = EXPIRY_BATCH
    for span in (keys.products_span(start, horizon), keys.revenue_span(start, horizon)):
        doomed = [key for key, _ in _take(store, span, budget)]
        for key in doomed:
            store.delete(key)
        budget -= len(doomed)
        if budget <= 0:
            return EXPIRY_BATCH, False
    index_entries = _take(store, keys.index_span(start, horizon), budget)
    for key, _ in index_entries:
        minute, kind, owner_id = parse_index_key(key)
        owner_key = keys.owner(kind, owner_id)
        owner = _load_owner(store, owner_key)
        # A stale entry (the owner moved on to a later minute) only loses the entry.
        if owner is not None and owner.indexed == minute:
            store.delete(owner_key)
        store.delete(key)
    budget -= len(index_entries)
    return EXPIRY_BATCH - budget, budget > 0


def _take(
    store: TypedRowStore, span: tuple[bytes, bytes], limit: int
) -> list[tuple[bytes, dict[str, object]]]:
    taken: list[tuple[bytes, dict[str, object]]] = []
    if limit <= 0:
        return taken
    for item in store.scan(*span):
        taken.append(item)
        if len(taken) >= limit:
            break
    return taken


def _advance(
    store: TypedRowStore,
    keys: PartitionKeys,
    mark: Watermark,
    moved: Watermark,
    policy: WindowPolicy,
    mark_horizon: int | None,
) -> int:
    """Expire what fell behind the horizon of ``moved``, then store ``moved`` (last).

    ``mark_horizon`` is the horizon of ``mark``: the caller has it, and most records move nothing.
    """
    horizon = mark_horizon if moved is mark else policy.horizon(moved)
    deleted = 0
    if horizon is not None and (moved.expired_before is None or moved.expired_before < horizon):
        deleted, finished = _expire(store, keys, moved.expired_before, horizon)
        if finished:
            moved = replace(moved, expired_before=horizon)
    if moved is not mark and moved != mark:
        store.put_row(keys.watermark(), moved)
    return deleted


def apply_click(
    rows: RowStore, partition: int, offset: int, click: ClickEvent, policy: WindowPolicy
) -> Result:
    """Apply one clickstream record (validated) read at ``offset`` of ``partition``."""
    store = typed_rows(rows)
    keys = _partition_keys(partition)
    mark = store.get_row(keys.watermark(), Watermark.from_dict)
    horizon = policy.horizon(mark)
    owner_key = keys.owner(OWNER_SESSION, click.session_id)
    previous = _load_owner(store, owner_key)
    at_ms = epoch_ms(click.occurred_at)
    minute = at_ms // MINUTE_MS
    moved = mark.advanced(Stream.CLICKS, minute)
    seen = None if previous is None else previous.seen.get(click.event_id)
    if seen is not None and previous is not None:
        if seen[0] != offset:
            return Result(Outcome.DUPLICATE)
        if not _expired(horizon, minute):
            _click_aggregates(store, keys, offset, click, minute)
        _heal_owner(store, keys, OWNER_SESSION, click.session_id, previous)
        expired = _advance(store, keys, mark, moved, policy, horizon)
        return Result(Outcome.REPLAYED, expired_rows=expired)
    if not policy.on_time(mark, Stream.CLICKS, at_ms, horizon):
        return Result(Outcome.LATE, reason=policy.lateness(mark, Stream.CLICKS, click.occurred_at))
    _click_aggregates(store, keys, offset, click, minute)
    # Pruned to the *stored* watermark's horizon, never ahead of it: a replay
    # must still find the ids of records it redelivers (see the module docstring).
    state = fold_click(previous, click, offset, horizon, at_ms=at_ms)
    _store_owner(store, keys, OWNER_SESSION, click.session_id, previous, state)
    return _applied(_advance(store, keys, mark, moved, policy, horizon))


def apply_purchase(
    rows: RowStore,
    partition: int,
    offset: int,
    purchase: SessionPurchase,
    policy: WindowPolicy,
) -> Result:
    """Apply one session-purchase record read at ``offset`` of ``partition``."""
    store = typed_rows(rows)
    keys = _partition_keys(partition)
    mark = store.get_row(keys.watermark(), Watermark.from_dict)
    horizon = policy.horizon(mark)
    names_session = purchase.session_id is not None
    kind = OWNER_SESSION if names_session else OWNER_ORDER
    owner_id = purchase.key
    owner_key = keys.owner(kind, owner_id)
    previous = _load_owner(store, owner_key)
    minute = epoch_minute(purchase.occurred_at)
    source = purchase.source_partition
    moved = mark.advanced(Stream.PURCHASES, minute, source)
    seen = None if previous is None else previous.orders.get(purchase.order_id)
    if seen is not None and previous is not None:
        if seen[0] != offset:
            return Result(Outcome.DUPLICATE)
        if not _expired(horizon, minute):
            _purchase_aggregates(store, keys, offset, purchase)
        _heal_owner(store, keys, kind, owner_id, previous)
        expired = _advance(store, keys, mark, moved, policy, horizon)
        return Result(Outcome.REPLAYED, expired_rows=expired)
    reason = policy.lateness(mark, Stream.PURCHASES, purchase.occurred_at, source)
    if reason is not None:
        return Result(Outcome.LATE, reason=reason)
    _purchase_aggregates(store, keys, offset, purchase)
    state = fold_purchase(
        previous,
        purchase.order_id,
        offset,
        minute,
        horizon,
        names_session=names_session,
    )
    _store_owner(store, keys, kind, owner_id, previous, state)
    return _applied(_advance(store, keys, mark, moved, policy, horizon))
