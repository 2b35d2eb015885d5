"""AutoEncoder4 as in the paper: four conv+pool stages, unpool+deconv back, no activations."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from app.denoising.network import AutoEncoder4, apply_in_batches, max_pool_pairs, parameter_count, unpool_pairs
from app.errors import FaceExplorerError


@pytest.mark.parametrize("length", [199, 29, 16, 17, 53, 64, 100, 255])  # 100 / 53: ICT-FaceKit's modes
def test_output_has_the_input_shape(length):
    net = AutoEncoder4(length)
    x = torch.randn(5, 1, length, generator=torch.Generator().manual_seed(length))
    assert net(x).shape == (5, 1, length)


@pytest.mark.parametrize(
    ("length", "encoded", "stages"),
    [
        (199, 12, [199, 99, 49, 24]),
        (29, 1, [29, 14, 7, 3]),
        (100, 6, [100, 50, 25, 12]),
    ],
)
def test_encoded_size_and_stored_pre_pool_sizes(length, encoded, stages):
    net = AutoEncoder4(length)
    code, skips = net.encode(torch.zeros(3, 1, length))
    assert tuple(code.shape) == (3, 64, encoded)
    assert [length for _, length in skips] == stages
    expected = [(3, c, s // 2) for c, s in zip([8, 16, 32, 64], stages, strict=True)]
    assert [tuple(even_won.shape) for even_won, _ in skips] == expected


def test_too_short_input_is_refused():
    AutoEncoder4(16)
    with pytest.raises(FaceExplorerError, match="at least 16 coefficients"):
        AutoEncoder4(15)


def test_only_convolutions_and_pooling_no_activation():
    net = AutoEncoder4(199)
    allowed = (AutoEncoder4, nn.ModuleList, nn.Conv1d, nn.ConvTranspose1d)
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


class IndexedPoolingAutoEncoder(AutoEncoder4):
    """The same net with the paper's code's own ops: MaxPool1d(2, return_indices=True) and MaxUnpool1d(2)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pool, unpool, skips = nn.MaxPool1d(2, return_indices=True), nn.MaxUnpool1d(2), []
        for conv in self.encoder:
            x = conv(x)
            size = x.shape
            x, indices = pool(x)
            skips.append((indices, size))
        for deconv, (indices, size) in zip(self.decoder, reversed(skips), strict=True):
            x = deconv(unpool(x, indices, output_size=size))
        return x


@pytest.mark.parametrize("length", [2, 3, 16, 17, 199])
def test_mask_pooling_equals_the_indexed_ops_ties_and_odd_lengths_included(length):
    generator = torch.Generator().manual_seed(length)
    x = torch.randint(-3, 4, (64, 8, length), generator=generator).float()  # small integers: many ties
    pooled, indices = nn.MaxPool1d(2, return_indices=True)(x)
    mine, even_won = max_pool_pairs(x)
    assert torch.equal(mine, pooled)
    assert torch.equal(unpool_pairs(mine, even_won, length), nn.MaxUnpool1d(2)(pooled, indices, output_size=x.shape))


@pytest.mark.parametrize("length", [199, 29, 100, 53])
def test_network_equals_the_indexed_pooling_network(length):
    torch.manual_seed(length)
    net = AutoEncoder4(length).eval()
    reference = IndexedPoolingAutoEncoder(length).eval()
    reference.load_state_dict(net.state_dict())
    x = torch.randn(3000, 1, length)
    with torch.no_grad():
        torch.testing.assert_close(net(x), reference(x), rtol=0, atol=2e-6)
    # Training goes through the same pooling: the gradients agree too (random values have no ties).
    for model in (net, reference):
        model.zero_grad()
        model(x[:256]).square().mean().backward()
    for mine, theirs in zip(net.parameters(), reference.parameters(), strict=True):
        torch.testing.assert_close(mine.grad, theirs.grad, rtol=1e-5, atol=1e-6)


def test_apply_in_batches_chunks_the_cpu_work_at_the_cache_friendly_size(monkeypatch):
    net = AutoEncoder4(29).eval()
    seen = []
    forward = net.forward
    monkeypatch.setattr(net, "forward", lambda x: seen.append(len(x)) or forward(x))
    apply_in_batches(net, torch.zeros(2500, 29))
    assert seen == [1024, 1024, 452]
