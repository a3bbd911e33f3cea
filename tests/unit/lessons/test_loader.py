"""Loading the lessons (tutor.lessons.loader): a lesson text's front matter, and the system check
that stops `manage.py check` and `migrate` when a lesson file is broken."""

import pytest
from django.core import checks

from tutor.lessons import loader
from tutor.lessons.apps import lessons_load_check
from tutor.lessons.loader import LessonError


def test_the_front_matter_is_read_and_the_body_follows_it():
    text = "---\ntitle: Pods\nsummary: The smallest unit\n---\n\n# Intro\n\nA pod.\n"
    meta, body = loader._front_matter(text, "pods/en.md")
    assert meta == {"title": "Pods", "summary": "The smallest unit"}
    assert body == "\n# Intro\n\nA pod.\n"


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("# Intro\n\nno front matter\n", "pods/en.md: starts with no front matter"),
        ("---\ntitle: [unclosed\n---\nbody\n", "pods/en.md: the front matter is not valid YAML"),
        ("---\ntitle: Pods\n---\nbody\n", "pods/en.md: the front matter needs a title and a summary"),
    ],
)
def test_a_broken_front_matter_names_the_file_and_the_problem(text, says):
    with pytest.raises(LessonError, match=says):
        loader._front_matter(text, "pods/en.md")


def test_every_lesson_of_the_site_passes_the_check():
    assert lessons_load_check(None) == []


def test_a_broken_lesson_is_a_check_error_with_the_file_and_the_problem(monkeypatch):
    def broken():
        raise LessonError("pods/en.md: starts with no front matter (--- title: … ---)")

    monkeypatch.setattr(loader, "catalog", broken)
    [error] = lessons_load_check(None)
    assert error.level == checks.ERROR
    assert error.id == "lessons.E001"
    assert error.msg == "pods/en.md: starts with no front matter (--- title: … ---)"
