"""Stream-replay tests: recorded ``shopstream simulate`` logs, replayed and checked.

``oracle`` is an independent, plain-Python fold over a recorded log (stdlib and
``decimal`` only, nothing from ``app``, ``agents``, ``domain`` or ``tables``)
that says what every order, customer and analytics endpoint must answer once
a worker has consumed the log; ``logs/`` holds the recordings and
``record_logs`` reproduces them.
"""
