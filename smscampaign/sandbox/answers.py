"""What the sandbox answers: the :class:`Answer` a server writes, the protocol's XML envelope
(:func:`render`) and the HTML error pages of the gateway's IIS host.

>>> render("send_sms", "utf8", 7).decode().splitlines()[2:]
['  <result>7</result>', '  <message>短信发送成功</message>', '</response>']
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final
from xml.sax.saxutils import escape

from smscampaign.core.codes import CODES
from smscampaign.wire.protocol import CHARSETS

__all__ = [
    "ERROR_PAGE",
    "FORBIDDEN_PAGE",
    "HTML",
    "METHOD_PAGE",
    "NOT_FOUND_PAGE",
    "Answer",
    "render",
    "xml_content_type",
]

#: Each endpoint charset as the answer's XML declaration and Content-Type name it.
_DECLARED: Final = {"utf8": "utf-8", "gbk": "gbk", "big5": "big5"}
_SUCCESS_TEXT: Final = {
    "send_sms": "短信发送成功",
    "bind_mobile": "绑定手机成功",
    "get_sms": "获取上行短信成功",
    "cancel_bind": "取消绑定成功",
    "user_info": "获取用户信息成功",
    "recharge": "充值成功",
    "user_stat": "获取发送统计成功",
    "send_voice": "语音验证码发送成功",
}


@dataclass(frozen=True, slots=True)
class Answer:
    """What the server writes back: ``status``, ``content_type`` and ``body``; ``reset`` asks the
    server to drop the connection with no answer at all (a transport fault)."""

    status: int
    content_type: str
    body: bytes
    reset: bool = False


def _iis_page(status: str, title: str, detail: str) -> bytes:
    """An error page in the style of IIS's own (what the host answers before the application runs)."""
    return (
        '<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Strict//EN" '
        '"http://www.w3.org/TR/xhtml1/DTD/xhtml1-strict.dtd">\r\n'
        '<html xmlns="http://www.w3.org/1999/xhtml">\r\n<head>\r\n'
        '<meta http-equiv="Content-Type" content="text/html; charset=utf-8"/>\r\n'
        f"<title>{status} - {title}</title>\r\n</head>\r\n<body>\r\n"
        f'<div id="header"><h1>服务器错误 Server Error</h1></div>\r\n<div id="content">\r\n'
        f"<h2>{status} - {title}</h2>\r\n<h3>{detail}</h3>\r\n</div>\r\n</body>\r\n</html>\r\n"
    ).encode()


#: The Content-Type of the host's error pages.
HTML: Final = "text/html; charset=utf-8"
NOT_FOUND_PAGE: Final = _iis_page(
    "404", "找不到文件或目录 Not Found", "您要查找的资源可能已被删除、已更改名称或者暂时不可用。"
)
FORBIDDEN_PAGE: Final = _iis_page(
    "403 Forbidden",
    "禁止访问：访问被拒绝",
    "您未被授权查看该页。HTTP 403.6 - 客户端的 IP 地址被拒绝 (IP address rejected)。",
)
METHOD_PAGE: Final = _iis_page("405", "不允许使用该动词 Method Not Allowed", "请使用 GET 或 POST。")
ERROR_PAGE: Final = _iis_page("500", "内部服务器错误 Internal Server Error", "服务器暂时无法处理请求。")


def xml_content_type(charset: str) -> str:
    """The Content-Type of an XML answer from the ``charset`` endpoint folder."""
    return f"text/xml; charset={_DECLARED[charset]}"


def render(endpoint: str, charset: str, code: int, extra: Sequence[Any] = ()) -> bytes:
    """The XML answer of ``endpoint`` in the endpoint's charset, declaration included.

    ``extra`` holds ``(name, value)`` elements after ``<message>``; a list value is a container of
    ``(name, value)`` children (one ``<sms>`` reply of get_sms).
    """
    message = _SUCCESS_TEXT[endpoint] if code >= 0 else CODES[code][0]
    lines = [
        f'<?xml version="1.0" encoding="{_DECLARED[charset]}" ?>',
        "<response>",
        f"  <result>{code}</result>",
        f"  <message>{escape(message)}</message>",
    ]
    for name, value in extra:
        if isinstance(value, list):
            inner = "".join(f"<{k}>{escape(str(v))}</{k}>" for k, v in value)
            lines.append(f"  <{name}>{inner}</{name}>")
        else:
            lines.append(f"  <{name}>{escape(str(value))}</{name}>")
    lines.append("</response>")
    # Characters the charset lacks (an emoji in a GBK reply) go out as XML character references.
    return "\n".join(lines).encode(CHARSETS[charset], errors="xmlcharrefreplace")
