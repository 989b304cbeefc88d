"""Every CAE configuration builds, keeps its input's shape, and trains (gradients reach every layer)."""

import pytest
import torch

from detection.cae.config import CAEConfig, make_config
from detection.cae.model import ReportCAE, build_model, conv_cae, report_cae
from tests.detection.cae_support import one_thread  # noqa: F401 (a fixture)

pytestmark = pytest.mark.usefixtures("one_thread")

CASES = {
    "report": make_config({"config": "report", "input_size": 32}),
    "report-sequence": make_config({"config": "report", "input_size": 32, "sequence_length": 3}),
    "default": make_config({"input_size": 32}),
    "default-sequence": make_config({"input_size": 32, "sequence_length": 10}),
    "default-tiled": make_config({"input_size": 32, "tiled": True}),
    "default-wide": make_config({"input_size": 48, "widths": (8, 16, 32), "stem_stride": 2}),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_every_config_reconstructs_its_input_shape_in_0_1(name):
    config = CASES[name]
    model = build_model(config)
    x = torch.rand(2, config.in_channels, config.input_size, config.input_size)
    with torch.no_grad():
        out = model(x)
    assert out.shape == x.shape
    assert 0.0 <= float(out.min()) and float(out.max()) <= 1.0


@pytest.mark.parametrize("name", ["report", "default"])
def test_a_backward_pass_reaches_every_parameter(name):
    config = CASES[name]
    model = build_model(config)
    x = torch.rand(3, 3, config.input_size, config.input_size)
    torch.nn.functional.mse_loss(model(x), x).backward()
    missing = [n for n, p in model.named_parameters() if p.grad is None or not torch.isfinite(p.grad).all()]
    assert missing == []


def test_the_report_network_follows_the_appendix_dims_at_124():
    model = report_cae()
    x = torch.rand(1, 3, 124, 124)
    encoded = model.encoder(x)
    assert encoded.shape == (1, 60, 15, 15)  # 124 -> 62 -> 31 -> 15
    assert model.bottleneck[1].out_features == 225
    sizes, h = [], encoded
    for layer in model.decoder:
        h = layer(h)
        if isinstance(layer, torch.nn.ConvTranspose2d):
            sizes.append(h.shape[-1])
    assert sizes == [31, 61, 124]  # the appendix's decoder sizes, no resize needed
    assert isinstance(model.decoder[-1], torch.nn.Sigmoid)


def test_the_conv_model_keeps_odd_frame_sizes():
    model = conv_cae(widths=(8, 16))
    assert model(torch.rand(1, 3, 37, 53)).shape == (1, 3, 37, 53)
    assert not isinstance(model, ReportCAE)


def test_a_bad_config_is_named():
    with pytest.raises(ValueError, match="loss must be one of"):
        CAEConfig(loss="hinge")
    with pytest.raises(ValueError, match="unknown CAE settings: colour"):
        make_config({"colour": 1})
    with pytest.raises(ValueError, match="unknown CAE preset"):
        make_config({"config": "fancy"})


def test_a_config_survives_its_dict():
    config = CASES["default-wide"]
    assert CAEConfig.from_dict(config.to_dict()) == config
