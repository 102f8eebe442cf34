"""coturn on a small EC2 instance with an Elastic IP in a public subnet.

The instance installs Debian's coturn, writes ``deploy/turnserver.conf`` as it is in the repository plus
what only the deployment knows (public/private address, realm, the shared secret read from Secrets Manager
at boot, the VPC's private ranges refused as peers except the app subnets). Browsers and the app tasks get
time-limited credentials minted from that secret (``awsome_core/turn.py``); the secret itself never leaves
AWS. No SSH key: administration through SSM Session Manager.
"""

from __future__ import annotations

import ipaddress

from aws_cdk import Aws, Fn
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from awsome_aws.config import TURN_CONF, StackConfig, turn_ports
from awsome_aws.network import APP, PUBLIC, Network

# Debian's own AMI (the project's Debian 12 and its coturn 4.6), resolved by CloudFormation at deploy time.
DEBIAN_AMI_PARAMETER = "/aws/service/debian/release/12/latest/arm64"
IMDS = "http://169.254.169.254/latest"  # the instance metadata service (IMDSv2: a token first)
PRIVATE_RANGES = ("10.0.0.0-10.255.255.255", "172.16.0.0-172.31.255.255", "192.168.0.0-192.168.255.255")


def cidr_range(cidr: str) -> str:
    """``10.20.4.0/22`` → ``10.20.4.0-10.20.7.255`` (coturn's peer-ip range syntax)."""
    network = ipaddress.ip_network(cidr)
    return f"{network.network_address}-{network.broadcast_address}"


class TurnServer(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, config: StackConfig, network: Network):
        super().__init__(scope, construct_id)
        port, relay_min, relay_max = turn_ports(TURN_CONF.read_text())
        self.secret = secretsmanager.Secret(
            self,
            "Secret",
            description="coturn static-auth-secret: the app mints time-limited TURN credentials from it",
            generate_secret_string=secretsmanager.SecretStringGenerator(password_length=48, exclude_punctuation=True),
        )
        self.security_group = ec2.SecurityGroup(
            self,
            "SecurityGroup",
            vpc=network.vpc,
            description="AWSome TURN: STUN/TURN and the relay ports from anywhere",
            allow_all_outbound=True,  # relays to browsers anywhere and to the app tasks
        )
        internet = ec2.Peer.any_ipv4()
        self.security_group.add_ingress_rule(internet, ec2.Port.udp(port), "TURN/STUN over UDP")
        self.security_group.add_ingress_rule(internet, ec2.Port.tcp(port), "TURN over TCP")
        self.security_group.add_ingress_rule(internet, ec2.Port.udp_range(relay_min, relay_max), "TURN relay")
        self.eip = ec2.CfnEIP(self, "Address", domain="vpc")
        self.public_ip = self.eip.attr_public_ip
        self.urls = [f"turn:{self.public_ip}:{port}?transport=udp", f"turn:{self.public_ip}:{port}?transport=tcp"]
        self.stun_url = f"stun:{self.public_ip}:{port}"

        role = iam.Role(self, "Role", assumed_by=iam.ServicePrincipal("ec2.amazonaws.com"))
        role.add_managed_policy(iam.ManagedPolicy.from_aws_managed_policy_name("AmazonSSMManagedInstanceCore"))
        self.secret.grant_read(role)
        app_ranges = [cidr_range(s.ipv4_cidr_block) for s in network.vpc.select_subnets(subnet_group_name=APP).subnets]
        self.instance = ec2.Instance(
            self,
            "Instance",
            vpc=network.vpc,
            vpc_subnets=network.subnets(PUBLIC),
            instance_type=ec2.InstanceType(config.turn_instance_type),
            machine_image=ec2.MachineImage.from_ssm_parameter(DEBIAN_AMI_PARAMETER, os=ec2.OperatingSystemType.LINUX),
            security_group=self.security_group,
            role=role,
            require_imdsv2=True,
            associate_public_ip_address=False,  # the Elastic IP below is its public address
            block_devices=[
                ec2.BlockDevice(
                    device_name="/dev/xvda",
                    volume=ec2.BlockDeviceVolume.ebs(8, encrypted=True, volume_type=ec2.EbsDeviceVolumeType.GP3),
                )
            ],
            user_data=self._user_data(config, app_ranges),
            user_data_causes_replacement=True,  # a new configuration is a fresh instance, same Elastic IP
        )
        ec2.CfnEIPAssociation(
            self, "Association", allocation_id=self.eip.attr_allocation_id, instance_id=self.instance.instance_id
        )

    def _user_data(self, config: StackConfig, app_ranges: list[str]) -> ec2.UserData:
        conf = TURN_CONF.read_text()
        # Debian's default TURN runs as user turnserver; the secret file is readable by it only.
        extra = [
            f"realm={config.turn_realm}",
            *(f"denied-peer-ip={r}" for r in PRIVATE_RANGES),
            *(f"allowed-peer-ip={r}" for r in app_ranges),
        ]
        user_data = ec2.UserData.for_linux()
        user_data.add_commands(
            "set -eu",
            "export DEBIAN_FRONTEND=noninteractive",
            "apt-get update -q && apt-get install -y -q coturn awscli",
            "cat > /etc/turnserver.conf <<'AWSOME_TURN_CONF'",
            conf.rstrip("\n"),
            *extra,
            "AWSOME_TURN_CONF",
            f'TOKEN=$(curl -sX PUT {IMDS}/api/token -H "X-aws-ec2-metadata-token-ttl-seconds: 60")',
            f'PRIVATE_IP=$(curl -s -H "X-aws-ec2-metadata-token: $TOKEN" {IMDS}/meta-data/local-ipv4)',
            f'echo "external-ip={self.public_ip}/$PRIVATE_IP" >> /etc/turnserver.conf',
            "umask 077",
            Fn.join(
                "",
                [
                    "SECRET=$(aws secretsmanager get-secret-value --region ",
                    Aws.REGION,
                    " --secret-id ",
                    self.secret.secret_arn,
                    " --query SecretString --output text)",
                ],
            ),
            'echo "static-auth-secret=$SECRET" >> /etc/turnserver.conf',
            "chown root:turnserver /etc/turnserver.conf && chmod 0640 /etc/turnserver.conf",
            "systemctl enable coturn && systemctl restart coturn",
        )
        return user_data
