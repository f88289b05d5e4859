"""``shopstream replay``: rebuild every table from the input topics.

:mod:`~app.replay.plan` decides without Kafka (plans, guards, progress);
:mod:`~app.replay.generation` records replay generations so workers wipe stale
stores; :mod:`~app.replay.command` carries out the Kafka steps.

May import: :mod:`app.kafka`, :mod:`app.settings`, :mod:`domain`; never
:mod:`agents` or :mod:`app.web`.
"""
