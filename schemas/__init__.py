"""ShopStream's JSON Schema documents (draft 2020-12), one per contract topic value.

``<topic>-value.json`` is the machine-readable form of DESIGN.md's shape of
that topic's values, registered under the subject of the same name. The
documents are data: this package only makes them installable
(``importlib.resources.files("schemas")``); :mod:`app.schemas` reads them.

The models are closed (``additionalProperties: false``) so that adding an
optional field stays a backward-compatible change (REGISTRY_NOTES.md); the
worker itself ignores fields a document does not declare.
"""
