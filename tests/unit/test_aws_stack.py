"""The AWS stack (deploy/aws), property by property, on the synthesized CloudFormation template
(``aws_cdk.assertions.Template``): what the issue and docs/deploy.md promise about the network, the database,
the secrets, the load balancer and TURN. One synthesis per session (tests/unit/aws_synth.py)."""

from __future__ import annotations

import json
import re
import sys
from typing import Any

import pytest

from tests.unit.aws_synth import CDK_DIR, require_cdk, resources, synthesized

pytestmark = pytest.mark.aws

SECRET_NAMES = re.compile(r"SECRET|PASSWORD|COOKIE_KEY|TOKEN|CREDENTIAL", re.IGNORECASE)


@pytest.fixture(scope="module")
def template() -> Any:
    from aws_cdk.assertions import Template

    return Template.from_json(synthesized().template)


@pytest.fixture(scope="module")
def raw() -> dict[str, Any]:
    return synthesized().template


def _one(raw: dict[str, Any], kind: str) -> tuple[str, dict[str, Any]]:
    found = resources(raw, kind)
    assert len(found) == 1, f"{kind}: {list(found)}"
    return next(iter(found.items()))


def _logical(ref: Any) -> str:
    """The logical id in ``{"Ref": X}`` or ``{"Fn::GetAtt": [X, attr]}``."""
    if isinstance(ref, dict) and "Ref" in ref:
        return str(ref["Ref"])
    if isinstance(ref, dict) and "Fn::GetAtt" in ref:
        return str(ref["Fn::GetAtt"][0])
    raise AssertionError(f"not a reference: {ref!r}")


def _subnets_by_tier(raw: dict[str, Any]) -> dict[str, set[str]]:
    """Subnet logical ids by the tier CDK tags them with (aws-cdk:subnet-type: Public, Private, Isolated)."""
    tiers: dict[str, set[str]] = {}
    for name, subnet in resources(raw, "AWS::EC2::Subnet").items():
        tags = {t["Key"]: t["Value"] for t in subnet["Properties"]["Tags"]}
        tiers.setdefault(tags["aws-cdk:subnet-type"], set()).add(name)
    return tiers


def _default_routes(raw: dict[str, Any]) -> dict[str, str]:
    """Route table logical id → what its 0.0.0.0/0 route goes to (gateway or NAT)."""
    out = {}
    for route in resources(raw, "AWS::EC2::Route").values():
        props = route["Properties"]
        if props.get("DestinationCidrBlock") == "0.0.0.0/0":
            target = "igw" if "GatewayId" in props else "nat" if "NatGatewayId" in props else "other"
            out[_logical(props["RouteTableId"])] = target
    return out


def _route_of(raw: dict[str, Any], subnet: str) -> str | None:
    routes = _default_routes(raw)
    for assoc in resources(raw, "AWS::EC2::SubnetRouteTableAssociation").values():
        if _logical(assoc["Properties"]["SubnetId"]) == subnet:
            return routes.get(_logical(assoc["Properties"]["RouteTableId"]))
    return None


# ---------------------------------------------------------------------------------------------- network


def test_vpc_spans_two_zones_with_public_private_and_isolated_subnets(raw: dict[str, Any]) -> None:
    tiers = _subnets_by_tier(raw)
    assert {k: len(v) for k, v in tiers.items()} == {"Public": 2, "Private": 2, "Isolated": 2}
    assert {_route_of(raw, s) for s in tiers["Public"]} == {"igw"}
    assert {_route_of(raw, s) for s in tiers["Private"]} == {"nat"}
    assert {_route_of(raw, s) for s in tiers["Isolated"]} == {None}, "isolated subnets must have no way out"
    zones = {json.dumps(s["Properties"]["AvailabilityZone"]) for s in resources(raw, "AWS::EC2::Subnet").values()}
    assert len(zones) == 2


