"""Replies coming back: fetch them, receive them pushed, store them once, find the opt-outs.

The gateway hands replies over in two ways, and both end in one :class:`ReplyStore` (SQLite,
:mod:`smscampaign.memory.replies`), where the same reply (same sender, content and receive time) is
kept once whichever way it came:

- **pull** — :func:`fetch_replies` calls ``get_sms`` until the gateway says −122 (no replies);
- **push** — :func:`reply_receiver` is a WSGI app for the URL set in the gateway's console; it checks the
  shared key in constant time, stores the reply and answers ``ok``. :func:`serve_replies` serves it with
  waitress (``smscampaign receive`` on the command line).

:func:`opt_outs` turns replies into the numbers that asked to be left alone (退订, TD, STOP …), ready for
``plan_campaign(suppress=…)``.

>>> import smscampaign as sc
>>> with sc.ReplyStore(":memory:") as store:                             # doctest: +SKIP
...     sc.fetch_replies(gw, store=store)
...     suppress = sc.opt_outs(store.to_frame())
"""

from __future__ import annotations

import hmac
import logging
import sqlite3
from collections.abc import Callable, Iterable
from typing import Any, Final
from urllib.parse import parse_qsl

import pandas as pd

from smscampaign.core.dtypes import TEXT
from smscampaign.core.errors import (
    AccountError,
    ConfigError,
    GatewayError,
    GatewayHTTPError,
    GatewayRedirect,
    ReplyError,
    SmsCampaignError,
)
from smscampaign.memory.replies import (
    DETAIL_COLUMNS,
    REPLY_COLUMNS,
    STORE_COLUMNS,
    ReplyStore,
    beijing_datetimes,
    beijing_time_text,
    sender_text,
)
from smscampaign.stages.keywords import OPT_OUT_KEYWORDS, keyword_key
from smscampaign.stages.shapes import normalize_numbers
from smscampaign.wire.gateway import Gateway
from smscampaign.wire.protocol import DECLARED_CODECS, python_codec

__all__ = [
    "DETAIL_COLUMNS",
    "MAX_PUSH_BYTES",
    "OPT_OUT_KEYWORDS",
    "REPLY_COLUMNS",
    "STORE_COLUMNS",
    "ReplyStore",
    "fetch_replies",
    "opt_outs",
    "reply_receiver",
    "reply_server",
    "serve_replies",
]

logger = logging.getLogger(__name__)

#: Largest push body accepted (413 above).
MAX_PUSH_BYTES: Final = 64 * 1024

#: Connections the push receiver keeps open at once (waitress's default is 100: 101 slow clients
#: would keep real pushes waiting). Each costs a file descriptor and little memory.
CONNECTION_LIMIT: Final = 2000
#: Seconds a connection may stay idle: a push is one small request, answered at once.
_CHANNEL_TIMEOUT: Final = 30

#: The fields of the push we understand; any other one is kept in ``extra``.
_PUSH_FIELDS: Final = frozenset({"sender", "content", "receivetime", "key"})
_MAX_PAGES: Final = 100_000  # a gateway that never answers −122 must not loop forever


# -- pull -------------------------------------------------------------------------------------------


def _empty_replies(columns: tuple[str, ...] = REPLY_COLUMNS) -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "sender": pd.Series([], dtype=TEXT),
            "content": pd.Series([], dtype=TEXT),
            "receivetime": beijing_datetimes([]),
        }
    )
    if "received_via" in columns:
        frame["received_via"] = pd.Series([], dtype=TEXT)
    return frame


def _replies_frame(items: list[dict[str, str]]) -> pd.DataFrame:
    if not items:
        return _empty_replies()
    return pd.DataFrame(
        {
            "sender": pd.Series([sender_text(i.get("sender")) for i in items], dtype=TEXT),
            "content": pd.Series([i.get("content", "") for i in items], dtype=TEXT),
            "receivetime": beijing_datetimes(beijing_time_text(i.get("receivetime")) for i in items),
        }
    )


