"""The rows of the analytics table: key layout, the row-store interface, minute aggregates.

All analytics state of a partition lives in one table, in rows whose keys
start with the partition they were written from (``b"3|..."``), so every row
has exactly one writer and one changelog partition. One table rather than
several: the writes of one input record then go to one changelog partition,
in order, and a crash loses at most a *suffix* of them; with several tables
each changelog could lose a different suffix (see :mod:`domain.analytics_apply`).

Key layout (``P`` = partition, minutes as :func:`minute_label`, ids last so
they may contain ``|``)::

    P|w                         watermark of the partition
    P|m|<minute>|<sku>          product minute: views, add-to-carts, units purchased
    P|r|<minute>|<currency>     revenue minute: revenue and order count
    P|s|<session_id>            session state  (owner row)
    P|o|<order_id>              order that names no session (owner row, de-duplication only)
    P|i|<minute>|<kind>|<id>    index of owner rows by their latest minute

Minute aggregates remember, per input stream, the offset of the last record
applied to them; a record whose offset is not above it was applied already
(offsets only grow on a partition), which makes replays after a crash exact.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any, Final, Protocol, TypeVar

from domain.analytics_windows import Stream, minute_from_label, minute_label
from domain.money import format_money

__all__ = [
    "OWNER_ORDER",
    "OWNER_SESSION",
    "DecodingRows",
    "PartitionKeys",
    "ProductMinute",
    "RevenueMinute",
    "Row",
    "RowReader",
    "RowStore",
    "TypedRowStore",
    "minute_row_name",
    "parse_index_key",
    "read_row",
    "typed_rows",
]

OWNER_SESSION: Final = "s"
OWNER_ORDER: Final = "o"
#: Sorts after every minute label: the open end of an index scan.
_END: Final = "~"


class RowReader(Protocol):
    """Read access to one partition's rows (JSON objects by bytes key)."""

    def get(self, key: bytes) -> dict[str, Any] | None: ...

    def scan(self, start: bytes, stop: bytes) -> Iterator[tuple[bytes, dict[str, Any]]]:
        """Rows with ``start <= key < stop``, in key order."""
        ...


class RowStore(RowReader, Protocol):
    """Read and write access; writes must reach the table's changelog."""

    def put(self, key: bytes, value: dict[str, Any]) -> None: ...

    def delete(self, key: bytes) -> None: ...


class Row(Protocol):
    """A decoded row (session, minute aggregate, watermark): encodes itself as its JSON object."""

    def to_dict(self) -> dict[str, Any]: ...


Decoded = TypeVar("Decoded")
#: Builds a row object from its stored JSON object (None: no such row).
Decoder = Callable[[dict[str, Any] | None], Decoded]


class TypedRowStore(ABC):
    """A :class:`RowStore` that also hands out and takes rows as objects.

    The apply path reads and writes every row of a record this way, so that a
    store holding rows in memory (:class:`~domain.analytics_batch.BufferedRows`)
    decodes a row once per batch and encodes it once, when it is written, not
    once per record. A key always holds rows of one type, and a row object
    handed out is shared: the domain never mutates one, it builds a new one.
    """

    @abstractmethod
    def get(self, key: bytes) -> dict[str, Any] | None: ...

    @abstractmethod
    def scan(self, start: bytes, stop: bytes) -> Iterator[tuple[bytes, dict[str, Any]]]: ...

    @abstractmethod
    def put(self, key: bytes, value: dict[str, Any]) -> None: ...

    @abstractmethod
    def delete(self, key: bytes) -> None: ...

    @abstractmethod
    def get_row(self, key: bytes, decode: Decoder[Decoded]) -> Decoded:
        """The row at ``key`` as ``decode`` builds it from its stored value (or from None)."""

    @abstractmethod
    def put_row(self, key: bytes, row: Row) -> None:
        """Store ``row`` at ``key``, as ``row.to_dict()``."""


class DecodingRows(TypedRowStore):
    """The typed interface over a plain :class:`RowStore`: decodes every read, encodes every write."""

    def __init__(self, store: RowStore) -> None:
        self._store = store

    def get(self, key: bytes) -> dict[str, Any] | None:
        return self._store.get(key)

    def scan(self, start: bytes, stop: bytes) -> Iterator[tuple[bytes, dict[str, Any]]]:
        return self._store.scan(start, stop)

    def put(self, key: bytes, value: dict[str, Any]) -> None:
        self._store.put(key, value)

    def delete(self, key: bytes) -> None:
        self._store.delete(key)

    def get_row(self, key: bytes, decode: Decoder[Decoded]) -> Decoded:
        return decode(self._store.get(key))

    def put_row(self, key: bytes, row: Row) -> None:
        self._store.put(key, row.to_dict())


def read_row(rows: RowReader, key: bytes, decode: Decoder[Decoded]) -> Decoded:
    """One row as an object: as held by a :class:`TypedRowStore` (no encoding), else decoded."""
    if isinstance(rows, TypedRowStore):
        return rows.get_row(key, decode)
    return decode(rows.get(key))


