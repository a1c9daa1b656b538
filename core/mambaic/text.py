"""Text that came from a file or a command line: checked to be text, and made safe to show.

A ``.mic`` file is hostile input, and so are file names and command-line arguments. Quoting any of
them raw on a terminal lets a crafted file write escape sequences (C1 ``U+009B`` is a CSI on many
terminals), and a lone surrogate cannot be encoded at all, so printing it raises. Every
human-readable output that quotes such text goes through :func:`printable`; metadata is checked
with :func:`text_problem` when it is written and when it is read.
"""

from __future__ import annotations

import unicodedata

_KEPT_CONTROLS = frozenset("\t\n\r")
"""Control characters a metadata value may hold: multi-line descriptions are ordinary text."""


def printable(text: str) -> str:
    """``text`` with every non-printable character replaced by a Python-style escape.

    Printable means :meth:`str.isprintable` (no controls, formats such as bidi overrides,
    surrogates, separators other than space); backslashes are escaped too, so the result cannot
    be mistaken for an escape the text did not contain. The result is always one line.
    """
    if text.isprintable() and "\\" not in text:
        return text
    return "".join(_escape(char) for char in text)


def named(text: str) -> str:
    """``text`` quoted, with every non-printable character written as ``<U+XXXX>``.

    For error messages about hostile text: unlike a Python repr it holds no backslash, so a
    message that :func:`printable` escapes again on its way to a terminal still reads as written.
    """
    return "'" + "".join(char if char.isprintable() else f"<U+{ord(char):04X}>" for char in text) + "'"


def _escape(char: str) -> str:
    if char == "\\":
        return "\\\\"
    if char.isprintable():
        return char
    code = ord(char)
    if code <= 0xFF:
        return f"\\x{code:02x}"
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def text_problem(text: str, *, multiline: bool = False) -> str | None:
    """Why ``text`` is not acceptable stored text, or None.

    Refused: lone surrogates (not Unicode text; they cannot be written as UTF-8, and they are what
    a non-UTF-8 command-line argument decodes to) and control characters, except tab, newline and
    carriage return when ``multiline``.
    """
    for char in text:  # characters named as U+XXXX: a message escaped again stays readable
        if "\ud800" <= char <= "\udfff":
            return (f"contains U+{ord(char):04X}, which is not text (a lone surrogate; "
                    "non-UTF-8 input?)")
        if unicodedata.category(char) == "Cc" and not (multiline and char in _KEPT_CONTROLS):
            return f"contains the control character U+{ord(char):04X}"
    return None
