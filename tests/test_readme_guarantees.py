"""The README's Guarantees table names the tests that back each guarantee: every test it
names must exist, so a renamed or deleted test cannot leave a promise without its proof."""
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def guarantee_rows() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("\n## Guarantees\n", 1)[1].split("\n## ", 1)[0]
    return [line for line in section.splitlines() if line.startswith("| ") and not line.startswith("| guarantee")]


def named_tests(row: str) -> list[tuple[str, str | None]]:
    """(file, test name or None) for each `file.py::name`, `::name` (same file as the
    previous one) or bare `file.py` in the row's last cell."""
    cell = row.rstrip(" |").rsplit("|", 1)[1]
    out, current = [], None
    for ref in re.findall(r"`([^`]+)`", cell):
        file, _, name = ref.partition("::")
        if file:
            current = file
        out.append((current, name or None))
    return out


def test_the_guarantees_table_has_rows():
    assert len(guarantee_rows()) >= 10


def test_every_test_the_guarantees_table_names_exists():
    missing = []
    for row in guarantee_rows():
        refs = named_tests(row)
        assert refs, f"a guarantee without a test: {row[:80]}"
        for file, name in refs:
            path = ROOT / "tests" / file
            if not path.is_file():
                missing.append(file)
            elif name and not re.search(rf"^def {re.escape(name)}\(", path.read_text(encoding="utf-8"), re.M):
                missing.append(f"{file}::{name}")
    assert not missing, f"README Guarantees names tests that do not exist: {missing}"
