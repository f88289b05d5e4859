"""ShopStream on the wire: what goes to and comes from Kafka, spelled out once.

The topic catalogue (:mod:`~app.kafka.topic_names` for the names fixed by
DESIGN.md, :mod:`~app.kafka.topics` and :mod:`~app.kafka.analytics_topics` for
the Faust topics), the one JSON codec, dead letters (writing them, and the
``shopstream dlq`` commands that read and re-drive them), the start-up checks
that turn broker trouble into one line (:mod:`~app.kafka.preflight`), and the
local broker used when ``KAFKA_BROKER`` is unset.

May import: :mod:`app.settings`, :mod:`app.main`, :mod:`app.monitoring`,
:mod:`domain`, :mod:`localservices`; never :mod:`agents` or :mod:`app.web`.
"""
