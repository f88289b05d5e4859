"""Dead letters always fit, and ``shopstream dlq`` re-drives even what a letter cannot carry.

Given a worker, when a poison value of almost the broker's 1 MiB limit
arrives on ``orders`` (its base64 alone would exceed what a producer may
send), then it is dead-lettered with its coordinates, size, SHA-256 and a
prefix marked as truncated; ``dlq show`` prints the original fetched from
``orders`` by offset, and ``dlq requeue`` sends the whole original back (the
worker dead-letters it again: same size and hash, a new offset). When the
original of a truncated letter is gone by retention, ``show`` says so and
``requeue`` refuses, naming it.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable

from aiokafka import AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic, RecordsToDelete

from app.kafka.dead_letters import LETTER_MAX_BYTES, DeadLetter, encode_letter
from app.kafka.topic_names import DEAD_LETTERS, INPUT_TOPICS
from tests.conftest import BrokerAddress
from tests.support.kafka_io import end_offsets, produce_raw, read_topic, start_group_at_the_end
from tests.support.worker_process import WorkerProcess, shopstream, shopstream_run

#: Just under Kafka's default message.max.bytes (1,048,588) with the record's framing.
GIANT = 1_048_588 - 300


async def test_a_giant_poison_value_fits_its_letter_and_is_requeued_whole(
    start_worker: Callable[..., WorkerProcess], kafka_broker: BrokerAddress, unique: str
) -> None:
    bootstrap = kafka_broker.bootstrap
    await start_group_at_the_end(bootstrap, f"shopstream-test-{unique}", INPUT_TOPICS)
    worker = start_worker()
    worker.wait_ready()
    letters_from = await end_offsets(bootstrap, DEAD_LETTERS)
    key = f"{unique}-giant"
    value = b"\xff" + os.urandom(GIANT - len(key))
    digest = hashlib.sha256(value).hexdigest()

    # When a poison value of almost 1 MiB arrives
    [(topic, partition, offset)] = await produce_raw(
        bootstrap, [("orders", key.encode(), value)], max_request_size=2 * 1_048_576
    )

    # Then its letter carries coordinates, size, hash and a prefix, within the limit
    [letter] = await read_topic(
        bootstrap,
        DEAD_LETTERS,
        key_prefix=key,
        until=lambda rs: len(rs) >= 1,
        timeout=60,
        start_offsets=letters_from,
    )
    record = letter["value"]
    assert (record["source_topic"], record["partition"], record["offset"]) == (
        topic,
        partition,
        offset,
    )
    assert record["value_truncated"] is True and record["value_size"] == len(value)
    assert record["value_sha256"] == digest and letter["size"] <= LETTER_MAX_BYTES

    # ... which dlq show completes from the source topic
    env = {"KAFKA_BROKER": kafka_broker.url}
    letter_id = letter["id"]  # partition:offset in dead-letters, as `dlq list` names it
    shown = shopstream("dlq", "show", letter_id, env=env)
    assert f"value (from orders[{partition}]@{offset})" in shown and "bytes in all" in shown

    # When it is requeued, the whole original goes back (and is poison again)
    assert "requeued 1" in shopstream("dlq", "requeue", letter_id, env=env)
    letters = await read_topic(
        bootstrap,
        DEAD_LETTERS,
        key_prefix=key,
        until=lambda rs: len(rs) >= 2,
        timeout=60,
        start_offsets=letters_from,
    )
    again = letters[1]["value"]
    assert again["offset"] != offset
    assert (again["value_size"], again["value_sha256"]) == (len(value), digest)


async def test_a_truncated_letter_whose_original_is_gone_is_not_requeued(
    kafka_broker: BrokerAddress, unique: str
) -> None:
    # Given a truncated letter whose source record retention has deleted
    bootstrap = kafka_broker.bootstrap
    source = f"dlq-source-{unique}"
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(source, 1, 1)])
        value = os.urandom(GIANT)
        [(_, partition, offset)] = await produce_raw(
            bootstrap, [(source, b"k", value)], max_request_size=2 * 1_048_576
        )
        await admin.delete_records({TopicPartition(source, partition): RecordsToDelete(offset + 1)})
    finally:
        await admin.close()
    key = f"{unique}-gone".encode()
    letter_key, letter_value = encode_letter(
        DeadLetter(source, partition, offset, key, value, "UndecodableValue", "not JSON", "decode")
    )
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        sent = await producer.send_and_wait(DEAD_LETTERS, letter_value, key=letter_key)
    finally:
        await producer.stop()

    # Then show and requeue say that it is gone
    env = {"KAFKA_BROKER": kafka_broker.url}
    letter_id = f"{sent.partition}:{sent.offset}"
    shown = shopstream("dlq", "show", letter_id, env=env)
    assert "original: GONE" in shown and "deleted by retention" in shown
    requeue = shopstream_run("dlq", "requeue", letter_id, env=env)
    assert requeue.returncode == 1
    assert "requeued 0" in requeue.stdout and f"not requeued {letter_id}" in requeue.stderr
