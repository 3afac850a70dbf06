"""The production-like deployment (docker-compose.yml, Dockerfile, deploy/kafka, SECURITY.md), checked without a
Docker engine; the monitoring (Prometheus, alert rules, Grafana) is checked in test_deploy_monitoring.py.

* docker-compose.yml: three KRaft brokers with the replication settings, the topic job, >= 2 workers with their
  own volumes and settings the engine really reads, Prometheus scraping every worker, Grafana provisioned;
  with `docker-compose` (Debian package `docker-compose`) `docker-compose config -q` validates the compose file;
* deploy/kafka/create-topics.sh: creates exactly the topics of streams/topics.py (dry run, and a real run against a
  stub kafka-topics.sh);
* SECURITY.md names every topic and the client security settings.
Without the binaries those parts are skipped.
"""
from __future__ import annotations

import base64
import json
import os
import re
import shutil
import subprocess

import pytest
import yaml

from tests.deploy_paths import (ALERTS, COMPOSE, DASHBOARD, DOCKERFILE, PROMETHEUS, PROVISIONING, ROOT, SECURITY,
                                TOPICS_SCRIPT)

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
