"""Real local services for tests, the demo and the benchmarks, without Docker.

:mod:`localservices.kafka` fetches Apache Kafka from Maven Central and runs a
KRaft broker or cluster on loopback. One way to start a local service, used by
``make demo``, the test fixtures and ``make bench`` alike.

May import: the standard library only (no :mod:`app`, no Faust): the services
start before any ShopStream code runs.
"""
