"""Shared fixtures: a tiny labeled corpus written by the tests, and small trained models."""
from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
CONF = REPO / "conf"
SHARED = REPO.parent / "shared"

MENU = ["Home", "News", "Sport", "Business", "Weather", "Contact", "About us", "Login"]
SENTENCES = [
    "The council met on Tuesday to discuss the new bus routes through the old town.",
    "Residents said the changes would make it easier to reach the hospital without a car.",
    "A spokesperson for the transit agency said the first buses would run in the spring.",
    "Critics argued that the plan ignored the villages north of the river entirely.",
    "The budget for the project was raised twice during the planning phase last year.",
    "Engineers tested three designs before choosing the quietest electric model available.",
    "Shop owners on the main street expect more customers once the routes are open.",
    "The mayor promised a public report on the results after the first six months.",
]
TEASERS = [
    "Ten gadgets that will change how you cook this winter",
    "Local team wins the regional final after a dramatic penalty shootout",
    "Why everyone is suddenly talking about sourdough again",
    "Famous singer reveals the secret behind her comeback",
    "The cheapest places to travel this summer, ranked",
]
FOOTER = ["© 2024 Example Media Group. All rights reserved.", "Privacy policy | Terms of use | Cookies",
          "We use cookies to improve your experience on our site."]


def make_page(i: int, rng: random.Random) -> dict:
    lines, labels = [], []

    def add(text, label):
        lines.append(text)
        labels.append(label)

    add(" | ".join(rng.sample(MENU, 5)), "nav")
    add(f"Home > News > Story {i}", "nav")
    add(f"Bus routes story number {i}", "content")
    for s in rng.sample(SENTENCES, 4):
        add(s, "content")
    add("Related", "clickbait")
    for t in rng.sample(TEASERS, 3):
        add(f"- {t}", "clickbait")
    add(rng.choice(FOOTER), "footer")
    add(f"Page {i} of 40", None)
    return {"id": f"tiny-{i:03d}", "lines": lines, "labels": labels, "lang": "en",
            "site_kind": "news" if i % 2 else "mirror"}


def tiny_records(n: int = 24, seed: int = 0) -> list[dict]:
    rng = random.Random(seed)
    return [make_page(i, rng) for i in range(n)]


def write_jsonl(path: Path, records: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


@pytest.fixture
def tiny_file(tmp_path) -> Path:
    return write_jsonl(tmp_path / "tiny.jsonl", tiny_records())


# A page shaped like the tiny corpus pages, with lines of its own.
TINY_PAGE = "\n".join([
    "Home | Sport | Weather | Business | News",
    "Home > News > Story 99",
    "The council met on Tuesday to discuss the new bus routes through the old town.",
    "Residents said the changes would make it easier to reach the hospital without a car.",
    "Related",
    "- Why everyone is suddenly talking about sourdough again",
    "© 2024 Example Media Group. All rights reserved.",
    "Page 7 of 40",
])


TINY_FEATURES = {"word_ngram_max": 1, "char_ngram_min": 2, "char_ngram_max": 3, "min_df": 1,
                 "max_word_features": 5000, "max_char_features": 5000, "context_window": 1,
                 "context_text_window": 1, "smooth": 2, "sublinear_tf": True}
TINY_CLASSIFIER = {"C": 4.0, "max_iter": 500, "class_weight": "balanced"}
TINY_CONTEXT_STAGE = {"folds": 2, "shift": 1, "radii": [2], "C": 1.0}


@pytest.fixture(scope="session")
def tiny_model():
    """A LineModel, with a context stage, fitted on the tiny corpus in a second or so."""
    from boilercut.model import LineModel
    from boilercut.training import fit_line_model

    pipeline, stage = fit_line_model(tiny_records(), TINY_FEATURES, TINY_CLASSIFIER,
                                     context_stage=TINY_CONTEXT_STAGE)
    return LineModel(pipeline=pipeline, keep_labels=("content",), threshold=0.5, context_stage=stage)


@pytest.fixture(scope="session")
def model_file(tiny_model, tmp_path_factory):
    """tiny_model saved as a .joblib model file (its path as a str), for the command-line tests."""
    from boilercut.persist import save_model

    return str(save_model(tiny_model, tmp_path_factory.mktemp("model") / "m.joblib"))


@pytest.fixture(scope="session")
def bundled_model_file(tmp_path_factory):
    """The model `boilercut train` builds from the bundled pages, trained once per session
    (minutes: for slow tests only) into a temporary folder; models/ is never touched."""
    from boilercut.train import train

    path = tmp_path_factory.mktemp("bundled") / "bundled.joblib"
    train(compose_train([f"output.model_path={path}", "output.report=false"]))
    return path


def compose_train(overrides: list[str]):
    """Compose conf/train.yaml the way `python -m train` does, without running Hydra's main."""
    from hydra import compose, initialize_config_dir

    import boilercut.configs  # noqa: F401  registers the ${boilercut:...} resolver

    with initialize_config_dir(version_base="1.3", config_dir=str(CONF)):
        return compose(config_name="train", overrides=overrides)


def tiny_train_overrides(data_file: Path, model_path: Path) -> list[str]:
    return [f"data.files=[{data_file}]", f"output.model_path={model_path}", "output.report=false",
            "features.min_df=1", "features.char_ngram_max=3", "features.max_word_features=5000",
            "features.max_char_features=5000", "model.max_iter=500"]
