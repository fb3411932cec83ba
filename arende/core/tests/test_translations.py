"""The Swedish catalogue is complete, in step with the source and compiled.

The catalogue is arende/locale/sv/LC_MESSAGES/django.po. After adding or changing a string:

    python manage.py makemessages -l sv --ignore=.venv --ignore=var --ignore=tests --no-obsolete
    (translate the new entries, remove any fuzzy flag)
    python manage.py compilemessages --ignore=.venv

The compiled .mo is not committed; `make` compiles it during set-up.
"""

from __future__ import annotations

import gettext as stdlib_gettext
import importlib.util
import shutil
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from django.utils import translation

PROJECT_ROOT = Path(django_settings.BASE_DIR)
LOCALE_DIR = PROJECT_ROOT / "arende" / "locale"
PO_FILE = LOCALE_DIR / "sv" / "LC_MESSAGES" / "django.po"
MO_FILE = PO_FILE.with_suffix(".mo")
CHECK_SCRIPT = PROJECT_ROOT / "scripts" / "i18n_check.py"

# The same --ignore patterns as the documented makemessages command.
MAKEMESSAGES_IGNORE = [".venv", "var", "tests"]
# What makemessages reads for the "django" domain.
SOURCE_SUFFIXES = {".py", ".html", ".txt"}
# Never copied: besides the ignore patterns, the catalogues themselves (makemessages adopts any
# directory called "locale" it walks through and would write there) and tool directories.
NOT_COPIED = {*MAKEMESSAGES_IGNORE, "locale", "node_modules", "__pycache__"}


