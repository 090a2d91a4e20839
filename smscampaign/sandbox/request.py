"""How the gateway's host reads a request: the target's path and query, the route to an endpoint and
the form fields — an urlencoded body or a ``multipart/form-data`` one — decoded with the endpoint's
charset as ASP.NET does.

>>> segments, query = split_target(b"/GBK/interface/send_sms.aspx?receiver=13800138000")
>>> route(segments), query
(('gbk', 'send_sms'), b'receiver=13800138000')
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from urllib.parse import unquote_to_bytes

from smscampaign.sandbox.endpoints import ENGINE_ENDPOINTS
from smscampaign.wire.protocol import CHARSETS

__all__ = ["form_body", "parse_form", "parse_multipart", "route", "split_target"]

_BOUNDARY = re.compile(r'boundary=(?:"([^"]+)"|([^;,\s]+))', re.IGNORECASE)
_PARAM = re.compile(rb'(?i)(?:^|;)\s*(name|filename)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;\s]*))')


def _decode_component(raw: bytes, codec: str) -> str:
    """One form name or value: ``+`` is a space, ``%XX`` and raw bytes alike are bytes of ``codec``."""
    raw = raw.replace(b"+", b" ")
    if b"%" in raw:
        # Commas between 500 numbers are most of the escapes; replacing them first is the same
        # decoding and spares unquote_to_bytes a Python-level step per number.
        raw = unquote_to_bytes(raw.replace(b"%2C", b",").replace(b"%2c", b","))
    return raw.decode(codec, errors="replace")


def parse_form(raw: bytes, codec: str) -> dict[str, str]:
    """A query string or form body as ASP.NET reads it: bytes decoded with the endpoint's codec.

    Percent-encoded and raw bytes are treated alike (clients that build URLs by concatenation send raw
    UTF-8 or GBK); a name given twice yields its values joined by commas, as ``Request[name]`` does.

    >>> parse_form("content=测试&receiver=1&receiver=2".encode("gbk"), "gbk")
    {'content': '测试', 'receiver': '1,2'}
    """
    values: dict[str, list[str]] = {}
    for part in raw.split(b"&"):
        name, _, value = part.partition(b"=")
        key = _decode_component(name, codec)
        if key:
            values.setdefault(key, []).append(_decode_component(value, codec))
    return {key: ",".join(items) for key, items in values.items()}


def parse_multipart(raw: bytes, boundary: bytes, codec: str) -> dict[str, str]:
    r"""A ``multipart/form-data`` body as ASP.NET's ``Request.Form`` reads it.

    Each part without a ``filename`` is a form field (a part with one is an uploaded file, which
    ``Request.Form`` leaves out); names and values are bytes of the endpoint's ``codec`` — a part's
    own ``Content-Type`` charset is not consulted, as for urlencoded bodies. Lines may end in CRLF
    or a bare LF. A name given twice yields its values joined by commas.

    >>> body = b'--b\r\nContent-Disposition: form-data; name="receiver"\r\n\r\n1\r\n--b--\r\n'
    >>> parse_multipart(body, b"b", "utf-8")
    {'receiver': '1'}
    """
    values: dict[str, list[str]] = {}
    delimiter = b"--" + boundary
    for part in raw.split(delimiter)[1:]:
        if part.startswith(b"--"):  # the closing delimiter
            break
        part = part[2:] if part.startswith(b"\r\n") else part[1:] if part.startswith(b"\n") else part
        head, sep, value = part.partition(b"\r\n\r\n")
        if not sep or b"\n\n" in head:
            head, sep, value = part.partition(b"\n\n")
        if not sep:
            continue
        # The value ends before the line break that precedes the next delimiter.
        value = value[:-2] if value.endswith(b"\r\n") else value[:-1] if value.endswith(b"\n") else value
        params = _disposition(head)
        name = params.get(b"name")
        if name is None or b"filename" in params:
            continue
        key = name.decode(codec, errors="replace")
        if key:
            values.setdefault(key, []).append(value.decode(codec, errors="replace"))
    return {key: ",".join(items) for key, items in values.items()}


def _disposition(head: bytes) -> dict[bytes, bytes]:
    """The ``name`` and ``filename`` parameters of a part's ``Content-Disposition: form-data``."""
    for line in head.splitlines():
        field, _, text = line.partition(b":")
        if field.strip().lower() == b"content-disposition":
            return {
                m.group(1).lower(): m.group(2) if m.group(2) is not None else m.group(3)
                for m in _PARAM.finditer(text)
            }
    return {}


def form_body(raw: bytes, headers: Mapping[str, str] | None, codec: str) -> dict[str, str]:
    """A POST body's form fields: ``multipart/form-data`` by its boundary (:func:`parse_multipart`),
    anything else read as urlencoded (:func:`parse_form`), as the gateway reads what plugins send
    without a Content-Type. Header names are matched in any case."""
    content_type = next(
        (value for name, value in (headers or {}).items() if name.lower() == "content-type"), ""
    )
    if content_type.split(";", 1)[0].strip().lower() == "multipart/form-data":
        found = _BOUNDARY.search(content_type)
        if found is None:
            return {}
        boundary = found.group(1) or found.group(2)
        return parse_multipart(raw, boundary.encode("latin-1"), codec)
    return parse_form(raw, codec)


def split_target(target: bytes) -> tuple[list[str], bytes]:
    """The path segments (decoded, original case) and the raw query of a request target."""
    if target[:7].lower() == b"http://" or target[:8].lower() == b"https://":  # absolute form
        rest = target.split(b"//", 1)[1]
        slash = rest.find(b"/")
        target = rest[slash:] if slash >= 0 else b"/"
    path, _, query = target.partition(b"?")
    text = unquote_to_bytes(path).decode("utf-8", errors="replace")
    return [s for s in text.split("/") if s], query


def route(segments: Sequence[str]) -> tuple[str, str] | None:
    """(charset, endpoint) for an interface path, None for any other path (IIS paths ignore case).

    ``/{charset}/interface/{name}.aspx`` and the plugins' alias ``/{charset}/sendsms.aspx``.
    """
    lowered = [s.lower() for s in segments]
    if len(lowered) == 3 and lowered[1] == "interface" and lowered[2].endswith(".aspx"):
        charset, endpoint = lowered[0], lowered[2][: -len(".aspx")]
    elif len(lowered) == 2 and lowered[1] == "sendsms.aspx":
        charset, endpoint = lowered[0], "send_sms"
    else:
        return None
    if charset not in CHARSETS or endpoint not in ENGINE_ENDPOINTS:
        return None
    return charset, endpoint
