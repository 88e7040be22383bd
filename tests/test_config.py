import pytest

from ternhw.config import AcceleratorConfig, load_config, shipped_config_names
from ternhw.errors import ConfigError


def test_shipped_configs_load():
    names = shipped_config_names()
    assert {"default", "int8-baseline", "small"} <= set(names)
    for n in names:
        cfg = load_config(n)
        assert cfg.name == n
    assert load_config("default").is_ternary
    assert not load_config("int8-baseline").is_ternary


def test_derived_widths():
    cfg = AcceleratorConfig(rows=4, cols=16, act_bits=8, acc_bits=16)
    assert cfg.product_bits == 9          # -(-128) = 128 needs 9 bits
    assert cfg.tree_bits == 9 + 4
    assert (cfg.acc_min, cfg.acc_max) == (-32768, 32767)
    i8 = AcceleratorConfig(weight_bits=8, weight_format="int8", acc_bits=32)
    assert i8.product_bits == 16 and i8.tree_bits == 20
    assert AcceleratorConfig(cols=1).tree_bits == AcceleratorConfig(cols=1).product_bits


@pytest.mark.parametrize("field, value, words", [
    ("rows", 0, "rows must be an integer in [1, 256], not 0"),
    ("cols", 300, "cols must be an integer in [1, 256], not 300"),
    ("rows", "16", "rows must be an integer"),
    ("rows", True, "rows must be an integer"),
    ("act_bits", 1, "act_bits must be an integer in [2, 16]"),
    ("acc_bits", 40, "acc_bits must be an integer in [8, 32]"),
    ("overflow", "clip", "overflow must be 'wrap' or 'saturate', not 'clip'"),
    ("weight_format", "int8", "weight_format must be '2bit' or 'base3' for weight_bits = 1.58"),
    ("weight_bits", 4, "weight_bits must be 1.58 (ternary) or 8"),
    ("clock_mhz", -1.0, "clock_mhz must be a number"),
    ("clock_mhz", float("nan"), "clock_mhz must be a number"),
    ("weight_buffer_depth", 0, "weight_buffer_depth must be an integer"),
])
def test_invalid_values_name_the_field(field, value, words):
    with pytest.raises(ConfigError) as e:
        AcceleratorConfig(**{field: value})
    assert words in str(e.value)


def test_acc_must_hold_a_product():
    with pytest.raises(ConfigError, match="acc_bits must be at least act_bits"):
        AcceleratorConfig(act_bits=16, acc_bits=16)


def test_int8_needs_int8_format():
    with pytest.raises(ConfigError, match="weight_format must be 'int8'"):
        AcceleratorConfig(weight_bits=8)


def test_frozen():
    cfg = load_config("default")
    with pytest.raises(AttributeError):
        cfg.rows = 3
    assert cfg.replace(rows=8).rows == 8


def test_toml_file(tmp_path):
    p = tmp_path / "mine.toml"
    p.write_text('[accelerator]\nrows = 8\ncols = 4\noverflow = "wrap"\n')
    cfg = load_config(p)
    assert (cfg.name, cfg.rows, cfg.cols, cfg.overflow) == ("mine", 8, 4, "wrap")


def test_toml_errors(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("rows = \n")
    with pytest.raises(ConfigError, match="bad.toml: not valid TOML"):
        load_config(bad)
    unknown = tmp_path / "unknown.toml"
    unknown.write_text("rowz = 4\n")
    with pytest.raises(ConfigError, match="unknown.toml: unknown field 'rowz'"):
        load_config(unknown)
    wrong = tmp_path / "wrong.toml"
    wrong.write_text("acc_bits = 64\n")
    with pytest.raises(ConfigError, match="wrong.toml: acc_bits must be an integer in"):
        load_config(wrong)
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "missing.toml")
    with pytest.raises(ConfigError, match="unknown config 'nope'.*default"):
        load_config("nope")
