"""The monitoring of the production-like deployment (deploy/prometheus, deploy/grafana), checked without Docker.

* every metric named in the Grafana dashboard and the alert rules is exported by a worker: a domain metric of
  agents/metrics.py or Faust's Prometheus sensor (names as prometheus_client exposes them: _total, _bucket, ...),
  and every label matcher names a label the metric has;
* alert rules have the required fields; with `promtool` (Debian package `prometheus`) the configuration and rules
  are checked and the alert expressions run against synthetic series (`promtool test rules`). Without that binary
  those parts are skipped.
"""
from __future__ import annotations

import json
import re
import shutil
import subprocess
import textwrap
from pathlib import Path

import pytest
import yaml

from tests.deploy_paths import ALERTS, DASHBOARD, PROMETHEUS, ROOT


# ---------------------------------------------------------------------------------------------------------------
# Metric names in the dashboard and the alert rules
# ---------------------------------------------------------------------------------------------------------------

_SUFFIXES = {"counter": ("_total", "_created"), "gauge": ("",), "histogram": ("_bucket", "_count", "_sum", "_created"),
             "summary": ("", "_count", "_sum", "_created"), "info": ("_info",), "stateset": ("",),
             "gaugehistogram": ("_bucket", "_gcount", "_gsum"), "unknown": ("",)}


def _metric_family(metric) -> tuple[str, str, tuple[str, ...]]:
    return metric._name, metric._type, tuple(metric._labelnames)


def _faust_prefix() -> str:
    source = (ROOT / "agents" / "engine.py").read_text()
    return re.search(r'setup_prometheus_sensors\([^)]*name_prefix="([^"]+)"', source).group(1)


@pytest.fixture(scope="module")
def exported() -> dict[str, set[str] | None]:
    """Every sample name a worker's /metrics can show -> its label names (None: not known, not checked)."""
    from prometheus_client import REGISTRY, CollectorRegistry
    from prometheus_client.metrics import MetricWrapperBase

    import agents.metrics as domain
    from faust.sensors.prometheus import FaustMetrics

    names: dict[str, set[str] | None] = {}
    for family in REGISTRY.collect():  # the registry the worker serves (domain metrics, process, platform, gc)
        for suffix in _SUFFIXES.get(family.type, ("",)):
            names.setdefault(family.name + suffix, None)
        for sample in family.samples:
            names.setdefault(sample.name, None)
    faust_metrics = FaustMetrics.create(CollectorRegistry(), _faust_prefix().replace("-", "_").replace(".", "_"))
    metrics = [m for m in vars(domain).values() if isinstance(m, MetricWrapperBase)] + list(faust_metrics)
    for metric in metrics:
        name, kind, labels = _metric_family(metric)
        for suffix in _SUFFIXES[kind]:
            names[name + suffix] = set(labels)
    return names


_STRING = re.compile(r'"(?:\\.|[^"\\])*"|\'(?:\\.|[^\'\\])*\'|`[^`]*`')
_GRAFANA_VARIABLE = re.compile(r"\$\{[^}]*\}|\$[A-Za-z_][A-Za-z0-9_]*")
_SELECTOR = re.compile(r"([A-Za-z_:][A-Za-z0-9_:]*)?\s*\{([^}]*)\}")
_MATCHER = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)\s*(?:=~|!~|!=|=)\s*\"\"")
_RANGE = re.compile(r"\[[^\]]*\]")
_GROUPING = re.compile(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)")
_IDENTIFIER = re.compile(r"(?<![A-Za-z0-9_:.])([A-Za-z_:][A-Za-z0-9_:]*)(?![A-Za-z0-9_:])(?!\s*\()")
_KEYWORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "bool", "and", "or", "unless",
             "offset", "inf", "nan", "atan2"}
_ALWAYS = {"up": {"job", "instance", "service"}}  # series Prometheus adds to every target
_TARGET_LABELS = {"job", "instance", "service", "__name__"}


def promql_selectors(expr: str) -> tuple[set[str], list[tuple[str, set[str]]]]:
    """(metric names, [(metric, label names matched)]) of a PromQL expression (Grafana variables allowed)."""
    text = _GRAFANA_VARIABLE.sub("0", _STRING.sub('""', expr))
    matchers = [(name or "", set(_MATCHER.findall(body))) for name, body in _SELECTOR.findall(text)]
    text = _SELECTOR.sub(lambda m: f" {m.group(1) or ''} ", text)
    text = _GROUPING.sub(" ", _RANGE.sub(" ", text))
    names = {token for token in _IDENTIFIER.findall(text) if token.lower() not in _KEYWORDS}
    return names, matchers


