"""Topic names of interface contract v1 (§1) and the product's internal topics (prefixed with the app id)."""
from __future__ import annotations

from streams.events import PAYERS, SOURCE_TOPICS

PAYMENT_TOPICS = {payer: f"payments.{payer.lower()}" for payer in PAYERS}
CONTROL_TOPIC = "control.periods"
DLQ_TOPIC = "dlq"
EMBEDDED_MARKER_TOPIC = "groeipakket.embedded-broker"  # created by `groeipakket broker`: the workarounds apply


def person_events_topic(app_id: str) -> str:
    """Validated facts and household links, keyed by person (INSZ): the routing hop."""
    return f"{app_id}-person-events"


def household_events_topic(app_id: str) -> str:
    """Facts re-keyed to the household(s) they affect, and period-close markers per partition."""
    return f"{app_id}-household-events"


def audit_topic(app_id: str) -> str:
    """The trace of every instruction, keyed by trace id (compacted)."""
    return f"{app_id}-audit"


def audit_partition(trace_id: str, partitions: int) -> int:
    """The audit topic's partition of a trace: by the trace id's first 32 bits (the id is ``trace-`` and a
    SHA-256 digest in hex: uniform, and the same for every copy, as compaction needs). Kafka's hash of the key
    cost 4 µs (4 % of a close) for a key that never comes again, and pushed the keys that do out of the
    partitioner's cache; one partition per household would put all the traces of a close in one partition, one
    produce request at a time."""
    return int(trace_id[6:14], 16) % partitions


def all_topics(app_id: str, partitions: int) -> dict[str, int]:
    """Every topic the product reads or writes, with its partition count (co-partitioned where keyed alike)."""
    topics = {name: partitions for name in SOURCE_TOPICS}
    topics.update({name: partitions for name in PAYMENT_TOPICS.values()})
    topics.update({CONTROL_TOPIC: 1, DLQ_TOPIC: partitions, person_events_topic(app_id): partitions,
                   household_events_topic(app_id): partitions, audit_topic(app_id): partitions})
    return topics



def compacted_topics(app_id: str) -> set[str]:
    return {audit_topic(app_id)}
