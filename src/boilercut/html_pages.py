"""Authored HTML sites -> labeled pages, rendered by the extractors real corpora use.

A site is a folder data/html/<site>/ with a template and its pages:

    site.html   <!-- boilercut-site lang=de site_kind=shop url=https://www.holzwerk.example -->
                the whole page: header, menus, sidebars, footer, each boilerplate element
                marked data-label="nav|clickbait|footer" (or "null": never trained or
                scored), and slots {{title}}, {{main}}, {{related}}, ... where pages go
    <page>.html <!-- boilercut-page path=/desks/oak page_type=product -->
                then one section per slot, each opened by a line <!-- slot: NAME -->

Unmarked text is content. Each assembled page is rendered twice, as real corpora see
pages: by Resiliparse with every block kept (the "raw" view, a simple scraper) and by
trafilatura with FineWeb's settings (the "fineweb" view). Each output line gets the label
of the elements its words came from: the output's words are aligned in order to the
source's words, and a line takes the label that at least LABEL_SHARE of its aligned
words carry, or null when no label has that share (a line mixing chrome and content).

trafilatura and Resiliparse are build-time dependencies (pip install -e .[data]).
"""
from __future__ import annotations

import difflib
import re
from collections import Counter
from pathlib import Path

from boilercut.lines import CJK_RANGES, HANGUL_SYLLABLES, character_class

LABELS = ("content", "nav", "clickbait", "footer")
NULL_LABEL = "null"           # data-label="null": the element's lines are context only
LABEL_SHARE = 0.8             # a line's label must hold this share of its aligned words
SLOT = re.compile(r"\{\{(\w+)\}\}")
_SECTION = re.compile(r"^[ \t]*<!--\s*slot:\s*(\w+)\s*-->[ \t]*$", re.M)
_HEADER = re.compile(r"<!--\s*boilercut-(site|page)\s+(.*?)-->", re.S)
_FIELD = re.compile(r"(\w+)=(\"[^\"]*\"|\S+)")
# Words for alignment: each Kana or Han character alone (no spaces to split on), else runs
# of letters and digits; case and punctuation differ between the extractors' outputs.
# Hangul syllables, which lines.count_words counts one by one, stay in runs here (Korean
# puts spaces between its words): the authored pages were aligned that way.
_UNSPACED = character_class(tuple(r for r in CJK_RANGES if r != HANGUL_SYLLABLES))
_TOKEN = re.compile(f"[{_UNSPACED}]|[^\\W_{_UNSPACED}]+")
_SKIPPED_TAGS = {"script", "style", "noscript", "template", "head", "title"}

# FineWeb's trafilatura settings and the raw view's Resiliparse settings (issue 13).
TRAFILATURA_OPTIONS = dict(favor_precision=True, include_comments=False, include_tables=True,
                           deduplicate=False)
RESILIPARSE_OPTIONS = dict(main_content=False, preserve_formatting=True, list_bullets=True,
                           links=False, alt_texts=False, form_fields=False, noscript=False,
                           comments=True)


class HtmlPageError(ValueError):
    """An authored site or page that does not follow the format; the message names the file."""


def _fields(text: str, kind: str, where: Path) -> dict:
    match = _HEADER.search(text)
    if not match or match.group(1) != kind:
        raise HtmlPageError(f"{where}: no <!-- boilercut-{kind} ... --> header comment")
    return {k: v.strip('"') for k, v in _FIELD.findall(match.group(2))}


def assemble(template: str, page: str, where: Path) -> tuple[str, dict]:
    """The whole HTML of one page: the template with its slots filled from the page's
    sections (a slot the page leaves out is empty). Returns (html, page header fields)."""
    fields = _fields(page, "page", where)
    body = _HEADER.sub("", page, count=1)
    parts = _SECTION.split(body)
    if parts[0].strip():
        raise HtmlPageError(f"{where}: text before the first <!-- slot: NAME --> line")
    sections = dict(zip(parts[1::2], (p.strip() for p in parts[2::2])))
    unknown = set(sections) - set(SLOT.findall(template))
    if unknown:
        raise HtmlPageError(f"{where}: slot(s) {sorted(unknown)} not in the site template")
    html = SLOT.sub(lambda m: sections.get(m.group(1), ""), _HEADER.sub("", template, count=1))
    return html, fields


def labeled_words(html: str, where: Path) -> tuple[list[str], list[str]]:
    """Every word of the page's visible text in document order, with its element's label."""
    import lxml.html

    root = lxml.html.document_fromstring(html)
    words, labels = [], []

    def label_of(element, inherited: str) -> str:
        value = element.get("data-label")
        if value is None:
            return inherited
        if value not in LABELS and value != NULL_LABEL:
            raise HtmlPageError(f"{where}: data-label={value!r} on <{element.tag}>, "
                                f"not one of {', '.join(LABELS + (NULL_LABEL,))}")
        return value

    def walk(element, inherited: str) -> None:
        if not isinstance(element.tag, str) or element.tag in _SKIPPED_TAGS:
            return
        label = label_of(element, inherited)
        for token in _TOKEN.findall((element.text or "").lower()):
            words.append(token)
            labels.append(label)
        for child in element:
            walk(child, label)
            for token in _TOKEN.findall((child.tail or "").lower()):
                words.append(token)
                labels.append(label)

    walk(root, "content")
    return words, labels


