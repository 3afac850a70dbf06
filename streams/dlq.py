"""The dead-letter queue (``dlq``): every record the product could not accept, unchanged, with the reason.

Headers: ``gp-reason-class`` (a fixed label: invalid_json, unknown_type, missing_field, invalid_identifier,
invalid_date, impossible_value, schema, key_mismatch, internal_error), ``gp-reason`` (field and rule, never the
personal data in them), ``gp-original-topic``, ``gp-original-partition``, ``gp-original-offset``. The record's key
and value are the original bytes (the DLQ is a protected topic).
"""
from __future__ import annotations


def dlq_headers(topic: str, partition: int, offset: int, reason_class: str, reason: str) -> dict[str, bytes]:
    return {
        "gp-reason-class": reason_class.encode(),
        "gp-reason": reason[:500].encode(),
        "gp-original-topic": topic.encode(),
        "gp-original-partition": str(partition).encode(),
        "gp-original-offset": str(offset).encode(),
    }


async def send_to_dlq(dlq_topic, record, reason_class: str, reason: str) -> None:
    message = record.message
    await dlq_topic.send(key=record.key, value=record.value,
                         headers=dlq_headers(message.topic, message.partition, message.offset, reason_class, reason))
