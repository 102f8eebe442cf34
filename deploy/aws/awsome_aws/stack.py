"""The stack: network, database, TURN, services; and :func:`build_app`, which every caller uses (the CDK
app, ``make aws-synth``, the tests), so what is checked is what is deployed."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_logs as logs
from constructs import Construct

from awsome_aws import nag
from awsome_aws.config import NGINX_TEMPLATE, StackConfig, nginx_security_headers
from awsome_aws.database import Database
from awsome_aws.network import Network
from awsome_aws.services import Services
from awsome_aws.turn import TurnServer

STACK_NAME = "Awsome"
CDK_JSON = Path(__file__).resolve().parent.parent / "cdk.json"
DEFAULT_REGION = "us-east-1"


def load_balancer_headers(template_text: str) -> dict[str, str]:
    """The nginx template's security headers as the load balancer sends them. An ALB adds the same headers
    to every response, the component iframes' documents included, so pages may be framed by their own
    origin only (``'self'``, ``SAMEORIGIN``) where nginx says ``'none'`` for everything but /component/."""
    headers = nginx_security_headers(template_text)
    headers["Content-Security-Policy"] = headers["Content-Security-Policy"].replace("$awsome_frame_ancestors", "'self'")
    headers["X-Frame-Options"] = "SAMEORIGIN"
    return headers


class AwsomeStack(cdk.Stack):
    def __init__(self, scope: Construct, construct_id: str, *, config: StackConfig, **kwargs: Any) -> None:
        super().__init__(
            scope, construct_id, description="AWSome: mood-aware music (VPC, RDS, ECS, ALB, TURN)", **kwargs
        )
        retention = _retention(config.log_retention_days)
        certificate_arn = (
            config.certificate_arn
            or cdk.CfnParameter(
                self,
                "CertificateArn",
                type="String",
                allowed_pattern="arn:aws[a-z-]*:acm:.+",
                description="ACM certificate (same region) for the load balancer's HTTPS listener",
            ).value_as_string
        )
        self.network = Network(self, "Network", config=config, log_retention=retention)
        self.database = Database(self, "Database", config=config, network=self.network, log_retention=retention)
        self.turn = TurnServer(self, "Turn", config=config, network=self.network)
        self.services = Services(
            self,
            "Services",
            config=config,
            network=self.network,
            database=self.database,
            turn=self.turn,
            certificate_arn=certificate_arn,
            security_headers=load_balancer_headers(NGINX_TEMPLATE.read_text()),
            log_retention=retention,
        )
        cdk.CfnOutput(self, "Url", value=f"https://{self.services.alb.load_balancer_dns_name}")
        cdk.CfnOutput(self, "TurnAddress", value=self.turn.public_ip)
        cdk.CfnOutput(self, "DatabaseSecret", value=self.database.secret.secret_arn)
        nag.suppress(self, config)


RETENTION = {1: "ONE_DAY", 3: "THREE_DAYS", 7: "ONE_WEEK", 14: "TWO_WEEKS", 30: "ONE_MONTH", 60: "TWO_MONTHS",
             90: "THREE_MONTHS", 180: "SIX_MONTHS", 365: "ONE_YEAR"}  # fmt: skip


def _retention(days: int) -> logs.RetentionDays:
    if days not in RETENTION:
        raise ValueError(f"log_retention_days must be one of {sorted(RETENTION)}, not {days}")
    return getattr(logs.RetentionDays, RETENTION[days])  # type: ignore[no-any-return]


def build_app(context: Mapping[str, Any] | None = None, *, outdir: str | None = None) -> tuple[cdk.App, AwsomeStack]:
    """The CDK app with the stack and the cdk-nag AwsSolutions checks; *context* overrides cdk.json's."""
    defaults = json.loads(CDK_JSON.read_text()).get("context", {})
    app = cdk.App(context={**defaults, **(context or {})}, outdir=outdir)
    region = app.node.try_get_context("region") or _env("CDK_DEFAULT_REGION") or DEFAULT_REGION
    account = app.node.try_get_context("account") or _env("CDK_DEFAULT_ACCOUNT")  # None: unknown until deploy
    config = StackConfig.from_context({k: app.node.try_get_context(k) for k in StackConfig.__dataclass_fields__})
    stack = AwsomeStack(app, STACK_NAME, config=config, env=cdk.Environment(account=account, region=region))
    cdk.Aspects.of(app).add(nag.checks())
    return app, stack


def _env(name: str) -> str | None:
    import os

    return os.environ.get(name) or None
