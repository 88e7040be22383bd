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
