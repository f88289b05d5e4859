"""A real local Apache Kafka (KRaft, no Docker) for tests and the demo.

    from localservices.kafka import LocalKafkaCluster

    with LocalKafkaCluster(brokers=1) as kafka:
        ...  # kafka.bootstrap_servers for aiokafka, kafka.url for Faust

The pinned release is fetched once with Maven into ``~/.cache/shopstream``
(``$SHOPSTREAM_CACHE_DIR``); later runs need no network.
"""

from localservices.kafka.cli import run_foreground
from localservices.kafka.cluster import LocalKafkaCluster
from localservices.kafka.distribution import KAFKA_VERSION, KafkaDistribution, ensure_distribution
from localservices.kafka.errors import (
    BrokerExited,
    BrokerStartError,
    DistributionFetchError,
    LocalKafkaError,
    MissingPrerequisite,
)

__all__ = [
    "KAFKA_VERSION",
    "BrokerExited",
    "BrokerStartError",
    "DistributionFetchError",
    "KafkaDistribution",
    "LocalKafkaCluster",
    "LocalKafkaError",
    "MissingPrerequisite",
    "ensure_distribution",
    "run_foreground",
]
