"""The renderer: the ground-truth mask of every anomaly class is where its pixels changed, and worlds look sane."""

from __future__ import annotations

import numpy as np
import pytest

from detection.synth.anomalies import ANOMALY_CLASSES, plan_anomalies
from detection.synth.patrol import Flight, draw_conditions, plan_route
from detection.synth.render import MASK_ALPHA, Renderer, Textures
from detection.synth.world import build_world

SIZE = (72, 96)  # height, width


@pytest.fixture(scope="module")
def area():
    world = build_world(5, 512)
    desert = build_world(5, 512, palette="desert")
    route = plan_route(world, seed=5, margin=190)
    return world, desert, route, Textures.for_area(5)


def scene(area, classes, *, seed=1, **conditions):
    world, desert, route, textures = area
    flight = Flight(route, seed=seed, duration=4.0, footprint=200, frame_width=SIZE[1])
    rng = np.random.default_rng(seed)
    weather = draw_conditions(rng, **conditions)
    anomalies = plan_anomalies(rng, world, flight, classes, frame_size=SIZE, wind=weather.wind, size_scale=1.5)
    return Renderer(world, flight, weather, anomalies, size=SIZE, seed=seed, textures=textures, foreign=desert)


def moment_in_view(renderer, index):
    """The frame (time, number) among the first 4 seconds where anomaly `index` covers most pixels."""
    best, area = None, 0
    for number in range(0, 40, 3):
        masks = dict(renderer.render(number / 10, number)[1])
        if index in masks and masks[index].sum() > area:
            best, area = (number / 10, number), masks[index].sum()
    if best is None:
        pytest.fail(f"{renderer.anomalies[index].anomaly_class} never came into view")
    return best


@pytest.mark.parametrize("anomaly_class", ANOMALY_CLASSES)
def test_the_mask_is_where_the_pixels_changed(area, anomaly_class):
    renderer = scene(area, [anomaly_class])
    t, number = moment_in_view(renderer, 0)
    with_it, masks = renderer.render(t, number)
    without, no_masks = renderer.render(t, number, skip=(0,))
    assert no_masks == []
    mask = dict(masks)[0]
    change = np.abs(with_it - without).max(axis=-1)
    # Alpha under MASK_ALPHA can move a pixel by at most that much (times the day's light gain).
    outside = change[~mask]
    assert outside.size == 0 or outside.max() <= MASK_ALPHA * 1.3 + 0.02
    assert (change[mask] > 0.02).mean() >= 0.9
    if anomaly_class in ("foreign_scene", "colour"):
        assert mask.all()
    else:
        assert 0 < mask.sum() < mask.size


def test_anomalies_are_fixed_in_the_world_so_they_move_with_the_scene(area):
    renderer = scene(area, ["boat"])
    renderer.anomalies[0].speed = 0.0
    t, number = moment_in_view(renderer, 0)
    first = np.argwhere(dict(renderer.render(t, number)[1])[0]).mean(axis=0)
    later = renderer.render(t + 0.3, number + 3)[1]
    assert later, "a still boat left the view within 0.3 s"
    moved = np.argwhere(dict(later)[0]).mean(axis=0) - first
    assert np.hypot(*moved) > 1.0  # the camera flies on, so a still boat drifts across the frame


def test_the_world_is_an_archipelago_with_water_land_and_a_road(area):
    world = area[0]
    assert 0.2 < world.land.mean() < 0.5
    assert world.roads and len(world.roads[0]) > 50
    water = world.texture[..., 3] == 255
    blue = world.texture[water][:, 2].astype(int) - world.texture[water][:, 0].astype(int)
    assert np.median(blue) > 20  # water is bluer than red


def test_a_sudden_light_change_is_a_normal_frame_with_no_mask(area):
    renderer = scene(area, [], light_change_at=1.0)
    before, masks_before = renderer.render(0.9, 9)
    after, masks_after = renderer.render(1.4, 14)
    assert masks_before == [] and masks_after == []
    ratio = renderer.light_gain(1.4) / renderer.light_gain(0.9)
    assert ratio in (pytest.approx(0.5), pytest.approx(1.6))


def test_rendering_is_deterministic(area):
    a, _ = scene(area, ["smoke", "drone"], seed=3).render(1.2, 12)
    b, _ = scene(area, ["smoke", "drone"], seed=3).render(1.2, 12)
    c, _ = scene(area, ["smoke", "drone"], seed=4).render(1.2, 12)
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)
