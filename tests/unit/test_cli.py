"""The operators' mistakes get one clear line and a non-zero exit, never a traceback."""

import pytest

from tools.cli import main


@pytest.mark.parametrize("argv, says", [
    (["catalog", "import", "/nowhere/export.xml"], "No such file"),
    (["catalog", "import", __file__], "not a France Compétences export"),
])
def test_an_operators_mistake_is_one_line_and_exit_status_2(argv, says, capsys, monkeypatch):
    monkeypatch.setenv("CQP_TOKEN", "a-token")
    assert main(argv) == 2
    error = capsys.readouterr().err
    assert says in error and error.count("\n") == 1 and "Traceback" not in error
