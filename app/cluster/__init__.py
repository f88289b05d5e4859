"""Answers that need the whole consumer group: ask every worker, check coverage, merge.

:mod:`~app.cluster.fanout` asks each member of the group the same question over
HTTP; :mod:`~app.cluster.analytics` turns the members' partial analytics into
one global answer (or says which partitions are missing).

May import: :mod:`app.main`, :mod:`tables`, :mod:`domain`; never :mod:`agents`
or :mod:`app.web` (the views call in here, not the other way).
"""
