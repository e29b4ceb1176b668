"""boilercut: cut boilerplate (menus, link lists, teasers, footers) out of scraped web text, line by line.

    from boilercut import filter_page, filter_pages
    clean = filter_page(page_text)
    cleaned = filter_pages(many_page_texts)     # the same per page, several times faster
"""
from boilercut.batch_api import clean_texts, filter_pages
from boilercut.filter import classify_lines, filter_page, score_lines
from boilercut.hf_datasets import clean_dataset
from boilercut.lines import split_lines
from boilercut.persist import load_model

__all__ = ["filter_page", "filter_pages", "clean_texts", "classify_lines", "score_lines", "load_model",
           "split_lines", "clean_dataset"]
__version__ = "0.1.0"
