"""JSON Lines encoding of cleaned records: orjson, with json for what orjson refuses."""
import datetime
import json
import math

from boilercut.jsonl_codec import json_line, jsonl_bytes


def test_plain_records_read_back_the_same():
    rows = [{"id": "a-1", "text": "Zürich: 10 °C\n两行", "lines_kept": 3, "words_removed_share": 0.25,
             "meta": {"url": "https://example.org/x", "tags": ["a", None, True]}},
            {"text": "", "n": -1, "big": 2 ** 63 - 1, "small": 1e-05}]
    data = jsonl_bytes(rows)
    assert data.endswith(b"\n") and data.count(b"\n") == 2
    assert [json.loads(line) for line in data.splitlines()] == rows
    assert b'": ' not in data and b'", ' not in data  # compact separators


def test_what_orjson_refuses_is_written_by_json_in_the_same_form():
    for row in ({"text": "bad \udce9 byte", "n": 1},     # lone surrogate: an undecodable input byte
                {"id": 2 ** 70, "text": "x"},            # beyond 64 bits
                {1: "int key"}):
        line = json_line(row)
        assert line.endswith(b"\n") and line.count(b"\n") == 1
        line.decode("utf-8")  # valid UTF-8 whatever the input held
        back = json.loads(line)
        assert back == {str(k): v for k, v in row.items()}
        assert b'": ' not in line
    assert b"\\udce9" in json_line({"text": "bad \udce9 byte"})


def test_values_json_has_no_type_for():
    line = json_line({"when": datetime.datetime(2024, 5, 1, 12, 0), "nan": math.nan, "set": {1}})
    assert json.loads(line) == {"when": "2024-05-01T12:00:00", "nan": None, "set": "{1}"}
