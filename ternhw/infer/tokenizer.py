"""BERT's uncased WordPiece tokenizer in plain Python (no ``tokenizers`` or ``transformers``).

It reproduces, id for id, what Hugging Face ``tokenizers`` does with all-MiniLM-L6-v2's
``tokenizer.json`` (which is what sentence-transformers runs), checked on thousands of strings
and on every code point of Unicode planes 0-2 by ``tests/test_tokenizer.py``. The pipeline is:

1. **Special tokens.** ``[PAD] [UNK] [CLS] [SEP] [MASK]`` are ``added_tokens`` with
   ``normalized: false``: the reference matches them verbatim in the raw text before anything
   else, so ``"a [SEP] b"`` keeps id 102 rather than becoming ``[ ##sep ]``.
2. **BertNormalizer** (``clean_text``, ``handle_chinese_chars``, ``lowercase``; ``strip_accents``
   is null, so it follows ``lowercase``), in the order of ``tokenizers``' ``bert.rs``:
   drop U+0000, U+FFFD and control/format/private-use characters (but not tab, LF, CR); map
   whitespace to a space; put spaces around CJK ideographs; NFD and drop non-spacing marks;
   lowercase character by character. Accents are stripped *before* lowercasing and without
   Greek final-sigma context (Python's ``str.lower`` of a whole word would give ``ς``), unlike
   Google's original ``BasicTokenizer``, and unassigned code points are kept, not dropped.
3. **BertPreTokenizer**: split on whitespace, and isolate every punctuation character (any ASCII
   punctuation, including ``$ + < = > ^ ` |``, and Unicode category P*).
4. **WordPiece**: greedy longest match from the left with the ``##`` continuation prefix; a
   word longer than 100 characters, or one with any unmatchable remainder, is one ``[UNK]``.
5. ``[CLS] ids [SEP]``, truncated to ``max_length`` ids (the ``truncation.max_length`` of 128 in
   ``tokenizer.json``; sentence-transformers' ``max_seq_length`` for this model is 256).

Why character tables instead of :mod:`unicodedata`: the reference decides "control", "mark"
and "punctuation" with the ``unicode_categories`` crate, whose tables are Unicode 8.0, while
Python 3.11 has Unicode 14.0 (and later Pythons newer still). Characters added or recategorised
since (e.g. U+061D ARABIC END OF TEXT MARK, the Adlam and Newa marks, U+1734 HANUNOO SIGN
PAMUDPOD, U+166D CANADIAN SYLLABICS CHI SIGN) are treated differently, so the three tables
below were generated from the reference itself (``tokenizers`` 0.23.3, one code point at a
time through ``BertNormalizer`` / ``BertPreTokenizer``); they make this module independent of
the running Python's Unicode version for those decisions. Its CJK ranges are copied from
``bert.rs``, including its 0x2B920 (Python's BERT has 0x2B820, so U+2B820-U+2B91F are not
split out). Lowercasing is Rust's (Unicode 16): ``_LOWER_EXTRA`` holds the mappings that
Python 3.11 lacks. NFD is Python's, except U+11938, which the reference does not decompose.
"""

from __future__ import annotations

import bisect
import re
import unicodedata
from functools import lru_cache
from pathlib import Path

#: Default truncation, ids including [CLS] and [SEP] (``tokenizer.json``'s ``truncation``).
MAX_LENGTH = 128
#: WordPiece ``max_input_chars_per_word``: longer words become a single [UNK].
MAX_WORD_CHARS = 100
#: BERT's special tokens; the reference matches them verbatim before normalization.
SPECIAL_TOKENS = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")
#: Rust's ``char::is_whitespace`` (Unicode White_Space) plus tab/LF/CR; the other White_Space
#: characters (VT, FF, U+0085) are control characters and are dropped first.
WHITESPACE = frozenset("\t\n\r \u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007"
                       "\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000")
