"""The edge proxy beside each app container: nginx with the repository's template, in the same Fargate task.

The load balancer forwards the app's traffic to this container (EDGE_PORT), which proxies it over the task's
loopback to Streamlit (APP_PORT) and adds the template's security headers, the same bytes the local stacks
send and tests/e2e/test_headers_e2e.py measures in Chromium: an ALB's listener can add only HSTS, CSP,
X-Content-Type-Options and X-Frame-Options, one value for every path, so without it the app would answer
without Referrer-Policy and Permissions-Policy, and with ``frame-ancestors 'self'`` where the template says
``'none'``. The template's two replicas and its API are all the one local Streamlit here (the ALB routes /api/
to the API service before this container sees it, and pins browsers to tasks with its own cookie).
"""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_logs as logs

from awsome_aws.config import NGINX_TEMPLATE

EDGE_PORT = 8080
EDGE_CONTAINER = "edge"


def add_edge_proxy(
    task: ecs.FargateTaskDefinition, app: ecs.ContainerDefinition, app_port: int, log_group: logs.LogGroup
) -> ecs.ContainerDefinition:
    """Add the edge container to *task*, started once *app* is healthy; returns it (the load balancer's target)."""
    local = {"HOST": "127.0.0.1", "PORT": str(app_port)}
    edge = task.add_container(
        EDGE_CONTAINER,
        image=ecs.ContainerImage.from_asset(str(NGINX_TEMPLATE.parent)),
        environment={
            **{f"{name}_{key}": value for name in ("APP1", "APP2", "API") for key, value in local.items()},
            "LISTEN_PORT": str(EDGE_PORT),
        },
        port_mappings=[ecs.PortMapping(container_port=EDGE_PORT)],
        logging=ecs.LogDrivers.aws_logs(stream_prefix=EDGE_CONTAINER, log_group=log_group),
        health_check=ecs.HealthCheck(
            command=["CMD-SHELL", f"wget -q -O /dev/null http://127.0.0.1:{EDGE_PORT}/_stcore/health || exit 1"],
            interval=Duration.seconds(30),
            timeout=Duration.seconds(5),
            start_period=Duration.seconds(30),
            retries=3,
        ),
        essential=True,
    )
    edge.add_container_dependencies(
        ecs.ContainerDependency(container=app, condition=ecs.ContainerDependencyCondition.HEALTHY)
    )
    return edge
