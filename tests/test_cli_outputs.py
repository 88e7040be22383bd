"""Every output path a command is given is checked before any work (issue 13, item 9).

A path that cannot be written (its parent is a regular file, a read-only directory), a file
where a directory is expected or a directory where a file is expected: one line
``ternhw: error: ...`` naming the option and the path, exit status 2, nothing computed first.
"""

import os

import pytest

import ternhw.report.build  # noqa: F401 - binds quantize_model before the fixture patches it
from ternhw.cli import main
from ternhw.errors import TernhwError
from ternhw.fileio import atomic_write_text, check_writable_dir, check_writable_file

#: The function doing each command's expensive work; the early check must stop before it.
WORK = {
    "quantize": ("ternhw.quant.pipeline", "quantize_model"),
    "train-digits": ("ternhw.weights.digits", "train_digits"),
    "generate": ("ternhw.hdl.generate", "generate"),
    "report": ("ternhw.report.build", "build_report"),
    "sim": ("ternhw.cosim.runner", "prebuild"),
}


@pytest.fixture
def no_work(monkeypatch):
    """Make each command's expensive step fail loudly if it is ever reached."""
    import importlib

    for command, (module, name) in WORK.items():
        def refuse(*a, _c=command, **k):
            raise AssertionError(f"{_c} did its work before checking its output path")
        monkeypatch.setattr(importlib.import_module(module), name, refuse)


def _argv(command: str, *, output=None, json=None) -> list[str]:
    base = {"quantize": ["quantize", "digits"], "train-digits": ["train-digits"],
            "generate": ["generate", "--config", "small"],
            "report": ["report", "--config", "small", "--weights", "digits"],
            "sim": ["sim", "--config", "small", "--weights", "digits"]}[command]
    if output is not None:
        base += ["-o", str(output)]
    elif command in ("generate", "report"):
        raise ValueError("generate and report need -o")
    if json is not None:
        base += ["--json", str(json)]
    return base


def _one_line_error(capsys, argv, *words):
    capsys.readouterr()
    assert main(argv) == 2
    captured = capsys.readouterr()
    err = captured.err.strip()
    assert err.startswith("ternhw: error:") and "\n" not in err, err
    assert "Traceback" not in captured.err
    for w in words:
        assert w in err, err
    return err


@pytest.fixture
def a_file(tmp_path):
    f = tmp_path / "plain.txt"
    f.write_text("not a directory\n")
    return f


@pytest.mark.parametrize("command", ["quantize", "train-digits"])
def test_file_output_under_a_file(command, a_file, capsys, no_work):
    out = a_file / "sub" / "w.npz"
    _one_line_error(capsys, _argv(command, output=out), f"-o {out}",
                    f"{a_file} is a file, not a directory")


@pytest.mark.parametrize("command", ["quantize", "train-digits"])
def test_file_output_that_is_a_directory(command, tmp_path, capsys, no_work):
    out = tmp_path / "already.npz"
    out.mkdir()
    _one_line_error(capsys, _argv(command, output=out), f"-o {out}", "is a directory")


@pytest.mark.parametrize("command", ["generate", "report"])
def test_dir_output_under_a_file(command, a_file, capsys, no_work):
    out = a_file / "rtl"
    _one_line_error(capsys, _argv(command, output=out), f"-o {out}",
                    f"{a_file} is a file, not a directory")


@pytest.mark.parametrize("command", ["generate", "report"])
def test_dir_output_that_is_a_file(command, a_file, capsys, no_work):
    _one_line_error(capsys, _argv(command, output=a_file), f"-o {a_file}",
                    "is a file, not a directory")
    assert a_file.read_text() == "not a directory\n"


@pytest.mark.parametrize("command", sorted(WORK))
def test_json_output_checked_first(command, tmp_path, a_file, capsys, no_work):
    out = tmp_path / "out_dir" if command in ("generate", "report") else None
    _one_line_error(capsys, _argv(command, output=out, json=a_file / "r.json"),
                    f"--json {a_file / 'r.json'}", "is a file, not a directory")
    _one_line_error(capsys, _argv(command, output=out, json=tmp_path), f"--json {tmp_path}",
                    "is a directory; give a file name")
    assert out is None or not out.exists()


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0,
                    reason="root writes into read-only directories")
@pytest.mark.parametrize("command", sorted(WORK))
def test_read_only_directory(command, tmp_path, capsys, no_work):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    try:
        option, argv = _unwritable_argv(command, ro)
        _one_line_error(capsys, argv, option, f"cannot write in {ro}")
    finally:
        ro.chmod(0o755)


def test_helpers_accept_good_paths_and_leave_nothing(tmp_path):
    assert check_writable_file(tmp_path / "a" / "b" / "x.json", "--json")
    assert check_writable_dir(tmp_path / "new" / "dir", "-o")
    (tmp_path / "exists.json").write_text("{}")
    assert check_writable_file(tmp_path / "exists.json")   # replaced atomically later
    assert check_writable_dir(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["exists.json"]  # no probes, no dirs


def test_helpers_refuse_bad_paths(tmp_path, a_file):
    with pytest.raises(TernhwError, match=r"--json .*: is a directory; give a file name"):
        check_writable_file(tmp_path, "--json")
    with pytest.raises(TernhwError, match=r"-o .*plain.txt: is a file, not a directory"):
        check_writable_dir(a_file, "-o")
    with pytest.raises(TernhwError, match=r"plain.txt is a file, not a directory"):
        check_writable_file(a_file / "x" / "y.json")
    with pytest.raises(TernhwError, match=r"plain.txt is a file, not a directory"):
        check_writable_dir(a_file / "x")


def test_atomic_write_failure_is_a_ternhw_error(a_file):
    """A write that fails anyway (the checks raced, the disk filled) names the path."""
    with pytest.raises(TernhwError, match=r"cannot write .*plain.txt/x.json: .*plain.txt is a "
                                          r"file, not a directory"):
        atomic_write_text(a_file / "x.json", "{}")


def test_good_output_still_written(tmp_path, capsys):
    out = tmp_path / "deep" / "er" / "q.json"
    assert main(["quantize", "digits", "--layer", "fc3.weight", "--json", str(out)]) == 0
    assert out.is_file()


@pytest.mark.parametrize("command", sorted(WORK))
def test_unwritable_directory_even_as_root(command, tmp_path, capsys, no_work, monkeypatch):
    """The read-only case where chmod cannot make it (tests running as root): the write probe
    is refused as a read-only directory or mount would refuse it."""
    import tempfile

    def denied(*a, **k):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(tempfile, "mkstemp", denied)
    option, argv = _unwritable_argv(command, tmp_path)
    _one_line_error(capsys, argv, option, f"cannot write in {tmp_path} (permission denied)")


def _unwritable_argv(command: str, folder) -> tuple[str, list[str]]:
    """A command line whose main output lies in ``folder`` (sim's only output is --json)."""
    if command == "sim":
        return f"--json {folder / 'r.json'}", _argv(command, json=folder / "r.json")
    out = folder / ("out" if command in ("generate", "report") else "o.npz")
    return f"-o {out}", _argv(command, output=out)