def test_promql_selector_parsing():
    names, matchers = promql_selectors(
        'sum by (topic, partition) (rate(a_total{reason_class="x", topic=~"$t"}[$__rate_interval])) '
        '/ on (topic) group_left b_gauge > bool 1e3 unless on () histogram_quantile(0.9, c_bucket) offset 1h '
        'or vector(0) * time()')
    assert names == {"a_total", "b_gauge", "c_bucket"}
    assert matchers == [("a_total", {"reason_class", "topic"})]


def _dashboard_expressions() -> list[tuple[str, str]]:
    dashboard = json.loads(DASHBOARD.read_text())
    found = []
    for panel in dashboard["panels"]:
        for inner in [panel, *panel.get("panels", [])]:
            for target in inner.get("targets", []):
                found.append((f"panel {inner['title']!r} {target['refId']}", target["expr"]))
    for variable in dashboard.get("templating", {}).get("list", []):
        query = variable.get("query")
        query = query.get("query") if isinstance(query, dict) else query
        if variable.get("type") == "query" and query:
            inner = re.fullmatch(r"\s*label_values\((.*),\s*[A-Za-z_][A-Za-z0-9_]*\s*\)\s*", query)
            found.append((f"variable {variable['name']}", inner.group(1) if inner else query))
    return found


def _alert_rules() -> list[dict]:
    return [rule for group in yaml.safe_load(ALERTS.read_text())["groups"] for rule in group["rules"]]


def _check_expressions(expressions, exported):
    problems = []
    for where, expr in expressions:
        names, matchers = promql_selectors(expr)
        for name in sorted(names - set(exported) - set(_ALWAYS)):
            problems.append(f"{where}: {name} is not exported by the workers")
        for name, labels in matchers:
            allowed = _ALWAYS.get(name) or exported.get(name)
            if not name or allowed is None:
                continue
            unknown = labels - allowed - _TARGET_LABELS - ({"le"} if name.endswith("_bucket") else set())
            if unknown:
                problems.append(f"{where}: {name} has no label(s) {sorted(unknown)}")
    return problems


def test_dashboard_queries_name_exported_metrics(exported):
    expressions = _dashboard_expressions()
    assert len(expressions) >= 20
    assert not _check_expressions(expressions, exported)


def test_alert_rules_name_exported_metrics(exported):
    expressions = [(f"alert {rule['alert']}", rule["expr"]) for rule in _alert_rules()]
    assert not _check_expressions(expressions, exported)


def test_an_unknown_metric_is_reported(exported):
    problems = _check_expressions([("x", 'sum(rate(groeipakket_no_such_metric_total[5m]))'),
                                   ("y", 'groeipakket_instructions_total{iban="x"}')], exported)
    assert problems == ["x: groeipakket_no_such_metric_total is not exported by the workers",
                        "y: groeipakket_instructions_total has no label(s) ['iban']"]


_PERSONAL_LABEL = re.compile(r"insz|iban|ssn|national|rrn|person|child|household|subject|receiver|account|"
                             r"name$|key$|_id$|^id$|event_id|instruction", re.IGNORECASE)


def test_no_metric_label_can_carry_personal_data(exported):
    """Labels are fixed vocabularies (topic, payer, class, ...); a label named after a person, account or key
    would put personal data into Prometheus."""
    suspicious = {name: sorted(label for label in labels if _PERSONAL_LABEL.search(label))
                  for name, labels in exported.items() if labels}
    assert not {name: labels for name, labels in suspicious.items() if labels}


def test_dashboard_shows_flow_latency_payments_dlq_and_periods():
    used = set()
    for _, expr in _dashboard_expressions():
        used |= promql_selectors(expr)[0]
    required = {
        "groeipakket_source_records_total", "groeipakket_household_facts_total",          # flow
        "groeipakket_source_to_instruction_seconds_bucket", "groeipakket_recompute_seconds_bucket",  # latency
        "groeipakket_instructions_total", "groeipakket_instructed_cents_total",           # payments per payer
        "groeipakket_rejected_records_total",                                             # DLQ
        "groeipakket_parked_persons", "groeipakket_last_closed_period_index",             # state, periods
        "groeipakket_period_close_seconds_bucket",
        "groeipakket_faust_topic_partition_end_offset", "groeipakket_faust_topic_partition_offset_commited",
    }
    assert required <= used, sorted(required - used)


