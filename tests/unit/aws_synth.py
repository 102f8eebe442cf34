"""Synthesize the CDK app (deploy/aws) once per test session: the template, the cloud assembly's folder and
cdk-nag's findings, shared by tests/unit/test_aws_*.py.

Needs aws-cdk-lib (requirements.txt) and Node (jsii runs the CDK in it); where either is missing the tests
skip with the reason (fail under AWSOME_REQUIRE_ALL=1).
"""

from __future__ import annotations

import atexit
import functools
import importlib.util
import json
import os
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.conftest import PROJECT_ROOT, skip_or_fail

CDK_DIR = PROJECT_ROOT / "deploy" / "aws"


@dataclass(frozen=True)
class Synthesized:
    outdir: Path
    template_path: Path
    template: dict[str, Any]
    findings: list[tuple[str, str, str]]  # (level, construct path, message) of errors and warnings


def require_cdk() -> None:
    if importlib.util.find_spec("aws_cdk") is None or importlib.util.find_spec("cdk_nag") is None:
        skip_or_fail("aws-cdk-lib / cdk-nag not installed (pip install -r requirements.txt)")
    if shutil.which("node") is None:
        skip_or_fail("node not found: the AWS CDK runs in Node (apt-get install nodejs)")


@functools.cache
def synthesized() -> Synthesized:
    require_cdk()
    # Debian's Node (18 or 20) is older than what jsii now calls supported; it works, the banner is noise.
    os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "18,20")
    if str(CDK_DIR) not in sys.path:
        sys.path.insert(0, str(CDK_DIR))
    from awsome_aws import build_app

    outdir = Path(tempfile.mkdtemp(prefix="awsome-cdk-"))
    atexit.register(shutil.rmtree, outdir, ignore_errors=True)  # the cloud assembly copies the image's context
    app, stack = build_app(outdir=str(outdir))
    assembly = app.synth()
    artifact = assembly.get_stack_artifact(stack.artifact_id)
    findings = [
        (str(m.level.value).lower(), m.id, str(m.entry.data))
        for m in artifact.messages
        if str(m.level.value).lower() in ("error", "warning")
    ]
    template_path = outdir / artifact.template_file
    return Synthesized(outdir, template_path, json.loads(template_path.read_text()), findings)


def resources(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == kind}
