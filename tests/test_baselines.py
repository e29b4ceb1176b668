from boilercut.baselines import c4_rule, justext_available, justext_rule, keep_all, refinedweb_rule

import pytest


def test_keep_all():
    assert keep_all(["a", "b"]) == [True, True]


def test_c4_rule():
    lines = ["This is a full sentence.", "Too short.", "No terminal punctuation here", "He said \"yes, fine.\""]
    assert c4_rule(lines) == [True, False, False, True]


def test_refinedweb_rule():
    lines = [
        "A normal sentence about the river.",
        "HOME NEWS SPORT WEATHER",   # mostly uppercase
        "12 345 678",                 # only numbers
        "1.2K shares",                # social counter
        "Home > News > Local",        # breadcrumb separators
        "Subscribe",                  # one word
    ]
    assert refinedweb_rule(lines) == [True, False, False, False, False, False]


@pytest.mark.skipif(not justext_available(), reason="jusText not installed")
def test_justext_keeps_prose_and_drops_menus():
    lines = ["Home", "Contact",
             "The committee reviewed the proposal in detail and decided that the new bridge "
             "would be built over the next three years, with work starting in the spring when "
             "the river is at its lowest and the weather allows the crews to work safely."]
    assert justext_rule(lines, "en") == [False, False, True]
