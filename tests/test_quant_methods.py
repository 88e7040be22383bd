"""The quantization methods of issue 14: each on a small case, checking the property its paper
relies on (docs/quantization.md). Seeded; the jax-trained ones are skipped without the extra."""

import numpy as np
import pytest

from ternhw.errors import FormatError
from ternhw.quant.methods.btq import bernoulli_ternarize, bernoulli_ternary_activations
from ternhw.quant.methods.gptq import gptq_ternarize, output_error
from ternhw.quant.methods.tequila import tequila_bias
from ternhw.quant.ternarize import ternarize


def _calib(rng, tokens=512, cols=96):
    """Correlated calibration inputs, as real activations are."""
    return rng.normal(size=(tokens, cols)) @ rng.normal(size=(cols, cols)) * 0.2


# --- BTQ (HitNet) ----------------------------------------------------------------------------

def test_btq_is_unbiased_in_expectation():
    w = np.random.default_rng(1).normal(size=(8, 16))
    draws = np.mean([bernoulli_ternarize(w, seed).dequantize() for seed in range(4000)], axis=0)
    assert np.abs(draws - w).max() < 0.08 * np.abs(w).max()
    one = bernoulli_ternarize(w, 0)
    assert set(np.unique(one.trits)) <= {-1, 0, 1}
    assert np.all(one.trits * np.sign(w) >= 0)  # a trit never has the wrong sign


def test_btq_activations_unbiased_and_validated():
    x = np.random.default_rng(2).normal(size=(4, 32))
    mean = np.mean([q * s[:, None] for q, s in (bernoulli_ternary_activations(x, k)
                                                for k in range(3000))], axis=0)
    assert np.abs(mean - x).max() < 0.1 * np.abs(x).max()
    with pytest.raises(FormatError, match="granularity"):
        bernoulli_ternarize(x, 0, "group")


# --- Tequila ---------------------------------------------------------------------------------

def test_tequila_bias_equals_trapped_contribution(rng):
    w = rng.normal(size=(24, 96))
    x = _calib(rng)
    tt = ternarize(w, "absmean")
    tb = tequila_bias(w, tt, x)
    trapped = (tt.trits == 0) & (w != 0)
    assert np.array_equal(tb.trapped, trapped)
    # bias = lambda_i * sum of the trapped weights of row i ...
    np.testing.assert_allclose(tb.bias, tb.lam * np.where(trapped, w, 0).sum(axis=1))
    # ... = the trapped weights' mean contribution over the calibration tokens
    np.testing.assert_allclose(tb.bias, (x @ np.where(trapped, w, 0).T).mean(axis=0),
                               atol=1e-12)
    # so the part of the mean output error that the dead zone causes is gone
    dead_err = (x @ np.where(trapped, w, 0).T).mean(axis=0)
    assert np.abs(dead_err).max() > 0.01
    np.testing.assert_allclose(dead_err - tb.bias, 0, atol=1e-12)


def test_tequila_without_calibration_uses_lambda(rng):
    w = rng.normal(size=(4, 10))
    tt = ternarize(w, "absmean")
    tb = tequila_bias(w, tt, lam=0.5)
    np.testing.assert_allclose(tb.bias, 0.5 * np.where(tb.trapped, w, 0).sum(axis=1))
    assert 0 < tb.trapped_fraction < 1
    with pytest.raises(FormatError, match="calibration"):
        tequila_bias(w, tt, np.ones((3, 7)))


# --- GPTQ-style compensation -----------------------------------------------------------------

@pytest.mark.parametrize("granularity", ["tensor", "channel"])
def test_gptq_lowers_layer_output_error(rng, granularity):
    w = rng.normal(size=(32, 96))
    x = _calib(rng)
    plain = output_error(w, ternarize(w, "absmean", granularity), x)
    comp = gptq_ternarize(w, x, granularity=granularity)
    assert set(np.unique(comp.trits)) <= {-1, 0, 1}
    assert comp.symmetric and comp.pos_scale.size == (1 if granularity == "tensor" else 32)
    assert output_error(w, comp, x) < 0.9 * plain


def test_gptq_errors(rng):
    w = rng.normal(size=(4, 8))
    with pytest.raises(FormatError, match="calibration inputs or a Hessian"):
        gptq_ternarize(w)
    with pytest.raises(FormatError, match=r"\(tokens, 8\)"):
        gptq_ternarize(w, np.ones((5, 3)))


