"""HTML mail to readable text: sanitised first (nh3, the Ammonia sanitiser), then flattened.

Tickets hold text, so the HTML of a mail is never shown as HTML. It is still sanitised first so
that whatever reads the intermediate result (and the quarantine preview) only ever sees a safe
subset of tags. The flattening keeps what a person needs: paragraphs and line breaks, list
bullets, table cells side by side, link targets in brackets, quoted parts marked with "> ".
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

import nh3

ALLOWED_TAGS = {
    "a", "b", "blockquote", "br", "caption", "code", "dd", "div", "dl", "dt", "em", "h1", "h2",
    "h3", "h4", "h5", "h6", "hr", "i", "img", "li", "ol", "p", "pre", "span", "strong", "table",
    "tbody", "td", "tfoot", "th", "thead", "tr", "u", "ul",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {"a": {"href"}, "img": {"alt", "src"}}
BLOCK = {
    "p", "div", "table", "tr", "ul", "ol", "dl", "h1", "h2", "h3", "h4", "h5", "h6", "pre",
    "blockquote", "caption", "hr", "dt", "dd",
}  # fmt: skip


def sanitise_html(html: str) -> str:
    """Only harmless tags and attributes survive; scripts, styles and their content go."""
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        clean_content_tags={"script", "style", "head", "title", "template", "noscript"},
        url_schemes={"http", "https", "mailto", "cid"},
        link_rel=None,
    )


class _Flattener(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.quote_depth = 0
        self.pre = 0
        self.links: list[str | None] = []
        self.link_text: list[list[str]] = []
        self.list_stack: list[list[int | None]] = []
        self.cell_in_row = 0

    # Lines are built in self.out; "\n" marks breaks, quote prefixes are added at the end.
    def _newline(self, count: int = 1) -> None:
        self.out.append("\n" * count)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "br":
            self._newline()
        elif tag == "blockquote":
            self._newline()
            self.quote_depth += 1
            self.out.append(f"\x00Q{self.quote_depth}\x00")
        elif tag in ("ul", "ol"):
            self.list_stack.append([0 if tag == "ol" else None])
            self._newline()
        elif tag == "li":
            self._newline()
            marker = "- "
            if self.list_stack and self.list_stack[-1][0] is not None:
                self.list_stack[-1][0] += 1
                marker = f"{self.list_stack[-1][0]}. "
            self.out.append("  " * max(0, len(self.list_stack) - 1) + marker)
        elif tag == "tr":
            self._newline()
            self.cell_in_row = 0
        elif tag in ("td", "th"):
            if self.cell_in_row:
                self.out.append(" | ")
            self.cell_in_row += 1
        elif tag == "a":
            self.links.append(attributes.get("href"))
            self.link_text.append([])
        elif tag == "img":
            alt = (attributes.get("alt") or "").strip()
            if alt:
                self.out.append(f"[{alt}]")
        elif tag == "hr":
            self._newline()
            self.out.append("----")
            self._newline()
        elif tag == "pre":
            self.pre += 1
            self._newline()
        elif tag in BLOCK:
            self._newline(2 if tag in ("p", "h1", "h2", "h3") else 1)

    def handle_endtag(self, tag: str) -> None:
        if tag == "blockquote":
            self.quote_depth = max(0, self.quote_depth - 1)
            self.out.append(f"\x00Q{self.quote_depth}\x00")
            self._newline()
        elif tag in ("ul", "ol"):
            if self.list_stack:
                self.list_stack.pop()
            self._newline()
        elif tag == "a" and self.links:
            href = self.links.pop()
            text = "".join(self.link_text.pop()).strip()
            if self.link_text:
                self.link_text[-1].append(text)
            if (
                href
                and href.startswith(("http://", "https://"))
                and href.rstrip("/") != text.rstrip("/")
            ):
                self.out.append(f" ({href})")
        elif tag == "pre":
            self.pre = max(0, self.pre - 1)
            self._newline()
        elif tag in BLOCK:
            self._newline(2 if tag in ("p", "h1", "h2", "h3") else 1)

    def handle_data(self, data: str) -> None:
        if not self.pre:
            data = re.sub(r"[ \t\r\n\f\u00a0]+", " ", data)
        if self.link_text:
            self.link_text[-1].append(data)
        self.out.append(data)

    def text(self) -> str:
        raw = "".join(self.out)
        lines: list[str] = []
        depth = 0
        for chunk in re.split(r"(\x00Q\d+\x00)", raw):
            marker = re.fullmatch(r"\x00Q(\d+)\x00", chunk)
            if marker:
                depth = int(marker.group(1))
                continue
            parts = chunk.split("\n")
            for index, part in enumerate(parts):
                if index == 0 and lines and not lines[-1][1].endswith("\n"):
                    previous_depth, previous = lines[-1]
                    lines[-1] = (previous_depth, previous + part)
                else:
                    lines.append((depth, part))
                if index < len(parts) - 1:
                    last_depth, last = lines[-1]
                    lines[-1] = (last_depth, last + "\n")
        result: list[str] = []
        previous_blank = True
        for line_depth, line in lines:
            content = line.rstrip("\n").strip(" ")
            if not content:
                if not previous_blank:
                    result.append(">" * line_depth)
                previous_blank = True
                continue
            result.append(f"{'> ' * line_depth}{content}")
            previous_blank = False
        while result and not result[-1].strip("> "):
            result.pop()
        cleaned = []
        for index, line in enumerate(result):
            # A blank quoted line between an unquoted line and a quoted one reads better empty.
            if (
                line
                and not line.strip(">")
                and (index + 1 == len(result) or not result[index + 1].startswith(">"))
            ):
                line = ""
            cleaned.append(line)
        return "\n".join(cleaned).strip()


def html_to_text(html: str) -> str:
    """Readable text from (untrusted) HTML mail."""
    flattener = _Flattener()
    flattener.feed(sanitise_html(html))
    flattener.close()
    return flattener.text()
