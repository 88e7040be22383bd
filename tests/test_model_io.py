"""Model files: GGUF TQ1_0/TQ2_0, safetensors, .npz, and every kind of bad input."""

import gguf
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from safetensors.numpy import save_file

from ternhw.errors import FormatError, TernhwError
from ternhw.formats import load_model, read_gguf, save_ternary_npz, write_gguf
from ternhw.quant import ternarize
from ternhw.quant.pipeline import quantize_model


def _ternary(rows, cols, seed=0, **kw):
    return ternarize(np.random.default_rng(seed).normal(size=(rows, cols)), **kw)


def test_reads_file_written_by_gguf_writer(tmp_path):
    """A file made entirely by the gguf package's own writer and quantizer loads exactly."""
    rng = np.random.default_rng(1)
    trits = rng.integers(-1, 2, size=(3, 512)).astype(np.int8)
    path = tmp_path / "upstream.gguf"
    w = gguf.GGUFWriter(str(path), "llama")
    for qt in (gguf.GGMLQuantizationType.TQ1_0, gguf.GGMLQuantizationType.TQ2_0):
        w.add_tensor(f"blk.{int(qt)}.weight", gguf.quants.quantize(
            (trits * 0.25).astype(np.float32), qt), raw_dtype=qt)
    w.add_tensor("norm.weight", np.arange(4, dtype=np.float32))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    floats, ternary = read_gguf(path)
    assert set(ternary) == {"blk.34.weight", "blk.35.weight"}
    for tt in ternary.values():
        np.testing.assert_array_equal(tt.trits, trits)
        assert tt.granularity == "tensor" and tt.pos_scale[0, 0] == 0.25
    np.testing.assert_array_equal(floats["norm.weight"], np.arange(4))


@pytest.mark.parametrize("fmt", ["tq1_0", "tq2_0"])
@pytest.mark.parametrize("granularity", ["tensor", "channel"])
def test_gguf_round_trip_with_padding(tmp_path, fmt, granularity):
    tts = {"a.weight": _ternary(5, 300, granularity=granularity),
           "b.weight": _ternary(2, 256, seed=1, granularity=granularity)}
    path = write_gguf(tmp_path / "m.gguf", tts, fmt, extra={"a.bias": np.ones(5)})
    model = load_model(path)
    assert set(model.ternary) == set(tts)
    for name, tt in tts.items():
        back = model.ternary[name]
        assert back.shape == tt.shape  # 300 columns padded to 512 in the file, stripped on load
        np.testing.assert_array_equal(back.trits, tt.trits)
        assert back.granularity == granularity
        np.testing.assert_allclose(back.dequantize(), tt.dequantize(), rtol=1e-3)
    np.testing.assert_array_equal(model.tensors["a.bias"], np.ones(5))


@given(st.integers(1, 4), st.integers(1, 600), st.integers(0, 2 ** 16))
def test_gguf_round_trip_odd_shapes(tmp_path_factory, rows, cols, seed):
    tt = _ternary(rows, cols, seed)
    path = write_gguf(tmp_path_factory.mktemp("g") / "x.gguf", {"w": tt}, "tq1_0")
    np.testing.assert_array_equal(read_gguf(path)[1]["w"].trits, tt.trits)


def test_gguf_group_scales(tmp_path):
    tt = _ternary(2, 512, granularity="group", group_size=256)
    back = read_gguf(write_gguf(tmp_path / "g.gguf", {"w": tt}))[1]["w"]
    np.testing.assert_array_equal(back.trits, tt.trits)
    assert back.granularity == "group" and back.pos_scale.shape == (2, 2)
    with pytest.raises(FormatError, match=r"g2.gguf: tensor 'w': TQ1_0 needs one scale per"):
        write_gguf(tmp_path / "g2.gguf", {"w": _ternary(2, 512, granularity="group")})
    assert not (tmp_path / "g2.gguf").exists()


def test_gguf_refuses_ttq(tmp_path):
    with pytest.raises(FormatError, match="separate positive and negative"):
        write_gguf(tmp_path / "t.gguf", {"w": _ternary(2, 8, method="ttq")})


