"""Faust's Prometheus sensor with the per-record work taken out of the hot path.

Faust's ``PrometheusMonitor`` updates labelled Prometheus metrics on every record in, every event in and out of a
stream, every table read and write and every send: a label look-up (a lock and a dict of tuples) each time, some
ten per source record in this engine — about a tenth of a worker's CPU in a profile. Faust's base ``Monitor``
already counts the same things in plain dicts and ints. This monitor keeps only that counting on the hot path
(plus a bucket increment for the two latency histograms) and exports the figures when Prometheus scrapes, under
the same names, types and labels as Faust's sensor, so dashboards and alerts are unchanged. Rare events
(rebalances, assignments, commits, send errors, web requests) still go through Faust's own metrics.
"""
from __future__ import annotations

from bisect import bisect_left
from collections import Counter

from faust.sensors.monitor import Monitor
from faust.sensors.prometheus import MS_LATENCY_BUCKETS, FaustMetrics, PrometheusMonitor
from prometheus_client import REGISTRY
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily

#: Faust's metrics that are updated per record; this monitor exports them from its counters instead.
HOT_METRICS = ("messages_received", "active_messages", "messages_received_per_topics",
               "messages_received_per_topics_partition", "events_runtime_latency", "total_events",
               "total_active_events", "total_events_per_stream", "table_operations", "topic_messages_sent",
               "total_sent_messages", "producer_send_latency", "topic_partition_end_offset")


class LatencyBuckets:
    """A cumulative histogram in milliseconds, counted with one bisect and two additions per observation."""

    def __init__(self, bounds=MS_LATENCY_BUCKETS):
        self.bounds = tuple(float(b) for b in bounds)
        self.counts = [0] * (len(self.bounds) + 1)
        self.sum = 0.0

    def observe(self, ms: float) -> None:
        self.counts[bisect_left(self.bounds, ms)] += 1
        self.sum += ms

    def family(self, name: str, documentation: str) -> HistogramMetricFamily:
        cumulative, total = [], 0
        for bound, count in zip((*map(str, self.bounds), "+Inf"), self.counts):
            total += count
            cumulative.append((bound, total))
        return HistogramMetricFamily(name, documentation, buckets=cumulative, sum_value=self.sum)


class LeanPrometheusMonitor(PrometheusMonitor):
    """Per record: the base monitor's plain counters only; labelled metrics are built at scrape time."""

    def __init__(self, metrics: FaustMetrics, prefix: str, **kwargs):
        super().__init__(metrics=metrics, **kwargs)
        self.prefix = prefix
        self.events_runtime_ms = LatencyBuckets()
        self.send_latency_ms = LatencyBuckets()
        self.sends_completed = 0
        self.events_per_stream: Counter = Counter()

    # --- hot path: what Faust's base Monitor does, nothing more ----------------------------------------------
    def on_message_in(self, tp, offset, message) -> None:
        Monitor.on_message_in(self, tp, offset, message)

    def on_stream_event_in(self, tp, offset, stream, event):
        self.events_per_stream[stream] += 1
        return Monitor.on_stream_event_in(self, tp, offset, stream, event)

    def on_stream_event_out(self, tp, offset, stream, event, state=None) -> None:
        Monitor.on_stream_event_out(self, tp, offset, stream, event, state)
        if state is not None:
            self.events_runtime_ms.observe(state["time_total"] * 1000.0)

    def on_message_out(self, tp, offset, message) -> None:
        Monitor.on_message_out(self, tp, offset, message)

    def on_table_get(self, table, key) -> None:
        Monitor.on_table_get(self, table, key)

    def on_table_set(self, table, key, value) -> None:
        Monitor.on_table_set(self, table, key, value)

    def on_table_del(self, table, key) -> None:
        Monitor.on_table_del(self, table, key)

    def on_send_initiated(self, producer, topic, message, keysize, valsize):
        return Monitor.on_send_initiated(self, producer, topic, message, keysize, valsize)

    def on_send_completed(self, producer, state, metadata) -> None:
        self.sends_completed += 1
        self.send_latency_ms.observe((self.time() - state) * 1000.0)

    def track_tp_end_offset(self, tp, offset) -> None:
        Monitor.track_tp_end_offset(self, tp, offset)

    # --- scrape time ---------------------------------------------------------------------------------------
    def collect(self):
        p = self.prefix
        yield _value(CounterMetricFamily, f"{p}_messages_received", "Total messages received",
                     self.messages_received_total)
        yield _value(GaugeMetricFamily, f"{p}_active_messages", "Total active messages", self.messages_active)
        yield _labelled(CounterMetricFamily, f"{p}_messages_received_per_topic", "Messages received per topic",
                        ["topic"], [((topic,), n) for topic, n in list(self.messages_received_by_topic.items())])
        yield _labelled(GaugeMetricFamily, f"{p}_messages_received_per_topics_partition",
                        "Messages received per topic/partition", ["topic", "partition"],
                        [((tp.topic, str(tp.partition)), n) for tp, n in list(self.tp_read_offsets.items())])
        yield self.events_runtime_ms.family(f"{p}_events_runtime_ms", "Events runtime in ms")
        yield _value(CounterMetricFamily, f"{p}_total_events", "Total events received", self.events_total)
        yield _value(GaugeMetricFamily, f"{p}_total_active_events", "Total active events", self.events_active)
        yield _labelled(CounterMetricFamily, f"{p}_total_events_per_stream", "Events received per Stream",
                        ["stream"], [((f"stream.{self._stream_label(s)}.events",), n)
                                     for s, n in list(self.events_per_stream.items())])
        yield _labelled(CounterMetricFamily, f"{p}_table_operations", "Total table operations",
                        ["table", "operation"], _table_operations(self.tables))
        yield _labelled(CounterMetricFamily, f"{p}_topic_messages_sent", "Total messages sent per topic",
                        ["topic"], [((f"topic.{t}",), n) for t, n in list(self.messages_sent_by_topic.items())])
        yield _value(CounterMetricFamily, f"{p}_total_sent_messages", "Total messages sent", self.sends_completed)
        yield self.send_latency_ms.family(f"{p}_producer_send_latency", "Producer send latency in ms")
        yield _labelled(GaugeMetricFamily, f"{p}_topic_partition_end_offset", "Offset ends per topic/partition",
                        ["topic", "partition"],
                        [((tp.topic, str(tp.partition)), n) for tp, n in list(self.tp_end_offsets.items())])


def _value(family, name: str, documentation: str, value) -> object:
    return family(name, documentation, value=value)


def _labelled(family, name: str, documentation: str, labels: list[str], samples) -> object:
    metric = family(name, documentation, labels=labels)
    for values, value in samples:
        metric.add_metric(list(values), value)
    return metric


def _table_operations(tables: dict):
    for name, state in list(tables.items()):
        yield (f"table.{name}", PrometheusMonitor.KEYS_RETRIEVED), state.keys_retrieved
        yield (f"table.{name}", PrometheusMonitor.KEYS_UPDATED), state.keys_updated
        yield (f"table.{name}", PrometheusMonitor.KEYS_DELETED), state.keys_deleted


def install(app, prefix: str, registry=REGISTRY) -> LeanPrometheusMonitor:
    """Replace the monitor set up by ``setup_prometheus_sensors`` with the lean one (same /metrics page)."""
    metrics = app.monitor._metrics
    for name in HOT_METRICS:
        registry.unregister(getattr(metrics, name))
    monitor = app.monitor = LeanPrometheusMonitor(metrics=metrics, prefix=prefix)
    registry.register(monitor)
    return monitor
