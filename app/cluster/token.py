"""How workers of one group prove to each other that a request is theirs.

Worker-to-worker paths (``/internal/...``, Faust's ``/router/...``) answer only
requests that carry the group's shared secret, ``SHOPSTREAM_CLUSTER_TOKEN``, in
this header; :mod:`app.cluster.fanout` sends it and :mod:`app.web.access`
checks it. Kept free of imports so the web driver can load it early.
"""

from __future__ import annotations

from typing import Final

__all__ = ["CLUSTER_TOKEN_HEADER", "INTERNAL_PATH_PREFIXES"]

CLUSTER_TOKEN_HEADER: Final = "X-ShopStream-Cluster-Token"
#: Paths served for other workers only, not for clients (marked internal in the OpenAPI).
INTERNAL_PATH_PREFIXES: Final = ("/internal/", "/router")