#: ``is_chinese_char`` of ``tokenizers``' ``bert.rs`` (CJK Unified Ideographs and extensions,
#: compatibility ideographs), which these ranges copy exactly.
CJK_RANGES = ((0x4E00, 0x9FFF), (0x3400, 0x4DBF), (0x20000, 0x2A6DF), (0x2A700, 0x2B73F),
              (0x2B740, 0x2B81F), (0x2B920, 0x2CEAF), (0xF900, 0xFAFF), (0x2F800, 0x2FA1F))
#: Code points Python decomposes under NFD but the reference's normalization tables do not.
_NO_DECOMPOSE = re.compile("(\U00011938)")


def _ranges(spec: str) -> tuple[list[int], list[int]]:
    """Parse ``"300-36F 483 ..."`` (hex, inclusive) into sorted ``(starts, ends)`` lists."""
    starts, ends = [], []
    for item in spec.split():
        lo, _, hi = item.partition("-")
        starts.append(int(lo, 16))
        ends.append(int(hi or lo, 16))
    return starts, ends


def _pairs(spec: str) -> dict[str, str]:
    """Parse ``"A7CB:264 ..."`` (hex code point: hex lowercase) into a character map."""
    return {chr(int(a, 16)): chr(int(b, 16))
            for a, b in (item.split(":") for item in spec.split())}


def _member(table: tuple[list[int], list[int]], cp: int) -> bool:
    i = bisect.bisect_right(table[0], cp) - 1
    return i >= 0 and cp <= table[1][i]


def _is_cjk(cp: int) -> bool:
    return any(lo <= cp <= hi for lo, hi in CJK_RANGES)


@lru_cache(maxsize=1 << 16)
def _clean_char(ch: str) -> str:
    """``clean_text`` then ``handle_chinese_chars`` for one character: drop, space, or pad."""
    cp = ord(ch)
    if _member(_REMOVED, cp):
        return ""
    if ch in WHITESPACE:
        return " "
    if _is_cjk(cp):
        return f" {ch} "
    return ch


@lru_cache(maxsize=1 << 16)
def _fold_char(ch: str) -> str:
    """After NFD: drop a non-spacing mark (``strip_accents``), else lowercase the character."""
    if _member(_MARKS, ord(ch)):
        return ""
    return _LOWER_EXTRA.get(ch) or ch.lower()


@lru_cache(maxsize=1 << 16)
def is_punctuation(ch: str) -> bool:
    """``BertPreTokenizer``'s ``is_bert_punc``: ASCII punctuation or Unicode 8.0 category P*."""
    return _member(_PUNCTUATION, ord(ch))


def _nfd(text: str) -> str:
    if text.isascii():
        return text
    parts = _NO_DECOMPOSE.split(text)
    parts[::2] = [unicodedata.normalize("NFD", p) for p in parts[::2]]
    return "".join(parts)


def normalize(text: str) -> str:
    """``BertNormalizer`` as configured for all-MiniLM-L6-v2 (see the module docstring).

    Lowercasing is per character, after accent stripping, as the reference does; that is why
    ``"ΟΔΟΣ"`` gives ``"οδοσ"`` here, not Python's ``"οδος"``.
    """
    text = _nfd("".join(map(_clean_char, text)))
    return "".join(map(_fold_char, text))


def pre_tokenize(normalized: str) -> list[str]:
    """``BertPreTokenizer``: split on whitespace, then make each punctuation mark a word."""
    tokens = []
    for word in normalized.split(" "):
        start = 0
        for i, ch in enumerate(word):
            if is_punctuation(ch):
                if i > start:
                    tokens.append(word[start:i])
                tokens.append(ch)
                start = i + 1
        if start < len(word):
            tokens.append(word[start:])
    return tokens


