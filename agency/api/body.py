"""Reading a request's input within bounds, for every API route: the body's size, the JSON's depth, and
text a database can store.  Each refusal is the error shape of API.md (400 or 413), never a 500.

- A JSON body is at most MAX_JSON_BYTES (a multipart upload has MAX_CONTENT_LENGTH, and MAX_UPLOAD_BYTES
  per file, checked while it is read).
- A JSON document is at most MAX_JSON_DEPTH arrays and objects deep: Python's parser recurses, so a body
  of 100,000 ``[`` was a RecursionError.
- No string (of a JSON body, its keys, or a query string) holds a NUL or a lone surrogate: PostgreSQL
  refuses NUL in text and neither database encodes a lone surrogate.
"""
import json
import re

from flask import current_app, request
from flask_smorest import abort

MAX_JSON_DEPTH = 32
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
_WHERE = {"json": "the JSON body", "query": "the query string"}


def refuse(location: str, message: str, key: str = "_"):
    abort(400, message=f"{_WHERE[location]}: {message}", messages={location: {key: [message]}})


def parse_json(raw: bytes):
    """The JSON document of a request body, or a 400: not JSON, too deep, or holding unstorable text."""
    try:
        document = json.loads(raw.decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        refuse("json", "not a JSON document (UTF-8)")
    except RecursionError:
        refuse("json", f"nested more than {MAX_JSON_DEPTH} levels deep")
    check_document(document)
    return document


def check_document(document) -> None:
    """Walk the document without recursion: its depth and its strings."""
    stack = [(document, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, str):
            if _UNSTORABLE.search(value):
                refuse("json", "text may not hold NUL characters or lone surrogates")
            continue
        if not isinstance(value, (dict, list)):
            continue
        if depth > MAX_JSON_DEPTH:
            refuse("json", f"nested more than {MAX_JSON_DEPTH} levels deep")
        if isinstance(value, dict):
            stack.extend((key, depth) for key in value)
            value = value.values()
        stack.extend((item, depth + 1) for item in value)


def bound_request() -> None:
    """Before an API request: the body's size limit, and its query string's text."""
    if request.mimetype != "multipart/form-data":
        request.max_content_length = current_app.config["MAX_JSON_BYTES"]
    for key, value in request.args.items(multi=True):
        if _UNSTORABLE.search(key) or _UNSTORABLE.search(value):
            refuse("query", "text may not hold NUL characters", key if not _UNSTORABLE.search(key) else "_")