def test_ternary_npz_round_trip(tmp_path):
    tts = {"w1": _ternary(3, 7, method="ttq", granularity="channel"),
           "w2": _ternary(4, 9, granularity="group", group_size=4)}
    path = save_ternary_npz(tmp_path / "t.npz", tts, extra={"w1.bias": np.arange(3.0)})
    model = load_model(path)
    for name, tt in tts.items():
        back = model.ternary[name]
        np.testing.assert_array_equal(back.trits, tt.trits)
        np.testing.assert_array_equal(back.dequantize(), tt.dequantize())
        assert (back.method, back.granularity, back.group_size) == (
            tt.method, tt.granularity, tt.group_size)
    assert model.linear_names() == ["w1", "w2"]
    np.testing.assert_array_equal(model.tensors["w1.bias"], np.arange(3.0))


def test_safetensors_and_plain_npz(tmp_path):
    t = {"l.weight": np.ones((4, 3), np.float32), "l.bias": np.zeros(4, np.float32),
         "embeddings.weight": np.ones((9, 3), np.float32), "ln.norm.weight": np.ones((1, 3))}
    save_file({k: v.astype(np.float32) for k, v in t.items()}, str(tmp_path / "m.safetensors"))
    np.savez(tmp_path / "m.npz", **t)
    for f in ("m.safetensors", "m.npz"):
        assert load_model(tmp_path / f).linear_names() == ["l.weight"]


# ---- bad input: one clear error naming the file (and tensor) -------------------------------

def _truncate(path, keep):
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])


def test_truncated_and_corrupt_files(tmp_path):
    st_path = tmp_path / "m.safetensors"
    save_file({"w": np.ones((64, 64), np.float32)}, str(st_path))
    _truncate(st_path, 0.5)
    with pytest.raises(FormatError, match=r"m.safetensors: not a readable safetensors file"):
        load_model(st_path)

    npz = tmp_path / "m.npz"
    np.savez(npz, w=np.ones((64, 64)))
    _truncate(npz, 0.6)
    with pytest.raises(FormatError, match=r"m.npz: not a readable .npz file"):
        load_model(npz)

    g = write_gguf(tmp_path / "m.gguf", {"w": _ternary(4, 256)})
    _truncate(g, 0.7)
    with pytest.raises(FormatError, match=r"m.gguf: not a readable GGUF file"):
        load_model(g)

    junk = tmp_path / "junk.gguf"
    junk.write_bytes(b"not a gguf file at all" * 10)
    with pytest.raises(FormatError, match=r"junk.gguf: not a readable GGUF file"):
        load_model(junk)

    with pytest.raises(FormatError, match="does not exist"):
        load_model(tmp_path / "nope.safetensors")
    (tmp_path / "m.bin").write_bytes(b"x")
    with pytest.raises(FormatError, match="unknown model file type '.bin'"):
        load_model(tmp_path / "m.bin")


def test_pickled_npz_is_refused(tmp_path):
    np.savez(tmp_path / "p.npz", w=np.array([{"a": 1}], dtype=object))
    with pytest.raises(FormatError, match="p.npz: not a readable .npz file"):
        load_model(tmp_path / "p.npz")


def test_non_ternary_values_in_ternary_npz(tmp_path):
    path = save_ternary_npz(tmp_path / "t.npz", {"w": _ternary(2, 3)})
    with np.load(path) as z:
        arrays = dict(z)
    arrays["w.trits"] = arrays["w.trits"].copy()
    arrays["w.trits"][1, 2] = 2
    np.savez(tmp_path / "bad.npz", **arrays)
    with pytest.raises(FormatError, match=r"bad.npz: tensor 'w': 1 non-ternary value.*\(1, 2\)"):
        load_model(tmp_path / "bad.npz")
    arrays["w.trits"][1, 2] = 0
    arrays["w.pos_scale"] = np.ones((3, 1), np.float32)
    np.savez(tmp_path / "shape.npz", **arrays)
    with pytest.raises(FormatError, match=r"shape.npz: tensor 'w': pos_scale has shape \(3, 1\)"):
        load_model(tmp_path / "shape.npz")
    del arrays["w.neg_scale"]
    np.savez(tmp_path / "missing.npz", **arrays)
    with pytest.raises(FormatError, match=r"missing.npz: tensor 'w' is missing its 'neg_scale'"):
        load_model(tmp_path / "missing.npz")


