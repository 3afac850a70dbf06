"""The files of the production-like deployment that tests/test_deploy*.py check."""
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
PROMETHEUS = ROOT / "deploy" / "prometheus" / "prometheus.yml"
ALERTS = ROOT / "deploy" / "prometheus" / "alerts.yml"
DASHBOARD = ROOT / "deploy" / "grafana" / "dashboards" / "groeipakket.json"
PROVISIONING = ROOT / "deploy" / "grafana" / "provisioning"
TOPICS_SCRIPT = ROOT / "deploy" / "kafka" / "create-topics.sh"
SECURITY = ROOT / "SECURITY.md"
