"""The synthesized AWS template through the three offline checkers: cdk-nag's AwsSolutions pack (run as an
aspect during synthesis), cfn-lint, checkov. Nothing may be reported unsuppressed, and every suppression
says why (deploy/aws/awsome_aws/nag.py).

cfn-lint comes with requirements.txt; checkov has too many pinned dependencies to share the project's venv,
so ``make checkov`` installs it into its own ``.venv-checkov/`` (``make test`` depends on it;
AWSOME_CHECKOV overrides the binary). A missing tool skips with the reason, or fails under
AWSOME_REQUIRE_ALL=1.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import PROJECT_ROOT, skip_or_fail
from tests.unit.aws_synth import synthesized

pytestmark = pytest.mark.aws

CHECKOV = Path(os.environ.get("AWSOME_CHECKOV", PROJECT_ROOT / ".venv-checkov" / "bin" / "checkov"))
# W3005: a DependsOn that a GetAtt already implies, in CDK's own generated helper resources; harmless.
CFN_LINT_IGNORED = ("W3005",)
MIN_REASON = 40  # characters: a reason, not "ok"


def test_cdk_nag_reports_nothing_unsuppressed() -> None:
    synth = synthesized()
    assert synth.findings == [], "\n".join(f"{level} {path}: {msg[:300]}" for level, path, msg in synth.findings)
    (report,) = synth.outdir.glob("AwsSolutions-*NagReport.csv")
    rows = list(csv.DictReader(report.open()))
    assert len({r["Rule ID"] for r in rows}) >= 20, "the AwsSolutions pack ran"
    assert {r["Compliance"] for r in rows} <= {"Compliant", "Suppressed", "N/A"}
    suppressed = [r for r in rows if r["Compliance"] == "Suppressed"]
    assert suppressed, "the report lists the suppressions"
    short = [(r["Rule ID"], r["Resource ID"]) for r in suppressed if len(r["Exception Reason"]) < MIN_REASON]
    assert short == [], "every suppression is justified in deploy/aws/awsome_aws/nag.py"


def test_cfn_lint_passes_on_the_synthesized_template() -> None:
    cfn_lint = shutil.which("cfn-lint", path=str(Path(sys.executable).parent)) or shutil.which("cfn-lint")
    if cfn_lint is None:
        skip_or_fail("cfn-lint not installed (pip install -r requirements.txt)")
    synth = synthesized()
    argv = [cfn_lint, "--ignore-checks", *CFN_LINT_IGNORED, "--", str(synth.template_path)]
    result = subprocess.run(argv, capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, result.stdout + result.stderr


def test_checkov_passes_with_every_skip_justified() -> None:
    if not CHECKOV.exists():
        skip_or_fail(f"{CHECKOV} not found: `make checkov` installs checkov into .venv-checkov/")
    synth = synthesized()
    argv = [
        str(CHECKOV), "-f", str(synth.template_path), "--framework", "cloudformation",
        "--skip-download", "--compact", "--quiet", "--output", "json",
    ]  # fmt: skip
    env = {**os.environ, "BC_SKIP_MAPPING": "TRUE", "CHECKOV_RUN_SCA_PACKAGE_SCAN_V2": "false"}
    result = subprocess.run(argv, capture_output=True, text=True, timeout=300, env=env)
    report = json.loads(result.stdout)
    summary = report["summary"]
    failed = [(c["check_id"], c["resource"]) for c in report["results"]["failed_checks"]]
    assert failed == [] and result.returncode == 0, failed or result.stderr[-2000:]
    assert summary["passed"] > 100, summary
    skips = [
        skip
        for resource in synth.template["Resources"].values()
        for skip in resource.get("Metadata", {}).get("checkov", {}).get("skip", [])
    ]
    assert len(skips) == summary["skipped"]
    assert [s["id"] for s in skips if len(s.get("comment", "")) < MIN_REASON] == []
