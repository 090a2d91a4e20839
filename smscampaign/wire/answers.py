"""The gateway's answers, parsed: :class:`GatewayResponse` and :func:`parse_response`.

An answer is untrusted bytes: it is decoded by its XML declaration (falling back to the endpoint's
charset), parsed with no DTDs and no entities, and must be the protocol's ``<response>`` envelope
(or, from older members of the gateway family, a bare integer). Anything else is a
:class:`~smscampaign.GatewayProtocolError` whose text holds no secret.

>>> answer = parse_response(b"<response><result>1</result><sms_left>7</sms_left></response>",
...                         endpoint="user_info")
>>> answer.ok, answer.fields["sms_left"]
(True, 7)
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

from smscampaign.core.codes import CodeInfo, describe_code
from smscampaign.core.display import html_table
from smscampaign.core.errors import GatewayProtocolError
from smscampaign.wire.protocol import DECLARED_CODECS, python_codec
from smscampaign.wire.redact import redact

__all__ = ["ROOT_ELEMENT", "GatewayResponse", "parse_response", "read_user_stat"]

#: The protocol's root element (``<response><result>…``); any other root is not a gateway answer.
ROOT_ELEMENT: Final = "response"
_INT64: Final = (-(1 << 63), (1 << 63) - 1)

# Codecs named in XML declarations -> Python codecs (GBK-family answers decode as GB18030, a superset).
_DECLARATION = re.compile(rb"^\s*<\?xml[^>]*?encoding\s*=\s*[\"']([A-Za-z0-9._-]+)[\"'][^>]*\?>")
_DECLARATION_TEXT = re.compile(r"^\s*<\?xml[^>]*\?>")
_BARE_CODE = re.compile(r"^\s*(-?\d+)\s*$")
_HTML_START = re.compile(r"\s*<(!doctype\s+html|html[\s>])", re.IGNORECASE)

#: Known user_info fields and their types; other fields stay text.
_FIELD_TYPES: Final[dict[str, Any]] = {
    "user_balance": float,
    "user_amount": float,
    "sms_left": int,
    "sms_send": int,
    "sms_receive": int,
    "user_point": int,
}
#: Reply element names used by other members of the gateway family -> ours.
_ITEM_ALIASES: Final = {"mobile": "sender", "recvtime": "receivetime"}


@dataclass(frozen=True, slots=True)
class GatewayResponse:
    """One decoded gateway answer.

    ``code`` is the ``result`` element (``>= 0`` success), ``ok`` is ``code >= 0``, ``message`` the
    gateway's own text, ``info`` the :func:`~smscampaign.describe_code` record, ``fields`` the
    other elements (typed where the type is known, e.g. user_info's ``sms_left`` is an int),
    ``items`` one dict per ``<sms>`` reply of ``get_sms``.
    """

    endpoint: str
    code: int
    message: str
    info: CodeInfo
    fields: Mapping[str, Any] = field(default_factory=dict)
    items: tuple[dict[str, str], ...] = ()
    elapsed: float = 0.0
    ok: bool = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "ok", self.code >= 0)

    def __repr__(self) -> str:
        more = f", {len(self.fields)} fields" if self.fields else ""
        more += f", {len(self.items)} replies" if self.items else ""
        return f"GatewayResponse({self.endpoint}: {self.info}{more}, {self.elapsed:.3f} s)"

    def _repr_html_(self) -> str:
        rows: list[tuple[str, Any]] = [
            ("endpoint", self.endpoint),
            ("code 返回值", self.code),
            ("ok", self.ok),
            ("message", self.message),
            ("zh", self.info.zh),
            ("en", self.info.en),
            ("category", self.info.category),
        ]
        rows += [(name, value) for name, value in self.fields.items()]
        if self.items:
            rows.append(("replies", len(self.items)))
        rows.append(("elapsed (s)", f"{self.elapsed:.3f}"))
        return html_table("GatewayResponse 网关应答", rows)


def _decode_body(body: bytes, charset: str) -> str:
    """Decode by the XML declaration, falling back to the endpoint's charset."""
    if body.startswith(b"\xef\xbb\xbf"):
        body = body[3:]
    candidates = []
    match = _DECLARATION.match(body)
    if match:
        declared = match.group(1).decode("ascii").lower()
        candidates.append(DECLARED_CODECS.get(declared, declared))
    candidates.append(python_codec(charset))
    if "utf-8" not in candidates:
        candidates.append("utf-8")
    for codec in candidates:
        try:
            return body.decode(codec)
        except (UnicodeDecodeError, LookupError):
            continue
    first = body.lstrip().split(b"\n", 1)[0][:60]
    raise GatewayProtocolError(f"answer cannot be decoded in any expected charset: {first!r}")


def _first_line(text: str) -> str:
    """The first non-blank line of an answer, short and with no secret, for error messages."""
    line = next((ln.strip() for ln in text.splitlines() if ln.strip()), "")
    return redact(line[:120] + ("…" if len(line) > 120 else ""))


def _js_array(text: str, name: str, endpoint: str) -> list[str]:
    """The items of a JavaScript array literal, as user_stat sends it: ``['11-29','11-30']``."""
    inner = text.strip()
    if not (inner.startswith("[") and inner.endswith("]")):
        raise GatewayProtocolError(
            f"{endpoint}: {name} is not an array: {inner[:60]!r}", endpoint=endpoint
        )
    items = [item.strip().strip("'\"").strip() for item in inner[1:-1].split(",")]
    return [item for item in items if item] if inner[1:-1].strip() else []


def read_user_stat(fields: Mapping[str, Any]) -> list[tuple[str, str, int]]:
    """``(period, kind, sent)`` rows from user_stat's ``daytitle`` / ``daytotal`` / ``monthtitle`` /
    ``monthtotal`` arrays; :class:`~smscampaign.GatewayProtocolError` if they do not pair up.

    >>> read_user_stat({"daytitle": "['11-29']", "daytotal": "[3]", "monthtitle": "[]",
    ...                 "monthtotal": "[]"})
    [('11-29', 'day', 3)]
    """
    rows: list[tuple[str, str, int]] = []
    for kind in ("day", "month"):
        titles = _js_array(str(fields.get(f"{kind}title", "")), f"{kind}title", "user_stat")
        totals = _js_array(str(fields.get(f"{kind}total", "")), f"{kind}total", "user_stat")
        if len(titles) != len(totals) or not all(t.isdigit() for t in totals):
            raise GatewayProtocolError(
                f"user_stat: {kind}title and {kind}total do not match", endpoint="user_stat"
            )
        rows.extend((title, kind, int(total)) for title, total in zip(titles, totals, strict=True))
    return rows


def _typed(name: str, text: str) -> Any:
    kind = _FIELD_TYPES.get(name)
    if kind is None or text == "":
        return text
    try:
        return kind(text)
    except ValueError:
        return text


def parse_response(body: bytes, *, endpoint: str, charset: str = "utf8") -> GatewayResponse:
    """Parse a gateway answer from bytes; untrusted input (no DTDs, no entities).

    Accepts the XML envelope ``<response><result>…</result><message>…</message>…</response>`` and, to be
    tolerant of older members of the gateway family, a bare integer body. Anything else raises
    :class:`GatewayProtocolError`.
    """
    text = _decode_body(body, charset)
    bare = _BARE_CODE.match(text)
    if bare:
        code = _code(bare.group(1), endpoint)
        return GatewayResponse(endpoint, code, "", describe_code(code))
    text = _DECLARATION_TEXT.sub("", text, count=1)
    if not text.lstrip().startswith("<") or _HTML_START.match(text):
        raise GatewayProtocolError(
            f"{endpoint}: answer is not the gateway's XML: {_first_line(text)!r}", endpoint=endpoint
        )
    try:
        root = SafeET.fromstring(text, forbid_dtd=True)
    except DefusedXmlException as exc:
        raise GatewayProtocolError(
            f"{endpoint}: answer refused: {type(exc).__name__}", endpoint=endpoint
        ) from None
    except SafeET.ParseError as exc:
        raise GatewayProtocolError(
            f"{endpoint}: malformed XML answer: {exc}", endpoint=endpoint
        ) from None
    if root.tag != ROOT_ELEMENT:
        raise GatewayProtocolError(
            f"{endpoint}: answer's root element is <{str(root.tag)[:40]}>, not <{ROOT_ELEMENT}>",
            endpoint=endpoint,
        )
    result = root.find("result")
    if result is None or not _BARE_CODE.match(result.text or ""):
        raise GatewayProtocolError(f"{endpoint}: answer has no numeric <result>", endpoint=endpoint)
    code = _code(result.text or "", endpoint)
    message, fields, items = "", {}, []
    for child in root:
        tag = child.tag
        if tag == "result":
            continue
        if tag == "message":
            message = (child.text or "").strip()
        elif tag == "sms":
            items.append(_item(child))
        elif len(child):  # a container of replies, e.g. <list><sms>…</sms></list>
            for sms in child.iter("sms"):
                items.append(_item(sms))
        else:
            fields[tag] = _typed(tag, (child.text or "").strip())
    return GatewayResponse(endpoint, code, message, describe_code(code), fields, tuple(items))


def _code(text: str, endpoint: str) -> int:
    """The ``result`` code; one outside int64 is not a gateway answer (no code is that long)."""
    code = int(text.strip())
    if not _INT64[0] <= code <= _INT64[1]:
        raise GatewayProtocolError(
            f"{endpoint}: answer's result code has {len(text.strip())} digits, out of range",
            endpoint=endpoint,
        )
    return code


def _item(sms: Any) -> dict[str, str]:
    """One ``<sms>`` reply; its ``content`` exactly as received (a leading tab or space is data)."""
    item = {}
    for element in sms:
        name = _ITEM_ALIASES.get(element.tag, element.tag)
        text = element.text or ""
        item[name] = text if name == "content" else text.strip()
    return item
