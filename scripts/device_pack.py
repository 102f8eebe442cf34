"""Pack FER2013 from ../shared for one lent-GPU session (see scripts/device_train.sh); never commit the output.

    python scripts/device_pack.py --xz /tmp/fer_x.xz   # reuse a compressed pixel file made earlier

Writes ``.devdata/fer_x.xz`` (Training then PublicTest pixels) and ``.devdata/labels.npz`` into the
ignored ``.devdata/`` folder that the device tool carries; delete it once the session's runs are back.
"""

from __future__ import annotations

import argparse
import logging
import shutil
import subprocess
from pathlib import Path

import numpy as np

logger = logging.getLogger(__name__)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data-dir", type=Path, default=Path("../shared/data/fer2013"))
    parser.add_argument("--out", type=Path, default=Path(".devdata"))
    parser.add_argument("--xz", type=Path, default=None, help="an existing xz of the pixels to copy instead")
    args = parser.parse_args()
    args.out.mkdir(exist_ok=True)
    train, val = (np.load(args.data_dir / f"fer2013_{s}.npz") for s in ("train", "val"))
    np.savez(
        args.out / "labels.npz",
        y_train=train["y"],
        y_val=val["y"],
        votes_train=train["ferplus_votes"],
        votes_val=val["ferplus_votes"],
    )
    if args.xz:
        shutil.copyfile(args.xz, args.out / "fer_x.xz")
    else:
        raw = np.concatenate([train["x"], val["x"]]).tobytes()
        with (args.out / "fer_x.xz").open("wb") as f:
            subprocess.run(["xz", "-9", "-T2", "-c"], input=raw, stdout=f, check=True)
    logger.info("packed %s", sorted(p.name for p in args.out.iterdir()))


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO)
    main()
