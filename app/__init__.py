"""ShopStream's application layer: the Faust App and everything that wires it to the world.

At the top: :mod:`app.main` (the one ``faust.App``), :mod:`app.settings` (the one
settings object: every environment variable), :mod:`app.__main__` and
:mod:`app.commands` (the ``shopstream`` command line) and :mod:`app.demo`.
Sub-packages, one per concern: :mod:`app.kafka` (topics, codec, dead letters,
broker checks), :mod:`app.replay`, :mod:`app.cluster` (worker-to-worker fan-out),
:mod:`app.web` (HTTP views, OpenAPI, dashboard), :mod:`app.monitoring`
(Prometheus metrics) and :mod:`app.faust_patches` (version-guarded fixes to Faust).

May import: :mod:`domain`, :mod:`tables`, :mod:`localservices`; ``app.web`` never
imports :mod:`agents` (views read tables, agents write them).
"""
