"""The production-like deployment (docker-compose.yml, Dockerfile, deploy/**), checked without a Docker engine.

* docker-compose.yml: three KRaft brokers with the replication settings, the topic job, >= 2 workers with their
  own volumes and settings the engine really reads, Prometheus scraping every worker, Grafana provisioned;
* deploy/kafka/create-topics.sh: creates exactly the topics of streams/topics.py (dry run, and a real run against a
  stub kafka-topics.sh);
* every metric named in the Grafana dashboard and the alert rules is exported by a worker: a domain metric of
  agents/metrics.py or Faust's Prometheus sensor (names as prometheus_client exposes them: _total, _bucket, ...),
  and every label matcher names a label the metric has;
* alert rules have the required fields; with `promtool` (Debian package `prometheus`) the configuration and rules
  are checked and the alert expressions run against synthetic series (`promtool test rules`); with
  `docker-compose` (Debian package `docker-compose`) `docker-compose config -q` validates the compose file.
  Without those binaries those parts are skipped.
"""
from __future__ import annotations

import base64
import json
import os
import re
import shutil
import subprocess
import textwrap
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
PROMETHEUS = ROOT / "deploy" / "prometheus" / "prometheus.yml"
ALERTS = ROOT / "deploy" / "prometheus" / "alerts.yml"
DASHBOARD = ROOT / "deploy" / "grafana" / "dashboards" / "groeipakket.json"
PROVISIONING = ROOT / "deploy" / "grafana" / "provisioning"
TOPICS_SCRIPT = ROOT / "deploy" / "kafka" / "create-topics.sh"
SECURITY = ROOT / "SECURITY.md"

# Variables the compose file requires (${VAR:?...}); everything else has a default.
COMPOSE_ENV = {"GROEIPAKKET_PSEUDONYM_KEY": "test-only-pseudonym-key", "GRAFANA_ADMIN_PASSWORD": "test-only"}
APP_ID = "groeipakket"


# ---------------------------------------------------------------------------------------------------------------
# docker-compose.yml
# ---------------------------------------------------------------------------------------------------------------

_COMPOSE_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}")


def _interpolate(value, env: dict[str, str]):
    """Compose-style ${VAR}, ${VAR:-default}, ${VAR:?error} interpolation of every string in a YAML tree."""
    if isinstance(value, dict):
        return {key: _interpolate(item, env) for key, item in value.items()}
    if isinstance(value, list):
        return [_interpolate(item, env) for item in value]
    if not isinstance(value, str):
        return value

    def substitute(match: re.Match) -> str:
        name, operator, argument = match.groups()
        if env.get(name):
            return env[name]
        if operator and operator.endswith("-"):
            return argument
        if operator and operator.endswith("?"):
            raise KeyError(f"compose requires {name}: {argument}")
        return ""

    return _COMPOSE_VAR.sub(substitute, value)


def _env_map(service: dict) -> dict[str, str]:
    environment = service.get("environment") or {}
    if isinstance(environment, list):
        environment = dict(item.split("=", 1) for item in environment)
    return {key: "" if value is None else str(value) for key, value in environment.items()}


def _command(service: dict) -> list[str]:
    command = service.get("command") or []
    return command.split() if isinstance(command, str) else [str(part) for part in command]


@pytest.fixture(scope="module")
def compose() -> dict:
    return _interpolate(yaml.safe_load(COMPOSE.read_text()), COMPOSE_ENV)


@pytest.fixture(scope="module")
def services(compose) -> dict:
    return compose["services"]


def _brokers(services) -> dict[str, dict]:
    return {name: s for name, s in services.items()
            if str(s.get("image", "")).startswith("apache/kafka") and "KAFKA_NODE_ID" in _env_map(s)}


def _workers(services) -> dict[str, dict]:
    return {name: s for name, s in services.items() if _command(s)[:1] == ["worker"]}


def _topic_job(services) -> tuple[str, dict]:
    jobs = [(name, s) for name, s in services.items()
            if "create-topics.sh" in " ".join(map(str, (s.get("entrypoint") or []) + _command(s)))]
    assert len(jobs) == 1, f"expected one topic-creation job, found {[n for n, _ in jobs]}"
    return jobs[0]


