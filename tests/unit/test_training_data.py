"""Host-side training transforms: mixup/cutmix, zoomed augmentation, the tighter re-crop, teacher softening."""

from __future__ import annotations

import numpy as np
import pytest

from awsome_core.training.config import TrainConfig, comparable, make_config
from awsome_core.training.data import augment, mix, recrop
from awsome_core.training.distill import tempered


def _faces(n: int = 32) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (n, 48, 48, 1)).astype(np.uint8)
    t = np.eye(7, dtype=np.float32)[rng.integers(0, 7, n)]
    return x, np.concatenate([t, np.full((n, 7), 1 / 7, np.float32)], axis=1)  # labels + a teacher part


def test_mix_off_returns_the_inputs() -> None:
    x, t = _faces()
    got_x, got_t = mix(x, t, np.random.default_rng(1), mixup_alpha=0.0, cutmix_prob=0.0)
    assert got_x is x and got_t is t


def test_mixup_blends_faces_and_targets_with_one_weight() -> None:
    x, t = _faces()
    got_x, got_t = mix(x, t, np.random.default_rng(1), mixup_alpha=0.4, cutmix_prob=0.0)
    assert got_x.dtype == np.uint8 and got_x.shape == x.shape and not np.array_equal(got_x, x)
    np.testing.assert_allclose(got_t[:, :7].sum(1), 1.0, rtol=1e-5)  # each part stays a distribution
    np.testing.assert_allclose(got_t[:, 7:].sum(1), 1.0, rtol=1e-5)
    assert (got_t[:, :7].max(1) < 1).sum() > len(x) // 2  # most labels are now mixtures
    again = mix(x, t, np.random.default_rng(1), mixup_alpha=0.4, cutmix_prob=0.0)
    np.testing.assert_array_equal(again[0], got_x)  # drawn from the generator alone: a resumed run repeats it


def test_cutmix_pastes_a_box_and_weights_targets_by_area() -> None:
    x = np.zeros((2, 48, 48, 1), np.uint8)
    x[1] = 200
    t = np.eye(7, dtype=np.float32)[[0, 3]]
    rng = np.random.default_rng(3)
    got_x, got_t = mix(x, t, rng, mixup_alpha=0.0, cutmix_prob=1.0)
    pasted = [(got_x[i] != x[i]).mean() for i in range(2)]  # the two faces differ everywhere: the box's area
    assert max(pasted) > 0
    for i, own in enumerate((0, 3)):
        assert got_t[i, own] == pytest.approx(1 - pasted[i], abs=1e-6)
        np.testing.assert_allclose(got_t[i].sum(), 1.0, rtol=1e-6)


def test_recrop_keeps_the_centre() -> None:
    x = np.zeros((3, 48, 48), np.uint8)
    x[:, 12:36, 12:36] = 255  # a bright centre of half the side
    assert recrop(x, 1.0) is x
    tight = recrop(x, 0.5)
    assert tight.shape == x.shape and tight.dtype == np.uint8 and tight.mean() > 250
    assert recrop(x, 0.8)[:, 24, 24].min() == 255 and recrop(x, 0.8)[:, 0, 0].max() == 0
    with pytest.raises(ValueError, match="fraction"):
        recrop(x, 1.5)


def test_zoom_range_widens_the_crops_only_when_asked() -> None:
    x, _ = _faces(8)
    default = augment(x, np.random.default_rng(5))
    same = augment(x, np.random.default_rng(5), zoom=(0.85, 1.15))
    np.testing.assert_array_equal(default, same)  # the default keeps the existing runs' augmentation
    assert not np.array_equal(augment(x, np.random.default_rng(5), zoom=(1.3, 1.4)), default)


def test_tempered_softens_and_averages_members() -> None:
    p = np.array([[[0.7, 0.2, 0.1, 0, 0, 0, 0]], [[0.1, 0.8, 0.1, 0, 0, 0, 0]]]) + 1e-9
    np.testing.assert_allclose(tempered(np.log(p), 1.0), p.mean(0), rtol=1e-5, atol=1e-6)
    soft = tempered(np.log(p[:1]), 3.0)
    assert soft[0, 0] < 0.7 and soft[0, 2] > 0.1 and soft.sum() == pytest.approx(1.0)


def test_config_of_an_older_run_still_compares_equal() -> None:
    """A config.json written before the distillation and mixing fields existed resumes under today's defaults."""
    cfg = make_config("wide", teacher=["runs/teacher.npz"])
    assert cfg.teacher == ("runs/teacher.npz",) and cfg.distilling
    old = {k: v for k, v in comparable({}, TrainConfig())[1].items() if k not in ("zoom", "teacher", "mixup_alpha")}
    saved, mine = comparable(old, TrainConfig())
    assert saved == mine
    assert not make_config("debug").distilling and not make_config("debug", teacher="t.npz", distill_alpha=0).distilling
