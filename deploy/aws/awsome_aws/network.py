"""The VPC: two availability zones, three tiers, endpoints for what should not leave AWS, flow logs."""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_logs as logs
from constructs import Construct

from awsome_aws.config import StackConfig

PUBLIC, APP, DB = "public", "app", "db"


class Network(Construct):
    """Public subnets (load balancer, NAT, TURN), private subnets with egress through NAT (tasks), isolated
    subnets with no route out at all (RDS)."""

    def __init__(self, scope: Construct, construct_id: str, *, config: StackConfig, log_retention: logs.RetentionDays):
        super().__init__(scope, construct_id)
        self.vpc = ec2.Vpc(
            self,
            "Vpc",
            ip_addresses=ec2.IpAddresses.cidr("10.20.0.0/16"),
            max_azs=2,
            nat_gateways=config.nat_gateways,
            subnet_configuration=[
                ec2.SubnetConfiguration(name=PUBLIC, subnet_type=ec2.SubnetType.PUBLIC, cidr_mask=24),
                ec2.SubnetConfiguration(name=APP, subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS, cidr_mask=22),
                ec2.SubnetConfiguration(name=DB, subnet_type=ec2.SubnetType.PRIVATE_ISOLATED, cidr_mask=24),
            ],
        )
        self.flow_logs = flow_logs = logs.LogGroup(
            self, "FlowLogs", retention=log_retention, removal_policy=RemovalPolicy.RETAIN
        )
        self.vpc.add_flow_log(
            "FlowLog",
            destination=ec2.FlowLogDestination.to_cloud_watch_logs(flow_logs),
            traffic_type=ec2.FlowLogTrafficType.REJECT,  # what the security groups refused: the useful part
        )
        # S3 (ECR image layers live there) through the free gateway endpoint, from the app subnets.
        self.vpc.add_gateway_endpoint(
            "S3", service=ec2.GatewayVpcEndpointAwsService.S3, subnets=[ec2.SubnetSelection(subnet_group_name=APP)]
        )
        self.endpoints: list[ec2.InterfaceVpcEndpoint] = []
        if config.interface_endpoints:
            # Secrets, image pulls and logs stay on AWS's network instead of going through the NAT gateway.
            for name, service in (
                ("SecretsManager", ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER),
                ("EcrApi", ec2.InterfaceVpcEndpointAwsService.ECR),
                ("EcrDocker", ec2.InterfaceVpcEndpointAwsService.ECR_DOCKER),
                ("Logs", ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_LOGS),
            ):
                endpoint = self.vpc.add_interface_endpoint(
                    name,
                    service=service,
                    subnets=ec2.SubnetSelection(subnet_group_name=APP),
                    private_dns_enabled=True,
                    open=False,  # HTTPS from the tasks' security groups only (allow_endpoints_from)
                )
                self.endpoints.append(endpoint)

    def allow_endpoints_from(self, peer: ec2.IConnectable) -> None:
        for endpoint in self.endpoints:
            endpoint.connections.allow_default_port_from(peer, "HTTPS to the endpoint")

    def subnets(self, group: str) -> ec2.SubnetSelection:
        return ec2.SubnetSelection(subnet_group_name=group)
