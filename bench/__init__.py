"""ShopStream's benchmark harness (``make bench``; see bench/README.md).

Everything here runs against a broker it starts itself (:mod:`localservices.kafka`)
and real ``shopstream worker`` processes; nothing is part of ``make test``.
Pure parts (statistics, result files) live in :mod:`bench.stats` and
:mod:`bench.report` and are unit-tested without a broker.
"""
