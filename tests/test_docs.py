"""The README is a manual a newcomer can follow: short, its shorthands defined, and every link of
it and of docs/ leads somewhere inside the repository (a user's clone has nothing beside it)."""

from __future__ import annotations

import re

import pytest

from tests.conftest import PROJECT_ROOT

README = PROJECT_ROOT / "README.md"
PAGES = [README, *sorted((PROJECT_ROOT / "docs").glob("*.md"))]


def anchors(text: str) -> set[str]:
    """GitHub's anchors of a page's headings."""
    found = set()
    for heading in re.findall(r"^#+ (.*)$", text, re.M):
        found.add(re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-"))
    return found


def test_the_readme_is_short_and_defines_its_shorthands():
    text = README.read_text(encoding="utf-8")
    assert len(text.splitlines()) <= 250
    for shorthand in ("DLwP", "HG", "WD"):
        assert re.search(rf"\*\*{shorthand}\*\* \|", text), f"{shorthand} is not defined in the README"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_link_resolves_inside_the_repository(page):
    text = page.read_text(encoding="utf-8")
    assert "../shared" not in text
    for link in re.findall(r"\]\(([^)\s]+)\)", text):
        if link.startswith(("http://", "https://")):
            continue
        path, _, anchor = link.partition("#")
        target = (page.parent / path).resolve() if path else page
        assert target.is_relative_to(PROJECT_ROOT) and target.exists(), f"{page.name}: {link}"
        if anchor:
            assert anchor in anchors(target.read_text(encoding="utf-8")), f"{page.name}: {link}"


def test_make_test_takes_as_long_in_the_readme_as_in_the_makefile():
    said = re.search(r"make test .*?\(([^)]*min[^)]*)\)", README.read_text(encoding="utf-8"))
    assert said and re.search(r"about (\d+) min", said.group(1))
    minutes = re.search(r"about (\d+) min", said.group(1)).group(1)
    assert f"about {minutes} min" in (PROJECT_ROOT / "Makefile").read_text()
