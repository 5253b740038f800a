"""-e parsing, as a table."""

import pytest
from groundwork_runner.errors import InvalidExtravarsError
from groundwork_runner.extravars import parse


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (["a=1"], {"a": "1"}),
        (["a=1 b='two words'"], {"a": "1", "b": "two words"}),
        (['{"a": [1, 2]}'], {"a": [1, 2]}),
        (["a=1", "a=2"], {"a": "2"}),
        (["x=a=b"], {"x": "a=b"}),
    ],
)
def test_parse(values, expected):
    assert parse(values) == expected


def test_parse_file(tmp_path):
    path = tmp_path / "vars.yml"
    path.write_text("a: 1\nb: [x]\n")
    assert parse([f"@{path}"]) == {"a": 1, "b": ["x"]}


@pytest.mark.parametrize("bad", ["", "novalue", "1a=2", "[1, 2]", "{bad json", "a='open"])
def test_parse_rejects(bad):
    with pytest.raises(InvalidExtravarsError):
        parse([bad])
