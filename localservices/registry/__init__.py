"""A real Confluent-compatible schema registry (Apicurio Registry, no Docker).

    from localservices.registry import LocalSchemaRegistry

    with LocalSchemaRegistry() as registry:
        ...  # registry.url is the SCHEMA_REGISTRY_URL (Apicurio's /apis/ccompat/v7)

The pinned Apicurio app is fetched once with Maven into ``~/.cache/shopstream``
(``$SHOPSTREAM_CACHE_DIR``), like Kafka; later runs need no network.
"""

from localservices.registry.distribution import (
    APICURIO_VERSION,
    ApicurioDistribution,
    ensure_apicurio,
)
from localservices.registry.errors import RegistryExited, RegistryStartError
from localservices.registry.server import CCOMPAT_PATH, LocalSchemaRegistry

__all__ = [
    "APICURIO_VERSION",
    "CCOMPAT_PATH",
    "ApicurioDistribution",
    "LocalSchemaRegistry",
    "RegistryExited",
    "RegistryStartError",
    "ensure_apicurio",
]
