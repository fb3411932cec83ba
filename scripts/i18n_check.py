#!/usr/bin/env python3
"""Check gettext catalogues for untranslated and fuzzy entries.

Usage:
    python scripts/i18n_check.py [FILE.po ...]

Without arguments every ``*.po`` file under ``arende/locale`` is checked. Each problem is printed
as ``file:line: problem: "msgid"``. The exit status is 0 when every file is complete, 1 when an
entry is untranslated (an empty ``msgstr`` or any empty ``msgstr[n]``) or marked fuzzy, and 2 when
a file cannot be read or parsed. Obsolete entries (``#~``) are ignored, as msgfmt ignores them.

Standard library only, so it can run before the virtualenv exists.
"""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_LOCALE_DIR = ROOT / "arende" / "locale"

_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "a": "\a", "b": "\b", "f": "\f", "v": "\v"}
_ESCAPE_RE = re.compile(r"\\(?:([0-7]{1,3})|x([0-9a-fA-F]+)|(.))", re.DOTALL)
_KEYWORD_RE = re.compile(r"^(msgctxt|msgid_plural|msgid|msgstr(?:\[(\d+)\])?)\s+(\".*\")\s*$")


class PoParseError(ValueError):
    """The file is not a well-formed PO file."""


@dataclass
class Entry:
    """One message of a PO file. ``msgstr`` maps the plural index (0 for singular) to its text."""

    line: int
    msgid: str = ""
    msgctxt: str | None = None
    msgid_plural: str | None = None
    msgstr: dict[int, str] = field(default_factory=dict)
    flags: set[str] = field(default_factory=set)

    @property
    def is_header(self) -> bool:
        return self.msgid == "" and self.msgctxt is None

    @property
    def is_fuzzy(self) -> bool:
        return "fuzzy" in self.flags

    @property
    def is_translated(self) -> bool:
        if not self.msgstr:
            return False
        if self.msgid_plural is not None and 0 not in self.msgstr:
            return False
        return all(text != "" for text in self.msgstr.values())

    @property
    def key(self) -> tuple[str | None, str, str | None]:
        """What identifies the message in the source: context, singular and plural text."""
        return (self.msgctxt, self.msgid, self.msgid_plural)


def _unescape(body: str) -> str:
    def replace(match: re.Match[str]) -> str:
        octal, hexa, char = match.groups()
        if octal is not None:
            return chr(int(octal, 8))
        if hexa is not None:
            return chr(int(hexa, 16))
        return _ESCAPES.get(char, char)

    return _ESCAPE_RE.sub(replace, body)


def _string(token: str, path: Path, lineno: int) -> str:
    token = token.strip()
    if len(token) < 2 or not token.startswith('"') or not token.endswith('"'):
        raise PoParseError(f"{path}:{lineno}: expected a quoted string, got {token!r}")
    return _unescape(token[1:-1])


def parse_po(path: Path | str) -> list[Entry]:
    """Parse a PO file into its entries (the header included, obsolete entries left out)."""
    path = Path(path)
    entries: list[Entry] = []
    current: Entry | None = None
    pending_flags: set[str] = set()
    # Which string a continuation line ("...") belongs to: (attribute, plural index).
    target: tuple[str, int | None] | None = None

    def finish() -> None:
        nonlocal current, target
        if current is not None:
            entries.append(current)
        current = None
        target = None

    text = path.read_text(encoding="utf-8")
    for lineno, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            finish()
            continue
        if line.startswith("#~"):
            # Obsolete entry: not compiled, not checked.
            finish()
            pending_flags = set()
            continue
        if line.startswith("#"):
            # A comment after a msgstr starts the next entry (blank line missing).
            if current is not None and current.msgstr:
                finish()
            if line.startswith("#,"):
                pending_flags |= {flag.strip() for flag in line[2:].split(",") if flag.strip()}
            continue
        if line.startswith('"'):
            if current is None or target is None:
                raise PoParseError(f"{path}:{lineno}: continuation line outside an entry")
            value = _string(line, path, lineno)
            attribute, index = target
            if attribute == "msgstr":
                current.msgstr[index or 0] += value
            else:
                setattr(current, attribute, (getattr(current, attribute) or "") + value)
            continue
        match = _KEYWORD_RE.match(line)
        if match is None:
            raise PoParseError(f"{path}:{lineno}: cannot parse {raw!r}")
        keyword, index, token = match.groups()
        value = _string(token, path, lineno)
        # A msgctxt or msgid after a msgstr starts the next entry (blank line missing).
        if keyword in ("msgctxt", "msgid") and current is not None and current.msgstr:
            finish()
        if current is None:
            current = Entry(line=lineno, flags=pending_flags)
            pending_flags = set()
        if keyword == "msgctxt":
            current.msgctxt = value
            target = ("msgctxt", None)
        elif keyword == "msgid":
            current.msgid = value
            current.line = lineno
            target = ("msgid", None)
        elif keyword == "msgid_plural":
            current.msgid_plural = value
            target = ("msgid_plural", None)
        else:
            plural_index = int(index) if index is not None else 0
            current.msgstr[plural_index] = value
            target = ("msgstr", plural_index)
    finish()
    for entry in entries:
        if entry.msgid_plural is None and not entry.msgstr:
            raise PoParseError(f"{path}:{entry.line}: entry has no msgstr")
    return entries


def problems(entries: list[Entry]) -> list[tuple[Entry, str]]:
    """Every entry that is fuzzy or (apart from the header) untranslated, with the reason."""
    found = []
    for entry in entries:
        if entry.is_fuzzy:
            found.append((entry, "fuzzy"))
        elif not entry.is_header and not entry.is_translated:
            found.append((entry, "untranslated"))
    return found


def _describe(entry: Entry) -> str:
    text = "(header)" if entry.is_header else repr(entry.msgid)
    if entry.msgctxt is not None:
        text += f" [context {entry.msgctxt!r}]"
    return text


def check_file(path: Path, out=None) -> int:
    """Print the problems in one file (to stdout by default); return how many there are."""
    out = out if out is not None else sys.stdout
    found = problems(parse_po(path))
    for entry, reason in found:
        print(f"{path}:{entry.line}: {reason}: {_describe(entry)}", file=out)
    return len(found)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("files", nargs="*", type=Path, help="PO files (default: arende/locale)")
    args = parser.parse_args(argv)
    files = args.files or sorted(DEFAULT_LOCALE_DIR.glob("*/LC_MESSAGES/*.po"))
    if not files:
        print(f"No .po files found under {DEFAULT_LOCALE_DIR}", file=sys.stderr)
        return 2
    total = 0
    for path in files:
        try:
            total += check_file(path)
        except (OSError, UnicodeDecodeError, PoParseError) as error:
            print(f"{path}: {error}", file=sys.stderr)
            return 2
    if total:
        print(f"{total} untranslated or fuzzy entr{'y' if total == 1 else 'ies'}.", file=sys.stderr)
        return 1
    print(f"OK: {len(files)} file{'' if len(files) == 1 else 's'} fully translated.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