def _named_volume(service: dict, target: str) -> str | None:
    for volume in service.get("volumes") or []:
        if isinstance(volume, str):
            source, _, rest = volume.partition(":")
            if rest.split(":")[0] == target:
                return source
        elif volume.get("target") == target:
            return volume.get("source")
    return None


def test_compose_requires_the_secrets_it_cannot_default():
    raw = yaml.safe_load(COMPOSE.read_text())
    with pytest.raises(KeyError, match="GROEIPAKKET_PSEUDONYM_KEY"):
        _interpolate(raw, {"GRAFANA_ADMIN_PASSWORD": "x"})
    with pytest.raises(KeyError, match="GRAFANA_ADMIN_PASSWORD"):
        _interpolate(raw, {"GROEIPAKKET_PSEUDONYM_KEY": "x"})


def test_three_kraft_brokers_with_replication_settings(compose, services):
    brokers = _brokers(services)
    assert len(brokers) == 3, sorted(brokers)
    node_ids, cluster_ids, voters = set(), set(), set()
    for name, broker in brokers.items():
        env = _env_map(broker)
        assert set(env["KAFKA_PROCESS_ROLES"].split(",")) == {"broker", "controller"}, name
        node_ids.add(env["KAFKA_NODE_ID"])
        cluster_ids.add(env["CLUSTER_ID"])
        voters.add(env["KAFKA_CONTROLLER_QUORUM_VOTERS"])
        assert env["KAFKA_DEFAULT_REPLICATION_FACTOR"] == "3", name
        assert env["KAFKA_MIN_INSYNC_REPLICAS"] == "2", name
        assert env["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false", name
        assert env["KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR"] == "3", name
        assert env["KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR"] == "3", name
        assert env["KAFKA_TRANSACTION_STATE_LOG_MIN_ISR"] == "2", name
        assert env.get("KAFKA_UNCLEAN_LEADER_ELECTION_ENABLE", "false") == "false", name
        assert "CONTROLLER" in env["KAFKA_CONTROLLER_LISTENER_NAMES"]
        assert f"//{broker['hostname']}:" in env["KAFKA_ADVERTISED_LISTENERS"], name
        assert broker.get("healthcheck", {}).get("test"), f"{name} has no healthcheck"
        volume = _named_volume(broker, env["KAFKA_LOG_DIRS"])
        assert volume in compose["volumes"], f"{name}: log dir {env['KAFKA_LOG_DIRS']} is not on a named volume"
    assert node_ids == {"1", "2", "3"}
    assert len(cluster_ids) == 1
    cluster_id = cluster_ids.pop()
    assert len(base64.urlsafe_b64decode(cluster_id + "==")) == 16, "CLUSTER_ID must be a base64 UUID"
    assert len(voters) == 1
    quorum = {v.split("@")[1].split(":")[0] for v in voters.pop().split(",")}
    assert quorum == {b["hostname"] for b in brokers.values()}
    assert len({_named_volume(b, "/var/lib/kafka/data") for b in brokers.values()}) == 3


def test_topic_job_runs_once_after_the_brokers_are_healthy(services):
    brokers = _brokers(services)
    name, job = _topic_job(services)
    assert str(job.get("restart", "no")) == "no"
    depends = job["depends_on"]
    assert {b: {"condition": "service_healthy"} for b in brokers} == {b: depends[b] for b in brokers}
    env = _env_map(job)
    assert env["GROEIPAKKET_PARTITIONS"] == "12", "default of GROEIPAKKET_PARTITIONS in the stack is 12"
    assert env["GROEIPAKKET_REPLICATION_FACTOR"] == "3"
    assert env.get("GROEIPAKKET_APP_ID", APP_ID) == APP_ID
    mounted = [v for v in job["volumes"] if "create-topics.sh" in v]
    assert mounted and mounted[0].startswith("./deploy/kafka/create-topics.sh:"), mounted


def test_two_workers_with_their_own_volumes_and_real_settings(compose, services):
    from config.settings import Settings

    workers = _workers(services)
    assert len(workers) >= 2, sorted(workers)
    brokers = _brokers(services)
    internal = {re.search(r"INTERNAL://([^,]+)", _env_map(b)["KAFKA_ADVERTISED_LISTENERS"]).group(1)
                for b in brokers.values()}
    job_name, job = _topic_job(services)
    known = {f"GROEIPAKKET_{field.upper()}" for field in Settings.model_fields} | {
        "KAFKA_BOOTSTRAP", "GROEIPAKKET_PSEUDONYM_KEY"}  # streams/identifiers.py reads the pseudonym key
    volumes, hosts = set(), set()
    for name, worker in workers.items():
        command = _command(worker)
        assert command == ["worker", "--data-dir", "/data", "--web-port", "6066"], (name, command)
        assert worker["build"]["context"] in (".", "./")
        volume = _named_volume(worker, "/data")
        assert volume in compose["volumes"], f"{name}: /data is not a named volume"
        volumes.add(volume)
        env = _env_map(worker)
        unknown = {key for key in env if key.startswith(("GROEIPAKKET_", "KAFKA_"))} - known
        assert not unknown, f"{name} sets variables no setting reads: {sorted(unknown)}"
        assert set(env["KAFKA_BOOTSTRAP"].split(",")) == internal
        assert env["GROEIPAKKET_BROKER_KIND"] == "kafka"
        assert env["GROEIPAKKET_REPLICATION_FACTOR"] == "3"
        assert env["GROEIPAKKET_PARTITIONS"] == _env_map(job)["GROEIPAKKET_PARTITIONS"]
        assert env["GROEIPAKKET_WEB_HOST"] == worker["hostname"]
        hosts.add(worker["hostname"])
        assert worker["depends_on"][job_name] == {"condition": "service_completed_successfully"}
        assert worker.get("healthcheck", {}).get("test"), f"{name} has no healthcheck"
        # The environment is valid for the engine's settings (types, literals).
        saved = dict(os.environ)
        try:
            os.environ.update(env)
            settings = Settings()
        finally:
            os.environ.clear()
            os.environ.update(saved)
        assert settings.broker_kind == "kafka" and settings.replication_factor == 3
        assert settings.partitions == 12 and settings.kafka_bootstrap == env["KAFKA_BOOTSTRAP"]
    assert len(volumes) == len(workers), "every worker needs its own data volume"
    assert len(hosts) == len(workers)


def test_prometheus_scrapes_every_worker_and_grafana_is_provisioned(services):
    workers = _workers(services)
    prometheus = [s for s in services.values() if str(s.get("image", "")).startswith("prom/prometheus")]
    grafana = [s for s in services.values() if str(s.get("image", "")).startswith("grafana/grafana")]
    assert len(prometheus) == 1 and len(grafana) == 1
    assert any(v.startswith("./deploy/prometheus:/etc/prometheus") for v in prometheus[0]["volumes"])
    assert "--config.file=/etc/prometheus/prometheus.yml" in prometheus[0]["command"]

    config = yaml.safe_load(PROMETHEUS.read_text())
    assert config["rule_files"] == ["alerts.yml"]
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    job = jobs["groeipakket-worker"]
    engine_source = (ROOT / "agents" / "engine.py").read_text()
    pattern = re.search(r'setup_prometheus_sensors\([^)]*pattern="([^"]+)"', engine_source).group(1)
    assert job.get("metrics_path", "/metrics") == pattern
    targets = {t for static in job["static_configs"] for t in static["targets"]}
    assert targets == {f"{w['hostname']}:6066" for w in workers.values()}

    mounts = dict(v.split(":")[:2] for v in grafana[0]["volumes"] if v.startswith("./"))
    assert mounts["./deploy/grafana/provisioning"] == "/etc/grafana/provisioning"
    datasources = yaml.safe_load((PROVISIONING / "datasources" / "prometheus.yml").read_text())["datasources"]
    assert datasources[0]["url"] == "http://prometheus:9090" and datasources[0]["type"] == "prometheus"
    providers = yaml.safe_load((PROVISIONING / "dashboards" / "groeipakket.yml").read_text())["providers"]
    assert mounts["./deploy/grafana/dashboards"] == providers[0]["options"]["path"]
    dashboard = json.loads(DASHBOARD.read_text())
    uids = {p["datasource"]["uid"] for p in dashboard["panels"] if p["type"] != "row"}
    assert uids == {datasources[0]["uid"]}
    assert "GF_SECURITY_ADMIN_PASSWORD" in _env_map(grafana[0])
    assert _env_map(grafana[0]).get("GF_AUTH_ANONYMOUS_ENABLED") == "false"


def _compose_binary() -> list[str] | None:
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    if shutil.which("docker"):
        probe = subprocess.run(["docker", "compose", "version"], capture_output=True, text=True)
        if probe.returncode == 0:
            return ["docker", "compose"]
    return None


def test_docker_compose_config_validates():
    binary = _compose_binary()
    if binary is None:
        pytest.skip("docker-compose not installed (apt-get install docker-compose)")
    env = {**os.environ, **COMPOSE_ENV}
    result = subprocess.run([*binary, "-f", str(COMPOSE), "config", "-q"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    env.pop("GROEIPAKKET_PSEUDONYM_KEY")
    result = subprocess.run([*binary, "-f", str(COMPOSE), "config", "-q"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode != 0 and "GROEIPAKKET_PSEUDONYM_KEY" in result.stdout + result.stderr


# ---------------------------------------------------------------------------------------------------------------
# Dockerfile
# ---------------------------------------------------------------------------------------------------------------

def test_dockerfile_installs_the_project_as_a_non_root_user():
    text = DOCKERFILE.read_text()
    instructions = [line.strip() for line in re.sub(r"\\\n", " ", text).splitlines()
                    if line.strip() and not line.lstrip().startswith("#")]
    assert instructions[0] == "FROM python:3.11-slim"
    users = [line.split()[1] for line in instructions if line.startswith("USER ")]
    assert users and users[-1].split(":")[0] not in ("root", "0")
    assert any(re.search(r"pip install .*(/tmp/src|\s\.)(\s|$)", line) for line in instructions)
    assert 'ENTRYPOINT ["groeipakket"]' in instructions
    import tomllib

    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert "groeipakket" in scripts
    ignored = set((ROOT / ".dockerignore").read_text().split())
    assert {".venv", ".git", "data", "tests"} <= ignored


# ---------------------------------------------------------------------------------------------------------------
# deploy/kafka/create-topics.sh
# ---------------------------------------------------------------------------------------------------------------

def _plan(partitions: int | None = None, app_id: str | None = None) -> dict[str, tuple[int, dict[str, str]]]:
    env = {**os.environ, "DRY_RUN": "1"}
    env.pop("GROEIPAKKET_PARTITIONS", None)
    if partitions is not None:
        env["GROEIPAKKET_PARTITIONS"] = str(partitions)
    if app_id is not None:
        env["GROEIPAKKET_APP_ID"] = app_id
    out = subprocess.run(["bash", str(TOPICS_SCRIPT)], env=env, capture_output=True, text=True, check=True).stdout
    plan = {}
    for line in out.splitlines():
        name, count, config = line.split()
        plan[name] = (int(count), dict(pair.split("=", 1) for pair in config.split(",")))
    return plan


@pytest.mark.skipif(shutil.which("bash") is None, reason="bash not available")
@pytest.mark.parametrize("partitions, app_id", [(None, None), (7, "gp-test")])
def test_topic_script_creates_exactly_the_engine_topics(partitions, app_id):
    from streams import topics as names

    plan = _plan(partitions, app_id)
    app = app_id or APP_ID
    expected = names.all_topics(app, partitions or 12)
    assert {name: count for name, (count, _) in plan.items()} == expected
    compacted = {name for name, (_, config) in plan.items() if config["cleanup.policy"] == "compact"}
    assert compacted == names.compacted_topics(app)
    assert all(config["min.insync.replicas"] == "2" for _, config in plan.values())
    # Time-based deletion for everything except the audit trail (compacted, kept).
    assert all("retention.ms" in config for name, (_, config) in plan.items() if name not in compacted)


STUB_KAFKA_TOPICS = """#!/usr/bin/env bash
# Stand-in for kafka-topics.sh: logs its arguments; --describe reports the created topics (or overrides).
echo "$*" >> "$STUB_LOG"
case " $* " in
  *" --list "*) exit 0 ;;
  *" --describe "*)
    grep -- "--create" "$STUB_LOG" | while read -r line; do
      topic=$(sed -E 's/.*--topic ([^ ]+).*/\\1/' <<<"$line")
      count=$(sed -E 's/.*--partitions ([0-9]+).*/\\1/' <<<"$line")
      override=$(awk -v t="$topic" '$1 == t { print $2 }' "${STUB_OVERRIDES:-/dev/null}")
      printf 'Topic: %s\\tTopicId: x\\tPartitionCount: %s\\tReplicationFactor: 3\\tConfigs: \\n' "$topic" "${override:-$count}"
      printf '\\tTopic: %s\\tPartition: 0\\tLeader: 1\\tReplicas: 1,2,3\\tIsr: 1,2,3\\n' "$topic"
    done ;;
esac
"""


@pytest.mark.skipif(shutil.which("bash") is None, reason="bash not available")
def test_topic_script_against_a_stub_cluster(tmp_path):
    from streams import topics as names

    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    stub = bin_dir / "kafka-topics.sh"
    stub.write_text(STUB_KAFKA_TOPICS)
    stub.chmod(0o755)
    log = tmp_path / "calls.log"
    env = {**os.environ, "KAFKA_BIN": str(bin_dir), "STUB_LOG": str(log), "GROEIPAKKET_PARTITIONS": "12"}
    env.pop("DRY_RUN", None)
    result = subprocess.run(["bash", str(TOPICS_SCRIPT)], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    creates = [line for line in log.read_text().splitlines() if "--create" in line]
    assert len(creates) == len(names.all_topics(APP_ID, 12))
    for line in creates:
        assert "--if-not-exists" in line and "--replication-factor 3" in line
        assert "--bootstrap-server kafka-1:19092,kafka-2:19092,kafka-3:19092" in line
    audit = next(line for line in creates if f"--topic {names.audit_topic(APP_ID)} " in line)
    assert "--config cleanup.policy=compact" in audit

    # An existing topic with another partition count fails the job.
    log.write_text("")
    overrides = tmp_path / "overrides"
    overrides.write_text("src.tax 4\n")
    result = subprocess.run(["bash", str(TOPICS_SCRIPT)], env={**env, "STUB_OVERRIDES": str(overrides)},
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert "src.tax has 4 partitions, expected 12" in result.stderr


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
    test_file = tmp_path / "alerts_test.yml"
    test_file.write_text(yaml.safe_dump({"rule_files": [str(ALERTS)], "evaluation_interval": "1m",
                                         "tests": tests}, sort_keys=False))
    result = subprocess.run([promtool, "test", "rules", str(test_file)], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, textwrap.shorten(result.stdout + result.stderr, 4000)


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
    test_file = tmp_path / "dashboard_test.yml"
    test_file.write_text(yaml.safe_dump({"rule_files": [str(rules_file)], "evaluation_interval": "1m",
                                         "tests": tests}, sort_keys=False))
    result = subprocess.run([promtool, "test", "rules", str(test_file)], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, textwrap.shorten(result.stdout + result.stderr, 4000)


# ---------------------------------------------------------------------------------------------------------------
# SECURITY.md
# ---------------------------------------------------------------------------------------------------------------

def test_security_document_covers_every_topic_and_the_client_settings():
    from streams import topics as names

    text = SECURITY.read_text()
    missing = [name for name in names.all_topics(APP_ID, 1) if name not in text]
    assert not missing, f"SECURITY.md does not mention {missing}"
    for setting in ("GROEIPAKKET_KAFKA_SECURITY_PROTOCOL", "GROEIPAKKET_KAFKA_SASL_MECHANISM",
                    "GROEIPAKKET_KAFKA_SASL_USERNAME", "GROEIPAKKET_KAFKA_SASL_PASSWORD",
                    "GROEIPAKKET_KAFKA_SSL_CAFILE", "GROEIPAKKET_KAFKA_SSL_CERTFILE", "GROEIPAKKET_KAFKA_SSL_KEYFILE",
                    "GROEIPAKKET_PSEUDONYM_KEY"):
        assert setting in text, setting
    assert "kafka-acls.sh" in text
