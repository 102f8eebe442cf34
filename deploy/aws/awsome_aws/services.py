"""The app (Streamlit) and API services on ECS Fargate behind an HTTPS Application Load Balancer.

Why Fargate and not an EC2 Auto Scaling group: the replicas are stateless containers already (the image,
its health check, migrations under a MySQL lock at start), Fargate runs them with no hosts to patch or AMIs
to bake, places each task in a private subnet with its own security group (the app → database rule is
per service, not per host), and injects Secrets Manager values into the container at start. An ASG would
be cheaper only at a steady size large enough to fill whole instances.

Sticky sessions: Streamlit keeps a tab's session in one process, so the load balancer pins a browser to a
task with its duration cookie (``AWSALB``) and re-pins it when that task goes away (docs/deploy.md).
"""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from awsome_aws.config import PROJECT_ROOT, StackConfig
from awsome_aws.database import DB_NAME, DB_PORT, Database
from awsome_aws.edge import EDGE_CONTAINER, EDGE_PORT, add_edge_proxy
from awsome_aws.network import APP, PUBLIC, Network
from awsome_aws.turn import TurnServer

APP_PORT, API_PORT = 8501, 8000
API_COMMAND = ["awsome", "api", "--host", "0.0.0.0", "--port", str(API_PORT), "--workers", "2"]
HEALTH_PROBE = (
    "import sys, urllib.request; "
    "sys.exit(urllib.request.urlopen('http://127.0.0.1:{port}{path}', timeout=4).status != 200)"
)


