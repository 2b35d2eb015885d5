"""The paper's corruption protocol: n ~ U{1..L} distinct coefficients get N(0, σ²) added."""

from __future__ import annotations

import numpy as np
import pytest

from app.denoising.corruption import corrupt, make_noisy_pairs


def changed(clean: np.ndarray, noisy: np.ndarray) -> np.ndarray:
    return noisy != clean.astype(np.float32)


@pytest.mark.parametrize(("length", "rows"), [(29, 29_000), (199, 39_800)])
def test_count_of_changed_coefficients_is_uniform_over_1_to_length(length, rows):
    clean = np.zeros((rows, length))
    counts = changed(clean, corrupt(clean, 2.0, np.random.default_rng(0))).sum(axis=1)
    assert counts.min() == 1 and counts.max() == length
    histogram = np.bincount(counts, minlength=length + 1)[1:]
    expected = rows / length
    chi_square = ((histogram - expected) ** 2 / expected).sum()
    # 99.9 % quantile of χ² with L-1 degrees of freedom: 56.9 (L=29), 264 (L=199).
    assert chi_square < {29: 56.9, 199: 264.0}[length], chi_square
    assert abs(counts.mean() - (length + 1) / 2) < 0.02 * length
    # Uniform, not binomial: the extremes are as common as the middle.
    assert histogram[0] > 0.7 * expected and histogram[-1] > 0.7 * expected


def test_every_coefficient_position_is_chosen_equally_often():
    clean = np.zeros((20_000, 29))
    per_position = changed(clean, corrupt(clean, 1.0, np.random.default_rng(1))).mean(axis=0)
    np.testing.assert_allclose(per_position, 15 / 29, atol=0.015)  # E[n]/L = 15/29


def test_chosen_count_equals_the_drawn_n_for_each_row():
    """The draw order is n first (one integer per row): re-drawing it gives each row's n."""
    rows, length = 5_000, 29
    clean = np.zeros((rows, length))
    noisy = corrupt(clean, 2.0, np.random.default_rng(42))
    n = np.random.default_rng(42).integers(1, length + 1, size=rows)
    np.testing.assert_array_equal(changed(clean, noisy).sum(axis=1), n)


@pytest.mark.parametrize("sigma", [2.0, 5e5])
def test_noise_on_changed_entries_is_normal_with_sigma(sigma):
    clean = np.random.default_rng(3).normal(size=(20_000, 29)) * sigma * 0.1
    noisy = corrupt(clean, sigma, np.random.default_rng(4))
    mask = changed(clean, noisy)
    noise = (noisy.astype(np.float64) - clean.astype(np.float32))[mask]
    assert noise.size > 250_000
    assert abs(noise.mean()) < 0.01 * sigma
    assert noise.std() == pytest.approx(sigma, rel=0.01)
    kurtosis = np.mean((noise / noise.std()) ** 4)
    assert kurtosis == pytest.approx(3.0, abs=0.05)  # Gaussian, not uniform (1.8) or Laplace (6)


def test_untouched_coefficients_are_exactly_unchanged():
    clean = np.random.default_rng(5).normal(size=(10_000, 199)) * 1e5
    noisy = corrupt(clean, 5e5, np.random.default_rng(6))
    assert noisy.dtype == np.float32 and noisy.shape == clean.shape
    mask = changed(clean, noisy)
    np.testing.assert_array_equal(noisy[~mask], clean.astype(np.float32)[~mask])
    # With σ = 5 × the values, nearly every chosen entry moves by far more than rounding.
    moved = np.abs(noisy.astype(np.float64) - clean)[mask]
    assert np.mean(moved > 1e3) > 0.99
    assert (~mask).sum() > 0.45 * mask.size


def test_input_is_not_modified():
    clean = np.random.default_rng(7).normal(size=(100, 29))
    before = clean.copy()
    corrupt(clean, 2.0, np.random.default_rng(0))
    np.testing.assert_array_equal(clean, before)


def test_seeded_reproducible_and_seeds_differ():
    clean = np.random.default_rng(8).normal(size=(500, 29))
    first = corrupt(clean, 2.0, np.random.default_rng(9))
    np.testing.assert_array_equal(first, corrupt(clean, 2.0, np.random.default_rng(9)))
    other = corrupt(clean, 2.0, np.random.default_rng(10))
    assert np.mean(first != other) > 0.5


def test_more_rows_than_one_chunk_are_all_corrupted():
    clean = np.zeros((70_000, 16), dtype=np.float32)  # past the 65,536-row chunk
    counts = changed(clean, corrupt(clean, 1.0, np.random.default_rng(11))).sum(axis=1)
    assert counts.min() == 1
    assert abs(counts[65_536:].mean() - 8.5) < 0.3 and abs(counts[:65_536].mean() - 8.5) < 0.1


def test_bad_tables_are_refused():
    with pytest.raises(ValueError):
        corrupt(np.zeros(29), 2.0, np.random.default_rng(0))
    with pytest.raises(ValueError):
        corrupt(np.zeros((3, 0)), 2.0, np.random.default_rng(0))


def test_noisy_pairs_shapes_and_sources():
    clean = np.random.default_rng(12).normal(size=(7, 29))
    pairs = make_noisy_pairs(clean, 2.0, 5, np.random.default_rng(13))
    assert len(pairs) == 35 and pairs.noisy.shape == (35, 29) and pairs.noisy.dtype == np.float32
    np.testing.assert_array_equal(pairs.source, np.repeat(np.arange(7), 5))
    np.testing.assert_array_equal(pairs.clean, clean.astype(np.float32))
    np.testing.assert_array_equal(pairs.targets(), clean.astype(np.float32)[pairs.source])
    np.testing.assert_array_equal(pairs.targets(np.array([0, 34])), clean.astype(np.float32)[[0, 6]])
    for row in range(35):
        mask = pairs.noisy[row] != pairs.clean[pairs.source[row]]
        assert 1 <= mask.sum() <= 29
        np.testing.assert_array_equal(pairs.noisy[row][~mask], pairs.clean[pairs.source[row]][~mask])
    # Copies of one face are corrupted independently.
    assert len({pairs.noisy[row].tobytes() for row in range(5)}) == 5


def test_noisy_pairs_need_at_least_one_copy():
    with pytest.raises(ValueError):
        make_noisy_pairs(np.zeros((2, 29)), 2.0, 0, np.random.default_rng(0))