# --- ADMM projection (NumPy part) ------------------------------------------------------------

def test_admm_projection_beats_absmean(rng):
    from ternhw.quant.methods.admm import project_ternary

    v = rng.laplace(size=2000)
    t, a = project_ternary(v)
    s = np.abs(v).mean()
    absmean = s * np.clip(np.round(v / s), -1, 1)
    assert np.linalg.norm(v - a * t) <= np.linalg.norm(v - absmean) + 1e-12


# --- the methods that train (jax) ------------------------------------------------------------

jax = pytest.importorskip("jax", reason="the training methods need the 'train' extra (jax)")


def test_stq_picks_binary_for_bimodal_layer():
    from ternhw.quant.methods.stq import select_depth

    r = np.random.default_rng(3)
    bimodal = np.sign(r.normal(size=(64, 64))) * (1 + 0.05 * r.normal(size=(64, 64)))
    peaked = r.laplace(size=(64, 64))
    assert select_depth([bimodal, peaked]) == [False, True]


def test_hyperspherical_regulariser_pulls_toward_ternary():
    import jax.numpy as jnp

    from ternhw.quant.methods.hyperspherical import hyperspherical_regulariser

    w = jnp.asarray(np.random.default_rng(4).normal(size=(16, 16)), dtype=jnp.float32)
    g = jax.grad(hyperspherical_regulariser)
    r0 = float(hyperspherical_regulariser(w))
    for _ in range(50):
        w = w - 2.0 * g(w)
    assert float(hyperspherical_regulariser(w)) < 0.5 * r0


def test_rmsnorm_ramp_is_layerwise():
    from ternhw.quant.methods.rmsnorm import ramp

    assert float(ramp(0.0, 0)) == 0.0 and float(ramp(0.5, 0)) == 1.0
    assert float(ramp(0.3, 0)) > float(ramp(0.3, 2))  # later layers quantize later


@pytest.fixture(scope="module")
def float_mlp():
    from ternhw.quant.methods.training import digits_data, train_float

    return train_float(0, epochs=8), digits_data()


def test_training_methods_on_digits(float_mlp):
    """A short run of every trained method: ternary (or binary) weights, sane accuracy, and
    each method's mark on the hardware (binary layers have no zeros, Tequila folds a bias,
    RMSNorm adds gains, features use ternary activations)."""
    from ternhw.quant.methods.digits import run_method

    params, data = float_mlp
    seen = {}
    for m in ("absmean-ft", "tequila", "hyperspherical", "stq", "admm", "mlq", "rmsnorm",
              "features"):
        q = run_method(m, params, data, epochs=4)
        acc = q.accuracy(data.x_test, data.y_test)
        assert acc > 0.5, (m, acc)  # 4 epochs: ADMM's rho schedule has barely started
        for n, tt in q.tensors.items():
            assert set(np.unique(tt.trits)) <= {-1, 0, 1}
            if q.binary.get(n):
                assert not (tt.trits == 0).any()
        seen[m] = q
    assert seen["tequila"].extra_bias and all(np.isfinite(b).all()
                                              for b in seen["tequila"].extra_bias.values())
    assert seen["rmsnorm"].norms is not None and seen["features"].act == "ternary"


def test_gptq_beats_absmean_ptq_on_digits(float_mlp):
    from ternhw.quant.methods.digits import run_method

    params, data = float_mlp
    plain = run_method("absmean-ptq", params, data)
    comp = run_method("gptq-ptq", params, data)
    x = data.x_train.astype(np.float64)
    err = [output_error(params[f"{n}.weight"], q.tensors[n], plain.layer_inputs(x)[n])
           for q in (plain, comp) for n in ("fc1",)]
    assert err[1] < err[0]