def _load_check_script():
    spec = importlib.util.spec_from_file_location("i18n_check", CHECK_SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


i18n_check = _load_check_script()


def _describe(keys) -> str:
    lines = []
    for context, msgid, plural in sorted(
        keys, key=lambda key: (key[1], key[0] or "", key[2] or "")
    ):
        text = repr(msgid)
        if plural is not None:
            text += f" / plural {plural!r}"
        if context is not None:
            text += f" [context {context!r}]"
        lines.append(f"  {text}")
    return "\n".join(lines)


def _copy_sources(destination: Path) -> None:
    """Copy the translatable files of the project, without any locale directory, to destination."""

    def ignore(directory, names):
        skipped = set()
        for name in names:
            path = Path(directory) / name
            if path.is_dir():
                if name in NOT_COPIED or name.startswith("."):
                    skipped.add(name)
            elif path.suffix not in SOURCE_SUFFIXES:
                skipped.add(name)
        return skipped

    shutil.copytree(PROJECT_ROOT, destination, ignore=ignore, symlinks=True)


@pytest.fixture(scope="module")
def committed_entries():
    assert PO_FILE.exists(), f"{PO_FILE} is missing; run makemessages -l sv (see module docstring)"
    return i18n_check.parse_po(PO_FILE)


def test_every_source_string_is_in_the_swedish_catalogue(
    tmp_path, settings, monkeypatch, committed_entries
):
    # makemessages writes into the catalogue it extracts for, so it runs on a copy of the sources
    # with LOCALE_PATHS pointing at a scratch directory; the committed .po is never touched.
    sources = tmp_path / "src"
    scratch_locale = tmp_path / "locale"
    _copy_sources(sources)
    settings.LOCALE_PATHS = [str(scratch_locale)]
    monkeypatch.chdir(sources)

    call_command(
        "makemessages",
        locale=["sv"],
        ignore_patterns=list(MAKEMESSAGES_IGNORE),
        no_obsolete=True,
        verbosity=0,
        stdout=StringIO(),
        stderr=StringIO(),
    )

    generated_po = scratch_locale / "sv" / "LC_MESSAGES" / "django.po"
    assert generated_po.exists(), "makemessages produced no catalogue"
    in_source = {entry.key for entry in i18n_check.parse_po(generated_po) if not entry.is_header}
    in_catalogue = {entry.key for entry in committed_entries if not entry.is_header}
    assert len(in_source) > 100, "makemessages found suspiciously few strings"

    missing = in_source - in_catalogue
    assert not missing, (
        f"{len(missing)} source string(s) are missing from {PO_FILE.relative_to(PROJECT_ROOT)}; "
        "run makemessages and translate them:\n" + _describe(missing)
    )


def test_swedish_catalogue_has_no_untranslated_or_fuzzy_entries(capsys):
    status = i18n_check.main([str(PO_FILE)])
    output = capsys.readouterr()
    assert status == 0, output.out + output.err


def test_swedish_catalogue_header(committed_entries):
    header = next(entry for entry in committed_entries if entry.is_header)
    fields = dict(line.split(": ", 1) for line in header.msgstr[0].splitlines() if ": " in line)
    assert fields["Language"] == "sv"
    assert fields["Content-Type"] == "text/plain; charset=UTF-8"
    assert fields["Plural-Forms"] == "nplurals=2; plural=(n != 1);"
    plurals = [entry for entry in committed_entries if entry.msgid_plural is not None]
    assert all(sorted(entry.msgstr) == [0, 1] for entry in plurals)


def test_compiled_catalogue_matches_the_po_file(committed_entries):
    assert MO_FILE.exists(), (
        f"{MO_FILE.relative_to(PROJECT_ROOT)} is missing; "
        "run: python manage.py compilemessages --ignore=.venv"
    )
    with MO_FILE.open("rb") as handle:
        compiled = stdlib_gettext.GNUTranslations(handle)._catalog

    stale = []
    for entry in committed_entries:
        if entry.is_header or entry.is_fuzzy or not entry.is_translated:
            continue  # msgfmt leaves these out; the untranslated/fuzzy test reports them
        msgid = entry.msgid if entry.msgctxt is None else f"{entry.msgctxt}\x04{entry.msgid}"
        if entry.msgid_plural is None:
            expected = {msgid: entry.msgstr[0]}
        else:
            expected = {(msgid, index): text for index, text in entry.msgstr.items()}
        if any(compiled.get(key) != text for key, text in expected.items()):
            stale.append(entry.key)
    assert not stale, (
        f"{MO_FILE.relative_to(PROJECT_ROOT)} is out of date; "
        "run: python manage.py compilemessages --ignore=.venv\n" + _describe(stale)
    )


@pytest.mark.parametrize(
    "english, swedish",
    [
        ("Log in", "Logga in"),
        ("Log out", "Logga ut"),
        ("Skip to main content", "Hoppa till huvudinnehållet"),
        ("Audit log", "Granskningslogg"),
        ("Requester", "Beställare"),
        ("IT manager", "IT-chef"),
    ],
)
def test_known_strings_are_swedish(english, swedish):
    with translation.override("sv"):
        assert translation.gettext(english) == swedish
    with translation.override("en"):
        assert translation.gettext(english) == english


def test_plural_and_placeholders_are_swedish():
    with translation.override("sv"):
        one = translation.ngettext("%(counter)s person", "%(counter)s people", 1)
        many = translation.ngettext("%(counter)s person", "%(counter)s people", 3)
        page = translation.gettext("Page %(number)s of %(total)s")
    assert one % {"counter": 1} == "1 person"
    assert many % {"counter": 3} == "3 personer"
    assert page % {"number": 2, "total": 5} == "Sida 2 av 5"


@pytest.mark.django_db
def test_built_in_role_names_are_shown_in_the_readers_language():
    """Role rows store the English name of their definition; pages show it translated (the
    start page said "IT manager" in Swedish). A role an administrator named stays as named."""
    from arende.core.models import Role

    manager = Role.objects.get(code="manager")
    assert manager.name == "IT manager"
    own = Role(code="own", name="Systemförvaltare")
    with translation.override("sv"):
        assert str(manager) == "IT-chef"
        assert str(own) == "Systemförvaltare"
        assert str(Role(code="blank", name="")) == ""
    with translation.override("en"):
        assert str(manager) == "IT manager"
