"""Exceptions raised by :mod:`localservices.registry`.

They subclass the local-services root error, so a caller that catches "a local
service could not be provided" catches the registry's failures too.
"""

from __future__ import annotations

from localservices.kafka.errors import DistributionFetchError, LocalKafkaError, MissingPrerequisite

__all__ = [
    "DistributionFetchError",
    "MissingPrerequisite",
    "RegistryExited",
    "RegistryStartError",
]


class RegistryStartError(LocalKafkaError):
    """The registry JVM did not come up: it exited, or did not answer in time.

    The message carries the tail of its log, so the cause is visible at once.
    """


class RegistryExited(RegistryStartError):
    """The registry JVM exited while starting (port taken, bad option, ...)."""
