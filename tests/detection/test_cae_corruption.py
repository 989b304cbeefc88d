"""Synthetic blobs for denoising training (detection.cae.corruption)."""

import torch

from detection.cae.config import CAEConfig
from detection.cae.corruption import blob_masks, corrupt


def batch(n=8, channels=3, size=32):
    return torch.rand(n, channels, size, size, generator=torch.Generator().manual_seed(1))


def test_no_corruption_returns_the_batch_itself():
    x = batch()
    assert corrupt(x, 0.0, torch.Generator().manual_seed(0)) is x


def test_it_changes_only_the_chosen_share_of_images_and_keeps_values_in_range():
    x = batch(n=64)
    y = corrupt(x, 0.5, torch.Generator().manual_seed(0))
    changed = (y != x).flatten(1).any(dim=1)
    assert 16 <= int(changed.sum()) <= 48  # about half of 64
    assert torch.equal(y[~changed], x[~changed])
    assert y.min() >= 0 and y.max() <= 1
    assert torch.equal(x, batch(n=64))


def test_every_image_gets_a_blob_at_probability_one_and_the_draws_repeat_per_seed():
    x = batch(channels=6)  # sequence mode: two frames stacked on the channel axis
    first = corrupt(x, 1.0, torch.Generator().manual_seed(3))
    again = corrupt(x, 1.0, torch.Generator().manual_seed(3))
    other = corrupt(x, 1.0, torch.Generator().manual_seed(4))
    assert (first != x).flatten(1).any(dim=1).all()
    assert torch.equal(first, again) and not torch.equal(first, other)


def test_blob_masks_are_soft_ellipses_inside_the_image():
    masks = blob_masks(20, 40, torch.Generator().manual_seed(0), torch.device("cpu"))
    assert masks.shape == (20, 1, 40, 40)
    assert masks.min() >= 0 and masks.max() <= 1
    covered = (masks > 0.5).flatten(1).float().mean(dim=1)
    assert (covered > 0).all() and (covered < 0.5).all()


def test_the_config_refuses_a_probability_outside_0_1():
    import pytest

    with pytest.raises(ValueError, match="corruption"):
        CAEConfig(corruption=1.5)