class WordPieceTokenizer:
    """``WordPieceTokenizer(vocab_path)``; ``encode(text) -> list[int]``.

    ``vocab_path`` is the model's ``vocab.txt`` (one token per line, id = line number).
    """

    def __init__(self, vocab_path: str | Path):
        words = Path(vocab_path).read_text(encoding="utf-8").splitlines()
        self.vocab = {w: i for i, w in enumerate(words)}
        self.cls, self.sep, self.unk = (self.vocab[t] for t in ("[CLS]", "[SEP]", "[UNK]"))
        specials = [t for t in SPECIAL_TOKENS if t in self.vocab]
        self._special = re.compile("(" + "|".join(map(re.escape, specials)) + ")")
        self._pieces: dict[str, list[int]] = {}

    def basic_tokens(self, text: str) -> list[str]:
        """Normalized words and punctuation of ``text`` (no special-token matching)."""
        return pre_tokenize(normalize(text))

    def wordpiece(self, word: str) -> list[int]:
        """Greedy longest-match-first WordPiece of one pre-token (BERT's ``WordpieceTokenizer``)."""
        cached = self._pieces.get(word)
        if cached is not None:
            return cached
        if len(word) > MAX_WORD_CHARS:
            ids = [self.unk]
        else:
            ids, start = [], 0
            while start < len(word):
                end = len(word)
                while end > start:
                    piece = word[start:end] if start == 0 else "##" + word[start:end]
                    if piece in self.vocab:
                        ids.append(self.vocab[piece])
                        break
                    end -= 1
                else:
                    ids = [self.unk]
                    break
                start = end
        if len(self._pieces) < 1 << 16:
            self._pieces[word] = ids
        return ids

    def tokenize_ids(self, text: str) -> list[int]:
        """Ids of ``text`` without [CLS]/[SEP] or truncation; verbatim special tokens kept."""
        ids: list[int] = []
        for i, part in enumerate(self._special.split(text)):
            if i % 2:
                ids.append(self.vocab[part])
            else:
                for word in self.basic_tokens(part):
                    ids.extend(self.wordpiece(word))
        return ids

    def encode(self, text: str, max_length: int | None = MAX_LENGTH,
               add_special_tokens: bool = True) -> list[int]:
        """``[CLS] ids [SEP]`` truncated to ``max_length`` ids in all (``None``: no limit).

        With ``add_special_tokens=False`` only the word-piece ids, truncated to
        ``max_length``; both match ``tokenizers``' ``encode`` with ``LongestFirst`` truncation.
        """
        ids = self.tokenize_ids(text)
        if not add_special_tokens:
            return ids if max_length is None else ids[:max_length]
        if max_length is not None:
            if max_length < 2:
                raise ValueError(f"max_length {max_length} leaves no room for [CLS] and [SEP]")
            ids = ids[: max_length - 2]
        return [self.cls, *ids, self.sep]