def test_vpc_has_endpoints_for_secrets_ecr_logs_and_s3(raw: dict[str, Any]) -> None:
    services = {
        json.dumps(e["Properties"]["ServiceName"]): e["Properties"]["VpcEndpointType"]
        for e in resources(raw, "AWS::EC2::VPCEndpoint").values()
    }
    joined = " ".join(services)
    for name in ("secretsmanager", "ecr.api", "ecr.dkr", "logs"):
        assert f".{name}" in joined or f'{name}"' in joined, f"no endpoint for {name}: {joined}"
    assert sorted(services.values()) == ["Gateway", "Interface", "Interface", "Interface", "Interface"]
    assert resources(raw, "AWS::EC2::FlowLog"), "VPC flow logs"


# ---------------------------------------------------------------------------------------------- database


def test_database_is_private_encrypted_backed_up_multi_az_and_protected(template: Any) -> None:
    template.has_resource_properties(
        "AWS::RDS::DBInstance",
        {
            "Engine": "mysql",
            "PubliclyAccessible": False,
            "StorageEncrypted": True,
            "MultiAZ": True,
            "DeletionProtection": True,
            "BackupRetentionPeriod": 7,
        },
    )
    template.has_resource("AWS::RDS::DBInstance", {"DeletionPolicy": "Snapshot"})


def test_database_sits_only_in_isolated_subnets(raw: dict[str, Any]) -> None:
    _, group = _one(raw, "AWS::RDS::DBSubnetGroup")
    subnets = {_logical(s) for s in group["Properties"]["SubnetIds"]}
    assert subnets == _subnets_by_tier(raw)["Isolated"]
    _, db = _one(raw, "AWS::RDS::DBInstance")
    assert db["Properties"]["EngineVersion"].startswith("8.")


def test_database_password_is_generated_into_secrets_manager(raw: dict[str, Any]) -> None:
    _, db = _one(raw, "AWS::RDS::DBInstance")
    password = json.dumps(db["Properties"]["MasterUserPassword"])
    assert "{{resolve:secretsmanager:" in password, password
    generated = [
        s for s in resources(raw, "AWS::SecretsManager::Secret").values() if "GenerateSecretString" in s["Properties"]
    ]
    assert any("SecretStringTemplate" in s["Properties"]["GenerateSecretString"] for s in generated)


def _ingress_rules(raw: dict[str, Any]) -> list[dict[str, Any]]:
    """Every ingress rule: inline in a security group (with its group) or a separate resource."""
    rules = []
    for name, group in resources(raw, "AWS::EC2::SecurityGroup").items():
        for rule in group["Properties"].get("SecurityGroupIngress", []):
            rules.append({**rule, "GroupId": {"Fn::GetAtt": [name, "GroupId"]}})
    rules += [r["Properties"] for r in resources(raw, "AWS::EC2::SecurityGroupIngress").values()]
    return rules


def _group_of(raw: dict[str, Any], description_start: str) -> str:
    found = [
        name
        for name, g in resources(raw, "AWS::EC2::SecurityGroup").items()
        if g["Properties"]["GroupDescription"].startswith(description_start)
    ]
    assert len(found) == 1, (description_start, found)
    return found[0]


def test_database_admits_3306_only_from_the_app_and_api_tasks(raw: dict[str, Any]) -> None:
    db_group = _group_of(raw, "AWSome RDS MySQL")
    app, api = _group_of(raw, "AWSome App tasks"), _group_of(raw, "AWSome Api tasks")
    rules = [r for r in _ingress_rules(raw) if _logical(r["GroupId"]) == db_group]
    assert {(r["FromPort"], r["ToPort"], r["IpProtocol"], _logical(r["SourceSecurityGroupId"])) for r in rules} == {
        (3306, 3306, "tcp", app),
        (3306, 3306, "tcp", api),
    }
    assert all("CidrIp" not in r and "CidrIpv6" not in r for r in rules)


