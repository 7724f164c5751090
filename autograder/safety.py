r"""Hostile input made harmless: text, files and HTML that come from a student.

Everything a submission holds reaches files we write (feedback pages, grades.csv,
summary.txt, the saved results). Nothing in it may stop the batch or turn the page
into a program:

* :func:`clean_text` makes any string encodable as UTF-8 (a lone surrogate such as
  ``"\ud800"`` is valid JSON but not valid UTF-8) by replacing what cannot be
  encoded with U+FFFD.
* :func:`shown` makes a name or reason safe for a one-line record (summary.txt,
  CSV): control characters, line and paragraph separators, and look-alikes of the
  separators we print (``｜``, ``／``) are written as visible escapes.
* :func:`read_regular_file` reads a submission only if it is a regular file (not a
  symbolic link, FIFO or device) no larger than a limit, checked on the open file.
* :func:`sanitize_html` passes student HTML (rendered markdown, outputs) through
  nh3, the Python binding of the Rust sanitiser ammonia (https://nh3.readthedocs.io):
  no script, no event handler, no ``javascript:`` link, no style, no form.
* :func:`csp_meta` is the page's Content Security Policy: scripts only from the
  page's own folder tree (``'self'``, which for a page opened from disk is
  ``file:``) or inline scripts of ours named by their SHA-256 hash, and no
  connection, frame, form or remote image anywhere.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import stat
import unicodedata
from pathlib import Path


def clean_text(text) -> str:
    """``text`` as a str that encodes to UTF-8: lone surrogates become U+FFFD.

    Args:
        text: a str, or anything else (converted with ``str``).
    """
    text = text if isinstance(text, str) else str(text)
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        # A valid pair written as two escapes stays one character; a lone one is replaced.
        return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


#: Characters that would fake a separator in our one-line records.
_LOOKALIKES = {
    "\uff5c": "|",
    "\u2223": "|",
    "\u01c0": "|",
    "\uff0f": "/",
    "\u2215": "/",
    "\u2044": "/",
    "\uff1a": ":",
    "\u2236": ":",
}


def shown(text, limit: int = 500) -> str:
    r"""One line of plain text for summary.txt and CSV cells.

    Every control or format character, line/paragraph separator and separator look-alike
    is written as a visible ``\u....`` escape, and the text is cut at ``limit``.

    Args:
        text: a str, or anything else (converted with ``str``).
        limit: the most characters kept.
    """
    text = clean_text(text)
    parts = []
    for char in text:
        category = unicodedata.category(char)
        if (
            char in _LOOKALIKES
            or category in ("Cc", "Cf", "Zl", "Zp", "Cs", "Co", "Cn")
            or (category == "Zs" and char != " ")
        ):
            code = ord(char)
            parts.append(
                f"\\x{code:02x}"
                if code < 0x100
                else f"\\u{code:04x}"
                if code < 0x10000
                else f"\\U{code:08x}"
            )
        else:
            parts.append(char)
    out = "".join(parts)
    return out if len(out) <= limit else out[:limit] + f"[... {len(out) - limit} more]"


class NotARegularFile(Exception):
    """The path is not a plain file we may read; the message says why, for a person."""


def file_kind(mode: int) -> str:
    """What a file of ``os.stat`` mode ``mode`` is, in words (``"a symbolic link"``, ...).

    Args:
        mode: an ``st_mode``, as ``os.lstat`` returns it.
    """
    if stat.S_ISLNK(mode):
        return "a symbolic link"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISDIR(mode):
        return "a folder"
    return "not a regular file"


def refusal(path: Path) -> str | None:
    """Why ``path`` (not followed) is not a regular file, or None when it is one.

    Args:
        path: the file.
    """
    try:
        mode = os.lstat(path).st_mode
    except OSError as exc:
        return f"cannot be read ({exc.strerror})"
    if stat.S_ISREG(mode):
        return None
    return f"is {file_kind(mode)}, not a regular file: refused"


def read_regular_file(path: Path, limit: int) -> bytes:
    """The bytes of ``path`` if it is a regular file of at most ``limit`` bytes.

    Opened without following a symbolic link and without blocking (a FIFO opens at
    once), then checked on the open file, so nothing can be swapped in between.

    Args:
        path: the file.
        limit: the most bytes accepted.

    Raises:
        NotARegularFile: if it is not a regular file (a link, a FIFO, ...), cannot be
            opened, or is larger than ``limit``; the message is for the student.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as exc:
        try:
            mode = os.lstat(path).st_mode
        except OSError:
            mode = stat.S_IFREG
        if not stat.S_ISREG(mode):
            raise NotARegularFile(
                f"the file is {file_kind(mode)}, not a regular file: submit the notebook itself"
            ) from None
        raise NotARegularFile(f"cannot read the file: {exc.strerror}") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise NotARegularFile(
                f"the file is {file_kind(info.st_mode)}, not a regular "
                "file: submit the notebook itself"
            )
        if info.st_size > limit:
            raise NotARegularFile(
                f"the file is too large ({info.st_size / 1e6:,.1f} MB; "
                f"the limit is {limit / 1e6:.0f} MB)"
            )
        chunks, total = [], 0
        while True:
            chunk = os.read(fd, min(1 << 20, limit + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
            if total > limit:  # it grew while we read it
                raise NotARegularFile(f"the file is too large (more than {limit / 1e6:.0f} MB)")
        return b"".join(chunks)
    finally:
        os.close(fd)


def inside(path: Path, folder: Path) -> bool:
    """Whether ``path`` resolves to somewhere inside ``folder``.

    Args:
        path: the path to check (links followed).
        folder: the folder.
    """
    try:
        return Path(folder).resolve() in Path(path).resolve().parents
    except (OSError, RuntimeError):
        return False


# -- HTML ------------------------------------------------------------------------------

_TAGS = {
    "a",
    "abbr",
    "b",
    "blockquote",
    "br",
    "code",
    "dd",
    "del",
    "details",
    "div",
    "dl",
    "dt",
    "em",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
    "i",
    "img",
    "ins",
    "kbd",
    "li",
    "mark",
    "ol",
    "p",
    "pre",
    "q",
    "s",
    "samp",
    "small",
    "span",
    "strong",
    "sub",
    "summary",
    "sup",
    "table",
    "tbody",
    "td",
    "tfoot",
    "th",
    "thead",
    "tr",
    "u",
    "ul",
    "var",
    "caption",
    "col",
    "colgroup",
    "figure",
    "figcaption",
    "section",
    "label",
}
_ATTRIBUTES = {
    "*": {"class", "id", "title", "lang", "dir"},
    "a": {"href", "name"},
    "img": {"src", "alt", "width", "height"},
    "td": {"colspan", "rowspan", "align"},
    "th": {"colspan", "rowspan", "align"},
    "ol": {"start"},
    "col": {"span"},
}


def _relative_or_data_only(element, attribute, value):
    """Links may go anywhere the reader clicks; images only come from the page itself.

    Links: https, anchors. Images: data: URLs or a relative path, never the network.
    """
    if element == "img" and attribute == "src":
        lower = value.strip().lower()
        if lower.startswith("data:image/") or not re.match(r"^[a-z][a-z0-9+.-]*:|^//", lower):
            return value
        return None
    return value


def sanitize_html(fragment: str) -> str:
    """Student-authored HTML with everything active removed (see the module docs).

    Args:
        fragment: the HTML.
    """
    import nh3

    return nh3.clean(
        clean_text(fragment),
        tags=_TAGS,
        attributes=_ATTRIBUTES,
        url_schemes={"http", "https", "mailto", "data"},
        attribute_filter=_relative_or_data_only,
        link_rel="noopener noreferrer",
        strip_comments=True,
    )


_SCRIPT = re.compile(r"<script\b([^>]*)>(.*?)</script\s*>", re.IGNORECASE | re.DOTALL)


def csp_meta(head: str) -> str:
    """The Content-Security-Policy ``<meta>`` for a page whose trusted ``<head>`` is ``head``.

    Its inline scripts are allowed by hash, scripts with a ``src`` only from the page's own
    location (``'self'``).

    Args:
        head: the page's trusted ``<head>`` HTML.
    """
    hashes = []
    for attributes, body in _SCRIPT.findall(head):
        if "src=" in attributes.lower():
            continue
        digest = base64.b64encode(hashlib.sha256(body.encode("utf-8")).digest()).decode()
        hashes.append(f"'sha256-{digest}'")
    policy = (
        "default-src 'none'; "
        f"script-src 'self' {' '.join(sorted(set(hashes)))}; "
        "style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; "
        "connect-src 'none'; media-src 'none'; object-src 'none'; frame-src 'none'; "
        "worker-src 'none'; form-action 'none'; base-uri 'none'"
    )
    return f'<meta http-equiv="Content-Security-Policy" content="{policy}">'
