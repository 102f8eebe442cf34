"""RDS MySQL 8 in the isolated subnets: private, encrypted, backed up; its credentials generated into
Secrets Manager (the tasks read them from there, never from the task definition)."""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_logs as logs
from aws_cdk import aws_rds as rds
from constructs import Construct

from awsome_aws.config import StackConfig
from awsome_aws.network import DB, Network

DB_NAME = "awsome"
DB_USER = "awsome"
DB_PORT = 3306
# The tasks build AWSOME_DATABASE_URL from the secret's fields (deploy/entrypoint.sh): a password without
# URL-special characters needs no escaping there.
# MySQL 8.4 (LTS); minor versions are upgraded by RDS in the maintenance window.
ENGINE = rds.DatabaseInstanceEngine.mysql(version=rds.MysqlEngineVersion.VER_8_4_8)
URL_UNSAFE = " %+~`#$&*()|[]{}:;<>?!'/@\"\\=,.^"


class Database(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: StackConfig,
        network: Network,
        log_retention: logs.RetentionDays,
    ):
        super().__init__(scope, construct_id)
        self.security_group = ec2.SecurityGroup(
            self,
            "SecurityGroup",
            vpc=network.vpc,
            description="AWSome RDS MySQL: 3306 from the app and API tasks only",
            allow_all_outbound=False,
        )
        parameters = rds.ParameterGroup(
            self,
            "Parameters",
            engine=ENGINE,
            parameters={
                "character_set_server": "utf8mb4",
                "collation_server": "utf8mb4_unicode_ci",
                "require_secure_transport": "1",  # connections without TLS are refused
            },
        )
        self.instance = rds.DatabaseInstance(
            self,
            "Instance",
            engine=ENGINE,
            instance_type=ec2.InstanceType(config.db_instance_type),
            vpc=network.vpc,
            vpc_subnets=network.subnets(DB),
            security_groups=[self.security_group],
            publicly_accessible=False,
            port=DB_PORT,
            database_name=DB_NAME,
            credentials=rds.Credentials.from_generated_secret(DB_USER, exclude_characters=URL_UNSAFE),
            parameter_group=parameters,
            storage_encrypted=True,
            allocated_storage=config.db_storage_gb,
            max_allocated_storage=config.db_storage_gb * 5,
            storage_type=rds.StorageType.GP3,
            multi_az=config.db_multi_az,
            deletion_protection=config.db_deletion_protection,
            backup_retention=Duration.days(config.db_backup_days),
            preferred_backup_window="02:00-03:00",
            preferred_maintenance_window="sun:03:30-sun:04:30",
            auto_minor_version_upgrade=True,
            copy_tags_to_snapshot=True,
            cloudwatch_logs_exports=["error", "slowquery"],
            cloudwatch_logs_retention=log_retention,
            enable_performance_insights=False,
            removal_policy=RemovalPolicy.SNAPSHOT,  # deleting the stack leaves a final snapshot
        )
        assert self.instance.secret is not None  # from_generated_secret
        self.secret = self.instance.secret
