"""The deployment files in deploy/, checked offline: Kubernetes manifests against the
API schemas (kubernetes-validate, strict), haproxy.cfg with ``haproxy -c``, the compose file
and the Containerfile for what docs/deploy.md promises, and every ``DCC_*`` value they set
against the settings reader (a typo or a bad value would stop the service at start-up)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from api.ratelimit.topology import parse_topology
from api.settings import Settings

DEPLOY = Path(__file__).resolve().parents[1] / "deploy"
KUBERNETES = DEPLOY / "kubernetes"


def manifests() -> list[dict[str, Any]]:
    documents = []
    for path in sorted(KUBERNETES.glob("*.yaml")):
        documents.extend(doc for doc in yaml.safe_load_all(path.read_text()) if doc)
    return documents


def by_kind(kind: str) -> list[dict[str, Any]]:
    return [doc for doc in manifests() if doc["kind"] == kind]


def check_settings(env: dict[str, str]) -> Settings:
    """Read ``env`` as the service would (raises ConfigError on a bad value or name)."""
    unknown = [name for name in env if name.startswith("DCC_") and f"`{name}`" not in SETTINGS_DOC]
    assert not unknown, f"not a documented setting (docs/settings.md): {unknown}"
    settings = Settings.from_env(env)
    if settings.redis_url:
        parse_topology(settings.redis_url)
    return settings


SETTINGS_DOC = (Path(__file__).resolve().parents[1] / "docs" / "settings.md").read_text()


@pytest.mark.parametrize(
    "document", manifests(), ids=lambda d: f"{d['kind']}/{d['metadata']['name']}"
)
def test_manifest_validates_against_the_kubernetes_schema(document: dict[str, Any]) -> None:
    version = kubernetes_validate.latest_version()
    kubernetes_validate.validate(document, version, strict=True)


def test_every_kind_the_deployment_needs_is_there() -> None:
    kinds = {doc["kind"] for doc in manifests()}
    expected = {"Deployment", "Service", "PodDisruptionBudget", "HorizontalPodAutoscaler"}
    assert expected | {"ConfigMap", "Secret"} <= kinds


def test_deployment_probes_drain_and_runs_locked_down() -> None:
    (deployment,) = by_kind("Deployment")
    pod = deployment["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert pod["securityContext"]["runAsNonRoot"] is True
    for step in [*pod["initContainers"], container]:
        assert step["securityContext"]["readOnlyRootFilesystem"] is True
        assert step["securityContext"]["allowPrivilegeEscalation"] is False
    assert deployment["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0
    (config,) = by_kind("ConfigMap")
    drain = float(config["data"]["DCC_DRAIN_SECONDS"])
    pause = container["lifecycle"]["preStop"]["sleep"]["seconds"]
    assert pod["terminationGracePeriodSeconds"] > drain + pause
    (budget,) = by_kind("PodDisruptionBudget")
    (autoscaler,) = by_kind("HorizontalPodAutoscaler")
    assert budget["spec"]["minAvailable"] < autoscaler["spec"]["minReplicas"]
    assert budget["spec"]["selector"] == deployment["spec"]["selector"]


def test_configured_values_are_valid_settings() -> None:
    (config,) = by_kind("ConfigMap")
    secrets = next(s for s in by_kind("Secret") if s["metadata"]["name"] == "dcc-secrets")
    settings = check_settings({**config["data"], **secrets["stringData"]})
    assert settings.trusted_proxies
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    replica = compose["services"]["replica1"]
    env = {
        k: str(v).replace("${POSTGRES_PASSWORD:-change-me}", "x")
        for k, v in replica["environment"].items()
    }
    assert check_settings(env).redis_url


def test_compose_runs_three_read_only_replicas_behind_haproxy() -> None:
    services = yaml.safe_load((DEPLOY / "compose.yaml").read_text())["services"]
    assert {"postgres", "redis", "migrate", "haproxy"} <= set(services)
    replicas = [name for name in services if name.startswith("replica")]
    assert len(replicas) == 3
    for name in replicas:
        assert services[name]["read_only"] is True
        assert services[name]["user"] == "10001:10001"
    assert services["migrate"]["command"] == ["db", "upgrade"]
    config = (DEPLOY / "haproxy.cfg").read_text()
    for name in replicas:
        assert f"server {name} {name}:8000 check" in config


def test_containerfile_is_multi_stage_non_root_with_a_health_check() -> None:
    text = (DEPLOY / "Containerfile").read_text()
    assert len(re.findall(r"^FROM ", text, flags=re.MULTILINE)) >= 2
    users = re.findall(r"^USER (\S+)", text, flags=re.MULTILINE)
    assert users
    assert users[-1].split(":")[0] not in {"0", "root"}
    assert re.search(r"^HEALTHCHECK .*", text, flags=re.MULTILINE)
    assert "/readyz" in text


@pytest.mark.skipif(shutil.which("haproxy") is None, reason="haproxy not installed")
def test_haproxy_cfg_is_accepted_by_haproxy() -> None:
    result = subprocess.run(
        ["haproxy", "-c", "-f", str(DEPLOY / "haproxy.cfg")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
