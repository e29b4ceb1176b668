"""The Guarantees table (docs/guarantees.md, linked from the README) names the tests that
back each guarantee: every test it names must exist, so a renamed or deleted test cannot
leave a promise without its proof. The README links only files that exist, and shows the
test command CI runs."""
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def guarantee_rows() -> list[str]:
    section = (ROOT / "docs" / "guarantees.md").read_text(encoding="utf-8")
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
    assert not missing, f"docs/guarantees.md names tests that do not exist: {missing}"


def test_the_readme_links_only_files_that_exist():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    targets = {t.split("#")[0] for t in re.findall(r"\]\(([^)#][^)]*)\)", text) if not t.startswith("http")}
    assert {"docs/guarantees.md", "docs/corpus.md", "docs/training.md"} <= targets
    assert not [t for t in targets if not (ROOT / t).exists()]


def test_the_readme_shows_the_test_command_ci_runs():
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    command = ci[ci.index("# --- the README's test command, verbatim ---") + 1]
    assert f"\n{command}\n" in (ROOT / "README.md").read_text(encoding="utf-8")