MIN_BLOCK = 3  # aligned runs shorter than this are chance matches, unless they cover half the line


def label_lines(lines: list[str], words: list[str], word_labels: list[str]) -> list[str | None]:
    """The label of each output line from the source words its own words align with.

    The output's words are aligned in order with the source's (difflib). A run of fewer
    than MIN_BLOCK words counts only when it covers half of the line ("2. Sign up": the
    "2." is the extractor's list numbering, not the page's text): an extractor
    that moves a paragraph to the top leaves it facing the page's chrome, where "a",
    "and", "for" would match by chance. A line left without votes is looked up by its
    word 3-grams anywhere in the source."""
    line_tokens = [_TOKEN.findall(line.lower()) for line in lines]
    flat = [t for tokens in line_tokens for t in tokens]
    owner = [i for i, tokens in enumerate(line_tokens) for _ in tokens]
    votes = [Counter() for _ in lines]
    matcher = difflib.SequenceMatcher(None, words, flat, autojunk=False)
    for a, b, size in matcher.get_matching_blocks():
        for k in range(size):
            line = owner[b + k]
            if size >= MIN_BLOCK or 2 * size >= len(line_tokens[line]):
                votes[line][word_labels[a + k]] += 1
    trigrams: dict[tuple, list[str]] = {}
    for k in range(len(words) - 2):
        trigrams.setdefault(tuple(words[k:k + 3]), []).append(word_labels[k + 1])
    out: list[str | None] = []
    for i, count in enumerate(votes):
        tokens = line_tokens[i]
        if not tokens:
            # No words ("|---|---|" under a table head, a lone "»"): the line belongs to
            # the block before it.
            out.append(out[-1] if out else None)
            continue
        if not count:
            for k in range(len(tokens) - 2):
                count.update(trigrams.get(tuple(tokens[k:k + 3]), []))
        total = sum(count.values())
        label, top = count.most_common(1)[0] if total else (None, 0)
        out.append(label if total and top >= LABEL_SHARE * total and label != NULL_LABEL else None)
    return out


def raw_lines(html: str) -> list[str]:
    """Resiliparse's plain text of every block, one line per block, spaces collapsed and
    list bullets written "- " (as the raw views of ../shared hold them)."""
    from resiliparse.extract.html2text import extract_plain_text

    out = []
    for line in extract_plain_text(html, **RESILIPARSE_OPTIONS).split("\n"):
        line = " ".join(line.split())
        if line.startswith("• "):
            line = "- " + line[2:]
        if line:
            out.append(line)
    return out


def fineweb_lines(html: str) -> list[str]:
    """trafilatura's text with FineWeb's settings, one line per output line."""
    import trafilatura

    text = trafilatura.extract(html, **TRAFILATURA_OPTIONS) or ""
    return [line.strip() for line in text.split("\n") if line.strip()]


VIEWS = {"raw": (raw_lines, "raw"), "fineweb": (fineweb_lines, "extracted")}


def render_site(folder: Path) -> list[dict]:
    """Two records (raw and fineweb views) per page of one site folder, in page order.
    A view with no labeled line (trafilatura found no main text) is left out."""
    template_path = folder / "site.html"
    if not template_path.is_file():
        raise HtmlPageError(f"{folder}: no site.html template")
    template = template_path.read_text(encoding="utf-8")
    site = _fields(template, "site", template_path)
    for key in ("lang", "site_kind", "url"):
        if key not in site:
            raise HtmlPageError(f"{template_path}: site header has no {key}=...")
    records = []
    for path in sorted(p for p in folder.glob("*.html") if p.name != "site.html"):
        html, fields = assemble(template, path.read_text(encoding="utf-8"), path)
        words, word_labels = labeled_words(html, path)
        for view, (render, style) in VIEWS.items():
            lines = render(html)
            labels = label_lines(lines, words, word_labels)
            if not any(lab is not None for lab in labels):
                continue
            records.append({
                "id": f"html-{folder.name}-{path.stem}-{view}",
                "lines": lines, "labels": labels,
                "lang": site["lang"], "site_kind": site["site_kind"], "style": style,
                "view": view, "page_type": fields.get("page_type", site.get("page_type")),
                "site": folder.name,
                "url": site["url"].rstrip("/") + fields.get("path", "/" + path.stem),
                "source": f"html/{folder.name}/{path.name}",
            })
    return records