def test_dashboard_layout():
    dashboard = json.loads(DASHBOARD.read_text())
    assert dashboard["uid"] and dashboard["title"] and dashboard["schemaVersion"] >= 36
    ids = [p["id"] for p in dashboard["panels"]]
    assert len(ids) == len(set(ids))
    cells = {}
    for panel in dashboard["panels"]:
        grid = panel["gridPos"]
        assert grid["x"] + grid["w"] <= 24, panel["title"]
        for x in range(grid["x"], grid["x"] + grid["w"]):
            for y in range(grid["y"], grid["y"] + grid["h"]):
                assert (x, y) not in cells, f"{panel['title']!r} overlaps {cells[(x, y)]!r}"
                cells[(x, y)] = panel["title"]
        refs = [t["refId"] for t in panel.get("targets", [])]
        assert len(refs) == len(set(refs)), panel["title"]
        if panel["type"] != "row":
            assert refs, f"{panel['title']!r} has no query"


# ---------------------------------------------------------------------------------------------------------------
# Alert rules
# ---------------------------------------------------------------------------------------------------------------

REQUIRED_ALERTS = {
    "GroeipakketWorkerDown": {"up"},
    "GroeipakketConsumerLagHigh": {"groeipakket_faust_topic_partition_end_offset",
                                   "groeipakket_faust_topic_partition_offset_commited"},
    "GroeipakketCommitsStalled": {"groeipakket_faust_topic_partition_offset_commited"},
    "GroeipakketDLQGrowing": {"groeipakket_rejected_records_total"},
    "GroeipakketRecoveryRunningLong": {"groeipakket_faust_total_rebalances_recovering"},
    "GroeipakketNoRegularRunAfterClose": {"groeipakket_last_closed_period_index", "groeipakket_instructions_total"},
    "GroeipakketWorkerBlocked": {"groeipakket_event_loop_lag_seconds_count",
                                 "groeipakket_event_loop_lag_seconds_bucket"},
}


def test_alert_rules_have_the_required_fields():
    rules = _alert_rules()
    names = [rule["alert"] for rule in rules]
    assert len(names) == len(set(names))
    for rule in rules:
        assert set(rule) <= {"alert", "expr", "for", "keep_firing_for", "labels", "annotations"}, rule["alert"]
        assert re.fullmatch(r"Groeipakket[A-Z][A-Za-z]+", rule["alert"])
        assert rule["expr"].strip()
        assert rule["labels"]["severity"] in {"warning", "critical"}
        assert rule["annotations"]["summary"].strip() and rule["annotations"]["description"].strip()
        if "for" in rule:
            assert re.fullmatch(r"\d+[smhd]", rule["for"])
    for name, metrics in REQUIRED_ALERTS.items():
        rule = next((r for r in rules if r["alert"] == name), None)
        assert rule is not None, f"missing alert {name}"
        assert metrics <= promql_selectors(rule["expr"])[0], name
    regular = next(r for r in rules if r["alert"] == "GroeipakketNoRegularRunAfterClose")
    assert ("groeipakket_instructions_total", {"kind"}) in promql_selectors(regular["expr"])[1]


def _promtool() -> str:
    binary = shutil.which("promtool")
    if binary is None:
        pytest.skip("promtool not installed (apt-get install prometheus)")
    return binary


