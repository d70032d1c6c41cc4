"""scripts/check_rooms.py: no function over radon complexity 20, no module over 500 lines.

Each case writes a small package into a temporary folder, so the checks do not depend on the
state of asdsim itself. The complexities are counted by hand: a function starts at 1 and each
``if`` adds 1, each ``and``/``or`` adds 1 more.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "check_rooms.py"


def _load_script():
    spec = importlib.util.spec_from_file_location("check_rooms", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


check_rooms = _load_script()


def _function(name: str, complexity: int, indent: str = "") -> str:
    """A function of exactly ``complexity``: 1 plus one ``if`` for each further point."""
    body = "".join(f"{indent}    if x == {i}:\n{indent}        return {i}\n"
                   for i in range(complexity - 1))
    return f"{indent}def {name}(x):\n{body}{indent}    return -1\n"


def _run(capsys, *paths: Path) -> tuple[int, list[str]]:
    status = check_rooms.main([str(path) for path in paths])
    return status, capsys.readouterr().out.splitlines()


def test_function_over_complexity_20_fails_and_is_named(tmp_path, capsys):
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "busy.py").write_text("X = 1\n\n\n" + _function("too_busy", 21))
    status, out = _run(capsys, package)
    assert status == 1
    assert out[0] == f"{package / 'busy.py'}:4 too_busy complexity 21"
    assert len(out) == 2 and out[1].startswith("1 rooms over their limits")


def test_function_of_complexity_20_passes(tmp_path, capsys):
    (tmp_path / "fits.py").write_text(_function("just_fits", 20))
    status, out = _run(capsys, tmp_path)
    assert status == 0
    assert out == ["every room fits: 1 modules, no function over complexity 20, "
                   "no module over 500 lines"]


def test_boolean_operators_count_as_radon_counts_them(tmp_path, capsys):
    # ten ifs, each with one `and`: 1 + 10 + 10 = 21 for radon; mccabe (ruff C901) says 11
    body = "".join(f"    if x == {i} and y:\n        return {i}\n" for i in range(10))
    (tmp_path / "ands.py").write_text(f"def joined(x, y):\n{body}    return -1\n")
    status, out = _run(capsys, tmp_path)
    assert status == 1
    assert out[0] == f"{tmp_path / 'ands.py'}:1 joined complexity 21"


def test_methods_and_nested_functions_are_checked(tmp_path, capsys):
    source = ("class Holder:\n" + _function("method", 21, indent="    ")
              + "\n\ndef outer():\n" + _function("inner", 22, indent="    ") + "    return inner\n")
    (tmp_path / "inside.py").write_text(source)
    status, out = _run(capsys, tmp_path)
    assert status == 1
    names = [line.split(" ", 2)[1:] for line in out[:-1]]
    assert names == [["Holder.method", "complexity 21"], ["outer.inner", "complexity 22"]]


def test_module_over_500_lines_fails_and_500_passes(tmp_path, capsys):
    long, fits = tmp_path / "long", tmp_path / "fits"
    long.mkdir()
    fits.mkdir()
    (long / "big.py").write_text("X = 1\n" * 501)
    (fits / "big.py").write_text("X = 1\n" * 500)
    status, out = _run(capsys, long)
    assert status == 1
    assert out[0] == f"{long / 'big.py'}:1 module 501 lines"
    status, out = _run(capsys, fits)
    assert status == 0


def test_every_room_over_its_limit_is_listed_across_files(tmp_path, capsys):
    (tmp_path / "a.py").write_text(_function("first", 25) + "\n" + _function("fine", 5))
    sub = tmp_path / "sub"
    sub.mkdir()
    # 60 lines of function (def, 29 ifs of two lines, return) and 480 of comments
    (sub / "b.py").write_text(_function("second", 30) + "#\n" * 480)
    status, out = _run(capsys, tmp_path)
    assert status == 1
    assert out[:-1] == [f"{tmp_path / 'a.py'}:1 first complexity 25",
                        f"{sub / 'b.py'}:1 second complexity 30",
                        f"{sub / 'b.py'}:1 module 540 lines"]
    assert out[-1].startswith("3 rooms over their limits")


def test_unparsable_module_fails(tmp_path, capsys):
    (tmp_path / "broken.py").write_text("def f(:\n")
    status, out = _run(capsys, tmp_path)
    assert status == 1
    assert out[0].startswith(f"{tmp_path / 'broken.py'}:1 cannot be parsed")


def test_missing_path_is_a_usage_error(tmp_path, capsys):
    with pytest.raises(SystemExit) as raised:
        check_rooms.main([str(tmp_path / "absent")])
    assert raised.value.code == 2
    assert "no such file or folder" in capsys.readouterr().err
