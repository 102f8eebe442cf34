"""Which test-time-augmentation views help: accuracy of each view and of view sets, on one .npz.

    .venv/bin/python scripts/tta_views.py --data ../shared/data/fer2013/fer2013_val.npz
    .venv/bin/python scripts/tta_views.py --data ... --checkpoint runs/swa2/swa_best.keras   # a Keras checkpoint

Predicts every face once per view (the mirror image, ±1/±2 px shifts, diagonal shifts, zoom ±10%,
rotation ±8°, each also mirrored: 34 views), then prints the accuracy of each view alone and of the
sets worth serving (``flip`` and ``shift`` are the modes of ``awsome evaluate --tta-mode``). It only
measures: the served mode is chosen in the model card, and a set picked here is picked on the data it
is scored on, so treat differences under about half a point on PublicTest (3,589 faces) as noise.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

import numpy as np

from awsome_core.training.evaluate import load_faces, make_predictor

logger = logging.getLogger(__name__)

SPECS: dict[str, dict[str, float]] = {
    "id": {},
    **{f"dx{d:+d}": {"dx": d} for d in (-2, -1, 1, 2)},
    **{f"dy{d:+d}": {"dy": d} for d in (-2, -1, 1, 2)},
    **{f"d{a:+d}{b:+d}": {"dx": a, "dy": b} for a in (-2, 2) for b in (-2, 2)},
    "zoom1.1": {"scale": 1.1},
    "zoom0.9": {"scale": 0.9},
    "rot+8": {"angle": 8},
    "rot-8": {"angle": -8},
}
SHIFT2 = ["id", "dx-2", "dx+2", "dy-2", "dy+2"]


def warp(faces: np.ndarray, *, angle: float = 0.0, scale: float = 1.0, dx: float = 0.0, dy: float = 0.0) -> np.ndarray:
    """N×48×48 faces rotated/zoomed about the centre and shifted, borders reflected."""
    import cv2

    m = cv2.getRotationMatrix2D((23.5, 23.5), angle, scale)
    m[:, 2] += (dx, dy)
    return np.stack(
        [cv2.warpAffine(f, m, (48, 48), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT_101) for f in faces]
    )


def view_sets(names: list[str]) -> dict[str, list[str]]:
    """Candidate TTA sets over the view *names* (each view also mirrored, prefix ``m:``)."""
    both = lambda views: views + [f"m:{v}" for v in views]  # noqa: E731
    return {
        "none": ["id"],
        "flip": both(["id"]),
        "shift (±2 px, awsome evaluate's)": both(SHIFT2),
        "shift ±1 px": both(["id", "dx-1", "dx+1", "dy-1", "dy+1"]),
        "shift ±2 + diagonals": both(SHIFT2 + [n for n in names if n.startswith("d") and n[1] in "+-"]),
        "shift ±2 + zoom": both(SHIFT2 + ["zoom1.1", "zoom0.9"]),
        "shift ±2 + rotation": both(SHIFT2 + ["rot+8", "rot-8"]),
        "all 34": both(names),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, required=True)
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--model", type=Path, default=None, help="TFLite model (default: the served one)")
    source.add_argument("--checkpoint", type=Path, default=None)
    parser.add_argument("--limit", type=int, default=0)
    args = parser.parse_args()
    x, y = load_faces(args.data, args.limit)
    predict, description = make_predictor(model=args.model, checkpoint=args.checkpoint)
    probs: dict[str, np.ndarray] = {}
    for mirrored in (False, True):
        faces = np.ascontiguousarray(x[:, :, ::-1]) if mirrored else x
        for name, spec in SPECS.items():
            key = f"m:{name}" if mirrored else name
            probs[key] = predict(np.ascontiguousarray(warp(faces, **spec)))
    print(f"{description} on {args.data.name} ({len(y)} faces)")
    print("single views: " + ", ".join(f"{k} {100 * (p.argmax(1) == y).mean():.2f}" for k, p in probs.items()))
    for label, names in view_sets(list(SPECS)).items():
        acc = (np.mean([probs[n] for n in names], axis=0).argmax(1) == y).mean()
        print(f"{label:34s} {len(names):2d} views  {100 * acc:.2f}%")


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING)
    main()
