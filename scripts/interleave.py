"""Run one measuring command in two checkouts, alternately, and print each run's last line.

Run command::

    git worktree add /tmp/base <commit>       # the checkout to compare against
    .venv/bin/python scripts/interleave.py --pairs 4 /tmp/base . -- \
        scripts/load_test.py --sessions 20 --duration 60 --seed-catalog

On a machine whose speed drifts within minutes (docs/performance.md, seventh pass), two figures taken at
different times say more about the machine than about the code; alternating A, B, A, B ... on the same warm
machine and comparing the medians does not. The command runs with this virtual environment's Python, in each
checkout's directory (the scripts put their checkout first on ``sys.path``), one at a time.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pairs", type=int, default=4, help="rounds of one run per checkout")
    parser.add_argument("checkouts", nargs=2, type=Path, help="the two checkouts (A first in each round)")
    parser.add_argument("command", nargs=argparse.REMAINDER, help="after --: the script and its arguments")
    args = parser.parse_args(argv)
    command = [c for c in args.command if c != "--"]
    if not command:
        parser.error("give the command after --")
    for _ in range(args.pairs):
        for checkout in args.checkouts:
            done = subprocess.run([sys.executable, *command], cwd=checkout, capture_output=True, text=True)
            # the figures are the command's last line on stdout (its logging goes to stderr)
            lines = done.stdout.strip().splitlines() or done.stderr.strip().splitlines() or ["(no output)"]
            print(f"{time.strftime('%H:%M')} {checkout.resolve().name}: {lines[-1]}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
