"""Weight decode: weight-buffer words to per-lane weights.

A weight word holds the ``rows x cols`` weights of one array step, lane ``(r, c)`` at flat index
``i = r * cols + c``:

``2bit``  code ``t + 1`` in bits ``[2i, 2i + 2)``; the unused code 3 decodes to 0.
``base3`` five trits per byte, trit ``i`` is base-3 digit ``i % 5`` of byte ``i // 5``
          (``ternhw.formats.base3``); decoded by a 243-entry table per byte, bytes 243-255 to 0.
``int8``  the baseline's signed bytes, ``[8i, 8i + 8)``.

The unused codes decode to 0 so that the array never sees a value outside {-1, 0, +1}; a word
holding one is nevertheless an error, which :class:`WeightCodeCheck` flags as the word is
written into the weight buffer (the formats refuse the same codes with
:class:`ternhw.errors.FormatError`, so hardware and model agree it is never a silent 0).
"""

from __future__ import annotations

from amaranth import Cat, Module, Mux, Signal, signed, unsigned
from amaranth.lib import data, wiring
from amaranth.lib.wiring import In, Out

from ..formats.base3 import decode_base3_byte
from ._checks import check_int

FORMATS = ("2bit", "base3", "int8")


def weight_word_bits(fmt: str, n: int) -> int:
    """Bits of a word of ``n`` weights in ``fmt`` (as ``AcceleratorConfig.weight_word_bits``)."""
    return {"2bit": 2 * n, "base3": 8 * -(-n // 5), "int8": 8 * n}[fmt]


class Base3ByteDecoder(wiring.Component):
    """One byte of base-3 packing to five trits, by table.

    Members
    -------
    byte : In(8)
    trits : Out(ArrayLayout(signed(2), 5))
    """

    def __init__(self):
        super().__init__({
            "byte": In(8),
            "trits": Out(data.ArrayLayout(signed(2), 5)),
        })

    def elaborate(self, platform):
        m = Module()
        with m.Switch(self.byte):
            for value in range(243):
                with m.Case(value):
                    m.d.comb += [self.trits[i].eq(t)
                                 for i, t in enumerate(decode_base3_byte(value))]
            with m.Default():
                m.d.comb += [self.trits[i].eq(0) for i in range(5)]
        return m


class WeightDecoder(wiring.Component):
    """A packed weight word to ``n`` lane weights.

    Parameters
    ----------
    n : int
        Weights per word (``rows * cols``).
    fmt : {"2bit", "base3", "int8"}

    Members
    -------
    word : In(weight_word_bits(fmt, n))
    weights : Out(ArrayLayout(signed(2) or signed(8), n))
    """

    def __init__(self, *, n: int, fmt: str):
        self._n = check_int("n", n, 1, 65536)
        if fmt not in FORMATS:
            raise TypeError(f"fmt must be one of {', '.join(FORMATS)}, not {fmt!r}")
        self._fmt = fmt
        super().__init__({
            "word": In(unsigned(weight_word_bits(fmt, n))),
            "weights": Out(data.ArrayLayout(signed(8 if fmt == "int8" else 2), n)),
        })

    def elaborate(self, platform):
        m = Module()
        n = self._n
        if self._fmt == "int8":
            m.d.comb += [self.weights[i].eq(self.word[8 * i: 8 * i + 8].as_signed())
                         for i in range(n)]
        elif self._fmt == "2bit":
            for i in range(n):
                code = self.word[2 * i: 2 * i + 2]
                m.d.comb += self.weights[i].eq(Mux(code == 2, 1, Mux(code == 0, -1, 0)))
        else:
            for b in range(-(-n // 5)):
                dec = Base3ByteDecoder()
                m.submodules[f"byte{b}"] = dec
                m.d.comb += dec.byte.eq(self.word[8 * b: 8 * b + 8])
                for d in range(5):
                    if 5 * b + d < n:
                        m.d.comb += self.weights[5 * b + d].eq(dec.trits[d])
        return m


class WeightCodeCheck(wiring.Component):
    """Flags a ternary weight word that holds an invalid code: a 2-bit code 3, or a base-3 byte
    of 243 or more.

    The check sits on the weight buffer's write port, off the array's issue path: the words
    arrive one per clock, and the test is an OR over every field of the word (256 for the
    default array), so it is split over two registered stages (``LATENCY``). ``invalid`` is
    high for one clock, ``LATENCY`` clocks after a flagged word was written; ``clear`` (a new
    command) empties the stages, so a word of one command never flags the next.

    Members
    -------
    word : In(weight_word_bits(fmt, n))
    valid : In(1)
        ``word`` is written this clock.
    clear : In(1)
    invalid : Out(1)
    """

    LATENCY = 2

    @staticmethod
    def fields(fmt: str, n: int) -> int:
        """Fields tested per word of ``n`` weights: 2-bit codes, or base-3 bytes."""
        return n if fmt == "2bit" else -(-n // 5)

    @staticmethod
    def group(fields: int) -> int:
        """Fields ORed into each first-stage register (about the square root of their count,
        so both stages are shallow)."""
        return max(1, round(fields ** 0.5))

    @classmethod
    def register_bits(cls, fmt: str, n: int) -> int:
        """Flip-flops: the first stage's partial ORs and ``invalid``."""
        fields = cls.fields(fmt, n)
        return -(-fields // cls.group(fields)) + 1

    def __init__(self, *, n: int, fmt: str):
        self._n = check_int("n", n, 1, 65536)
        if fmt not in ("2bit", "base3"):
            raise TypeError(f"fmt must be '2bit' or 'base3' (int8 has no invalid code), "
                            f"not {fmt!r}")
        self._fmt = fmt
        super().__init__({
            "word": In(unsigned(weight_word_bits(fmt, n))),
            "valid": In(1), "clear": In(1),
            "invalid": Out(1),
        })

    def elaborate(self, platform):
        m = Module()
        if self._fmt == "2bit":
            bad = [self.word[2 * i: 2 * i + 2].all() for i in range(self._n)]
        else:
            bad = [self.word[8 * b: 8 * b + 8] >= 243
                   for b in range(self.fields(self._fmt, self._n))]
        group = self.group(len(bad))
        partial = Signal(-(-len(bad) // group))
        m.d.sync += [
            partial.eq(Mux(self.valid & ~self.clear,
                           Cat(*(Cat(*bad[i:i + group]).any()
                                 for i in range(0, len(bad), group))), 0)),
            self.invalid.eq(partial.any() & ~self.clear),
        ]
        return m
