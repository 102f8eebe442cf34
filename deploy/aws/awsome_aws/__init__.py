"""AWSome's production stack as AWS CDK constructs (synthesized by ``deploy/aws/app.py``).

One stack, one region: a VPC over two availability zones (public: load balancer, NAT, TURN; private with
egress: the app and API tasks; isolated: RDS), RDS MySQL 8, ECS Fargate services built from the project's
Dockerfile behind an HTTPS Application Load Balancer, coturn on a small EC2 instance with an Elastic IP.
Nothing here looks anything up in an AWS account: synthesis works offline, with no credentials.
"""

from awsome_aws.config import StackConfig
from awsome_aws.stack import AwsomeStack, build_app

__all__ = ["AwsomeStack", "StackConfig", "build_app"]
