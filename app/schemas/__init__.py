"""Schemas and the schema registry (DESIGN.md "Schemas and the schema registry").

:mod:`~app.schemas.documents` reads the repository's JSON Schema documents
(``schemas/``), :mod:`~app.schemas.validation` validates values against a
document, :mod:`~app.schemas.compatibility` says, field by field, whether a
changed document breaks existing producers; the registry client, the framed
(Confluent wire format) codec and the ``shopstream schemas`` commands build on them.

May import: :mod:`app.settings`, :mod:`app.kafka`, :mod:`app.monitoring`,
:mod:`domain`, :mod:`schemas`; never :mod:`agents` or :mod:`app.web`.
"""
