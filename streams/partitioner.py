"""Kafka's default partitioning of keyed messages (the Java client's murmur2), with each key's hash cached.

aiokafka's ``DefaultPartitioner`` computes murmur2 in pure Python on every keyed send (~5 µs for an INSZ or a
household id), and the engine sends the same keys again and again: a person's links and facts, a household's
facts, instructions and changelog records. Profiled on a worker replaying August for 100 000 households (py-spy),
hashing keys took 2–3 % of its samples. :func:`partition_for_key` picks the same partition as the default
partitioner for every key (``tests/test_partitioner.py``) — which partition a key lands on is part of the
contract (payers and co-partitioned tables rely on it) — and keeps the hashes of the keys seen last.
"""
from __future__ import annotations

import random
from functools import lru_cache

from aiokafka.partitioner import murmur2

KEYS_REMEMBERED = 1 << 17  # ~20 MiB at most


@lru_cache(maxsize=KEYS_REMEMBERED)
def key_hash(key: bytes) -> int:
    """The key's murmur2 hash as Kafka's default partitioner uses it (sign bit cleared)."""
    return murmur2(key) & 0x7FFFFFFF


def partition_for_key(key: bytes | None, all_partitions: list[int], available: list[int]) -> int:
    """The partition of a message (aiokafka's partitioner interface): by the key's hash, or any available
    partition for a message without a key."""
    if key is None:
        return random.choice(available or all_partitions)
    return all_partitions[key_hash(key) % len(all_partitions)]
