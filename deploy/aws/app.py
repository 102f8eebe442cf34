"""The CDK app: ``cdk deploy`` runs it (cdk.json), ``make aws-synth`` runs it directly.

    .venv/bin/python deploy/aws/app.py                 # writes deploy/aws/cdk.out/ (no AWS account needed)
    cd deploy/aws && npx aws-cdk@2 deploy -c certificate_arn=arn:aws:acm:...   # see docs/deploy.md

Context (``-c key=value``): see awsome_aws/config.py (StackConfig), plus ``region`` and ``account``.
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from awsome_aws import build_app  # noqa: E402


def main() -> None:
    # Run by the cdk CLI, the output folder comes from CDK_OUTDIR; run directly, it is deploy/aws/cdk.out.
    import os

    app, _ = build_app(outdir=None if os.environ.get("CDK_OUTDIR") else str(HERE / "cdk.out"))
    app.synth()


if __name__ == "__main__":
    main()