# Tables generated from the reference (see the module docstring): hex code points, inclusive
# ranges. _REMOVED: clean_text drops these (Unicode 8.0 Cc/Cf/Co, U+FFFD). _MARKS: strip_accents
# drops these after NFD (Unicode 8.0 Mn). _PUNCTUATION: ASCII punctuation and Unicode 8.0 P*.
# _LOWER_EXTRA: Rust's (Unicode 16) lowercase mappings that Python 3.11's str.lower lacks.
_REMOVED = _ranges("""
    0-8 B-C E-1F 7F-9F AD 600-605 61C 6DD 70F 180E 200B-200F 202A-202E 2060-2064 2066-206F
    E000-F8FF FEFF FFF9-FFFB FFFD 110BD 1BCA0-1BCA3 1D173-1D17A E0001 E0020-E007F
    F0000-FFFFD 100000-10FFFD
""")
_MARKS = _ranges("""
    300-33F 342 345-36F 483-487 591-5BD 5BF 5C1-5C2 5C4-5C5 5C7 610-61A 64B-65F 670 6D6-6DC
    6DF-6E4 6E7-6E8 6EA-6ED 711 730-74A 7A6-7B0 7EB-7F3 816-819 81B-823 825-827 829-82D
    859-85B 8E3-902 93A 93C 941-948 94D 951-957 962-963 981 9BC 9C1-9C4 9CD 9E2-9E3 A01-A02
    A3C A41-A42 A47-A48 A4B-A4D A51 A70-A71 A75 A81-A82 ABC AC1-AC5 AC7-AC8 ACD AE2-AE3 B01
    B3C B3F B41-B44 B4D B56 B62-B63 B82 BC0 BCD C00 C3E-C40 C46-C47 C4A-C4D C55-C56 C62-C63
    C81 CBC CBF CC6 CCC-CCD CE2-CE3 D01 D41-D44 D4D D62-D63 DCA DD2-DD4 DD6 E31 E34-E3A
    E47-E4E EB1 EB4-EB9 EBB-EBC EC8-ECD F18-F19 F35 F37 F39 F71-F72 F74 F77 F79-F7E F80
    F82-F84 F86-F87 F8D-F92 F94-F97 F99-F9C F9E-FA1 FA3-FA6 FA8-FAB FAD-FB8 FBA-FBC FC6
    102D-1030 1032-1037 1039-103A 103D-103E 1058-1059 105E-1060 1071-1074 1082 1085-1086
    108D 109D 135D-135F 1712-1714 1732-1734 1752-1753 1772-1773 17B4-17B5 17B7-17BD 17C6
    17C9-17D3 17DD 180B-180D 18A9 1920-1922 1927-1928 1932 1939-193B 1A17-1A18 1A1B 1A56
    1A58-1A5E 1A60 1A62 1A65-1A6C 1A73-1A7C 1A7F 1AB0-1ABD 1B00-1B03 1B34 1B36-1B3A 1B3C
    1B42 1B6B-1B73 1B80-1B81 1BA2-1BA5 1BA8-1BA9 1BAB-1BAD 1BE6 1BE8-1BE9 1BED 1BEF-1BF1
    1C2C-1C33 1C36-1C37 1CD0-1CD2 1CD4-1CE0 1CE2-1CE8 1CED 1CF4 1CF8-1CF9 1DC0-1DF5
    1DFC-1DFF 20D0-20DC 20E1 20E5-20F0 2CEF-2CF1 2D7F 2DE0-2DFF 302A-302D 3099-309A A66F
    A674-A67D A69E-A69F A6F0-A6F1 A802 A806 A80B A825-A826 A8C4 A8E0-A8F1 A926-A92D
    A947-A951 A980-A982 A9B3 A9B6-A9B9 A9BC A9E5 AA29-AA2E AA31-AA32 AA35-AA36 AA43 AA4C
    AA7C AAB0 AAB2-AAB4 AAB7-AAB8 AABE-AABF AAC1 AAEC-AAED AAF6 ABE5 ABE8 ABED FB1E
    FE00-FE0F FE20-FE2F 101FD 102E0 10376-1037A 10A01-10A03 10A05-10A06 10A0C-10A0F
    10A38-10A3A 10A3F 10AE5-10AE6 11001 11038-11046 1107F-11081 110B3-110B6 110B9-110BA
    11100-11102 11127-1112B 1112D 11130-11134 11173 11180-11181 111B6-111BE 111CA-111CC
    1122F-11231 11234 11236-11237 112DF 112E3-112EA 11300-11301 1133C 11340 11366-1136C
    11370-11374 114B3-114B8 114BA 114BF-114C0 114C2-114C3 115B2-115B5 115BC-115BD
    115BF-115C0 115DC-115DD 11633-1163A 1163D 1163F-11640 116AB 116AD 116B0-116B5 116B7
    1171D-1171F 11722-11725 11727-1172B 16AF0-16AF4 16B30-16B36 16F8F-16F92 1BC9D-1BC9E
    1D167-1D169 1D17B-1D182 1D185-1D18B 1D1AA-1D1AD 1D242-1D244 1DA00-1DA36 1DA3B-1DA6C
    1DA75 1DA84 1DA9B-1DA9F 1DAA1-1DAAF 1E8D0-1E8D6 E0100-E01EF
""")
_PUNCTUATION = _ranges("""
    21-2F 3A-40 5B-60 7B-7E A1 A7 AB B6-B7 BB BF 37E 387 55A-55F 589-58A 5BE 5C0 5C3 5C6
    5F3-5F4 609-60A 60C-60D 61B 61E-61F 66A-66D 6D4 700-70D 7F7-7F9 830-83E 85E 964-965 970
    AF0 DF4 E4F E5A-E5B F04-F12 F14 F3A-F3D F85 FD0-FD4 FD9-FDA 104A-104F 10FB 1360-1368
    1400 166D-166E 169B-169C 16EB-16ED 1735-1736 17D4-17D6 17D8-17DA 1800-180A 1944-1945
    1A1E-1A1F 1AA0-1AA6 1AA8-1AAD 1B5A-1B60 1BFC-1BFF 1C3B-1C3F 1C7E-1C7F 1CC0-1CC7 1CD3
    2010-2027 2030-2043 2045-2051 2053-205E 207D-207E 208D-208E 2308-230B 2329-232A
    2768-2775 27C5-27C6 27E6-27EF 2983-2998 29D8-29DB 29FC-29FD 2CF9-2CFC 2CFE-2CFF 2D70
    2E00-2E2E 2E30-2E42 3001-3003 3008-3011 3014-301F 3030 303D 30A0 30FB A4FE-A4FF
    A60D-A60F A673 A67E A6F2-A6F7 A874-A877 A8CE-A8CF A8F8-A8FA A8FC A92E-A92F A95F
    A9C1-A9CD A9DE-A9DF AA5C-AA5F AADE-AADF AAF0-AAF1 ABEB FD3E-FD3F FE10-FE19 FE30-FE52
    FE54-FE61 FE63 FE68 FE6A-FE6B FF01-FF03 FF05-FF0A FF0C-FF0F FF1A-FF1B FF1F-FF20
    FF3B-FF3D FF3F FF5B FF5D FF5F-FF65 10100-10102 1039F 103D0 1056F 10857 1091F 1093F
    10A50-10A58 10A7F 10AF0-10AF6 10B39-10B3F 10B99-10B9C 11047-1104D 110BB-110BC
    110BE-110C1 11140-11143 11174-11175 111C5-111C9 111CD 111DB 111DD-111DF 11238-1123D
    112A9 114C6 115C1-115D7 11641-11643 1173C-1173E 12470-12474 16A6E-16A6F 16AF5
    16B37-16B3B 16B44 1BC9F 1DA87-1DA8B
""")
_LOWER_EXTRA = _pairs("""
    1C89:1C8A A7CB:264 A7CC:A7CD A7CE:A7CF A7D2:A7D3 A7D4:A7D5 A7DA:A7DB A7DC:19B
    10D50:10D70 10D51:10D71 10D52:10D72 10D53:10D73 10D54:10D74 10D55:10D75 10D56:10D76
    10D57:10D77 10D58:10D78 10D59:10D79 10D5A:10D7A 10D5B:10D7B 10D5C:10D7C 10D5D:10D7D
    10D5E:10D7E 10D5F:10D7F 10D60:10D80 10D61:10D81 10D62:10D82 10D63:10D83 10D64:10D84
    10D65:10D85 16EA0:16EBB 16EA1:16EBC 16EA2:16EBD 16EA3:16EBE 16EA4:16EBF 16EA5:16EC0
    16EA6:16EC1 16EA7:16EC2 16EA8:16EC3 16EA9:16EC4 16EAA:16EC5 16EAB:16EC6 16EAC:16EC7
    16EAD:16EC8 16EAE:16EC9 16EAF:16ECA 16EB0:16ECB 16EB1:16ECC 16EB2:16ECD 16EB3:16ECE
    16EB4:16ECF 16EB5:16ED0 16EB6:16ED1 16EB7:16ED2 16EB8:16ED3
""")