def test_tasks_admit_only_the_load_balancer(raw: dict[str, Any]) -> None:
    alb = _group_of(raw, "Automatically created Security Group for ELB")
    for description, port in (("AWSome App tasks", 8080), ("AWSome Api tasks", 8000)):  # 8080: the edge proxy
        group = _group_of(raw, description)
        rules = [r for r in _ingress_rules(raw) if _logical(r["GroupId"]) == group]
        assert [(r["FromPort"], _logical(r["SourceSecurityGroupId"])) for r in rules] == [(port, alb)]


def test_no_ingress_from_the_internet_but_https_on_the_balancer_and_turn(raw: dict[str, Any]) -> None:
    sys.path.insert(0, str(CDK_DIR))
    from awsome_aws.config import TURN_CONF, turn_ports

    port, relay_min, relay_max = turn_ports(TURN_CONF.read_text())
    alb, turn = _group_of(raw, "Automatically created Security Group for ELB"), _group_of(raw, "AWSome TURN")
    open_rules = {
        (_logical(r["GroupId"]), r["IpProtocol"], r["FromPort"], r["ToPort"])
        for r in _ingress_rules(raw)
        if r.get("CidrIp") == "0.0.0.0/0" or r.get("CidrIpv6") == "::/0"
    }
    assert open_rules == {
        (alb, "tcp", 443, 443),
        (alb, "tcp", 80, 80),  # answers only with a redirect (test_http_redirects_to_https)
        (turn, "udp", port, port),
        (turn, "tcp", port, port),
        (turn, "udp", relay_min, relay_max),
    }


# ---------------------------------------------------------------------------------------------- services


def _containers(raw: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        c["Name"]: c
        for task in resources(raw, "AWS::ECS::TaskDefinition").values()
        for c in task["Properties"]["ContainerDefinitions"]
    }


def test_secrets_reach_the_tasks_as_secrets_manager_references_only(raw: dict[str, Any]) -> None:
    containers = _containers(raw)
    assert set(containers) == {"app", "api", "edge"}
    assert "Secrets" not in containers["edge"], "the edge proxy needs none"
    for container in (containers["app"], containers["api"]):
        plain = {e["Name"]: e["Value"] for e in container["Environment"]}
        assert not [name for name in plain if SECRET_NAMES.search(name)], plain
        secrets = {s["Name"]: json.dumps(s["ValueFrom"]) for s in container["Secrets"]}
        for name in ("AWSOME_COOKIE_KEY", "STREAMLIT_SERVER_COOKIE_SECRET", "AWSOME_TURN_SECRET", "DB_PASSWORD"):
            assert name in secrets, name
        assert all("Ref" in v or "arn:" in v for v in secrets.values()), secrets
        assert "AWSOME_DATABASE_URL" not in plain, "the entrypoint builds it from the secret's fields"


def test_tasks_run_on_fargate_in_private_subnets_without_public_addresses(raw: dict[str, Any]) -> None:
    private = _subnets_by_tier(raw)["Private"]
    services = resources(raw, "AWS::ECS::Service")
    assert len(services) == 2
    for service in services.values():
        props = service["Properties"]
        assert props["LaunchType"] == "FARGATE"
        vpc = props["NetworkConfiguration"]["AwsvpcConfiguration"]
        assert vpc["AssignPublicIp"] == "DISABLED"
        assert {_logical(s) for s in vpc["Subnets"]} == private
    api = _containers(raw)["api"]
    assert api["Command"] == ["awsome", "api", "--host", "0.0.0.0", "--port", "8000", "--workers", "2"]


def test_logs_go_to_cloudwatch_with_a_retention(raw: dict[str, Any]) -> None:
    groups = resources(raw, "AWS::Logs::LogGroup")
    assert groups and all(g["Properties"].get("RetentionInDays") for g in groups.values())
    for container in _containers(raw).values():
        assert container["LogConfiguration"]["LogDriver"] == "awslogs"


