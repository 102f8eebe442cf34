"""The TTA view measuring script: its warps move pixels as named, and every view set names real views."""

from __future__ import annotations

import numpy as np

from scripts.tta_views import SPECS, view_sets, warp


def test_warp_shifts_and_leaves_identity_alone() -> None:
    faces = np.random.default_rng(0).integers(0, 256, (3, 48, 48), dtype=np.uint8)
    np.testing.assert_array_equal(warp(faces), faces)
    shifted = warp(faces, dx=2, dy=-1)
    np.testing.assert_array_equal(shifted[:, 5:40, 10:40], faces[:, 6:41, 8:38])
    assert warp(faces, angle=8).shape == faces.shape


def test_view_sets_name_only_measured_views_mirrored_too() -> None:
    names = list(SPECS)
    sets = view_sets(names)
    measured = set(names) | {f"m:{n}" for n in names}
    for views in sets.values():
        assert set(views) <= measured
    assert sets["flip"] == ["id", "m:id"]
    assert len(sets["shift (±2 px, awsome evaluate's)"]) == 10 and len(sets["all 34"]) == 34
