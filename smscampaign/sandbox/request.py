"""How the gateway's host reads a request: the target's path and query, the route to an endpoint and
the form fields, decoded with the endpoint's charset as ASP.NET does.

>>> segments, query = split_target(b"/GBK/interface/send_sms.aspx?receiver=13800138000")
>>> route(segments), query
(('gbk', 'send_sms'), b'receiver=13800138000')
"""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import unquote_to_bytes

from smscampaign.sandbox.endpoints import ENGINE_ENDPOINTS
from smscampaign.wire.protocol import CHARSETS

__all__ = ["parse_form", "route", "split_target"]


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