def test_nan_weights_name_file_and_tensor(tmp_path):
    w = np.ones((4, 4), np.float32)
    w[2, 3] = np.nan
    save_file({"enc.fc.weight": w}, str(tmp_path / "nan.safetensors"))
    with pytest.raises(TernhwError, match=r"nan.safetensors: tensor 'enc.fc.weight': 1 non-finite"):
        quantize_model(load_model(tmp_path / "nan.safetensors"))


def test_unknown_layer_name(tmp_path):
    np.savez(tmp_path / "m.npz", **{"fc1.weight": np.ones((2, 2)), "fc2.weight": np.ones((2, 2))})
    model = load_model(tmp_path / "m.npz")
    with pytest.raises(TernhwError, match=r"m.npz: no linear layer named 'fc3.weigt'; did you"):
        quantize_model(model, layers=["fc3.weigt"])
    np.savez(tmp_path / "none.npz", b=np.ones(3))
    with pytest.raises(TernhwError, match="no linear weight matrices"):
        quantize_model(load_model(tmp_path / "none.npz"))


# ---- issue 13: no silent data loss, every failure a clear message -------------------------

@pytest.mark.parametrize("fmt", ["tq1_0", "tq2_0"])
def test_gguf_refuses_scales_outside_fp16(tmp_path, fmt):
    w = np.random.default_rng(5).normal(size=(4, 256))
    big = ternarize(w * 2e5)
    with pytest.raises(FormatError, match=rf"big.gguf: tensor 'fc.weight': scale \d+ exceeds the "
                                          rf"fp16 range of {fmt.upper()} \(max 65504\)"):
        write_gguf(tmp_path / "big.gguf", {"fc.weight": big}, fmt)
    tiny = ternarize(w * 1e-9, method="twn")
    with pytest.raises(FormatError, match=rf"tiny.gguf: tensor 'fc.weight': scale [\d.e-]+ is "
                                          rf"below the smallest normal fp16 value of {fmt.upper()}"
                                          r" \(6.10352e-05\) and would be stored as 0"):
        write_gguf(tmp_path / "tiny.gguf", {"fc.weight": tiny}, fmt)
    assert not list(tmp_path.iterdir())                      # nothing written, no temp files
    # .npz keeps float32 scales: both tensors survive exactly
    model = load_model(save_ternary_npz(tmp_path / "ok.npz", {"big": big, "tiny": tiny}))
    for name, tt in (("big", big), ("tiny", tiny)):
        np.testing.assert_array_equal(model.ternary[name].dequantize(), tt.dequantize())


@pytest.mark.filterwarnings("ignore:overflow encountered in cast:RuntimeWarning")
def test_gguf_with_infinite_block_scale_is_refused(tmp_path):
    """A TQ file whose fp16 scale overflowed (written by another tool) is not read as NaNs."""
    path = tmp_path / "inf.gguf"
    w = gguf.GGUFWriter(str(path), "llama")
    values = np.full((1, 256), 1e5, np.float32)                # absmax 1e5 -> fp16 inf
    w.add_tensor("blk.0.weight", gguf.quants.quantize(values, gguf.GGMLQuantizationType.TQ2_0),
                 raw_dtype=gguf.GGMLQuantizationType.TQ2_0)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    with pytest.raises(FormatError, match=r"inf.gguf: tensor 'blk.0.weight': TQ2_0 block scale "
                                          r"is Inf or NaN"):
        read_gguf(path)


def test_gguf_with_i2s_tensor_names_the_type(tmp_path):
    import struct

    path = write_gguf(tmp_path / "t.gguf", {"blk.0.w": _ternary(2, 256)}, "tq2_0")
    data = bytearray(path.read_bytes())
    name = b"blk.0.w"
    at = data.rindex(name) + len(name)                        # tensor info: dims, then type
    n_dims = struct.unpack_from("<I", data, at)[0]
    struct.pack_into("<I", data, at + 4 + 8 * n_dims, 36)     # GGML_TYPE_I2_S in bitnet.cpp
    path.write_bytes(bytes(data))
    with pytest.raises(FormatError, match=r"t.gguf: not a readable GGUF file: it holds a tensor "
                                          r"of ggml type 36 \(bitnet.cpp's I2_S\)"):
        load_model(path)


