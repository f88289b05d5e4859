"""Exceptions raised by :mod:`localservices.kafka`.

One root (:class:`LocalKafkaError`) so callers can catch "the local broker could
not be provided" in one place; narrow subclasses say which step failed.
"""

from __future__ import annotations

__all__ = [
    "BrokerExited",
    "BrokerStartError",
    "DistributionFetchError",
    "LocalKafkaError",
    "MissingPrerequisite",
]


class LocalKafkaError(Exception):
    """Root of every error raised by :mod:`localservices.kafka`."""


class MissingPrerequisite(LocalKafkaError):
    """A tool the local broker needs (java >= 17, mvn) is absent or too old.

    The message is one human-readable line that says what to install.
    """


class DistributionFetchError(LocalKafkaError):
    """Maven could not fetch the pinned Kafka release into the cache."""


class BrokerStartError(LocalKafkaError):
    """A broker process did not come up: it exited, or did not answer in time.

    The message includes the tail of the broker's log so the cause is visible
    without hunting for the data directory.
    """


class BrokerExited(BrokerStartError):
    """A broker JVM exited while it was starting (bad config, port taken, ...)."""
