"""Authored HTML sites rendered by the real extractors, and the labels of their lines."""
import pytest

from boilercut.html_pages import HtmlPageError, assemble, label_lines, labeled_words, render_site

pytest.importorskip("trafilatura")
pytest.importorskip("resiliparse")

TEMPLATE = """<!-- boilercut-site lang=en site_kind=shop url=https://oakline.example -->
<!doctype html><html lang="en"><head><title>{{title}} | Oakline</title></head><body>
<div data-label="footer">We use cookies to keep your cart between visits.</div>
<header data-label="nav"><a href="/">Oakline</a><nav><ul><li><a href="/desks">Desks</a></li>
<li><a href="/chairs">Chairs</a></li></ul></nav></header>
<main>{{main}}</main>
<aside data-label="clickbait"><h3>You may also like</h3><ul>{{related}}</ul></aside>
<footer data-label="footer"><p>Copyright 2025 Oakline Furniture. All rights reserved.</p></footer>
</body></html>"""

PAGE = """<!-- boilercut-page path=/desks/oak page_type=product -->
<!-- slot: title -->
Oak writing desk
<!-- slot: main -->
<article><h1>Oak writing desk with two drawers</h1>
<p>This solid oak desk was built in a small workshop near the river and oiled for three weeks.</p>
<ul><li>Width: 120 cm</li><li>Depth: 60 cm</li></ul>
<p>Each desk ships flat in two boxes, and assembly takes about twenty minutes with the key.</p>
<p data-label="nav">Share: Facebook | Pinterest</p>
<p>Made to order: <span data-label="clickbait">see our whole summer sale on chairs, stools, benches and more</span></p>
</article>
<!-- slot: related -->
<li><a href="/x">Walnut bookshelf</a></li><li><a href="/y">Pine stool with a woven seat</a></li>
"""


@pytest.fixture
def site(tmp_path):
    folder = tmp_path / "oakline"
    folder.mkdir()
    (folder / "site.html").write_text(TEMPLATE, encoding="utf-8")
    (folder / "oak.html").write_text(PAGE, encoding="utf-8")
    return folder


def by_line(record):
    return dict(zip(record["lines"], record["labels"]))


def test_raw_view_keeps_every_block_with_its_elements_label(site):
    raw = next(r for r in render_site(site) if r["view"] == "raw")
    labels = by_line(raw)
    assert labels["We use cookies to keep your cart between visits."] == "footer"
    assert labels["- Desks"] == "nav"
    assert labels["Oak writing desk with two drawers"] == "content"
    assert labels["- Width: 120 cm"] == "content"
    assert labels["Share: Facebook | Pinterest"] == "nav"
    assert labels["You may also like"] == "clickbait"
    assert labels["- Pine stool with a woven seat"] == "clickbait"
    assert labels["Copyright 2025 Oakline Furniture. All rights reserved."] == "footer"
    assert raw["style"] == "raw" and raw["site"] == "oakline" and raw["page_type"] == "product"
    assert raw["url"] == "https://oakline.example/desks/oak"


def test_fineweb_view_is_trafilaturas_main_text_labeled_the_same_way(site):
    fineweb = next(r for r in render_site(site) if r["view"] == "fineweb")
    labels = by_line(fineweb)
    assert "- Desks" not in labels  # trafilatura leaves the menu out
    assert labels["Oak writing desk with two drawers"] == "content"
    assert labels["Share: Facebook | Pinterest"] == "nav"
    assert fineweb["style"] == "extracted" and fineweb["id"] == "html-oakline-oak-fineweb"


def test_a_line_mixing_labels_without_an_80_percent_majority_is_null(site):
    raw = next(r for r in render_site(site) if r["view"] == "raw")
    mixed = next(line for line in raw["lines"] if line.startswith("Made to order"))
    # 3 content words against 11 clickbait words: 79% clickbait, under the 80% bar.
    assert by_line(raw)[mixed] is None


def test_majority_label_and_wordless_lines():
    words = ["a", "b", "c", "d", "e", "x", "y"]
    labels = ["content"] * 5 + ["nav"] * 2
    assert label_lines(["A b c d e", "|---|", "x y"], words, labels) == ["content", "content", "nav"]
    assert label_lines(["a b c d e x"], words, labels) == ["content"]  # 5 of 6 words: 83%
    assert label_lines(["d e x y"], words, labels) == [None]  # 50% each


def test_bad_label_and_unknown_slot_name_the_file(tmp_path):
    where = tmp_path / "p.html"
    with pytest.raises(HtmlPageError, match=r"p.html: data-label='menu' on <div>"):
        labeled_words('<html><body><div data-label="menu">x</div></body></html>', where)
    with pytest.raises(HtmlPageError, match=r"p.html: slot\(s\) \['sidebar'\] not in the site template"):
        assemble(TEMPLATE, "<!-- boilercut-page path=/a -->\n<!-- slot: sidebar -->\nx\n", where)
    with pytest.raises(HtmlPageError, match="no <!-- boilercut-page"):
        assemble(TEMPLATE, "<!-- slot: main -->\nx\n", where)


def test_a_line_the_extractor_moved_is_labeled_by_its_own_words_not_chance_matches():
    # The source: footer chrome, then two content paragraphs; the extractor output puts
    # the second paragraph first, facing the chrome, which shares one word with it.
    words = ["iota", "cookies", "alpha", "beta", "gamma", "delta", "zeta", "eta", "theta", "iota"]
    labels = ["footer", "footer"] + ["content"] * 8
    assert label_lines(["Zeta eta theta iota", "Alpha beta gamma delta"], words, labels) == ["content", "content"]
    # A short line matched by a short run still counts: "2." is the extractor's numbering.
    assert label_lines(["2. Sign up"], ["sign", "up"], ["nav", "nav"]) == ["nav"]
