"""The engine's partitioner sends every key to the partition Kafka's default partitioner picks."""
from aiokafka.partitioner import DefaultPartitioner, murmur2 as aiokafka_murmur2
from hypothesis import given, strategies as st

from streams.partitioner import key_hash, murmur2, partition_for_key
from tests.engine_process import engine_printout


@given(key=st.binary(min_size=0, max_size=64), count=st.integers(min_value=1, max_value=64))
def test_same_partition_as_kafkas_default_partitioner(key, count):
    partitions = list(range(count))
    expected = DefaultPartitioner()(key, partitions, partitions)
    assert partition_for_key(key, partitions, partitions) == expected
    assert partition_for_key(key, partitions, partitions) == expected  # cached: the same again


@given(key=st.binary(min_size=0, max_size=80))
def test_murmur2_is_aiokafkas(key):
    assert murmur2(key) == aiokafka_murmur2(key) & 0xFFFFFFFF


def test_kafkas_murmur2_test_vectors():
    # The Java client's murmur2 of these keys (Kafka's test vectors); the partitioner clears the sign bit.
    vectors = {b"": 275646681, b"testing": 2291530147, b"PEACH!": 2546348827, b"Gorz!": 1742407956,
               b"987654321": 577579727, b"_!!_": 2335345241, b"CRINOID": 3603193626}
    for key, expected in vectors.items():
        assert key_hash(key) == expected & 0x7FFFFFFF
    assert partition_for_key(b"testing", list(range(12)), []) == (2291530147 & 0x7FFFFFFF) % 12


def test_a_message_without_key_goes_to_an_available_partition():
    for _ in range(50):
        assert partition_for_key(None, [0, 1, 2, 3], [2, 3]) in (2, 3)
    assert partition_for_key(None, [0, 1], []) in (0, 1)


ENGINE = """
import tempfile
from agents.engine import build_engine
from config.settings import Settings
from streams.partitioner import partition_for_key
engine = build_engine(Settings(data_dir=tempfile.mkdtemp()), embedded=True)
print(engine.app.producer.partitioner is partition_for_key)
"""


def test_the_engines_producer_uses_it():
    assert engine_printout(ENGINE) == "True"


def test_audit_records_are_spread_over_the_partitions_by_their_trace_id():
    from streams.topics import audit_partition
    from tables.settlement import instruction_id

    traces = ["trace-" + instruction_id("FONS", f"H-{n}", "regular", 24290, "2024-03").split("-", 1)[1]
              for n in range(4000)]
    partitions = [audit_partition(trace, 4) for trace in traces]
    assert partitions == [audit_partition(trace, 4) for trace in traces]  # every copy to the same partition
    assert all(800 < partitions.count(p) < 1200 for p in range(4))
