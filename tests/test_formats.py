"""Round trips and exact sizes of every packing format, with hypothesis over odd lengths."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from ternhw.errors import FormatError
from ternhw.formats import (
    bits_per_weight,
    check_trits,
    pack_2bit,
    pack_base3,
    pack_i2s,
    packed_size_2bit,
    packed_size_base3,
    packed_size_i2s,
    storage_bytes,
    unpack_2bit,
    unpack_base3,
    unpack_i2s,
)
from ternhw.formats.base3 import decode_base3_byte
from ternhw.quant import ternarize

trit_vectors = arrays(np.int8, st.integers(1, 700), elements=st.integers(-1, 1))


@given(trit_vectors)
def test_2bit_round_trip(t):
    data = pack_2bit(t)
    assert data.size == packed_size_2bit(t.size) == -(-t.size // 4)
    np.testing.assert_array_equal(unpack_2bit(data, t.size), t)


@given(trit_vectors)
def test_base3_round_trip(t):
    data = pack_base3(t)
    assert data.size == packed_size_base3(t.size) == -(-t.size // 5)
    assert data.max() < 243
    np.testing.assert_array_equal(unpack_base3(data, t.size), t)
    np.testing.assert_array_equal(unpack_base3(data.tobytes(), t.size), t)


@given(trit_vectors, st.floats(-10, 10, width=32))
def test_i2s_round_trip(t, scale):
    data = pack_i2s(t, scale)
    assert len(data) == packed_size_i2s(t.size)
    back, s = unpack_i2s(data, t.size)
    np.testing.assert_array_equal(back, t)
    assert s == np.float32(scale)


def test_2bit_layout_by_hand():
    # codes t+1: [-1, 0, 1, 1] -> [0, 1, 2, 2] -> 0 | 1<<2 | 2<<4 | 2<<6 = 164
    assert pack_2bit(np.array([-1, 0, 1, 1])).tolist() == [164]
    # a fifth trit starts a new byte, padded with zero trits (code 1)
    assert pack_2bit(np.array([-1, 0, 1, 1, 1])).tolist() == [164, 2 | 1 << 2 | 1 << 4 | 1 << 6]


def test_base3_layout_by_hand():
    # digits t+1 = [2, 0, 1, 1, 0] -> 2 + 0*3 + 1*9 + 1*27 + 0*81 = 38
    assert pack_base3(np.array([1, -1, 0, 0, -1])).tolist() == [38]
    assert decode_base3_byte(38) == (1, -1, 0, 0, -1)
    assert pack_base3(np.ones(5, dtype=np.int8)).tolist() == [242]
    for b in range(243):
        assert unpack_base3(np.array([b], np.uint8), 5).tolist() == list(decode_base3_byte(b))


def test_i2s_layout_by_hand():
    t = np.zeros(128, dtype=np.int8)
    t[0] = 1       # element 0 -> byte 0, shift 6
    t[33] = -1     # element 33 -> byte 1, shift 4 (code 0)
    t[127] = 1     # element 127 -> byte 31, shift 0
    data = pack_i2s(t, 0.5)
    b = np.frombuffer(data, np.uint8)
    assert b[0] == (2 << 6 | 1 << 4 | 1 << 2 | 1)
    assert b[1] == (1 << 6 | 0 << 4 | 1 << 2 | 1)
    assert b[31] == (1 << 6 | 1 << 4 | 1 << 2 | 2)
    assert len(data) == 32 + 32
    assert np.frombuffer(data[32:36], np.float32)[0] == 0.5
    assert not any(data[36:])


def test_base3_is_1_6_bits_per_weight():
    tt = ternarize(np.random.default_rng(0).normal(size=(640, 500)))
    assert storage_bytes(tt, "base3") == 640 * 500 // 5 + 4
    assert bits_per_weight(tt, "base3") == pytest.approx(1.6, abs=1e-3)
    assert bits_per_weight(tt, "2bit") == pytest.approx(2.0, abs=1e-3)
    assert storage_bytes(tt, "tq1_0") == 640 * 2 * 54      # 500 columns pad to two blocks
    assert storage_bytes(tt, "tq2_0") == 640 * 2 * 66
    assert storage_bytes(tt, "i2_s") == 640 * 500 // 4 + 32


@pytest.mark.parametrize("bad", [np.array([0, 2]), np.array([-2, 1]), np.array([0.5]),
                                 np.array([np.nan]), np.array([255], np.uint8)])
def test_non_ternary_values_are_refused(bad):
    with pytest.raises(FormatError, match="non-ternary value"):
        check_trits(bad, "w")
    with pytest.raises(FormatError):
        pack_base3(bad)


def test_corrupt_packed_data_is_refused():
    with pytest.raises(FormatError, match="invalid 2-bit code 3 at trit index 1"):
        unpack_2bit(np.array([0b1101], np.uint8), 2)
    with pytest.raises(FormatError, match="invalid base-3 byte 250 at byte index 1"):
        unpack_base3(np.array([0, 250], np.uint8), 10)
    with pytest.raises(FormatError, match="must be 2 bytes, got 1"):
        unpack_2bit(np.array([0], np.uint8), 5)
    with pytest.raises(FormatError, match="must be 64 bytes"):
        unpack_i2s(b"\x55" * 40, 100)
    with pytest.raises(FormatError, match="invalid I2_S code 3"):
        unpack_i2s(b"\xff" * 64, 128)


# ---- issue 13: sizes never quote a format that cannot hold the tensor ----------------------

def test_sizes_refuse_formats_that_cannot_hold_the_tensor():
    from ternhw.formats import unsupported_reason

    w = np.random.default_rng(3).normal(size=(4, 512))
    channel = ternarize(w, granularity="channel")
    ttq = ternarize(w, method="ttq")
    group = ternarize(w, granularity="group", group_size=128)
    assert storage_bytes(channel, "i2_s") is None and bits_per_weight(channel, "i2_s") is None
    assert "I2_S holds one scale per tensor, but this tensor has 4 different channel scales" \
        == unsupported_reason(channel, "i2_s")
    assert storage_bytes(channel, "tq1_0") == 4 * 2 * 54          # one scale per row: fits TQ
    assert storage_bytes(ttq, "i2_s") is None and storage_bytes(ttq, "tq2_0") is None
    assert "separate positive and negative (TTQ)" in unsupported_reason(ttq, "i2_s")
    assert storage_bytes(group, "tq1_0") is None
    assert "change inside a block" in unsupported_reason(group, "tq1_0")
    for tt in (channel, ttq, group):                              # float32 scales: always
        assert storage_bytes(tt, "2bit") and storage_bytes(tt, "base3")
        assert unsupported_reason(tt, "base3") is None
    assert unsupported_reason(ternarize(w), "i2_s") is None


@pytest.mark.parametrize("factor, words", [
    (2e5, "exceeds the fp16 range of TQ1_0 (max 65504)"),
    (1e-9, "is below the smallest normal fp16 value of TQ1_0 (6.10352e-05) and would be "
           "stored as 0"),
])
def test_tq_sizes_refuse_scales_outside_fp16(factor, words):
    from ternhw.formats import unsupported_reason

    tt = ternarize(np.random.default_rng(4).normal(size=(2, 256)) * factor, method="twn")
    assert words in unsupported_reason(tt, "tq1_0")
    assert storage_bytes(tt, "tq1_0") is None
    assert storage_bytes(tt, "i2_s") == 2 * 256 // 4 + 32          # float32 scale: fine


# ---- issue 13: I2_S data in a layout ternhw does not write is refused ---------------------

def _pack_arm(t: np.ndarray, scale: float) -> bytes:
    """bitnet.cpp's ARM layout: 64-element chunks of 16 bytes, element j at byte j % 16,
    shift 6 - 2 * (j // 16)."""
    n_chunks = -(-t.size // 64)
    codes = np.ones(n_chunks * 64, np.uint8)
    codes[: t.size] = t + 1
    c = codes.reshape(n_chunks, 4, 16)
    body = (c[:, 0] << 6) | (c[:, 1] << 4) | (c[:, 2] << 2) | c[:, 3]
    tail = np.zeros(32, np.uint8)
    tail[:4] = np.frombuffer(np.float32(scale).tobytes(), np.uint8)
    return body.astype(np.uint8).tobytes() + tail.tobytes()


def _pack_sequential(t: np.ndarray, scale: float) -> bytes:
    """The reference quantizer's packing: weight i in byte i // 4 at shift 6 - 2 * (i % 4),
    in the same 32-byte-chunk size as the x86 layout."""
    codes = np.ones(-(-t.size // 128) * 128, np.uint8)
    codes[: t.size] = t + 1
    c = codes.reshape(-1, 4)
    body = (c[:, 0] << 6) | (c[:, 1] << 4) | (c[:, 2] << 2) | c[:, 3]
    return body.astype(np.uint8).tobytes() + np.float32(scale).tobytes() + bytes(28)


def test_i2s_foreign_layouts_are_refused(rng):
    t = rng.integers(-1, 2, size=100).astype(np.int8)
    with pytest.raises(FormatError, match="I2_S layout 'arm' is not supported: ternhw reads "
                                          "only bitnet.cpp's x86 layout"):
        unpack_i2s(pack_i2s(t, 1.0), t.size, layout="arm")
    # 64 weights: the ARM size (16 + 32 bytes) differs from x86's (32 + 32), and is named
    t64 = rng.integers(-1, 2, size=64).astype(np.int8)
    with pytest.raises(FormatError, match=r"must be 64 bytes, got 48; 48 bytes is the size in "
                                          r"bitnet.cpp's ARM layout"):
        unpack_i2s(_pack_arm(t64, 1.0), 64)
    # 100 weights: same size in both layouts, but the foreign data sits in x86's padding
    for foreign in (_pack_arm(t, 1.0), _pack_sequential(t, 1.0)):
        assert len(foreign) == packed_size_i2s(100)
        with pytest.raises(FormatError, match=r"I2_S padding after weight 99 holds code \d at "
                                              r"index \d+, not a zero trit"):
            unpack_i2s(foreign, 100)


def test_i2s_tail_and_scale_are_checked():
    t = np.zeros(128, np.int8)
    good = bytearray(pack_i2s(t, 0.5))
    per_row = bytearray(good)
    per_row[36:40] = np.float32(0.25).tobytes()      # a second scale: another layout's tail
    with pytest.raises(FormatError, match=r"I2_S byte 3[6-9] \(tail byte \d, after the scale\) "
                                          r"is \d+, not 0: the tail holds more than one float32"):
        unpack_i2s(bytes(per_row), 128)
    nan = bytearray(good)
    nan[32:36] = np.float32(np.nan).tobytes()
    with pytest.raises(FormatError, match="I2_S scale is nan, not a finite number"):
        unpack_i2s(bytes(nan), 128)
    with pytest.raises(FormatError, match="weight count must be a positive integer"):
        unpack_i2s(b"", 0)
    assert unpack_i2s(bytes(good), 128)[1] == 0.5
