import numpy as np
import pytest

from ternhw.errors import FormatError
from ternhw.quant import quantize_activations, ternarize, ternary_stats


def test_absmean_per_tensor_by_hand():
    w = np.array([[0.9, -0.2, 0.1, -1.2]])
    # mean|W| = 0.6; W / 0.6 = [1.5, -0.33, 0.17, -2] -> [1, 0, 0, -1]
    tt = ternarize(w)
    assert tt.trits.tolist() == [[1, 0, 0, -1]]
    assert tt.pos_scale[0, 0] == pytest.approx(0.6)
    np.testing.assert_allclose(tt.dequantize(), [[0.6, 0, 0, -0.6]], rtol=1e-6)
    s = ternary_stats(w, tt)
    assert s["zero_fraction"] == 0.5 and s["pos_fraction"] == 0.25 and s["balance"] == 0.0
    err = np.sqrt(0.3 ** 2 + 0.2 ** 2 + 0.1 ** 2 + 0.6 ** 2) / np.linalg.norm(w)
    assert s["rel_error"] == pytest.approx(err)


def test_absmean_per_channel_and_group():
    w = np.array([[1.0, 1.0, 0.1, -0.1],
                  [4.0, -4.0, 4.0, 0.1]])
    ch = ternarize(w, granularity="channel")
    assert ch.pos_scale.shape == (2, 1)
    assert ch.trits.tolist() == [[1, 1, 0, 0], [1, -1, 1, 0]]
    gr = ternarize(w, granularity="group", group_size=2)
    assert gr.pos_scale.shape == (2, 2)
    # group (row 0, cols 2-3) has mean 0.1 -> 0.1/0.1 = 1 -> both become +-1
    assert gr.trits[0].tolist() == [1, 1, 1, -1]
    assert gr.pos_scale[0].tolist() == pytest.approx([1.0, 0.1])
    # odd group split: 3 columns in groups of 2 -> the last group has one column
    odd = ternarize(w[:, :3], granularity="group", group_size=2)
    assert odd.pos_scale.shape == (2, 2) and odd.dequantize().shape == (2, 3)


def test_twn_by_hand():
    w = np.array([[1.0, -0.5, 0.2, 0.3]])
    # mean|W| = 0.5, delta = 0.35 -> |W| > 0.35: 1.0, 0.5 -> alpha = 0.75
    tt = ternarize(w, method="twn")
    assert tt.trits.tolist() == [[1, -1, 0, 0]]
    assert tt.pos_scale[0, 0] == pytest.approx(0.75)
    assert tt.threshold[0, 0] == pytest.approx(0.35)


def test_ttq_asymmetric_by_hand():
    w = np.array([[2.0, 1.0, -0.5, 0.05, -0.09]])
    # delta = 0.05 * 2 = 0.1 -> +: 2, 1 (Wp 1.5); -: -0.5 (Wn 0.5); 0.05, -0.09 -> 0
    tt = ternarize(w, method="ttq")
    assert tt.trits.tolist() == [[1, 1, -1, 0, 0]]
    assert tt.pos_scale[0, 0] == pytest.approx(1.5)
    assert tt.neg_scale[0, 0] == pytest.approx(0.5)
    assert not tt.symmetric
    np.testing.assert_allclose(tt.dequantize(), [[1.5, 1.5, -0.5, 0, 0]], rtol=1e-6)


def test_boundary_mass_by_hand():
    # absmean scale 1.0 (mean of |W|), threshold 0.5 (+eps); band is +-0.025 around it
    w = np.array([[0.51, 0.49, 0.56, 2.44]])
    s = ternary_stats(w, ternarize(w))
    assert s["boundary_mass"] == pytest.approx(0.5)  # 0.51 and 0.49 are inside, 0.56 is not


def test_all_zero_matrix():
    tt = ternarize(np.zeros((3, 5)))
    assert not tt.trits.any()
    s = ternary_stats(np.zeros((3, 5)), tt)
    assert s["zero_fraction"] == 1.0 and s["rel_error"] == 0.0 and s["balance"] == 0.0
    for method in ("twn", "ttq"):
        assert not ternarize(np.zeros((2, 2)), method=method).trits.any()


@pytest.mark.parametrize("bad, words", [
    (np.array([[1.0, np.nan]]), "non-finite weight(s), first NaN at [0, 1]"),
    (np.array([[1.0], [np.inf]]), "first Inf at [1, 0]"),
    (np.ones(4), "expected a 2-D weight matrix"),
    (np.ones((0, 3)), "empty weight matrix"),
])
def test_bad_weights(bad, words):
    with pytest.raises(FormatError) as e:
        ternarize(bad, name="layer.w")
    assert "'layer.w'" in str(e.value) and words in str(e.value)


def test_bad_arguments():
    with pytest.raises(FormatError, match="method must be one of"):
        ternarize(np.ones((2, 2)), method="nope")
    with pytest.raises(FormatError, match="granularity must be one of"):
        ternarize(np.ones((2, 2)), granularity="row")
    with pytest.raises(FormatError, match="group_size must be a positive integer"):
        ternarize(np.ones((2, 2)), granularity="group", group_size=0)


def test_activation_quantization():
    x = np.array([[0.5, -1.0, 0.25], [0.0, 0.0, 0.0], [3.0, 1.5, -0.75]])
    xq, scale = quantize_activations(x, bits=8)
    assert xq.tolist() == [[64, -127, 32], [0, 0, 0], [127, 64, -32]]
    assert scale.tolist() == pytest.approx([1 / 127, 1.0, 3 / 127])
    xq4, _ = quantize_activations(x, bits=4)
    assert xq4.max() <= 7 and xq4.min() >= -8
    with pytest.raises(FormatError, match="activation bits"):
        quantize_activations(x, bits=1)
    with pytest.raises(FormatError, match="NaN or Inf"):
        quantize_activations(np.array([[np.nan]]))


def test_activation_bits_range(rng):
    x = rng.normal(size=(5, 40))
    for bits in range(2, 17):
        xq, scale = quantize_activations(x, bits)
        qb = 2 ** (bits - 1) - 1
        assert np.abs(xq).max() == qb
        assert np.abs(xq * scale[:, None] - x).max() <= scale.max() / 2 + 1e-12
