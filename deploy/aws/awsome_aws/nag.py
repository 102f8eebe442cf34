"""cdk-nag's AwsSolutions rule pack and checkov: every suppression, with the reason it is acceptable here.

A suppression names the construct it applies to (never the whole stack) and, for IAM wildcards, the exact
finding (``applies_to``); a checkov skip is ``Metadata.checkov.skip`` with a comment on one resource.
tests/unit/test_aws_tools.py fails on any unsuppressed finding and on a suppression without a reason.
"""

from __future__ import annotations

from typing import Any

import cdk_nag
from aws_cdk import CfnResource, Stack
from constructs import IConstruct

from awsome_aws.config import StackConfig

ROTATION = (
    "Rotated by the runbook (docs/deploy.md, Rotation), not on a schedule: the tasks read the value at start, "
    "so a rotation is a new value plus a rolling redeploy, which an unattended rotation Lambda cannot do."
)


def checks() -> cdk_nag.AwsSolutionsChecks:
    return cdk_nag.AwsSolutionsChecks(verbose=True, reports=True)


def _suppress(construct: IConstruct, rule: str, reason: str, applies_to: list[str] | None = None) -> None:
    cdk_nag.NagSuppressions.add_resource_suppressions(
        construct,
        [cdk_nag.NagPackSuppression(id=rule, reason=reason, applies_to=applies_to)],
        apply_to_children=True,
    )


def checkov_skip(construct: IConstruct, check: str, reason: str) -> None:
    """Tell checkov (``Metadata.checkov.skip``) that *check* does not apply to this resource, and why."""
    resource = construct if isinstance(construct, CfnResource) else construct.node.default_child
    assert isinstance(resource, CfnResource), construct.node.path
    metadata: dict[str, Any] = resource.get_metadata("checkov") or {"skip": []}
    metadata["skip"].append({"id": check, "comment": reason})
    resource.add_metadata("checkov", metadata)


def suppress(stack: Stack, config: StackConfig) -> None:  # noqa: PLR0915 (one list, read top to bottom)
    from awsome_aws.stack import AwsomeStack

    assert isinstance(stack, AwsomeStack)
    db, turn, services = stack.database, stack.turn, stack.services

    # ---- database
    _suppress(
        db.instance,
        "AwsSolutions-RDS11",
        "Port obscurity is no control: only the app and API "
        "security groups reach 3306, inside isolated subnets with no route to the internet.",
    )
    _suppress(
        db.instance,
        "AwsSolutions-RDS6",
        "The app connects with the generated password from Secrets "
        "Manager; IAM tokens expire every 15 minutes and would need a token hook in the connection pool.",
    )
    if not config.db_multi_az:
        _suppress(db.instance, "AwsSolutions-RDS3", "Single-AZ chosen by the operator (context db_multi_az=false).")
    if not config.db_deletion_protection:
        _suppress(db.instance, "AwsSolutions-RDS10", "Deletion protection off by the operator's context.")
    generated = db.instance.node.find_child("Secret")  # instance.secret is its attachment to the instance
    for secret in (generated, services.cookie_key, services.streamlit_secret, turn.secret):
        _suppress(secret, "AwsSolutions-SMG4", ROTATION)

    # ---- services
    for task in (services.app.task_definition, services.api.task_definition):
        _suppress(
            task,
            "AwsSolutions-ECS2",
            "Only non-secret settings are plain environment variables "
            "(production mode, log level, public TURN/STUN URLs, database name); every secret is an ECS "
            "secret from Secrets Manager (tests/unit/test_aws_stack.py checks it).",
        )
        _suppress(
            task,
            "AwsSolutions-IAM5",
            "ecr:GetAuthorizationToken has no resource-level permissions "
            "(AWS requires Resource *); every other statement of the execution role names its resource.",
            applies_to=["Resource::*"],
        )
    _suppress(
        services.alb, "AwsSolutions-EC23", "The public web site: 443 from anywhere, and 80 only to redirect to 443."
    )
    _suppress(
        services.logs_bucket,
        "AwsSolutions-S1",
        "This bucket holds the load balancer's access logs; "
        "logging the log bucket itself would need another bucket for no gain.",
    )

    # ---- TURN
    _suppress(
        turn.security_group,
        "AwsSolutions-EC23",
        "TURN must be reachable from any browser: only its "
        "listening port (udp+tcp) and relay port range, read from deploy/turnserver.conf.",
    )
    _suppress(
        turn.instance,
        "AwsSolutions-EC28",
        "A stateless relay: basic 5-minute metrics and status checks are enough; detailed monitoring costs per metric.",
    )
    _suppress(
        turn.instance,
        "AwsSolutions-EC29",
        "Holds no state and is rebuilt from user data; termination "
        "protection would block CloudFormation replacing it when its configuration changes.",
    )
    _suppress(
        turn.instance.role,
        "AwsSolutions-IAM4",
        "AmazonSSMManagedInstanceCore: AWS's policy for Session Manager, the only way in (no SSH key, no port 22).",
        applies_to=["Policy::arn:<AWS::Partition>:iam::aws:policy/AmazonSSMManagedInstanceCore"],
    )

    # ---- CDK's own helpers
    for construct in stack.node.find_all():
        if construct.node.id.startswith("LogRetention") and construct.node.scope is stack:
            _suppress(
                construct,
                "AwsSolutions-IAM4",
                "CDK's log-retention function (sets the RDS log groups' "
                "retention): Lambda's basic execution policy for its own logs.",
                applies_to=["Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"],
            )
            _suppress(
                construct,
                "AwsSolutions-IAM5",
                "CDK's log-retention function: logs:PutRetentionPolicy on "
                "log groups it creates at deploy time, whose names are not known before.",
                applies_to=["Resource::*"],
            )

    _checkov(stack)


