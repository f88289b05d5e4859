"""Stream processors, one module per concern.

Each agent decodes its input, calls plain functions of :mod:`domain`, and
writes tables and output topics; business rules live in :mod:`domain`, not here.

May import: :mod:`app.main`, :mod:`app.kafka`, :mod:`app.monitoring`, :mod:`tables`,
:mod:`domain`; never :mod:`app.web` (views read tables, they do not call agents).
"""
