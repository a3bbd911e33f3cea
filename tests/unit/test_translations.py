"""The Korean of the interface: every string translated, placeholders kept, the compiled catalogue
current (`manage.py compilemessages` after editing the .po; its .mo is committed so that a fresh
clone needs no gettext tools to run)."""

import re
from pathlib import Path

import polib
import pytest

LOCALE = Path(__file__).resolve().parents[2] / "locale" / "ko" / "LC_MESSAGES"
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")


@pytest.fixture(scope="module")
def catalogue():
    return polib.pofile(str(LOCALE / "django.po"))


def test_every_interface_string_has_a_korean_translation(catalogue):
    untranslated = [e.msgid for e in catalogue if not e.translated()]
    fuzzy = [e.msgid for e in catalogue if "fuzzy" in e.flags]
    assert untranslated == []
    assert fuzzy == []
    assert len(catalogue) > 200


def test_translations_keep_every_placeholder(catalogue):
    for entry in catalogue:
        wanted = set(PLACEHOLDER.findall(entry.msgid_plural or entry.msgid))
        for text in [entry.msgstr] if not entry.msgid_plural else entry.msgstr_plural.values():
            assert set(PLACEHOLDER.findall(text)) == wanted, (entry.msgid, text)


def test_the_compiled_catalogue_matches_its_source(catalogue):
    compiled = {(e.msgid, e.msgid_plural): e for e in polib.mofile(str(LOCALE / "django.mo"))}
    for entry in catalogue:
        built = compiled.get((entry.msgid, entry.msgid_plural))
        assert built is not None, f"not compiled: {entry.msgid!r}; run manage.py compilemessages"
        assert (built.msgstr, built.msgstr_plural) == (entry.msgstr, entry.msgstr_plural), entry.msgid
