"""`tern config check`: the file as a positional argument (what `tern config
example` tells the reader to run) and as --config FILE, and a clear error for
a file that is not there."""
import re
import subprocess

from conftest import TERN_BIN, render_config


def tern(*args, cwd):
    return subprocess.run([TERN_BIN, *args], capture_output=True, text=True, timeout=30,
                          cwd=str(cwd))


def write_config(path, limits=None):
    tables = {"server": {"domains": ["example.org"]}}
    if limits:
        tables["limits"] = limits
    path.write_text(render_config(tables))


def test_config_check_takes_the_file_as_a_positional_argument(tmp_path):
    good = tmp_path / "good.toml"
    write_config(good)
    res = tern("config", "check", str(good), cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert res.stdout == "configuration OK\n"

    # The positional file is really read: a bad value in it is reported with
    # its file and line.
    bad = tmp_path / "bad.toml"
    write_config(bad, {"max_xml_depth": 1})
    res = tern("config", "check", str(bad), cwd=tmp_path)
    assert res.returncode == 1
    assert re.search(r"^%s:\d+: limits\.max_xml_depth" % re.escape(str(bad)), res.stderr,
                     re.M), res.stderr


def test_config_check_takes_the_file_with_dash_dash_config(tmp_path):
    good = tmp_path / "good.toml"
    write_config(good)
    res = tern("config", "check", "--config", str(good), cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert res.stdout == "configuration OK\n"

    bad = tmp_path / "bad.toml"
    write_config(bad, {"max_xml_depth": 1})
    res = tern("config", "check", "--config", str(bad), cwd=tmp_path)
    assert res.returncode == 1
    assert str(bad) in res.stderr and "limits.max_xml_depth" in res.stderr, res.stderr


def test_config_check_of_a_missing_file_says_it_is_missing(tmp_path):
    missing = tmp_path / "nope.toml"
    for args in (["config", "check", str(missing)],
                 ["config", "check", "--config", str(missing)]):
        res = tern(*args, cwd=tmp_path)
        assert res.returncode == 1, (args, res.stdout)
        assert res.stdout == ""
        assert res.stderr.strip() == "%s: cannot open %s: No such file or directory" % (
            missing, missing), res.stderr


def test_config_check_as_the_example_file_suggests(tmp_path):
    example = tern("config", "example", cwd=tmp_path)
    assert example.returncode == 0
    (tmp_path / "tern.toml").write_text(example.stdout)
    # Run the very command the example's header names.
    suggested = re.search(r"`tern (config check [^`]*)`", example.stdout)
    assert suggested, example.stdout[:400]
    res = tern(*suggested.group(1).split(), cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert res.stdout == "configuration OK\n"
