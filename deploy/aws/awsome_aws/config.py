"""The stack's parameters, read from CDK context (``cdk deploy -c db_multi_az=false``, or ``cdk.json``).

Every value has a default that synthesizes without an AWS account. The ACM certificate is the one thing a
deployment must name: as context (``-c certificate_arn=arn:aws:acm:...``) or, when absent, as the
CloudFormation parameter ``CertificateArn`` at deploy time.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parents[3]
TURN_CONF = PROJECT_ROOT / "deploy" / "turnserver.conf"
NGINX_TEMPLATE = PROJECT_ROOT / "deploy" / "nginx" / "awsome.conf.template"


@dataclass(frozen=True)
class StackConfig:
    """Context keys are the field names."""

    certificate_arn: str = ""  # empty: a CfnParameter CertificateArn
    db_multi_az: bool = True
    db_deletion_protection: bool = True
    db_backup_days: int = 7
    db_instance_type: str = "t4g.micro"
    db_storage_gb: int = 20
    app_count: int = 2  # Streamlit replicas (one core each; sticky sessions)
    api_count: int = 1
    app_max_count: int = 6
    nat_gateways: int = 1  # one NAT for both zones: the smallest sensible setup (2 for zone independence)
    interface_endpoints: bool = True  # Secrets Manager, ECR, CloudWatch Logs inside the VPC
    log_retention_days: int = 30
    turn_instance_type: str = "t4g.small"
    turn_realm: str = "awsome"
    image_uri: str = ""  # empty: build the project's Dockerfile as a CDK asset

    @classmethod
    def from_context(cls, context: Mapping[str, Any]) -> StackConfig:
        """Coerce CLI context (always strings) and cdk.json values (JSON types) to the field types."""
        values: dict[str, Any] = {}
        for f in dataclasses.fields(cls):
            if f.name not in context or context[f.name] is None:
                continue
            raw = context[f.name]
            if f.type == "bool":
                values[f.name] = raw if isinstance(raw, bool) else str(raw).lower() in ("1", "true", "yes")
            elif f.type == "int":
                values[f.name] = int(raw)
            else:
                values[f.name] = str(raw)
        config = cls(**values)
        if config.certificate_arn and not config.certificate_arn.startswith("arn:"):
            raise ValueError(f"certificate_arn must be an ACM certificate ARN, not {config.certificate_arn!r}")
        return config


def turn_ports(conf_text: str) -> tuple[int, int, int]:
    """(listening port, first relay port, last relay port) from turnserver.conf: the security group opens
    exactly what coturn listens on."""

    def option(name: str, default: int) -> int:
        match = re.search(rf"^{name}=(\d+)\s*$", conf_text, re.MULTILINE)
        return int(match.group(1)) if match else default

    return option("listening-port", 3478), option("min-port", 49152), option("max-port", 65535)


def nginx_security_headers(template_text: str) -> dict[str, str]:
    """The security headers the nginx template adds (``add_header NAME "VALUE" always;`` in ``location /``),
    with nginx variables left in; the load balancer sends the same ones."""
    location = template_text.split("location / {", 1)[1].split("\n    }", 1)[0]
    return dict(re.findall(r'add_header (\S+) "([^"]*)" always;', location))