KMS_CMK = (
    "Encrypted with the AWS-managed key; a customer-managed KMS key adds cost and a key policy to keep right "
    "without changing who can read it (IAM on the resource decides that)."
)


def _checkov(stack: Stack) -> None:
    from awsome_aws.stack import AwsomeStack

    assert isinstance(stack, AwsomeStack)
    db, turn, services, network = stack.database, stack.turn, stack.services, stack.network
    for secret in (db.instance.node.find_child("Secret"), services.cookie_key, services.streamlit_secret, turn.secret):
        checkov_skip(secret, "CKV_AWS_149", KMS_CMK)
    for log_group in (network.flow_logs, services.app_logs, services.api_logs):
        checkov_skip(log_group, "CKV_AWS_158", KMS_CMK)
    checkov_skip(
        db.instance,
        "CKV_AWS_118",
        "Enhanced monitoring (OS metrics every minute) costs per instance; "
        "the standard CloudWatch metrics and the exported error/slow-query logs cover this size.",
    )
    checkov_skip(db.instance, "CKV_AWS_161", "Password authentication from Secrets Manager (cdk-nag RDS6).")
    checkov_skip(services.logs_bucket, "CKV_AWS_18", "The access-log bucket itself (cdk-nag S1).")
    checkov_skip(
        services.alb.connections.security_groups[0],
        "CKV_AWS_260",
        "Port 80 only answers with a permanent redirect to HTTPS.",
    )
    for construct in stack.node.find_all():
        if isinstance(construct, CfnResource) and construct.cfn_resource_type == "AWS::Lambda::Function":
            for check in ("CKV_AWS_115", "CKV_AWS_116", "CKV_AWS_117", "CKV_AWS_173"):
                checkov_skip(
                    construct,
                    check,
                    "CDK's own deploy-time helper (custom resource), run by "
                    "CloudFormation only: no concurrency, queue or VPC needed.",
                )
        elif construct.node.id.startswith("LogRetention") and construct.node.scope is stack:
            policy = construct.node.find_child("ServiceRole").node.find_child("DefaultPolicy")
            checkov_skip(policy, "CKV_AWS_111", "CDK's log-retention function (cdk-nag IAM5 above).")
