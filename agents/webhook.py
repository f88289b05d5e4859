"""The optional order-status webhook, with retry topics that never block the pipeline.

Off unless ``SHOPSTREAM_WEBHOOK_URL`` is set. One agent reads ``order-status``
and POSTs each change (``Idempotency-Key: order_id:version``). A failure the
receiver may recover from goes to retry topic level 1, then 2, ..., each level
with its own agent and a growing delay (:mod:`domain.webhook_retry`); after
``SHOPSTREAM_WEBHOOK_MAX_ATTEMPTS`` attempts, or at once for a permanent
failure (most 4xx), the change goes to ``dead-letters`` (stage ``webhook``).
The order pipeline never waits for any of this.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import time
from typing import Any

import aiohttp

from app.kafka import topic_names
from app.kafka.codec import decode_json_object, encode_json
from app.kafka.dead_letters import DeadLetter, send_dead_letter
from app.kafka.topics import order_status_topic, raw_topic
from app.main import app, settings
from domain.timefmt import format_time, now_utc, parse_time
from domain.webhook_retry import is_retriable_status, next_step

__all__ = ["WebhookFailure", "call_webhook", "retry_topic_name"]

logger = logging.getLogger(__name__)

CALL_TIMEOUT_SECONDS = 5.0


class WebhookFailure(Exception):
    """A webhook call that did not succeed; ``retriable`` says whether to try again."""

    def __init__(self, message: str, *, retriable: bool) -> None:
        super().__init__(message)
        self.retriable = retriable


def retry_topic_name(level: int) -> str:
    return topic_names.webhook_retry(settings.app_id, level)


async def call_webhook(url: str, change: bytes) -> None:
    """POST one order-status change; raises WebhookFailure unless the receiver says 2xx."""
    value = decode_json_object(change)
    headers = {
        "Content-Type": "application/json",
        "Idempotency-Key": f"{value.get('order_id')}:{value.get('version')}",
    }
    try:
        async with app.http_client.post(
            url,
            data=change,
            headers=headers,
            timeout=aiohttp.ClientTimeout(total=CALL_TIMEOUT_SECONDS),
        ) as response:
            if 200 <= response.status < 300:
                return
            raise WebhookFailure(
                f"HTTP {response.status} from {url}", retriable=is_retriable_status(response.status)
            )
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise WebhookFailure(f"{type(exc).__name__}: {exc} ({url})", retriable=True) from None


def _retry_record(
    change: bytes, origin: dict[str, Any], attempts: int, error: str
) -> dict[str, Any]:
    return {
        "change_b64": base64.b64encode(change).decode(),
        "origin": origin,
        "attempts": attempts,
        "last_error": error,
    }


async def _after_failure(
    change: bytes, origin: dict[str, Any], attempts: int, failure: WebhookFailure, key: bytes | None
) -> None:
    """Send the failed call to its next retry level, or to dead-letters."""
    now = now_utc()
    origin = {**origin, "first_failed_at": origin.get("first_failed_at") or format_time(now)}
    plan = next_step(
        attempts,
        retriable=failure.retriable,
        max_attempts=settings.webhook_max_attempts,
        base_seconds=settings.webhook_retry_base_seconds,
    )
    if plan.level is None:
        await send_dead_letter(
            DeadLetter(
                source_topic=origin["topic"],
                partition=origin["partition"],
                offset=origin["offset"],
                key=key,
                value=change,
                error_type="WebhookFailed",
                error=str(failure),
                stage="webhook",
                attempts=attempts,
                first_failed_at=parse_time(origin["first_failed_at"]),
            )
        )
        return
    record = _retry_record(change, origin, attempts, str(failure))
    record["due_at"] = time.time() + plan.delay_seconds
    await retry_topics[plan.level].send(key=key, value=encode_json(record))


async def _attempt(change: bytes, origin: dict[str, Any], attempts: int, key: bytes | None) -> None:
    url = settings.webhook_url
    if url is None:
        return
    try:
        await call_webhook(url, change)
    except WebhookFailure as failure:
        logger.info("webhook attempt %d failed: %s", attempts, failure)
        await _after_failure(change, origin, attempts, failure, key)


def _retry_agent(level: int) -> Any:
    async def retry_level(stream: Any) -> None:
        async for event in stream.events():
            record = decode_json_object(event.message.value)
            await asyncio.sleep(max(0.0, float(record["due_at"]) - time.time()))
            change = base64.b64decode(record["change_b64"])
            await _attempt(change, record["origin"], int(record["attempts"]) + 1, event.message.key)

    retry_level.__name__ = f"webhook_retry_{level}"
    return retry_level


retry_topics: dict[int, Any] = {}

if settings.webhook_url is not None:
    for _level in range(1, settings.webhook_max_attempts):
        retry_topics[_level] = raw_topic(retry_topic_name(_level), internal=True)
        app.agent(retry_topics[_level], name=f"webhook-retry-{_level}")(_retry_agent(_level))

    @app.agent(order_status_topic, name="order-status-webhook")
    async def order_status_webhook(stream: Any) -> None:
        """First attempt for every status change; failures move on to the retry topics."""
        async for event in stream.events():
            message = event.message
            origin = {
                "topic": message.topic,
                "partition": message.partition,
                "offset": message.offset,
            }
            await _attempt(message.value, origin, 1, message.key)