def fetch_replies(gateway: Gateway, store: Any = None) -> pd.DataFrame:
    """Fetch every reply not fetched yet: ``sender, content, receivetime`` (datetime, Beijing time).

    Calls ``get_sms`` until it answers −122 (no replies — not an error; an empty frame when there
    were none at all). The gateway counts replies as fetched once it has returned them, so each page
    is written to ``store`` (``received_via="fetch"``) as soon as it arrives: a :class:`ReplyStore`,
    by default the campaign home's :class:`~smscampaign.History`, ``False`` for none.

    Any other negative code raises :class:`AccountError` with the decoded code (``exc.info``; its
    ``category`` says ``account`` for credentials, frozen, expired …, ``retryable`` for maintenance,
    ``request`` for −120 / −121 "fetching / updating received messages failed"). Transport failures
    raise :class:`GatewayError`. Either way the replies of earlier pages are not lost: they are
    already in ``store``, and the exception carries them as ``exc.replies`` (a frame like the result;
    the gateway client retries ``get_sms`` where that cannot lose replies).

    >>> replies = fetch_replies(gw)                         # doctest: +SKIP
    >>> replies.columns.tolist()                            # doctest: +SKIP
    ['sender', 'content', 'receivetime']
    """
    if store is None:  # kept in the campaign home by default (issue 13); store=False keeps nothing
        from smscampaign.memory.history import History  # noqa: PLC0415

        with History() as home:
            return fetch_replies(gateway, store=home)
    pages: list[pd.DataFrame] = []

    def collected() -> pd.DataFrame:
        return pd.concat(pages, ignore_index=True) if pages else _empty_replies()

    for _ in range(_MAX_PAGES):
        try:
            response = gateway.get_sms()
        except GatewayError as exc:
            raise _with_replies(exc, collected()) from exc
        if response.code == -122:
            break
        if not response.ok:
            got = collected()
            logger.warning("get_sms answered %s after %d replies", response.info, len(got))
            raise AccountError(
                f"get_sms failed: {response.info}",
                code=response.code,
                info=response.info,
                replies=got,
            )
        page = _replies_frame(list(response.items))
        if store is not False and len(page):
            store.add(page, received_via="fetch")
        pages.append(page)
        if not response.items:  # success without replies: nothing more to page through
            break
    frame = collected()
    logger.info("fetched %d replies", len(frame))
    return frame


def _with_replies(exc: GatewayError, replies: pd.DataFrame) -> GatewayError:
    """The same failure, of the same class, carrying the replies fetched before it."""
    kwargs: dict[str, Any] = {
        "endpoint": exc.endpoint,
        "request_sent": exc.request_sent,
        "replies": replies,
    }
    if isinstance(exc, (GatewayHTTPError, GatewayRedirect)):
        kwargs["status"] = exc.status
    return type(exc)(str(exc), **kwargs)


# -- push -------------------------------------------------------------------------------------------

StartResponse = Callable[..., Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


def _answer(start_response: StartResponse, status: str, text: str) -> list[bytes]:
    body = text.encode("utf-8")
    start_response(
        status, [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(body)))]
    )
    return [body]


def _declared_codec(content_type: str) -> str | None:
    """The codec of a ``Content-Type: …; charset=…`` header, if it names one we know."""
    for part in content_type.split(";")[1:]:
        name, _, value = part.partition("=")
        if name.strip().lower() == "charset":
            return DECLARED_CODECS.get(value.strip().strip("\"'").lower())
    return None


def _decode_text(data: bytes, codec: str, *, declared: bool) -> tuple[str, bool]:
    """``data`` as text, and whether it failed to decode (then shown with ``\\x..`` escapes).

    Without a declared charset, valid UTF-8 wins over a configured GBK or Big5: UTF-8 bytes of
    Chinese text also decode as GBK — as mojibake (取消 → 鍙栨秷), which would hide an opt-out —
    while GBK or Big5 Chinese text is practically never valid UTF-8.
    """
    if data.isascii():
        return data.decode("ascii"), False
    if not declared and codec != "utf-8":
        try:
            return data.decode("utf-8"), False
        except UnicodeDecodeError:
            pass
    try:
        return data.decode(codec), False
    except UnicodeDecodeError:
        return data.decode(codec, "backslashreplace"), True