def test_load_balancer_serves_https_with_a_certificate_parameter_and_redirects_http(template: Any) -> None:
    template.has_parameter("CertificateArn", {"Type": "String"})
    template.has_resource_properties(
        "AWS::ElasticLoadBalancingV2::Listener",
        {"Port": 443, "Protocol": "HTTPS", "Certificates": [{"CertificateArn": {"Ref": "CertificateArn"}}]},
    )
    template.has_resource_properties(
        "AWS::ElasticLoadBalancingV2::Listener",
        {"Port": 80, "DefaultActions": [{"Type": "redirect", "RedirectConfig": {"Protocol": "HTTPS", "Port": "443"}}]},
    )


def _attributes(resource: dict[str, Any], key: str) -> dict[str, str]:
    return {a["Key"]: a["Value"] for a in resource["Properties"].get(key, [])}


def test_app_targets_are_sticky_and_health_checked_on_stcore_health(raw: dict[str, Any]) -> None:
    groups = {g["Properties"]["Port"]: g for g in resources(raw, "AWS::ElasticLoadBalancingV2::TargetGroup").values()}
    app = groups[8080]  # the app task's edge proxy (test_app_responses_go_through_the_edge_proxy)
    assert app["Properties"]["HealthCheckPath"] == "/_stcore/health"
    attributes = _attributes(app, "TargetGroupAttributes")
    assert attributes["stickiness.enabled"] == "true"
    assert attributes["stickiness.type"] == "lb_cookie"
    assert int(attributes["stickiness.lb_cookie.duration_seconds"]) >= 3600
    assert groups[8000]["Properties"]["HealthCheckPath"] == "/v1/health"


def test_app_responses_go_through_the_edge_proxy_with_the_nginx_template(raw: dict[str, Any]) -> None:
    """The ALB cannot send Referrer-Policy or Permissions-Policy: the app task's nginx (deploy/nginx/Dockerfile,
    the same template as compose and the local stack) does, for every app response."""
    sys.path.insert(0, str(CDK_DIR))
    from awsome_aws.config import NGINX_TEMPLATE, PROJECT_ROOT

    app_task = next(
        t
        for t in resources(raw, "AWS::ECS::TaskDefinition").values()
        if {c["Name"] for c in t["Properties"]["ContainerDefinitions"]} == {"app", "edge"}
    )
    edge = next(c for c in app_task["Properties"]["ContainerDefinitions"] if c["Name"] == "edge")
    env = {e["Name"]: e["Value"] for e in edge["Environment"]}
    assert env["LISTEN_PORT"] == "8080" and [p["ContainerPort"] for p in edge["PortMappings"]] == [8080]
    assert {env[f"{n}_HOST"] for n in ("APP1", "APP2", "API")} == {"127.0.0.1"}  # the task's own Streamlit
    assert {env[f"{n}_PORT"] for n in ("APP1", "APP2", "API")} == {"8501"}
    assert edge["DependsOn"] == [{"ContainerName": "app", "Condition": "HEALTHY"}]
    dockerfile = (NGINX_TEMPLATE.parent / "Dockerfile").read_text()
    assert f"COPY {NGINX_TEMPLATE.name} /etc/nginx/templates/" in dockerfile
    assert NGINX_TEMPLATE.parent == PROJECT_ROOT / "deploy" / "nginx"
    targets = resources(raw, "AWS::ECS::Service")
    balanced = [lb for svc in targets.values() for lb in svc["Properties"].get("LoadBalancers", [])]
    assert {(lb["ContainerName"], lb["ContainerPort"]) for lb in balanced} == {("edge", 8080), ("api", 8000)}


def test_api_is_routed_at_api_with_the_prefix_stripped(template: Any) -> None:
    from aws_cdk.assertions import Match

    template.has_resource_properties(
        "AWS::ElasticLoadBalancingV2::ListenerRule",
        {
            "Conditions": [{"Field": "path-pattern", "PathPatternConfig": {"Values": ["/api/*"]}}],
            "Transforms": [
                {"Type": "url-rewrite", "UrlRewriteConfig": {"Rewrites": [{"Regex": "^/api/(.*)$", "Replace": "/$1"}]}}
            ],
            "Actions": Match.any_value(),
        },
    )