def test_methods_table_rows(float_mlp):
    from ternhw.config import load_config
    from ternhw.quant.methods.digits import run_method
    from ternhw.quant.methods.table import energy_rows, method_row
    from ternhw.workload import Layer, layer_events, layer_schedule

    params, data = float_mlp
    cfg = load_config("default")
    rows = {m: method_row(m, run_method(m, params, data, epochs=2), data, cfg, None, 0.0)
            for m in ("absmean-ptq", "ttq-ptq", "features")}
    r = rows["absmean-ptq"]
    assert r["energy_pj_per_inference"] > r["energy_pj_per_inference_batched"] > 0
    # the report's energy model: price_gemm of each layer's schedule, every component priced
    from ternhw.energy import Technology, price_gemm
    from ternhw.model.gemm import WeightMatrix
    q = run_method("absmean-ptq", params, data, epochs=2)
    want = 0.0
    for i, n in enumerate(("fc1", "fc2", "fc3")):
        tt = q.tensors[n]
        lay = Layer(n, 1, tt.shape[1], tt.shape[0], WeightMatrix(tt.trits), requant=i < 2,
                    bias=True)
        plan = layer_schedule(cfg, lay)
        want += price_gemm(cfg, layer_events(cfg, lay, plan), plan, tech=Technology()).total
    got = energy_rows(q, cfg, Technology(), 1)
    assert got["energy_pj"] == pytest.approx(want + got["extra_energy_pj"])
    assert {"DRAM", "clock tree", "leakage", "requantizer"} <= set(got["components_pj"])
    # the config's technology: a 7 nm node costs less than 45 nm
    seven = energy_rows(q, cfg.replace(logic_node_nm=7.0), Technology(node_nm=7.0), 1)
    assert 0 < seven["energy_pj"] < got["energy_pj"]
    assert 1.4 < r["layers"][0]["entropy_bits"] <= np.log2(3)
    assert r["layers"][0]["bits_per_weight"]["base3"] >= r["layers"][0]["entropy_bits"]
    assert rows["ttq-ptq"]["hardware"]["asymmetric_scales"] == ["fc1", "fc2", "fc3"]
    assert rows["ttq-ptq"]["layers"][0]["bits_per_weight"]["i2_s"] is None
    # 2-bit activations on the hidden layers cost less than int8 ones
    assert rows["features"]["energy_pj_per_inference_batched"] < r[
        "energy_pj_per_inference_batched"]


def test_methods_cli_unknown_method(capsys):
    from ternhw.cli import main

    assert main(["methods", "--method", "nope"]) == 2
    assert "unknown digits method(s) nope" in capsys.readouterr().err
    assert main(["methods", "--model", "minilm", "--method", "stq"]) == 2
    assert "unknown MiniLM method(s) stq" in capsys.readouterr().err


def test_minilm_methods_table(tmp_path):
    """MiniLM rows: each method's own trits through the pipeline and the event model; TTQ's
    asymmetric scales are refused with the reason, not run."""
    from ternhw.infer.minilm import SENTENCES
    from ternhw.quant.methods.minilm_table import (
        build_minilm_table,
        format_minilm_table,
        plot_cosine_energy,
    )

    doc = build_minilm_table(["distilled", "absmean-channel-ptq", "ttq-ptq"],
                             sentences=list(SENTENCES[:3]))
    rows = {r["method"]: r for r in doc["methods"]}
    assert "separate +1/-1 scales" in rows["ttq-ptq"]["not_applicable"]
    dist, ch = rows["distilled"], rows["absmean-channel-ptq"]
    assert len(dist["layers"]) == len(ch["layers"]) == 36
    assert dist["layers"][0]["trapped_fraction"] is None      # latent weights not shipped
    assert 0 < ch["layers"][0]["trapped_fraction"] < 1
    assert len(ch["hardware"]["per_channel_scales"]) == 36
    assert ch["extra_energy_pj_per_token"] > 0 == dist["extra_energy_pj_per_token"]
    assert dist["hardware"]["trained_layernorms"] and not ch["hardware"]["trained_layernorms"]
    for r in (dist, ch):
        assert 0 < r["zero_fraction"] < 1 and r["tokens_per_s"] > 0
        assert r["energy_pj_per_token"] > 0 and -1 <= r["cosine_similarity"] <= 1
    # the distilled model is the better sentence encoder
    assert dist["cosine_similarity"] > ch["cosine_similarity"]
    assert "n/a: 36 layers" in format_minilm_table(doc)
    plot_cosine_energy(doc, tmp_path / "c.png")
    assert (tmp_path / "c.png").stat().st_size > 0


@pytest.mark.slow
def test_methods_cli_full(tmp_path):
    import json

    from ternhw.cli import main

    out = tmp_path / "m.json"
    assert main(["methods", "--json", str(out), "--plot", str(tmp_path / "m.png")]) == 0
    doc = json.loads(out.read_text())
    assert {r["method"] for r in doc["methods"]} >= {"absmean-qat", "gptq-ptq", "stq"}
    assert (tmp_path / "m.png").stat().st_size > 0