def reply_receiver(key: str, store: ReplyStore, charset: str = "utf8") -> WSGIApp:
    """A WSGI app receiving the gateway's reply push into ``store`` (``received_via="push"``).

    Accepts POST (form body) and GET (query string) with fields ``sender, content, receivetime, key``,
    percent-encoded in the charset the request declares (``Content-Type: …; charset=gbk``), else in
    ``charset`` (``utf8``, ``gbk``, ``big5`` — as set in the gateway's console). Content whose bytes
    do not decode is still stored — never dropped, never as mojibake: flagged ``decode_error``, its
    bytes kept in ``raw`` (see :meth:`ReplyStore.undecoded`). Fields we do not know (e.g. ``type``)
    are kept as JSON in ``extra``. Answers, in this order of checks:

    - 405 for other methods; 413 for a body over :data:`MAX_PUSH_BYTES` (never read past the limit);
    - 400 for a body that is not a form;
    - 403 for a wrong or missing ``key`` (compared in constant time; nothing stored, the key never
      logged);
    - 400 for a missing ``content``, or a missing or malformed ``sender`` / ``receivetime``
      (``YYYY-MM-DD HH:MM:SS``);
    - 200 ``ok`` once stored — also for a reply already stored, so the gateway does not retry.

    >>> app = reply_receiver(os.environ["PUSH_KEY"], ReplyStore("replies.sqlite"))   # doctest: +SKIP
    >>> waitress.serve(app, host="0.0.0.0", port=8081)                            # doctest: +SKIP
    """
    configured: str = DECLARED_CODECS[python_codec(charset)]
    if not key:
        raise ConfigError("the push key must not be empty")
    expected = key.encode("utf-8")

    def app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        method = environ.get("REQUEST_METHOD", "GET").upper()
        if method not in ("GET", "POST"):
            start_response(
                "405 Method Not Allowed",
                [("Allow", "GET, POST"), ("Content-Type", "text/plain"), ("Content-Length", "18")],
            )
            return [b"method not allowed"]
        if method == "POST":
            declared = str(environ.get("CONTENT_LENGTH") or "").strip()
            if declared and (not declared.isdigit()):
                return _answer(start_response, "400 Bad Request", "bad content length")
            if declared and int(declared) > MAX_PUSH_BYTES:
                return _answer(start_response, "413 Content Too Large", "too large")
            stream = environ["wsgi.input"]
            raw = stream.read(int(declared)) if declared else stream.read(MAX_PUSH_BYTES + 1)
            if len(raw) > MAX_PUSH_BYTES:
                return _answer(start_response, "413 Content Too Large", "too large")
        else:
            raw = str(environ.get("QUERY_STRING", "")).encode("latin-1", "replace")
            if len(raw) > MAX_PUSH_BYTES:
                return _answer(start_response, "413 Content Too Large", "too large")
        declared_codec = _declared_codec(str(environ.get("CONTENT_TYPE", "")))
        codec = declared_codec or configured
        try:
            # Latin-1 maps bytes to code points one to one: percent-decoding yields the raw bytes,
            # decoded below field by field, so that one bad field cannot lose the others.
            pairs = parse_qsl(raw.decode("latin-1"), keep_blank_values=True, encoding="latin-1")
        except ValueError:
            return _answer(start_response, "400 Bad Request", "body is not a form")
        fields: dict[str, bytes] = {}
        for name, value in pairs:
            fields.setdefault(name, value.encode("latin-1"))
        given_text, given_bad = _decode_text(fields.get("key", b""), codec, declared=True)
        given = b"" if given_bad else given_text.encode("utf-8")
        if not hmac.compare_digest(given, expected):
            logger.warning(
                "reply push refused: wrong or missing key (from %s)", environ.get("REMOTE_ADDR")
            )
            return _answer(start_response, "403 Forbidden", "forbidden")
        sender = sender_text(fields.get("sender", b"").decode("latin-1"))
        when = beijing_time_text(fields.get("receivetime", b"").decode("latin-1"))
        if "content" not in fields or when is None or not (sender.isdigit() and len(sender) == 11):
            return _answer(start_response, "400 Bad Request", "need sender, content and receivetime")
        content, bad = _decode_text(fields["content"], codec, declared=declared_codec is not None)
        extra = {
            _decode_text(name.encode("latin-1"), codec, declared=True)[0]: _decode_text(
                value, codec, declared=declared_codec is not None
            )[0]
            for name, value in fields.items()
            if name not in _PUSH_FIELDS
        }
        record = {
            "sender": sender,
            "content": content,
            "receivetime": when,
            "decode_error": bad,
            "raw": fields["content"] if bad else None,
            "extra": extra,
        }
        if bad:
            logger.warning(
                "reply from %s does not decode as %s: stored with decode_error, raw bytes kept",
                sender,
                codec,
            )
        try:
            added = store.add([record], "push")
        except (sqlite3.Error, SmsCampaignError):
            logger.exception("reply push could not be stored")
            return _answer(start_response, "500 Internal Server Error", "not stored")
        logger.info("reply pushed from %s (%s)", sender, "new" if added else "already stored")
        return _answer(start_response, "200 OK", "ok")

    return app


