"""Trim the quoted history from a reply, so that the ticket's timeline shows what is new.

Recognised: Outlook's header block ("From:/Från:" followed by "Sent:/Skickat:", "To:/Till:" or
"Subject:/Ämne:"), "-----Original Message-----" / "Ursprungligt meddelande", Gmail's
"On … wrote:" and "Den … skrev …:" (also over two lines), Apple Mail's "… skrev …:", lines
quoted with ">", and a signature after "-- ". Only replies are trimmed: a new ticket keeps the
whole mail, forwarded history included.
"""

from __future__ import annotations

import re

HEADER_START = re.compile(r"^\s*\*?(From|Från|Von|Fra|Lähettäjä)\s*:\*?\s*\S", re.IGNORECASE)
HEADER_FOLLOW = re.compile(
    r"^\s*\*?(Sent|Skickat|Gesendet|Date|Datum|To|Till|Subject|Ämne|Cc|Kopia)\s*:\*?",
    re.IGNORECASE,
)
SEPARATOR = re.compile(
    r"^\s*-{2,}\s*(Original Message|Ursprungligt meddelande|Originalmeddelande|"
    r"Forwarded message|Vidarebefordrat meddelande)\s*-{2,}\s*$",
    re.IGNORECASE,
)
WROTE = re.compile(r"^\s*(On\s.+\swrote|Den\s.+\sskrev\b.*|.+\sskrev\s.+)\s*:\s*$", re.IGNORECASE)
WROTE_START = re.compile(r"^\s*(On|Den)\s", re.IGNORECASE)
OUTLOOK_RULE = re.compile(r"^\s*_{10,}\s*$")


def _history_starts_at(lines: list[str]) -> int | None:
    for index, line in enumerate(lines):
        if SEPARATOR.match(line):
            return index
        if HEADER_START.match(line):
            following = [item for item in lines[index + 1 : index + 5] if item.strip()]
            if any(HEADER_FOLLOW.match(item) for item in following[:3]):
                # Outlook draws a line of underscores just above the header block.
                if index and OUTLOOK_RULE.match(lines[index - 1]):
                    return index - 1
                return index
        if WROTE.match(line) and (WROTE_START.match(line) or "skrev" in line.lower()):
            return index
        if WROTE_START.match(line) and index + 1 < len(lines):
            joined = f"{line.rstrip()} {lines[index + 1].strip()}"
            if WROTE.match(joined):
                return index
    return None


def trim_quoted(text: str) -> str:
    """The new part of a reply; the whole text when trimming would leave nothing."""
    lines = text.replace("\r\n", "\n").split("\n")
    cut = _history_starts_at(lines)
    if cut is not None:
        lines = lines[:cut]
    for index, line in enumerate(lines):
        if line == "-- ":
            lines = lines[:index]
            break
    kept = [line for line in lines if not line.lstrip().startswith(">")]
    result = "\n".join(kept).strip()
    result = re.sub(r"\n{3,}", "\n\n", result)
    return result or text.strip()