def test_ternarize_refuses_scales_outside_float32():
    w = np.random.default_rng(6).normal(size=(3, 8))
    with pytest.raises(FormatError, match=r"tensor 'w': scale [\d.e+]+ exceeds the float32 range"):
        ternarize(w * 1e300, name="w")
    with pytest.raises(FormatError, match=r"tensor 'w': scale [\d.e-]+ is below the smallest "
                                          r"float32 value .* would be stored as 0"):
        ternarize(w * 1e-300, method="twn", name="w")


def test_npz_messages_a_new_user_meets(tmp_path):
    garbage = tmp_path / "garbage.npz"
    garbage.write_bytes(b"hello, not a zip" * 10)
    with pytest.raises(FormatError, match=r"garbage.npz: not a readable .npz file: not a valid "
                                          r"\.npz \(zip archive of \.npy arrays\)") as e:
        load_model(garbage)
    assert "allow_pickle" not in str(e.value)
    np.savez(tmp_path / "p.npz", w=np.array([{"a": 1}], dtype=object))
    with pytest.raises(FormatError, match=r"p.npz: not a readable .npz file: array 'w' holds "
                                          r"Python objects") as e:
        load_model(tmp_path / "p.npz")
    assert "allow_pickle" not in str(e.value)
    (tmp_path / "x.npz").mkdir()
    with pytest.raises(FormatError, match=r"model file '.*x.npz' is a directory, not a file"):
        load_model(tmp_path / "x.npz")


def test_skipped_tensors_are_explained(tmp_path):
    np.savez(tmp_path / "int.npz", **{"fc.weight": np.ones((4, 4), np.int64), "b": np.ones(3)})
    model = load_model(tmp_path / "int.npz")
    assert model.linear_names() == []
    assert model.skipped_tensors() == {
        "fc.weight": "integer dtype int64, not floating point",
        "b": "1-D, shape (3,); name does not end in 'weight'"}
    with pytest.raises(TernhwError, match=r"int.npz: no linear weight matrices found; skipped: "
                                          r"'fc.weight' \(integer dtype int64, not floating "
                                          r"point\), 'b' \(1-D"):
        quantize_model(model)
    with pytest.raises(TernhwError, match=r"int.npz: tensor 'fc.weight' is not a linear weight "
                                          r"matrix \(integer dtype int64"):
        quantize_model(model, layers=["fc.weight"])


def test_all_zero_tensor_is_a_warning(tmp_path):
    w = np.random.default_rng(7).normal(size=(4, 64)) * 1e-9
    np.savez(tmp_path / "tiny.npz", **{"fc.weight": w, "ok.weight": w * 1e9})
    q = quantize_model(load_model(tmp_path / "tiny.npz"))
    doc = q.summary()
    assert len(doc["warnings"]) == 1
    assert f"{tmp_path / 'tiny.npz'}: tensor 'fc.weight': all 256 weights quantized to 0 " \
        "(absmean, max |W| " in doc["warnings"][0]
    assert "absmean's epsilon" in doc["warnings"][0]
    assert quantize_model(load_model(tmp_path / "tiny.npz"), method="twn").summary()[
        "warnings"] == []


def test_summary_never_prices_a_format_that_cannot_hold_a_layer(tmp_path):
    np.savez(tmp_path / "m.npz", **{"a.weight": np.random.default_rng(8).normal(size=(4, 256)),
                                    "b.weight": np.random.default_rng(9).normal(size=(2, 256))})
    model = load_model(tmp_path / "m.npz")
    doc = quantize_model(model, granularity="channel").summary()
    assert doc["bytes"]["i2_s"] is None and doc["bits_per_weight"]["i2_s"] is None
    assert doc["unsupported_formats"]["i2_s"].startswith(
        "tensor 'a.weight' (and 1 more layer(s)): I2_S holds one scale per tensor")
    for layer in doc["layers"]:
        assert layer["bytes"]["i2_s"] is None and "i2_s" in layer["unsupported_formats"]
    assert doc["bytes"]["2bit"] == sum(la["bytes"]["2bit"] for la in doc["layers"])
    assert doc["bytes"]["tq1_0"] == 6 * 54                  # one scale per row fits TQ
    tensor_doc = quantize_model(model).summary()
    assert tensor_doc["unsupported_formats"] == {} and tensor_doc["bytes"]["i2_s"] > 0
