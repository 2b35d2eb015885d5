"""AutoEncoder4 as in the paper: four conv+pool stages, unpool+deconv back, no activations."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from app.denoising.network import AutoEncoder4, apply_in_batches, parameter_count


@pytest.mark.parametrize("length", [199, 29, 16, 17, 53, 64, 100, 255])  # 100 / 53: ICT-FaceKit's modes
def test_output_has_the_input_shape(length):
    net = AutoEncoder4(length)
    x = torch.randn(5, 1, length, generator=torch.Generator().manual_seed(length))
    assert net(x).shape == (5, 1, length)


@pytest.mark.parametrize(("length", "encoded", "stages"), [
    (199, 12, [199, 99, 49, 24]),
    (29, 1, [29, 14, 7, 3]),
    (100, 6, [100, 50, 25, 12]),
])
def test_encoded_size_and_stored_pre_pool_sizes(length, encoded, stages):
    net = AutoEncoder4(length)
    code, skips = net.encode(torch.zeros(3, 1, length))
    assert tuple(code.shape) == (3, 64, encoded)
    assert [size[-1] for _, size in skips] == stages
    assert [size[1] for _, size in skips] == [8, 16, 32, 64]
    assert [tuple(indices.shape) for indices, _ in skips] == [(3, c, s // 2) for c, s in zip([8, 16, 32, 64], stages)]


def test_too_short_input_is_refused():
    AutoEncoder4(16)
    with pytest.raises(ValueError, match="16"):
        AutoEncoder4(15)


def test_only_convolutions_and_pooling_no_activation():
    net = AutoEncoder4(199)
    allowed = (AutoEncoder4, nn.ModuleList, nn.Conv1d, nn.ConvTranspose1d, nn.MaxPool1d, nn.MaxUnpool1d)
    kinds = [type(module) for module in net.modules()]
    assert all(issubclass(kind, allowed) for kind in kinds), kinds
    convs = [m for m in net.modules() if isinstance(m, nn.Conv1d)]
    deconvs = [m for m in net.modules() if isinstance(m, nn.ConvTranspose1d)]
    assert [(m.in_channels, m.out_channels) for m in convs] == [(1, 8), (8, 16), (16, 32), (32, 64)]
    assert [(m.in_channels, m.out_channels) for m in deconvs] == [(64, 32), (32, 16), (16, 8), (8, 1)]
    assert all(m.kernel_size == (3,) and m.padding == (1,) for m in convs + deconvs)


def test_positive_homogeneous_without_biases():
    """Convolutions and max-pooling only: with zero biases, f(c·x) = c·f(x) for c > 0.

    Any saturating activation (tanh, sigmoid) or a residual offset would break this.
    """
    torch.manual_seed(0)
    net = AutoEncoder4(29)
    with torch.no_grad():
        for module in net.modules():
            if isinstance(module, (nn.Conv1d, nn.ConvTranspose1d)):
                module.bias.zero_()
        x = torch.randn(4, 1, 29)
        torch.testing.assert_close(net(7.5 * x), 7.5 * net(x), rtol=1e-4, atol=1e-5)
        # …and it is not linear: max-pooling picks different entries for -x.
        assert not torch.allclose(net(-x), -net(x), atol=1e-4)


@pytest.mark.parametrize("length", [199, 29, 50])
def test_parameter_count_is_the_papers(length):
    assert parameter_count(AutoEncoder4(length)) == 16_353


def test_apply_in_batches_matches_one_call_and_handles_empty_input():
    torch.manual_seed(1)
    net = AutoEncoder4(29).eval()
    vectors = torch.randn(10, 29)
    with torch.no_grad():
        whole = net(vectors.unsqueeze(1)).squeeze(1)
    torch.testing.assert_close(apply_in_batches(net, vectors, batch_size=3), whole)
    assert apply_in_batches(net, torch.zeros(0, 29)).shape == (0, 29)