def test_load_balancer_sends_the_nginx_templates_security_headers(raw: dict[str, Any]) -> None:
    sys.path.insert(0, str(CDK_DIR))
    from awsome_aws.config import NGINX_TEMPLATE, nginx_security_headers

    nginx = nginx_security_headers(NGINX_TEMPLATE.read_text())
    https = next(
        listener
        for listener in resources(raw, "AWS::ElasticLoadBalancingV2::Listener").values()
        if listener["Properties"]["Port"] == 443
    )
    attributes = _attributes(https, "ListenerAttributes")
    hsts = attributes["routing.http.response.strict_transport_security.header_value"]
    assert hsts == nginx["Strict-Transport-Security"] and "max-age=" in hsts
    assert attributes["routing.http.response.x_content_type_options.header_value"] == "nosniff"
    assert attributes["routing.http.response.x_frame_options.header_value"] == "SAMEORIGIN"
    csp = attributes["routing.http.response.content_security_policy.header_value"]
    assert csp == nginx["Content-Security-Policy"].replace("$awsome_frame_ancestors", "'self'")
    assert "frame-src 'self' https://open.spotify.com" in csp


def test_buckets_block_public_access_and_require_tls(raw: dict[str, Any]) -> None:
    buckets = resources(raw, "AWS::S3::Bucket")
    assert buckets, "the load balancer's access-log bucket"
    for bucket in buckets.values():
        block = bucket["Properties"]["PublicAccessBlockConfiguration"]
        assert block == dict.fromkeys(
            ("BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets"), True
        )
    policies = json.dumps(list(resources(raw, "AWS::S3::BucketPolicy").values()))
    assert '"aws:SecureTransport": "false"' in policies


# ---------------------------------------------------------------------------------------------- TURN


def test_turn_runs_on_an_instance_with_an_elastic_ip_in_a_public_subnet(raw: dict[str, Any]) -> None:
    name, instance = _one(raw, "AWS::EC2::Instance")
    (interface,) = instance["Properties"]["NetworkInterfaces"]
    assert _logical(interface["SubnetId"]) in _subnets_by_tier(raw)["Public"]
    _, association = _one(raw, "AWS::EC2::EIPAssociation")
    assert _logical(association["Properties"]["InstanceId"]) == name
    assert instance["Properties"]["BlockDeviceMappings"][0]["Ebs"]["Encrypted"] is True
    assert instance["Properties"].get("KeyName") is None, "no SSH key: Session Manager"


def test_turn_user_data_is_the_repositorys_turnserver_conf_with_the_secret_from_secrets_manager(
    raw: dict[str, Any],
) -> None:
    sys.path.insert(0, str(CDK_DIR))
    from awsome_aws.config import TURN_CONF

    _, instance = _one(raw, "AWS::EC2::Instance")
    user_data = json.dumps(instance["Properties"]["UserData"])
    for line in TURN_CONF.read_text().splitlines():
        if line and not line.startswith("#"):
            assert json.dumps(line)[1:-1] in user_data, line
    assert "use-auth-secret" in user_data
    assert "aws secretsmanager get-secret-value" in user_data
    assert "static-auth-secret=$SECRET" in user_data


def test_stack_config_reads_cli_context_strings() -> None:
    require_cdk()
    sys.path.insert(0, str(CDK_DIR))
    from awsome_aws.config import StackConfig

    config = StackConfig.from_context({"db_multi_az": "false", "app_count": "3", "certificate_arn": "arn:aws:acm:x"})
    assert (config.db_multi_az, config.app_count, config.db_deletion_protection) == (False, 3, True)
    with pytest.raises(ValueError, match="certificate_arn"):
        StackConfig.from_context({"certificate_arn": "my-cert"})
