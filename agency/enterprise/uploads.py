"""Uploaded materials: checked by content, stored outside the web root with a checksum.

A file is accepted when its bytes are a PDF, PNG, JPEG or an Office Open XML
document (DOCX/XLSX), its name carries the extension of that type, and it is no
larger than ``MAX_UPLOAD_BYTES``.  It is stored as
``UPLOAD_DIR/<first two hex digits of its SHA-256>/<random storage key>``: the
name the user gave is only ever shown, never used as a path.
"""
import hashlib
import os
import secrets
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import filetype
from flask import current_app, send_file
from flask_babel import lazy_gettext as _l
from werkzeug.utils import secure_filename

from agency.errors import BadInput, DomainError, NotFound

# content type (sniffed) -> extensions a name may carry for it
ALLOWED_TYPES = {
    "application/pdf": ("pdf",),
    "image/png": ("png",),
    "image/jpeg": ("jpg", "jpeg"),
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ("docx",),
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": ("xlsx",),
}
ALLOWED_EXTENSIONS = sorted({ext for exts in ALLOWED_TYPES.values() for ext in exts})
_CHUNK = 64 * 1024


class FileTooLarge(DomainError):
    status, code = 413, "too_large"


class UnsupportedFile(DomainError):
    status, code = 415, "unsupported_media_type"


@dataclass(frozen=True)
class StoredFile:
    storage_key: str
    sha256: str
    size: int
    content_type: str
    path: Path


def clean_filename(original: str | None) -> str:
    """The name to show: refused when it carries a path; kept in Unicode (Chinese names survive)."""
    name = unicodedata.normalize("NFC", (original or "").strip())
    if not name:
        raise BadInput("choose a file", fields={"file": "a file with a name is required"},
                       shown=_l("请选择文件。"))
    if "/" in name or "\\" in name or ".." in name or any(ord(c) < 32 or ord(c) == 127 for c in name):
        raise BadInput("the file name may not contain a path", fields={"file": "no '/', '\\' or '..' in the name"},
                       shown=_l("文件名不能包含路径。"))
    if len(name) > 200:
        raise BadInput("the file name is too long", fields={"file": "at most 200 characters"},
                       shown=_l("文件名过长（最多 200 个字符）。"))
    if any(c in name for c in ':*?"<>|') or name.startswith("."):
        raise BadInput("the file name contains characters that are not allowed", fields={"file": name},
                       shown=_l("文件名含有不允许的字符。"))
    return name


def ascii_name(name: str) -> str:
    """An ASCII-only fallback of the name (werkzeug's secure_filename), for old clients' downloads."""
    return secure_filename(name) or f"material.{extension_of(name) or 'bin'}"


def extension_of(name: str) -> str:
    _, dot, ext = name.rpartition(".")
    return ext.lower() if dot else ""


def read_limited(stream, limit: int) -> bytes:
    """Read at most ``limit`` bytes; more than that is a 413 and nothing is kept."""
    chunks, total = [], 0
    while True:
        chunk = stream.read(_CHUNK)
        if not chunk:
            break
        total += len(chunk)
        if total > limit:
            raise FileTooLarge(f"the file is larger than {limit} bytes", fields={"file": f"at most {limit} bytes"})
        chunks.append(chunk)
    data = b"".join(chunks)
    if not data:
        raise BadInput("the file is empty", fields={"file": "empty file"},
                       shown=_l("文件是空的。"))
    return data


def sniff(data: bytes, name: str) -> str:
    """The content type read from the bytes; 415 unless allowed and matching the name's extension."""
    kind = filetype.guess(data[:8192])
    content_type = kind.mime if kind else None
    if content_type not in ALLOWED_TYPES:
        raise UnsupportedFile("this kind of file is not accepted",
                              fields={"file": f"accepted: {', '.join(ALLOWED_EXTENSIONS)}"})
    if extension_of(name) not in ALLOWED_TYPES[content_type]:
        raise UnsupportedFile("the file's extension does not match its content",
                              fields={"file": f"the content is {content_type}; name it "
                                              f".{ALLOWED_TYPES[content_type][0]}"})
    return content_type


def check_upload(original_name: str | None, stream, limit: int) -> tuple[str, bytes, str]:
    """Name, bytes and sniffed content type of an acceptable upload, or a domain error."""
    name = clean_filename(original_name)
    data = read_limited(stream, limit)
    return name, data, sniff(data, name)


def path_for(upload_dir: str | Path, sha256: str, storage_key: str) -> Path:
    if not storage_key.isalnum() or not all(c in "0123456789abcdef" for c in sha256[:2]):
        raise ValueError("bad storage key")
    return Path(upload_dir) / sha256[:2] / storage_key


def store(upload_dir: str | Path, data: bytes, content_type: str) -> StoredFile:
    """Write the bytes under a random key (write to a temporary name, then rename)."""
    digest = hashlib.sha256(data).hexdigest()
    key = secrets.token_hex(16)
    path = path_for(upload_dir, digest, key)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".part")
    with open(temporary, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(temporary, path)
    path.chmod(0o640)
    return StoredFile(storage_key=key, sha256=digest, size=len(data), content_type=content_type, path=path)


def discard(stored: StoredFile | None) -> None:
    """Remove a stored file whose database row was not kept."""
    if stored is not None:
        stored.path.unlink(missing_ok=True)


def send_stored(path: Path, content_type: str, filename: str, sha256: str, missing: str):
    """A stored file handed out (a material, a result, a comment's attachment): always an attachment of the
    type read from its content at upload, never cached, with its checksum, nosniff and a sandboxing CSP.
    ``missing`` is the 404's message when the file is gone from storage (logged as an error)."""
    if not path.is_file():
        current_app.logger.error("%s (at %s)", missing, path)
        raise NotFound(missing)
    response = send_file(path, mimetype=content_type, as_attachment=True, download_name=filename,
                         conditional=False, etag=False, max_age=0)
    response.headers.update({"X-Content-Type-Options": "nosniff", "Cache-Control": "private, no-store",
                             "Content-Security-Policy": "default-src 'none'; sandbox", "X-Checksum-SHA256": sha256})
    return response