class Services(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: StackConfig,
        network: Network,
        database: Database,
        turn: TurnServer,
        certificate_arn: str,
        security_headers: dict[str, str],
        log_retention: logs.RetentionDays,
    ):
        super().__init__(scope, construct_id)
        self.cookie_key = self._secret("CookieKey", "Signs the login cookie (AWSOME_COOKIE_KEY)")
        self.streamlit_secret = self._secret("StreamlitCookieSecret", "Streamlit's own cookie secret")
        self.cluster = ecs.Cluster(
            self, "Cluster", vpc=network.vpc, container_insights_v2=ecs.ContainerInsights.ENABLED
        )
        image = (
            ecs.ContainerImage.from_registry(config.image_uri)
            if config.image_uri
            else ecs.ContainerImage.from_asset(str(PROJECT_ROOT), file="Dockerfile")
        )
        environment = {
            "AWSOME_ENV": "production",
            "AWSOME_LOG_LEVEL": "INFO",
            "AWSOME_ICE_SERVERS": f'[{{"urls": ["{turn.stun_url}"]}}]',
            "AWSOME_TURN_URLS": ",".join(turn.urls),
            "DB_NAME": DB_NAME,
            # TLS to RDS (the parameter group requires it). Encrypted, not verified: the image has no RDS CA
            # bundle; with one, use ssl_ca=/path/to/global-bundle.pem (docs/deploy.md).
            "DB_URL_QUERY": "ssl_check_hostname=false",
            # Only the load balancer reaches the tasks (security groups): trust its X-Forwarded-For.
            "FORWARDED_ALLOW_IPS": "*",
        }
        secrets = {
            "AWSOME_COOKIE_KEY": ecs.Secret.from_secrets_manager(self.cookie_key),
            "STREAMLIT_SERVER_COOKIE_SECRET": ecs.Secret.from_secrets_manager(self.streamlit_secret),
            "AWSOME_TURN_SECRET": ecs.Secret.from_secrets_manager(turn.secret),
            # deploy/entrypoint.sh builds AWSOME_DATABASE_URL from these four.
            "DB_HOST": ecs.Secret.from_secrets_manager(database.secret, "host"),
            "DB_PORT": ecs.Secret.from_secrets_manager(database.secret, "port"),
            "DB_USER": ecs.Secret.from_secrets_manager(database.secret, "username"),
            "DB_PASSWORD": ecs.Secret.from_secrets_manager(database.secret, "password"),
        }
        self.app_logs = logs.LogGroup(self, "AppLogs", retention=log_retention, removal_policy=RemovalPolicy.RETAIN)
        self.api_logs = logs.LogGroup(self, "ApiLogs", retention=log_retention, removal_policy=RemovalPolicy.RETAIN)
        self.app = self._service(
            "App",
            image,
            environment,
            secrets,
            port=APP_PORT,
            health="/_stcore/health",
            count=config.app_count,
            network=network,
            log_group=self.app_logs,
            edge=True,
        )
        self.api = self._service(
            "Api",
            image,
            environment,
            secrets,
            port=API_PORT,
            health="/v1/health",
            count=config.api_count,
            network=network,
            log_group=self.api_logs,
            command=API_COMMAND,
        )
        for service in (self.app, self.api):
            network.allow_endpoints_from(service)
            database.security_group.add_ingress_rule(
                service.connections.security_groups[0], ec2.Port.tcp(DB_PORT), f"MySQL from {service.node.id}"
            )
        scaling = self.app.auto_scale_task_count(min_capacity=config.app_count, max_capacity=config.app_max_count)
        scaling.scale_on_cpu_utilization("Cpu", target_utilization_percent=60)
        self._load_balancer(network, certificate_arn, security_headers)

    def _secret(self, construct_id: str, description: str) -> secretsmanager.Secret:
        return secretsmanager.Secret(
            self,
            construct_id,
            description=description,
            generate_secret_string=secretsmanager.SecretStringGenerator(password_length=48, exclude_punctuation=True),
        )

    def _service(
        self,
        name: str,
        image: ecs.ContainerImage,
        environment: dict[str, str],
        secrets: dict[str, ecs.Secret],
        *,
        port: int,
        health: str,
        count: int,
        network: Network,
        log_group: logs.LogGroup,
        command: list[str] | None = None,
        edge: bool = False,
    ) -> ecs.FargateService:
        # One vCPU per task: a Streamlit process uses at most one core (docs/deploy.md, Sizing); 2 GB is
        # Fargate's smallest size for 1 vCPU.
        task = ecs.FargateTaskDefinition(
            self,
            f"{name}Task",
            cpu=1024,
            memory_limit_mib=2048,
            runtime_platform=ecs.RuntimePlatform(
                cpu_architecture=ecs.CpuArchitecture.X86_64, operating_system_family=ecs.OperatingSystemFamily.LINUX
            ),
        )
        container = task.add_container(
            name.lower(),
            image=image,
            command=command,
            environment={**environment, "STREAMLIT_SERVER_PORT": str(APP_PORT)},
            secrets=secrets,
            port_mappings=[ecs.PortMapping(container_port=port)],
            logging=ecs.LogDrivers.aws_logs(stream_prefix=name.lower(), log_group=log_group),
            health_check=ecs.HealthCheck(
                command=["CMD", "python", "-c", HEALTH_PROBE.format(port=port, path=health)],
                interval=Duration.seconds(30),
                timeout=Duration.seconds(5),
                start_period=Duration.seconds(120),
                retries=3,
            ),
        )
        if edge:  # the security headers of the nginx template (awsome_aws/edge.py)
            add_edge_proxy(task, container, port, log_group)
        security_group = ec2.SecurityGroup(
            self,
            f"{name}SecurityGroup",
            vpc=network.vpc,
            description=f"AWSome {name} tasks: from the load balancer only",
        )
        service = ecs.FargateService(
            self,
            name,
            cluster=self.cluster,
            task_definition=task,
            desired_count=count,
            vpc_subnets=network.subnets(APP),
            security_groups=[security_group],
            assign_public_ip=False,
            min_healthy_percent=100,
            max_healthy_percent=200,
            circuit_breaker=ecs.DeploymentCircuitBreaker(enable=True, rollback=True),
            health_check_grace_period=Duration.seconds(180),
        )
        service.node.add_metadata("awsome:port", port)
        service.node.add_metadata("awsome:health", health)
        return service

    def _load_balancer(self, network: Network, certificate_arn: str, security_headers: dict[str, str]) -> None:
        self.logs_bucket = s3.Bucket(
            self,
            "AccessLogs",
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            encryption=s3.BucketEncryption.S3_MANAGED,  # the only encryption ALB access logs support
            enforce_ssl=True,
            versioned=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            lifecycle_rules=[
                s3.LifecycleRule(expiration=Duration.days(90), noncurrent_version_expiration=Duration.days(7))
            ],
            removal_policy=RemovalPolicy.RETAIN,
        )
        self.alb = elbv2.ApplicationLoadBalancer(
            self,
            "LoadBalancer",
            vpc=network.vpc,
            internet_facing=True,
            vpc_subnets=network.subnets(PUBLIC),
            idle_timeout=Duration.seconds(300),  # an open tab's websocket; Streamlit pings it every ~30 s
            drop_invalid_header_fields=True,
        )
        self.alb.log_access_logs(self.logs_bucket, prefix="alb")
        https = self.alb.add_listener(
            "Https",
            port=443,
            protocol=elbv2.ApplicationProtocol.HTTPS,
            certificates=[elbv2.ListenerCertificate.from_arn(certificate_arn)],
            ssl_policy=elbv2.SslPolicy.RECOMMENDED_TLS,
            open=True,
            default_action=elbv2.ListenerAction.fixed_response(
                404, content_type="text/plain", message_body="Not found"
            ),
        )
        self.https = https
        for header, attribute in (
            ("Strict-Transport-Security", "routing.http.response.strict_transport_security.header_value"),
            ("Content-Security-Policy", "routing.http.response.content_security_policy.header_value"),
            ("X-Content-Type-Options", "routing.http.response.x_content_type_options.header_value"),
            ("X-Frame-Options", "routing.http.response.x_frame_options.header_value"),
        ):
            https.set_attribute(attribute, security_headers[header])
        https.set_attribute("routing.http.response.server.enabled", "false")
        self.alb.add_listener(
            "Http",
            port=80,
            open=True,
            default_action=elbv2.ListenerAction.redirect(protocol="HTTPS", port="443", permanent=True),
        )
        self.app_targets = https.add_targets(
            "App",
            port=EDGE_PORT,
            protocol=elbv2.ApplicationProtocol.HTTP,
            targets=[self.app.load_balancer_target(container_name=EDGE_CONTAINER, container_port=EDGE_PORT)],
            health_check=elbv2.HealthCheck(path="/_stcore/health", healthy_http_codes="200"),
            stickiness_cookie_duration=Duration.days(1),
            deregistration_delay=Duration.seconds(30),
            priority=20,
            conditions=[elbv2.ListenerCondition.path_patterns(["/*"])],
        )
        https.add_targets(
            "Api",
            port=API_PORT,
            protocol=elbv2.ApplicationProtocol.HTTP,
            targets=[self.api],
            health_check=elbv2.HealthCheck(path="/v1/health", healthy_http_codes="200"),
            deregistration_delay=Duration.seconds(30),
            priority=10,
            conditions=[elbv2.ListenerCondition.path_patterns(["/api/*"])],
        )
        # The API's routes are /v1/...: the rule strips /api as nginx's `proxy_pass http://api/;` does
        # (an ALB URL-rewrite transform; CDK's L2 has no property for it yet, hence the override).
        rule = https.node.find_child("ApiRule").node.default_child
        rule.add_property_override(
            "Transforms",
            [{"Type": "url-rewrite", "UrlRewriteConfig": {"Rewrites": [{"Regex": "^/api/(.*)$", "Replace": "/$1"}]}}],
        )
