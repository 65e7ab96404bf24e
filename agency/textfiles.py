"""Text files people bring in (catalog, project types, calendar arrangements), decoded as halls write them.

Spreadsheets exported in China are often GBK (read here as GB 18030, its superset); others are
UTF-8, with or without a BOM, or UTF-16 with a BOM.  Anything else, or a file holding control
characters (a binary file, UTF-16 without its BOM), is refused with the line and column of the
first offending byte, never a traceback.
"""
import codecs

from agency.errors import BadInput

_BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
         (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))
_ALLOWED_CONTROLS = {"\t", "\n", "\r"}


class UnreadableFile(BadInput):
    """Not a text file this system can read; the message names the line and column."""


def decode_text(raw: bytes) -> str:
    """The text of ``raw``: UTF-8 (BOM or not), UTF-16/32 with a BOM, or GBK/GB 18030."""
    for bom, codec in _BOMS:
        if raw.startswith(bom):
            return _checked(_decode(raw, codec))
    if b"\x00" in raw:  # UTF-16 without its BOM, or a binary file: no single-byte text has NUL
        at = raw.index(b"\x00")
        raise _unreadable(raw, at, "a NUL byte: a binary file, or UTF-16 without its byte order mark")
    try:
        return _checked(raw.decode("utf-8"))
    except UnicodeDecodeError:
        return _checked(_decode(raw, "gb18030"))


def _decode(raw: bytes, codec: str) -> str:
    try:
        return raw.decode(codec)
    except UnicodeDecodeError as error:
        raise _unreadable(raw, error.start, "neither UTF-8 nor GBK text") from None


def _checked(text: str) -> str:
    for line_no, line in enumerate(text.split("\n"), start=1):
        for column, char in enumerate(line, start=1):
            if (ord(char) < 32 or ord(char) == 127) and char not in _ALLOWED_CONTROLS:
                raise UnreadableFile(f"line {line_no}, column {column}: a control character (U+{ord(char):04X});"
                                     " is this a text (CSV) file?", fields={"line": line_no, "column": column})
    return text


def _unreadable(raw: bytes, at: int, what: str) -> UnreadableFile:
    line = raw.count(b"\n", 0, at) + 1
    column = at - (raw.rfind(b"\n", 0, at) + 1) + 1
    return UnreadableFile(f"line {line}, column {column} (byte {at + 1}): {what}",
                          fields={"line": line, "column": column})
