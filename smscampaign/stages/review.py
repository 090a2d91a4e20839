"""Review content before the gateway does (审核预检): signature, opt-out, links, numbers, lexicon.

Providers hold bulk content for manual review and refuse marketing texts that lack an opt-out
instruction, carry a malformed signature or links built from data. :func:`review_content` checks a
template or a planned campaign against those rules and returns the findings as data::

    rule                severity  message_zh              message_en                       example  rows
    opt_out_missing     error     营销短信须含退订方式…   marketing content needs an opt-…  …        1000

Rules (``rule`` values), each a row of :data:`RULES`:

- ``signature_missing`` / ``signature_length`` / ``signature_symbols`` (error): a 【signature】 of 2–12
  characters, letters, digits or Chinese only;
- ``signature_brackets`` (error): exactly one 【…】, the signature at the end, none in the body;
- ``opt_out_missing`` (error, marketing): no accepted opt-out instruction (``opt_out`` forms);
- ``opt_out_in_notification`` (warning, notification): an opt-out instruction in a notification;
- ``link`` (warning): a fixed link in the text; ``link_variable`` (error): a placeholder produces a
  link (providers accept only fixed, filed domains);
- ``phone_number`` (warning): a phone number in the text;
- ``unencodable`` (error): characters the charset cannot carry;
- ``lexicon`` (error): a word of the user's lexicon, one finding per word found.

Contents are judged once per distinct text; the lexicon is matched with one Aho-Corasick automaton
(pyahocorasick) over all distinct contents at once.

>>> findings = review_content("春季会员日全场八折【小店】", kind="marketing")
>>> findings["rule"].tolist()
['opt_out_missing']
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Literal, Protocol, runtime_checkable

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from smscampaign.core.errors import ConfigError
from smscampaign.stages.numbers import TEXT
from smscampaign.stages.templates import (
    OPT_OUT_FORMS,
    SIGNATURE_CLOSE,
    SIGNATURE_OPEN,
    Template,
    normalize_signature,
    parse_template,
    split_signature,
)
from smscampaign.wire.protocol import python_codec, unencodable_characters

__all__ = [
    "FINDING_COLUMNS",
    "KINDS",
    "RULES",
    "Lexicon",
    "PlannedContent",
    "load_lexicon",
    "review_content",
]

logger = logging.getLogger(__name__)

Kind = Literal["marketing", "notification"]
KINDS: Final = ("marketing", "notification")
FINDING_COLUMNS: Final = ("rule", "severity", "message_zh", "message_en", "example", "rows")

#: rule → (severity, message_zh, message_en); ``{…}`` filled per finding.
RULES: Final[dict[str, tuple[str, str, str]]] = {
    "signature_missing": (
        "error",
        "缺少签名：内容末尾须有【签名】",
        "no signature: content must end with a 【signature】",
    ),
    "signature_length": (
        "error",
        "签名「{name}」为{length}个字，须为2–12个字",
        "signature 「{name}」 has {length} characters; it must have 2–12",
    ),
    "signature_symbols": (
        "error",
        "签名「{name}」含符号或空格：只能用汉字、字母、数字",
        "signature 「{name}」 contains symbols or spaces: letters, digits and Chinese only",
    ),
    "signature_brackets": (
        "error",
        "【】只能出现一次，用于末尾的签名，正文中不能有",
        "【】 must appear exactly once, around the signature at the end, never in the body",
    ),
    "opt_out_missing": (
        "error",
        "营销短信须含退订方式，如“回T退订”或“拒收请回复R”",
        "marketing content needs an opt-out instruction such as 回T退订 or 拒收请回复R",
    ),
    "opt_out_in_notification": (
        "warning",
        "通知短信含退订方式，可能被当作营销短信审核",
        "a notification carries an opt-out instruction: it may be reviewed as marketing",
    ),
    "link_variable": (
        "error",
        "链接由变量生成：只能使用固定的、已报备的域名",
        "a placeholder produces a link: only fixed, filed domains are accepted",
    ),
    "link": (
        "warning",
        "内容含链接：须为已报备的固定域名，否则会被拦截",
        "the text contains a link: it must be a fixed, filed domain or it is blocked",
    ),
    "phone_number": (
        "warning",
        "内容含电话号码，可能被网关过滤或转人工审核",
        "the text contains a phone number: the gateway may filter it or hold it for review",
    ),
    "unencodable": (
        "error",
        "{charset} 编码无法发送部分字符",
        "{charset} cannot carry some characters",
    ),
    "lexicon": (
        "error",
        "含词库中的词「{word}」",
        "contains the lexicon word 「{word}」",
    ),
}

_SIGNATURE_MIN, _SIGNATURE_MAX = 2, 12
# RE2 and Python alike: scheme or www links, and bare domains under common TLDs (t.cn/abc).
_LINK: Final = (
    r"(?i)(?:https?://|www\.)[^\s\x00，。；、！？“”'\"<>]+"
    r"|\b[a-z0-9-]+(?:\.[a-z0-9-]+)*\.(?:cn|com|net|org|top|xyz|vip|cc|me|io|shop|info|link|ly)\b"
    r"(?:/[^\s\x00，。；、！？“”'\"<>]*)?"
)
_PHONE: Final = (
    r"(?:^|[^0-9])(?:1[3-9][0-9]{9}|0[1-9][0-9]{1,2}-?[0-9]{7,8}|400-?[0-9]{3}-?[0-9]{4}|95[0-9]{3})"
    r"(?:[^0-9]|$)"
)
_LINK_FIELD_NAMES: Final = ("url", "link", "链接", "网址", "短链")
_MARK: Final = "\x00"  # stands for a placeholder's value in the template's literal text


# -- the lexicon ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Lexicon:
    """Words to refuse, compiled once into an Aho-Corasick automaton (case-insensitive)."""

    words: tuple[str, ...]
    automaton: Any

    @classmethod
    def of(cls, words: Iterable[str]) -> Lexicon:
        import ahocorasick  # noqa: PLC0415 - only reviews with a lexicon need it

        distinct = tuple(dict.fromkeys(w.strip().lower() for w in words if w and w.strip()))
        automaton = ahocorasick.Automaton()
        for index, word in enumerate(distinct):
            # Matched on UTF-8 bytes (as latin-1 text): an alphabet of 256 keeps every trie node's
            # fan-out small, where thousands of Chinese first characters make the root slow.
            # UTF-8 is self-synchronising, so a match always starts on a character boundary.
            key = word.encode("utf-8").decode("latin-1")
            automaton.add_word(key, (index, len(key)))
        if distinct:
            automaton.make_automaton()
        return cls(distinct, automaton)

    def find(self, contents: pa.Array, prefix: str = "", suffix: str = "") -> dict[int, np.ndarray]:
        """word index → positions of the contents holding it (contents: non-null strings).

        ``prefix`` / ``suffix``: text every content starts / ends with (a template's literal ends),
        scanned once instead of once per content."""
        if not self.words or len(contents) == 0:
            return {}
        overlap = max(len(w) for w in self.words) - 1  # a word across the edge of a constant end
        shared: dict[int, np.ndarray] = {}
        start, stop = 0, 0
        if (prefix or suffix) and pc.all(
            pc.and_(pc.starts_with(contents, prefix), pc.ends_with(contents, suffix))
        ).as_py():
            every = np.arange(len(contents))
            for text in (prefix, suffix):
                for index in self._scan([text.lower()]):
                    shared[index] = every
            start = max(0, len(prefix) - overlap)
            stop = max(0, len(suffix) - overlap)
        if start or stop:
            contents = pc.utf8_slice_codeunits(contents, start, -stop if stop else 2**31 - 1)
        found = self._find(contents)
        for index, rows in shared.items():
            found[index] = rows
        return found

    def _scan(self, texts: list[str]) -> set[int]:
        """The indices of the words found in ``texts``."""
        return {
            index
            for text in texts
            for _, (index, _) in self.automaton.iter(text.encode("utf-8").decode("latin-1"))
        }

    def _find(self, contents: pa.Array) -> dict[int, np.ndarray]:
        lowered = pa.concat_arrays([pc.utf8_lower(contents).cast(pa.large_string())])  # offset 0
        # One pass over the data buffer, which holds every content back to back.
        _, offsets_buf, data = lowered.buffers()[:3]
        offsets = np.frombuffer(offsets_buf, dtype=np.int64)[: len(lowered) + 1]
        text = b"" if data is None else data.to_pybytes()[: int(offsets[-1])]
        hits = [(end, index, size) for end, (index, size) in self.automaton.iter(text.decode("latin-1"))]
        if not hits:
            return {}
        found = np.array(hits, dtype=np.int64)
        first_byte = found[:, 0] - found[:, 2] + 1
        owner = np.searchsorted(offsets, found[:, 0], side="right") - 1
        inside = first_byte >= offsets[owner]  # a match across two contents is no match
        found, owner = found[inside], owner[inside]
        order = np.lexsort((owner, found[:, 1]))  # by word, then content
        words, owners = found[order, 1], owner[order]
        starts = np.flatnonzero(np.r_[True, words[1:] != words[:-1]])
        result: dict[int, np.ndarray] = {}
        for begin, end in zip(starts, np.r_[starts[1:], len(words)], strict=True):
            result[int(words[begin])] = np.unique(owners[begin:end])
        return result


def load_lexicon(source: str | os.PathLike[str] | Iterable[str] | Lexicon) -> Lexicon:
    """A :class:`Lexicon` from a text file (one word a line, UTF-8 or GBK; blank lines and lines
    starting with ``#`` ignored), an iterable of words, or a Lexicon.

    >>> load_lexicon(["特价", " 秒杀 "]).words
    ('特价', '秒杀')
    """
    if isinstance(source, Lexicon):
        return source
    if isinstance(source, str | os.PathLike):
        path = Path(source)
        if not path.is_file():
            raise FileNotFoundError(f"no lexicon file at {str(path)!r}")
        raw = path.read_bytes()
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            text = raw.decode("gbk", errors="replace")
        words = [line.strip() for line in text.splitlines()]
        return Lexicon.of(w for w in words if w and not w.startswith("#"))
    if isinstance(source, Iterable):
        return Lexicon.of(str(w) for w in source)
    raise ConfigError(f"lexicon must be a file path or words, not {type(source).__name__}")


# -- findings -------------------------------------------------------------------------------------


@dataclass
class _Finding:
    rule: str
    hits: np.ndarray | None  # positions among the distinct contents; None: every content
    fill: dict[str, Any]
    example: str | None = None

    @property
    def severity(self) -> str:
        return RULES[self.rule][0]


def _check(
    contents: pa.Array,
    *,
    body_parts: tuple[str, ...] | None,
    fields: tuple[str, ...],
    signature: str | None,
    kind: Kind,
    lexicon: Lexicon | None,
    opt_out: Iterable[str],
) -> list[_Finding]:
    """The findings over ``contents`` (distinct, non-null); ``body_parts`` are the template's literal
    parts (without the signature) when known."""
    findings: list[_Finding] = []
    n = len(contents)

    # Signature: template-level.
    if signature is None:
        findings.append(_Finding("signature_missing", None, {}))
    else:
        name = signature[len(SIGNATURE_OPEN) : -len(SIGNATURE_CLOSE)]
        if not _SIGNATURE_MIN <= len(name) <= _SIGNATURE_MAX:
            findings.append(_Finding("signature_length", None, {"name": name, "length": len(name)}))
        if not all(ch.isalnum() and ch != "_" for ch in name):
            findings.append(_Finding("signature_symbols", None, {"name": name}))
    # Every content is prefix + variable middle + suffix (the template's literal ends and the
    # signature): the ends are judged once, only the middles per content.
    prefix = suffix = ""
    if body_parts is not None and len(body_parts) >= 2:
        prefix, suffix = body_parts[0], body_parts[-1] + (signature or "")
    framed = bool(n and (prefix or suffix)) and bool(
        pc.all(pc.and_(pc.starts_with(contents, prefix), pc.ends_with(contents, suffix))).as_py()
        and pc.min(pc.utf8_length(contents)).as_py() >= len(prefix) + len(suffix)
    )
    middle = contents
    ends = pa.array([], pa.string())
    if framed:
        middle = pc.utf8_slice_codeunits(contents, len(prefix), -len(suffix) if suffix else 2**31 - 1)
        ends = pa.array([prefix, suffix], pa.string())

    def count(kernel: Any) -> np.ndarray:
        per = np.asarray(kernel(middle).to_numpy(zero_copy_only=False), dtype=np.int64)
        return per + int(np.asarray(kernel(ends).to_numpy(zero_copy_only=False)).sum())

    def has(kernel: Any) -> np.ndarray:
        per = np.asarray(pc.fill_null(kernel(middle), False).to_numpy(zero_copy_only=False), bool)
        return per | bool(np.asarray(kernel(ends).to_numpy(zero_copy_only=False), bool).any())

    opens = count(lambda texts: pc.count_substring(texts, SIGNATURE_OPEN))
    closes = count(lambda texts: pc.count_substring(texts, SIGNATURE_CLOSE))
    expected = 0 if signature is None else 1
    bad = (opens != expected) | (closes != expected)
    if signature is not None and not (framed and suffix.endswith(signature)):
        bad |= ~np.asarray(pc.ends_with(contents, signature).to_numpy(zero_copy_only=False), bool)
    if n and (hits := np.flatnonzero(bad)).size:
        findings.append(_Finding("signature_brackets", hits, {}))

    # Opt-out instruction.
    forms = tuple(dict.fromkeys(str(f) for f in opt_out if str(f).strip()))
    if forms:
        pattern = "(?i)" + "|".join(re.escape(f) for f in forms)
        carries = has(lambda texts: pc.match_substring_regex(texts, pattern))
        if kind == "marketing" and (hits := np.flatnonzero(~carries)).size:
            findings.append(_Finding("opt_out_missing", hits, {}))
        if kind == "notification" and (hits := np.flatnonzero(carries)).size:
            findings.append(_Finding("opt_out_in_notification", hits, {}))

    # Links: fixed (in the template's own text) or produced by a placeholder.
    links = count(lambda texts: pc.count_substring_regex(texts, _LINK))
    literal_links, variable = _literal_links(body_parts, fields)
    if variable:
        findings.append(_Finding("link_variable", None, {}))
    else:
        extra = np.flatnonzero(links > literal_links)
        if body_parts is not None and extra.size:
            findings.append(_Finding("link_variable", extra, {}))
        fixed = np.flatnonzero(links > 0)
        if fixed.size and not (body_parts is not None and extra.size == fixed.size):
            findings.append(_Finding("link", np.setdiff1d(fixed, extra), {}))
    if (hits := np.flatnonzero(has(lambda texts: pc.match_substring_regex(texts, _PHONE)))).size:
        findings.append(_Finding("phone_number", hits, {}))

    # Lexicon words, one finding each.
    if lexicon is not None:
        found = lexicon.find(contents, prefix, suffix)
        for index, hits in sorted(found.items(), key=lambda item: int(item[1][0])):
            findings.append(_Finding("lexicon", hits, {"word": lexicon.words[index]}))
    return findings


def _literal_links(parts: tuple[str, ...] | None, fields: tuple[str, ...]) -> tuple[int, bool]:
    """(links in the template's literal text, whether a placeholder is part of a link)."""
    if parts is None:
        return 0, False
    marked = _MARK.join(parts)
    count, variable = 0, False
    for match in re.finditer(_LINK, marked):
        count += 1
        end = match.end()
        if end < len(marked) and marked[end] == _MARK:
            variable = True
    if any(any(word in name.lower() for word in _LINK_FIELD_NAMES) for name in fields):
        variable = True
    return count, variable


def _table(
    findings: list[_Finding], counts: list[int | None], examples: list[str | None]
) -> pd.DataFrame:
    rows = []
    for finding, count, example in zip(findings, counts, examples, strict=True):
        severity, zh, en = RULES[finding.rule]
        rows.append(
            (
                finding.rule,
                severity,
                zh.format(**finding.fill),
                en.format(**finding.fill),
                example,
                count,
            )
        )
    frame = pd.DataFrame(rows, columns=list(FINDING_COLUMNS))
    for column in FINDING_COLUMNS[:-1]:
        frame[column] = frame[column].astype(TEXT)
    frame["rows"] = pd.array([None if c is None else c for c in frame["rows"]], dtype="Int64")
    order = frame["severity"].map({"error": 0, "warning": 1}).to_numpy()
    return frame.iloc[np.argsort(order, kind="stable")].reset_index(drop=True)


# -- public ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RowReview:
    """The review of planned rows: the findings table and, per row, the first error's reason."""

    findings: pd.DataFrame
    blocked: np.ndarray  # bool per row
    reason: pa.Array  # per row, null where not blocked


def review_rows(
    content: pa.Array,
    live: np.ndarray,
    *,
    template: Template,
    signature: str | None,
    kind: Kind,
    lexicon: Lexicon | None = None,
    opt_out: Iterable[str] = OPT_OUT_FORMS,
    unencodable: tuple[int, str | None, str] | None = None,
    counted: np.ndarray | None = None,
) -> RowReview:
    """Review the contents of the ``live`` rows (used by :func:`plan_campaign`): each error blocks
    the live rows it applies to; the findings' ``rows`` count the ``counted`` ones among them
    (default: every live row; the plan leaves out later rows of a number)."""
    n = len(content)
    idx = np.flatnonzero(live)
    encoded = pc.dictionary_encode(content.take(pa.array(idx)))
    codes = encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64)
    distinct = encoded.dictionary
    weight = np.ones(len(idx), dtype=bool) if counted is None else counted[idx]
    findings = _check(
        distinct,
        body_parts=template.parts,
        fields=template.columns,
        signature=signature,
        kind=kind,
        lexicon=lexicon,
        opt_out=opt_out,
    )
    per_content = np.bincount(codes[weight], minlength=len(distinct))
    counts: list[int | None] = []
    examples: list[str | None] = []
    blocked = np.zeros(n, dtype=bool)
    reason = pa.nulls(n, pa.string())
    for finding in findings:
        if finding.hits is None:
            counts.append(int(weight.sum()))
            examples.append(distinct[0].as_py() if len(distinct) else None)
            rows_hit = idx
        else:
            counts.append(int(per_content[finding.hits].sum()))
            examples.append(distinct[int(finding.hits[0])].as_py())
            rows_hit = idx[np.isin(codes, finding.hits)]
        if finding.severity == "error" and rows_hit.size:
            new = np.zeros(n, dtype=bool)
            new[rows_hit] = True
            new &= ~blocked
            if new.any():
                text = f"{finding.rule}: {RULES[finding.rule][2].format(**finding.fill)}"
                reason = pc.if_else(pa.array(new), text, reason)
                blocked |= new
    if unencodable is not None and unencodable[0]:
        findings.append(_Finding("unencodable", None, {"charset": unencodable[2]}))
        counts.append(unencodable[0])
        examples.append(unencodable[1])
    return RowReview(_table(findings, counts, examples), blocked, reason)


@runtime_checkable
class PlannedContent(Protocol):
    """What :func:`review_content` reads of a planned campaign — a :class:`~smscampaign.Plan` is one.

    ``recipients`` needs ``content``, ``status`` and ``reason`` columns; ``template`` is the
    template as given, ``signature`` the plan's (``【name】`` or ``None``), ``charset`` the one the
    rows were checked in. (The plan lives in the campaign layer, above this module.)
    """

    @property
    def recipients(self) -> pd.DataFrame: ...

    @property
    def template(self) -> str: ...

    @property
    def signature(self) -> str | None: ...

    @property
    def charset(self) -> str: ...


def review_content(
    plan_or_template: PlannedContent | str,
    kind: Kind = "marketing",
    lexicon: str | os.PathLike[str] | Iterable[str] | Lexicon | None = None,
    signature: str | None = None,
    *,
    charset: str | None = None,
    opt_out: Iterable[str] = OPT_OUT_FORMS,
) -> pd.DataFrame:
    """Review a template or a planned campaign as the gateway's reviewers would; nothing is sent.

    ``plan_or_template`` is a :class:`~smscampaign.Plan` (every content it would send, and the
    rows it could not encode) or a template string (its literal text; a ``【…】`` at its end is the
    signature unless ``signature`` is given). ``kind`` is ``"marketing"`` (opt-out required) or
    ``"notification"``; ``lexicon`` a word file or words; ``opt_out`` the accepted opt-out forms;
    ``charset`` (templates only, default utf8) the charset to check.

    Returns the findings, errors first: ``rule, severity (error|warning), message_zh, message_en,
    example`` (a content showing it) and ``rows`` (recipients affected; <NA> for a template). An
    empty frame means nothing to fix.

    >>> review_content("{姓名}您好，八折，回T退订【小店】", kind="marketing").empty
    True
    """
    if kind not in KINDS:
        raise ConfigError(f"kind must be one of {', '.join(KINDS)}, not {kind!r}")
    words = None if lexicon is None else load_lexicon(lexicon)
    if isinstance(plan_or_template, PlannedContent):
        plan = plan_or_template
        tmpl = parse_template(plan.template).without_signature(plan.signature)
        frame = plan.recipients
        has_content = frame["content"].notna() & frame["status"].isin(["ready", "blocked"])
        content = pa.array(frame["content"].astype(TEXT), from_pandas=True).cast(pa.string())
        bad = frame["status"] == "unencodable"
        unencodable = None
        if bad.any():
            unencodable = (int(bad.sum()), str(frame.loc[bad, "reason"].iloc[0]), plan.charset)
        sig = signature and normalize_signature(signature) or plan.signature
        return review_rows(
            content,
            has_content.to_numpy(dtype=bool),
            template=tmpl,
            signature=sig,
            kind=kind,
            lexicon=words,
            opt_out=opt_out,
            unencodable=unencodable,
        ).findings
    if not isinstance(plan_or_template, str):
        raise ConfigError(
            "review_content takes a Plan (from plan_campaign) or a template string, "
            f"not {type(plan_or_template).__name__}"
        )
    tmpl, sig = split_signature(parse_template(plan_or_template), signature)
    text = tmpl.text if sig is None else _shown_body(tmpl) + sig
    contents = pa.array([text], type=pa.string())
    findings = _check(
        contents,
        body_parts=tmpl.parts,
        fields=tmpl.columns,
        signature=sig,
        kind=kind,
        lexicon=words,
        opt_out=opt_out,
    )
    chars = unencodable_characters(text, charset or "utf8") if charset else ()
    if charset:
        python_codec(charset)  # an unknown charset is a ConfigError
    if chars:
        findings.append(_Finding("unencodable", None, {"charset": charset}))
    return _table(findings, [None] * len(findings), [text] * len(findings))


def _shown_body(tmpl: Template) -> str:
    """The template's body with its placeholders written as ``{name}``."""
    out = [tmpl.parts[0]]
    for name, part in zip(tmpl.fields, tmpl.parts[1:], strict=True):
        out.append("{" + name + "}")
        out.append(part)
    return "".join(out)