def test_promtool_checks_config_and_rules():
    promtool = _promtool()
    for args in (["check", "config", str(PROMETHEUS)], ["check", "rules", str(ALERTS)]):
        result = subprocess.run([promtool, *args], capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, result.stdout + result.stderr


W1, W2 = 'instance="worker-1:6066", job="groeipakket-worker"', 'instance="worker-2:6066", job="groeipakket-worker"'
LAST_CLOSED = "groeipakket_last_closed_period_index"
REGULAR = 'groeipakket_instructions_total{kind="regular", payer="FONS", %s}' % W1
REGULAR_CREATED = 'groeipakket_instructions_created{kind="regular", payer="FONS", %s}' % W1


def _scenarios() -> list[tuple[str, list[tuple[str, str]], str, list[tuple[str, float]]]]:
    """(alert, input series, eval time, expected samples of the alert's expression)."""
    end, committed = "groeipakket_faust_topic_partition_end_offset", "groeipakket_faust_topic_partition_offset_commited"
    offsets = [
        (f'{end}{{topic="src.tax", partition="0", {W1}}}', "20000x20"),
        (f'{committed}{{topic="src.tax", partition="0", {W1}}}', "5000x20"),        # 15000 behind, not moving
        (f'{end}{{topic="src.tax", partition="1", {W2}}}', "0+100x20"),
        (f'{committed}{{topic="src.tax", partition="1", {W2}}}', "0+100x20"),        # keeps up
        (f'{end}{{topic="src.population", partition="0", {W2}}}', "500x20"),
        (f'{committed}{{topic="src.population", partition="0", {W2}}}', "0+10x20"),  # behind but moving
    ]
    rejected, consumed = "groeipakket_rejected_records_total", "groeipakket_source_records_total"
    dlq = [
        (f'{rejected}{{topic="src.tax", reason_class="invalid_date", {W1}}}', "0+4x30"),
        (f'{consumed}{{topic="src.tax", event_type="tax.assessed", {W1}}}', "0+4x30"),
        (f'{rejected}{{topic="src.care", reason_class="schema", {W1}}}', "0+1x30"),
        (f'{consumed}{{topic="src.care", event_type="care.assessed", {W1}}}', "0+1000x30"),
        (f'{rejected}{{topic="src.payer", reason_class="internal_error", {W2}}}', "0+1x30"),
    ]
    recovery = [
        (f"groeipakket_faust_total_rebalances_recovering{{{W1}}}", "1x20"),
        (f"groeipakket_faust_total_events_total{{{W1}}}", "100x20"),                # recovering, nothing processed
        (f"groeipakket_faust_total_rebalances_recovering{{{W2}}}", "1x20"),
        (f"groeipakket_faust_total_events_total{{{W2}}}", "0+50x20"),               # gauge drifted, processing
    ]
    lag = "groeipakket_event_loop_lag_seconds"
    blocked = [
        (f"{lag}_count{{{W1}}}", "0+240x9 2403"),
        (f'{lag}_bucket{{le="2.0", {W1}}}', "0+240x10"),
        (f"{lag}_count{{{W2}}}", "0+240x10"),
        (f'{lag}_bucket{{le="2.0", {W2}}}', "0+240x10"),
    ]
    closed = (f'{LAST_CLOSED}{{partition="0", {W1}}}', "24290x209 24291x30")      # period closed at 210 min
    unchanged = (f'{LAST_CLOSED}{{partition="0", {W1}}}', "24290x240")
    correction = (f'groeipakket_instructions_total{{kind="correction", payer="FONS", {W1}}}', "0+1x240")
    return [
        ("GroeipakketWorkerDown", [(f"up{{{W1}}}", "1 1 0x10"), (f"up{{{W2}}}", "1x12")], "5m",
         [(f"up{{{W1}}}", 0)]),
        ("GroeipakketNoWorkerUp", [(f"up{{{W1}}}", "0x10"), (f"up{{{W2}}}", "0x10")], "5m",
         [("{}", 1)]),
        ("GroeipakketNoWorkerUp", [(f"up{{{W1}}}", "0x10"), (f"up{{{W2}}}", "1x10")], "5m", []),
        ("GroeipakketConsumerLagHigh", offsets, "20m", [('{topic="src.tax"}', 15000)]),
        ("GroeipakketCommitsStalled", offsets, "20m", [('{topic="src.tax", partition="0"}', 15000)]),
        ("GroeipakketDLQGrowing", dlq, "30m",
         [('{topic="src.tax", reason_class="invalid_date"}', 60),
          ('{topic="src.care", reason_class="schema"}', 15),
          ('{topic="src.payer", reason_class="internal_error"}', 15)]),
        ("GroeipakketDLQRatioHigh", dlq, "30m", [('{topic="src.tax"}', 0.5), ('{topic="src.payer"}', 1)]),
        ("GroeipakketInternalErrors", dlq, "30m", [('{topic="src.payer"}', 15)]),
        ("GroeipakketRecoveryRunningLong", recovery, "20m", [('{instance="worker-1:6066"}', 1)]),
        # worker-1's loop woke up late once by more than 2 s (three samples above 2 s in a count of 2400 + 3).
        ("GroeipakketWorkerBlocked", blocked, "10m", [('{instance="worker-1:6066"}', 3)]),
        # No regular instruction after the close (corrections do not count): fires.
        ("GroeipakketNoRegularRunAfterClose", [closed, correction, (REGULAR, "10x240"), (REGULAR_CREATED, "0x240")],
         "240m", [("{}", 1)]),
        # The regular run published instructions.
        ("GroeipakketNoRegularRunAfterClose", [closed, (REGULAR, "10x209 20x30"), (REGULAR_CREATED, "0x240")],
         "240m", []),
        # The worker restarted before the close: the regular counter appears with its first value.
        ("GroeipakketNoRegularRunAfterClose", [closed, (REGULAR, "_x214 20x25"), (REGULAR_CREATED, "_x214 12900x25")],
         "240m", []),
        # No close at all.
        ("GroeipakketNoRegularRunAfterClose", [unchanged, (REGULAR, "10x240"), (REGULAR_CREATED, "0x240")],
         "240m", []),
    ]


def _promtool_test(promtool: str, test_file: Path, rules_file: Path, tests: list[dict]) -> None:
    """``promtool test rules`` on ``tests`` (synthetic series and expected samples) against ``rules_file``."""
    test_file.write_text(yaml.safe_dump({"rule_files": [str(rules_file)], "evaluation_interval": "1m",
                                         "tests": tests}, sort_keys=False))
    result = subprocess.run([promtool, "test", "rules", str(test_file)], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, textwrap.shorten(result.stdout + result.stderr, 4000)


def test_alert_expressions_on_synthetic_series(tmp_path):
    promtool = _promtool()
    exprs = {rule["alert"]: rule["expr"] for rule in _alert_rules()}
    tests = []
    for alert, series, at, expected in _scenarios():
        tests.append({
            "interval": "1m",
            "input_series": [{"series": name, "values": values} for name, values in series],
            "promql_expr_test": [{"expr": exprs[alert], "eval_time": at,
                                  "exp_samples": [{"labels": labels, "value": value} for labels, value in expected]}],
        })
    _promtool_test(promtool, tmp_path / "alerts_test.yml", ALERTS, tests)


_GRAFANA_VALUES = {"$__rate_interval": "1m", "$__interval": "1m", "$__range": "1h", "$instance": ".*"}


def _as_prometheus(expr: str) -> str:
    for variable, value in sorted(_GRAFANA_VALUES.items(), key=lambda item: -len(item[0])):
        expr = expr.replace(variable, value)
    assert "$" not in expr, f"unknown Grafana variable in {expr!r}"
    return expr


def _panel_expr(title: str, ref: str = "A") -> str:
    dashboard = json.loads(DASHBOARD.read_text())
    panel = next(p for p in dashboard["panels"] if p["title"] == title)
    return _as_prometheus(next(t["expr"] for t in panel["targets"] if t["refId"] == ref))


def test_dashboard_expressions_parse_and_compute(tmp_path):
    """Every dashboard query is valid PromQL (as recording rules for `promtool check rules`), and the queries that
    do arithmetic on labels and periods give the expected numbers on synthetic series."""
    promtool = _promtool()
    rules = [{"record": f"dashboard:query_{i}", "expr": _as_prometheus(expr)}
             for i, (_, expr) in enumerate(_dashboard_expressions())]
    rules_file = tmp_path / "dashboard_rules.yml"
    rules_file.write_text(yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]}))
    result = subprocess.run([promtool, "check", "rules", str(rules_file)], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr

    cents = "groeipakket_instructed_cents_total"
    line = 'kind="regular", component="basic", %s' % W1
    tests = [
        {"interval": "1m",
         "input_series": [{"series": f'{LAST_CLOSED}{{partition="0", {W1}}}', "values": "24290x10"},
                          {"series": f'{LAST_CLOSED}{{partition="1", {W2}}}', "values": "24289x10"}],
         "promql_expr_test": [
             {"expr": _panel_expr("Last closed period"), "eval_time": "10m",
              "exp_samples": [{"labels": "{}", "value": 202403}]},                    # 2024*12 + 2 = March 2024
             {"expr": _panel_expr("Partitions behind the last close"), "eval_time": "10m",
              "exp_samples": [{"labels": "{}", "value": 1}]}]},
        {"interval": "1m",
         "input_series": [{"series": f'{cents}{{payer="FONS", sign="positive", {line}}}', "values": "0+100x60"},
                          {"series": f'{cents}{{payer="FONS", sign="negative", {line}}}', "values": "0+10x60"},
                          {"series": f'{cents}{{payer="INFINO", sign="positive", {line}}}', "values": "0+100x60"}],
         "promql_expr_test": [
             {"expr": _panel_expr("Net amount instructed per payer in the range"), "eval_time": "60m",
              "exp_samples": [{"labels": '{payer="FONS"}', "value": 54},              # (6000 - 600) cents
                              {"labels": '{payer="INFINO"}', "value": 60}]}]},        # no recoveries at all
    ]
    _promtool_test(promtool, tmp_path / "dashboard_test.yml", rules_file, tests)
