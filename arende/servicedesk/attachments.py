"""What may be attached to a ticket: at most 10 MB a file; images, PDF, office documents, text.

The type is decided by the file name's extension *and* by the first bytes of the file, never by
the content type the browser sends: a program renamed to ``.pdf`` is refused. The stored
content type is ours, taken from the extension.
"""

from __future__ import annotations

import os
from typing import Any

from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from arende.core.errors import ValidationFailed

MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024
FIELD = "attachments"

ZIP = (b"PK\x03\x04", b"PK\x05\x06")  # OOXML (docx, xlsx, pptx) and OpenDocument are zip files
OLE = (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",)  # doc, xls, ppt (Office 97-2003)
TEXT = "text"  # checked by decoding, not by a signature

# extension -> (content type, accepted signatures)
ALLOWED: dict[str, tuple[str, tuple[bytes, ...] | str | None]] = {
    ".png": ("image/png", (b"\x89PNG\r\n\x1a\n",)),
    ".jpg": ("image/jpeg", (b"\xff\xd8\xff",)),
    ".jpeg": ("image/jpeg", (b"\xff\xd8\xff",)),
    ".gif": ("image/gif", (b"GIF87a", b"GIF89a")),
    ".webp": ("image/webp", (b"RIFF",)),
    ".bmp": ("image/bmp", (b"BM",)),
    ".tif": ("image/tiff", (b"II*\x00", b"MM\x00*")),
    ".tiff": ("image/tiff", (b"II*\x00", b"MM\x00*")),
    ".heic": ("image/heic", None),
    ".pdf": ("application/pdf", (b"%PDF-",)),
    ".doc": ("application/msword", OLE),
    ".xls": ("application/vnd.ms-excel", OLE),
    ".ppt": ("application/vnd.ms-powerpoint", OLE),
    ".docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", ZIP),
    ".xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", ZIP),
    ".pptx": ("application/vnd.openxmlformats-officedocument.presentationml.presentation", ZIP),
    ".odt": ("application/vnd.oasis.opendocument.text", ZIP),
    ".ods": ("application/vnd.oasis.opendocument.spreadsheet", ZIP),
    ".odp": ("application/vnd.oasis.opendocument.presentation", ZIP),
    ".rtf": ("application/rtf", (b"{\\rtf",)),
    ".txt": ("text/plain", TEXT),
    ".csv": ("text/csv", TEXT),
    ".log": ("text/plain", TEXT),
}

ALLOWED_DESCRIPTION = gettext_lazy(
    "pictures (PNG, JPG, GIF, WebP, BMP, TIFF, HEIC), PDF, Word, Excel, PowerPoint, "
    "OpenDocument, RTF and text files (TXT, CSV, LOG)"
)
ACCEPT_ATTRIBUTE = ",".join(sorted(ALLOWED))


def _looks_like_text(head: bytes) -> bool:
    if b"\x00" in head:
        return False
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as error:
        # A multi-byte character cut off at the end of the sample is still text.
        if error.start < len(head) - 4:
            try:
                head.decode("cp1252")
            except UnicodeDecodeError:
                return False
    return True


def check_upload(uploaded_file: Any) -> tuple[str, str]:
    """Return ``(file name, content type)`` of an acceptable upload, or raise ValidationFailed.

    The messages name the file, so that a person who picked several knows which one to drop.
    """
    filename = os.path.basename(str(getattr(uploaded_file, "name", "") or "")).strip()[:255]
    if not filename:
        raise ValidationFailed(_("The file has no name."), field=FIELD)
    size = int(getattr(uploaded_file, "size", 0) or 0)
    if size > MAX_ATTACHMENT_BYTES:
        raise ValidationFailed(
            _("“%(name)s” is too big (%(size)s). Each file may be at most %(limit)s.")
            % {
                "name": filename,
                "size": filesizeformat(size),
                "limit": filesizeformat(MAX_ATTACHMENT_BYTES),
            },
            field=FIELD,
        )
    if size == 0:
        raise ValidationFailed(_("“%(name)s” is empty.") % {"name": filename}, field=FIELD)
    extension = os.path.splitext(filename)[1].lower()
    refused = ValidationFailed(
        _(
            "“%(name)s” cannot be attached: that kind of file is not allowed. "
            "Pictures, PDF, office documents and text files are."
        )
        % {"name": filename},
        field=FIELD,
    )
    if extension not in ALLOWED:
        raise refused
    content_type, signatures = ALLOWED[extension]
    position = uploaded_file.tell() if hasattr(uploaded_file, "tell") else 0
    uploaded_file.seek(0)
    head = uploaded_file.read(2048)
    uploaded_file.seek(position)
    if signatures == TEXT:
        if not _looks_like_text(head):
            raise refused
    elif isinstance(signatures, tuple) and not head.startswith(signatures):
        raise refused
    if extension == ".webp" and head[8:12] != b"WEBP":
        raise refused
    return filename, content_type