def reply_server(
    app_or_key: WSGIApp | str,
    store: Any = None,
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    charset: str = "utf8",
    threads: int = 4,
    connection_limit: int = CONNECTION_LIMIT,
) -> Any:
    """The waitress server of the push receiver, bound but not yet serving (``.run()`` serves).

    ``app_or_key`` is an app from :func:`reply_receiver`, or the key to build one over ``store``
    (default: the campaign home) and ``charset``. Slow or idle clients cannot starve real pushes:
    up to ``connection_limit`` connections are served at once (waitress's default is 100), only
    complete requests reach the ``threads`` workers, and polling is not bound by ``select``'s
    1,024 descriptors. On the internet, put it behind a reverse proxy (see the README)."""
    from waitress import create_server  # noqa: PLC0415 (only the server needs it)

    if connection_limit < 1:
        raise ConfigError(f"connection_limit must be at least 1, not {connection_limit}")
    if isinstance(app_or_key, str):
        if store is None:  # the campaign home by default (issue 13)
            from smscampaign.memory.history import History  # noqa: PLC0415

            store = History()
        app = reply_receiver(app_or_key, store, charset)
    else:
        app = app_or_key
    return create_server(
        app,
        host=host,
        port=port,
        threads=threads,
        max_request_body_size=MAX_PUSH_BYTES + 1,
        connection_limit=connection_limit,
        channel_timeout=_CHANNEL_TIMEOUT,
        asyncore_use_poll=True,
    )


def serve_replies(
    app_or_key: WSGIApp | str,
    store: Any = None,
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    charset: str = "utf8",
    threads: int = 4,
    ready: Callable[[str], None] | None = None,
    connection_limit: int = CONNECTION_LIMIT,
) -> None:
    """Serve the push receiver with waitress until interrupted (blocking): :func:`reply_server`.

    ``app_or_key`` is an app from :func:`reply_receiver`, or the key to build one over ``store`` (and
    ``charset``). ``ready`` is called with the URL once the port is bound (port 0 = a free one), before
    serving — the command line prints it.
    """
    server = reply_server(
        app_or_key,
        store,
        host,
        port,
        charset=charset,
        threads=threads,
        connection_limit=connection_limit,
    )
    bound_host, bound_port = server.socket.getsockname()[:2]
    url = f"http://{bound_host}:{bound_port}/"
    logger.info("receiving reply pushes at %s", url)
    if ready is not None:
        ready(url)
    try:
        server.run()
    finally:
        server.close()


# -- opt-outs ---------------------------------------------------------------------------------------


def _records(replies: pd.DataFrame | ReplyStore) -> pd.DataFrame:
    if not isinstance(replies, (ReplyStore, pd.DataFrame)):
        raise ReplyError(f"replies must be a DataFrame or a ReplyStore, not {type(replies).__name__}")
    frame = replies.to_frame() if isinstance(replies, ReplyStore) else replies
    missing = {"sender", "content"} - set(frame.columns)
    if missing:
        raise ReplyError(f"replies need columns sender and content; missing {sorted(missing)}")
    return frame


def opt_outs(
    replies: pd.DataFrame | ReplyStore, keywords: Iterable[str] = OPT_OUT_KEYWORDS
) -> pd.Series:
    """The distinct numbers (``mobile``, 11 digits, in order of first opt-out) whose reply is an
    opt-out keyword — feed it to ``plan_campaign(suppress=…)``.

    A reply counts when, ignoring case, full/half width and surrounding whitespace, punctuation and
    symbols, it *is* one of ``keywords`` (default :data:`OPT_OUT_KEYWORDS`): ``ＴＤ``, ``退订。`` and
    `` stop! `` opt out; ``T恤还有吗`` and an empty reply do not. An opt-out is never undone by a later
    reply. ``replies`` is a frame with ``sender, content`` (e.g. :func:`fetch_replies`) or a
    :class:`ReplyStore`; it is not mutated.

    >>> replies = {"sender": ["13800138000", "13900139000"], "content": ["退订。", "T恤还有吗"]}
    >>> opt_outs(pd.DataFrame(replies))
    0    13800138000
    Name: mobile, dtype: string
    """
    frame = _records(replies)
    wanted = {keyword_key(k) for k in keywords} - {""}
    contents = frame["content"].astype(object).where(frame["content"].notna(), "")
    hit = [(keyword_key(str(c)) in wanted) for c in contents]
    senders = normalize_numbers(frame["sender"].reset_index(drop=True))[
        pd.Series(hit, dtype=bool).to_numpy()
    ]
    numbers = senders.dropna().drop_duplicates().reset_index(drop=True)
    return pd.Series(numbers, dtype=TEXT, name="mobile")
