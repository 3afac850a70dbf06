"""Domain metrics (Prometheus). Labels carry classes, types, payers and components — never personal data."""
from prometheus_client import Counter, Gauge, Histogram

_CHILDREN: dict = {}  # (metric, label values) -> the labelled child


def labelled(metric, *values: str):
    """``metric.labels(*values)``, kept: ``labels()`` converts, checks and locks on every call, which cost 6 % of
    the ingest's samples (a counter per record) and as much per instruction line in a close. The label values
    are classes, types, payers, components and partitions: a bounded set."""
    key = (metric, values)
    child = _CHILDREN.get(key)
    if child is None:
        child = _CHILDREN[key] = metric.labels(*values)
    return child


CONSUMED = Counter("groeipakket_source_records_total", "Valid source records consumed", ["topic", "event_type"])
REJECTED = Counter("groeipakket_rejected_records_total", "Records sent to the DLQ (source records, and internal messages that failed)", ["topic", "reason_class"])
FACTS = Counter("groeipakket_household_facts_total", "Facts applied to household states by outcome", ["outcome"])
LINKS_SKIPPED = Counter("groeipakket_links_skipped_total",
                        "Link messages not sent: the link is known to be made or on its way (this worker)")
PARKED = Gauge("groeipakket_parked_persons", "Persons with facts but no known household yet (this worker)")
INSTRUCTIONS = Counter("groeipakket_instructions_total", "Payment instructions published", ["payer", "kind"])
IMPLIED_RUNS = Counter("groeipakket_implied_runs_total",
                       "Regular runs published as the household's forecast re-dated, its state not written")
AMOUNT = Counter("groeipakket_instructed_cents_total", "Euro cents instructed (signed sums per sign)",
                 ["payer", "kind", "component", "sign"])
RECOMPUTE = Histogram("groeipakket_recompute_seconds", "Time to recompute a household after a fact or close",
                      buckets=(0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.5, 1, 5))
LATENCY = Histogram("groeipakket_source_to_instruction_seconds", "From a source record's timestamp to its instruction",
                    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300))
LAST_CLOSED = Gauge("groeipakket_last_closed_period_index", "Latest closed period (year*12+month-1) per partition",
                    ["partition"])
CLOSE_SECONDS = Histogram("groeipakket_period_close_seconds", "Time of one partition's regular run",
                          buckets=(0.1, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600))
HOUSEHOLDS_HELD = Gauge("groeipakket_households_held", "Household states held by this worker (active partitions)")
CHILDREN_PAID = Gauge("groeipakket_children_paid", "Children with a line in the latest regular run, per partition",
                      ["partition"])
STATE_CACHE_LOOKUPS = Gauge("groeipakket_state_cache_lookups",
                            "Household states looked up in the worker's state cache since it started, per result "
                            "(hit: decoded state reused; miss: read and decoded from the table)", ["result"])
CONSUMER_LAG = Gauge("groeipakket_consumer_lag_records",
                     "Records between the committed offset and the high watermark, per input topic", ["topic"])
EVENT_LOOP_LAG = Histogram("groeipakket_event_loop_lag_seconds",
                           "How much later than asked a short sleep of the worker's event loop woke up",
                           buckets=(0.01, 0.05, 0.1, 0.5, 1, 2, 4, 10, 30))
GC_PAUSE = Histogram("groeipakket_gc_pause_seconds", "Duration of a collection of the cycle collector",
                     ["generation"], buckets=(0.001, 0.01, 0.05, 0.1, 0.5, 1, 2, 5, 10))