def typed_rows(store: RowStore | TypedRowStore) -> TypedRowStore:
    """``store`` itself when it keeps rows as objects, else :class:`DecodingRows` over it."""
    return store if isinstance(store, TypedRowStore) else DecodingRows(store)


@dataclass(frozen=True, slots=True)
class PartitionKeys:
    """The keys of one partition's rows."""

    partition: int

    def _key(self, *parts: str) -> bytes:
        return "|".join((str(self.partition), *parts)).encode()

    # The keys of every click: spelled out rather than through _key (same bytes, half the time).
    def watermark(self) -> bytes:
        return f"{self.partition}|w".encode()

    def product(self, minute: int, sku: str) -> bytes:
        return f"{self.partition}|m|{minute_label(minute)}|{sku}".encode()

    def revenue(self, minute: int, currency: str) -> bytes:
        return self._key("r", minute_label(minute), currency)

    def owner(self, kind: str, owner_id: str) -> bytes:
        return f"{self.partition}|{kind}|{owner_id}".encode()

    def index(self, minute: int, kind: str, owner_id: str) -> bytes:
        return self._key("i", minute_label(minute), kind, owner_id)

    def products_span(self, start: int | None, end: int | None) -> tuple[bytes, bytes]:
        """Keys of product minutes in ``[start, end)`` (None: open end)."""
        return self._span("m", start, end)

    def revenue_span(self, start: int | None, end: int | None) -> tuple[bytes, bytes]:
        return self._span("r", start, end)

    def index_span(self, start: int | None, end: int | None) -> tuple[bytes, bytes]:
        return self._span("i", start, end)

    def _span(self, kind: str, start: int | None, end: int | None) -> tuple[bytes, bytes]:
        low = self._key(kind, "" if start is None else minute_label(start))
        high = self._key(kind, _END if end is None else minute_label(end))
        return low, high


def minute_row_name(key: bytes) -> tuple[int, str]:
    """``(minute, sku or currency)`` of a product or revenue minute key."""
    _partition, _kind, label, name = key.decode().split("|", 3)
    return minute_from_label(label), name


def parse_index_key(key: bytes) -> tuple[int, str, str]:
    """``(minute, owner kind, owner id)`` of an index key."""
    _partition, _kind, label, kind, owner_id = key.decode().split("|", 4)
    return minute_from_label(label), kind, owner_id


#: The code of each stream in the rows' offsets (a dict lookup: ``Stream.value`` is a
#: Python property, a few per click).
_CODE: Final = {stream: stream.value for stream in Stream}


def _applied(offsets: dict[str, int], stream: Stream, offset: int) -> bool:
    return offsets.get(_CODE[stream], -1) >= offset


@dataclass(slots=True)
class ProductMinute:
    """One sku in one minute: views, add-to-carts and units purchased.

    Never changed once built (:meth:`counted` builds a new one); not frozen,
    as :class:`~domain.analytics_session.SessionState`, for the cost of building it.
    """

    views: int = 0
    add_to_cart: int = 0
    purchases: int = 0
    offsets: dict[str, int] = field(default_factory=dict)

    def applied(self, stream: Stream, offset: int) -> bool:
        """Whether the record at ``offset`` of ``stream`` is already counted here."""
        return _applied(self.offsets, stream, offset)

    def counted(
        self, stream: Stream, offset: int, *, views: int = 0, add_to_cart: int = 0, units: int = 0
    ) -> ProductMinute:
        return ProductMinute(  # not dataclasses.replace: this runs once per counted click
            views=self.views + views,
            add_to_cart=self.add_to_cart + add_to_cart,
            purchases=self.purchases + units,
            offsets={**self.offsets, _CODE[stream]: offset},
        )

    def to_dict(self) -> dict[str, Any]:
        return {"v": self.views, "a": self.add_to_cart, "p": self.purchases, "o": self.offsets}

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> ProductMinute:
        if data is None:
            return cls()
        return cls(
            views=int(data["v"]),
            add_to_cart=int(data["a"]),
            purchases=int(data["p"]),
            offsets=dict(data.get("o", {})),
        )


@dataclass(frozen=True, slots=True)
class RevenueMinute:
    """One currency in one minute: the exact sum of created orders' totals, and their count."""

    revenue: Decimal = Decimal("0.00")
    orders: int = 0
    offsets: dict[str, int] = field(default_factory=dict)

    def applied(self, stream: Stream, offset: int) -> bool:
        return _applied(self.offsets, stream, offset)

    def counted(self, stream: Stream, offset: int, total: Decimal) -> RevenueMinute:
        return replace(
            self,
            revenue=self.revenue + total,
            orders=self.orders + 1,
            offsets={**self.offsets, _CODE[stream]: offset},
        )

    def to_dict(self) -> dict[str, Any]:
        return {"revenue": format_money(self.revenue), "orders": self.orders, "o": self.offsets}

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> RevenueMinute:
        if data is None:
            return cls()
        return cls(
            revenue=Decimal(data["revenue"]),
            orders=int(data["orders"]),
            offsets=dict(data.get("o", {})),
        )
