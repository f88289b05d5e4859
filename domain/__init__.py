"""Pure business rules: order state machine, validation, money, fraud, analytics folds.

Plain synchronous functions and values, no Faust, no Kafka, no I/O: the agents
call them, and the unit tests check them without an event loop (mypy --strict).

May import: the standard library and :mod:`domain` itself; nothing else of the project.
"""
