"""Message templates: ``{column}`` placeholders, ``【signature】``, length as the gateway counts.

A template is text with placeholders naming columns of the recipient frame, Chinese names
included; ``{{`` and ``}}`` stand for literal braces. The signature goes at the **end** of every
content and counts towards the 70-character limit, which the gateway measures in UTF-16 code units
(an emoji counts 2).

>>> t = parse_template("{姓名}您好，会员日全场八折")
>>> t.fields
('姓名',)
>>> normalize_signature(" 小店 ")
'【小店】'
>>> sms_length("您好😀【小店】")
8
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from smscampaign.core.errors import TemplateError
from smscampaign.wire.protocol import sms_length

__all__ = [
    "OPT_OUT_FORMS",
    "Template",
    "astral_counts",
    "field_text",
    "normalize_signature",
    "parse_template",
    "render_bodies",
    "resolve_columns",
    "sms_length",
    "sms_lengths",
    "split_opt_out",
    "split_signature",
    "truncate_sms",
]

logger = logging.getLogger(__name__)

SIGNATURE_OPEN: Final = "【"
SIGNATURE_CLOSE: Final = "】"
#: Opt-out instructions providers accept at the end of a marketing text (case is ignored). The plan
#: never truncates one away; the review requires one in marketing content.
OPT_OUT_FORMS: Final = (
    "回T退订",
    "回TD退订",
    "回复T退订",
    "回复TD退订",
    "退订回T",
    "退订回TD",
    "退订回复T",
    "退订回复TD",
    "退订请回复T",
    "回N退订",
    "回0退订",
    "拒收请回复R",
    "拒收回R",
    "回R拒收",
)
# Separators that belong with a trailing opt-out (", 回T退订" keeps its comma).
_OPT_OUT_LEAD: Final = r"[\s，,。.;；、!！]*"
_OPT_OUT_TAIL: Final = r"[\s。.!！]*"
# `{{`, `}}`, a placeholder `{name}`, or a lone brace (an error).
_TOKEN: Final = re.compile(r"\{\{|\}\}|\{([^{}]*)\}|[{}]")


def sms_lengths(texts: pa.Array | pa.ChunkedArray) -> pa.Array:
    """:func:`sms_length` of every string of a pyarrow array, vectorised (nulls stay null).

    >>> sms_lengths(pa.array(["您好", "😀", None])).to_pylist()
    [2, 2, None]
    """
    if isinstance(texts, pa.ChunkedArray):
        texts = texts.combine_chunks()
    units = pc.cast(pc.utf8_length(texts), pa.int64())
    astral = astral_counts(texts)
    if not astral.any():
        return units
    return pc.add(units, pa.array(astral))


def astral_counts(texts: pa.Array) -> np.ndarray:
    """How many characters outside the BMP (two UTF-16 units each) every string holds (null: 0).

    Counts UTF-8 lead bytes ``0xF0``–``0xF4`` straight in the Arrow data buffer: much faster than a
    regular expression per string, and a single pass when there are none.

    >>> astral_counts(pa.array(["a😀😀", "您好", None])).tolist()
    [2, 0, 0]
    """
    n = len(texts)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    if not (pa.types.is_string(texts.type) or pa.types.is_large_string(texts.type)):
        texts = texts.cast(pa.string())
    width = np.int64 if pa.types.is_large_string(texts.type) else np.int32
    _, offsets_buf, data_buf = texts.buffers()[:3]
    offsets = np.frombuffer(offsets_buf, dtype=width)[texts.offset : texts.offset + n + 1]
    offsets = offsets.astype(np.int64) - int(offsets[0])
    if data_buf is None or offsets[-1] == 0:
        return np.zeros(n, dtype=np.int64)
    start = int(np.frombuffer(offsets_buf, dtype=width)[texts.offset])
    data = np.frombuffer(data_buf, dtype=np.uint8)[start : start + int(offsets[-1])]
    lead = data >= 0xF0
    if not lead.any():
        return np.zeros(n, dtype=np.int64)
    total = np.concatenate(([0], np.cumsum(lead, dtype=np.int64)))
    return total[offsets[1:]] - total[offsets[:-1]]


def truncate_sms(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` UTF-16 code units, never splitting a character.

    >>> truncate_sms("ab😀c", 3)
    'ab'
    """
    used = 0
    for i, ch in enumerate(text):
        used += 2 if ord(ch) > 0xFFFF else 1
        if used > limit:
            return text[:i]
    return text


def _opt_out_pattern(forms: Iterable[str]) -> str:
    """A regular expression (RE2 and Python) splitting text into ``head`` and a trailing opt-out."""
    alternatives = "|".join(re.escape(f) for f in sorted(set(forms), key=len, reverse=True))
    return rf"(?is)^(?P<head>.*?)(?P<tail>{_OPT_OUT_LEAD}(?:{alternatives}){_OPT_OUT_TAIL})$"


def split_opt_out(texts: pa.Array, forms: Iterable[str] = OPT_OUT_FORMS) -> tuple[pa.Array, pa.Array]:
    """Split every text into (head, trailing opt-out instruction); the tail is ``""`` where there is
    none. Vectorised; nulls stay null in the head.

    >>> head, tail = split_opt_out(pa.array(["八折，回T退订", "八折"]))
    >>> head.to_pylist(), tail.to_pylist()
    (['八折', '八折'], ['，回T退订', ''])
    """
    parts = pc.extract_regex(texts, _opt_out_pattern(forms))
    head = pc.coalesce(pc.struct_field(parts, "head"), texts)
    tail = pc.fill_null(pc.struct_field(parts, "tail"), "")
    return head, tail


def normalize_signature(signature: str | None) -> str | None:
    """The signature as ``【name】``: ``"小店"`` and ``"【小店】"`` both give ``"【小店】"``.

    Surrounding whitespace is stripped, inside and outside the brackets; ``None`` or an empty
    signature means none. Brackets left inside the name are refused (the gateway would not
    recognise it).

    >>> normalize_signature("【 小店 】"), normalize_signature("  ")
    ('【小店】', None)
    """
    if signature is None:
        return None
    if not isinstance(signature, str):
        raise TemplateError(f"signature must be a string, not {type(signature).__name__}")
    name = signature.strip()
    if name.startswith(SIGNATURE_OPEN) and name.endswith(SIGNATURE_CLOSE):
        name = name[len(SIGNATURE_OPEN) : -len(SIGNATURE_CLOSE)].strip()
    if not name:
        return None
    if SIGNATURE_OPEN in name or SIGNATURE_CLOSE in name:
        raise TemplateError(f"signature {signature!r} must be a name such as '小店' or '【小店】'")
    return f"{SIGNATURE_OPEN}{name}{SIGNATURE_CLOSE}"


@dataclass(frozen=True, slots=True)
class Template:
    """A parsed template: literal ``parts`` around ``fields`` (``len(parts) == len(fields) + 1``).

    ``text`` is the template as written. Literal braces are already unescaped in ``parts``.

    >>> parse_template("{{VIP}} {姓名}").parts
    ('{VIP} ', '')
    """

    text: str
    parts: tuple[str, ...]
    fields: tuple[str, ...]

    @property
    def columns(self) -> tuple[str, ...]:
        """The distinct placeholder names, in order of first appearance."""
        return tuple(dict.fromkeys(self.fields))

    @property
    def is_constant(self) -> bool:
        """True when the template has no placeholder: every recipient gets the same text."""
        return not self.fields

    def literal_text(self) -> str:
        """All literal parts joined (the text a constant template renders to)."""
        return "".join(self.parts)

    def without_signature(self, signature: str | None) -> Template:
        """This template with a trailing ``signature`` removed, so that it is not added twice."""
        if not signature or not self.parts[-1].rstrip().endswith(signature):
            return self
        last = self.parts[-1].rstrip()[: -len(signature)]
        return Template(self.text, (*self.parts[:-1], last), self.fields)

    def render(self, values: Mapping[str, Any]) -> str:
        """Render one message from a mapping of placeholder name to value (for previews and tests).

        >>> parse_template("{姓名}您好").render({"姓名": "张三"})
        '张三您好'
        """
        missing = [name for name in self.columns if name not in values]
        if missing:
            raise TemplateError(f"no value for placeholder(s): {', '.join(missing)}")
        out = [self.parts[0]]
        for name, part in zip(self.fields, self.parts[1:], strict=True):
            out.append(str(values[name]))
            out.append(part)
        return "".join(out)


def split_signature(template: Template, signature: str | None = None) -> tuple[Template, str | None]:
    """(the template without its signature, the signature as ``【name】`` or ``None``).

    A given ``signature`` is normalised and removed from the template's end if written there too;
    without one, a ``【…】`` ending the template is taken as the signature.

    >>> tmpl, sig = split_signature(parse_template("{姓名}您好【小店】"))
    >>> tmpl.parts, sig
    (('', '您好'), '【小店】')
    """
    sig = normalize_signature(signature)
    if sig is not None:
        return template.without_signature(sig), sig
    tail = template.parts[-1].rstrip()
    if tail.endswith(SIGNATURE_CLOSE) and SIGNATURE_OPEN in tail:
        candidate = tail[tail.rindex(SIGNATURE_OPEN) :]
        try:
            found = normalize_signature(candidate)
        except TemplateError:
            return template, None
        if found == candidate:
            return template.without_signature(found), found
    return template, None


def parse_template(text: str) -> Template:
    """Parse ``{column}`` placeholders; ``{{``/``}}`` are literal braces.

    Raises :class:`TemplateError` for an empty placeholder ``{}``, an unmatched brace or an empty
    template. Whitespace just inside the braces is ignored: ``{ 姓名 }`` names ``姓名``.

    >>> parse_template("{姓名}您好，您的积分是{积分}").fields
    ('姓名', '积分')
    """
    if not isinstance(text, str):
        raise TemplateError(f"template must be a string, not {type(text).__name__}")
    if not text.strip():
        raise TemplateError("template is empty")
    parts: list[str] = []
    fields: list[str] = []
    literal: list[str] = []
    pos = 0
    for match in _TOKEN.finditer(text):
        literal.append(text[pos : match.start()])
        pos = match.end()
        token = match.group(0)
        if token == "{{":
            literal.append("{")
        elif token == "}}":
            literal.append("}")
        elif match.group(1) is not None:
            name = match.group(1).strip()
            if not name:
                raise TemplateError(
                    f"empty placeholder '{{}}' at position {match.start()} of the template"
                )
            parts.append("".join(literal))
            literal = []
            fields.append(name)
        else:
            raise TemplateError(
                f"unmatched {token!r} at position {match.start()} of the template; "
                f"write {token * 2!r} for a literal brace"
            )
    literal.append(text[pos:])
    parts.append("".join(literal))
    return Template(text, tuple(parts), tuple(fields))


def field_text(values: pd.Series) -> pa.Array:
    """A column as the text it contributes to messages: a pyarrow string array, null where empty.

    Text is stripped of surrounding whitespace; empty text, ``None`` and ``NaN`` become null. Whole
    floats (``100.0``, as spreadsheets store integers) render without the ``.0``; dates at midnight
    render as ``YYYY-MM-DD``. Does not modify ``values``.

    >>> field_text(pd.Series([" 张三 ", "", 3.0])).to_pylist()
    ['张三', None, '3']
    """
    kind = values.dtype.kind
    arr: pa.Array | pa.ChunkedArray | None
    if isinstance(values.dtype, pd.CategoricalDtype):
        labels = field_text(pd.Series(values.cat.categories))
        codes = values.cat.codes.to_numpy()
        return labels.take(pa.array(codes, mask=codes < 0))
    if kind in "iu":
        arr = pc.cast(pa.array(values.to_numpy()), pa.string())
    elif kind == "f":
        floats = values.to_numpy(dtype="float64", na_value=np.nan)
        finite = floats[np.isfinite(floats)]
        if finite.size and np.all(finite == np.round(finite)) and np.all(np.abs(finite) < 2**53):
            ints = pa.array(
                np.where(np.isfinite(floats), floats, 0).astype("int64"), mask=~np.isfinite(floats)
            )
            arr = pc.cast(ints, pa.string())
        else:
            arr = pc.cast(pa.array(floats, mask=np.isnan(floats)), pa.string())
    elif kind == "M":
        stamps = pd.Series(values, copy=False)
        if stamps.dt.tz is not None:
            stamps = stamps.dt.tz_localize(None)
        whole_days = bool((stamps.dropna() == stamps.dropna().dt.normalize()).all())
        fmt = "%Y-%m-%d" if whole_days else "%Y-%m-%d %H:%M:%S"
        arr = pa.array(
            stamps.dt.strftime(fmt).astype(object).where(stamps.notna(), None), type=pa.string()
        )
    elif isinstance(values.dtype, pd.StringDtype):
        arr = pa.array(values, from_pandas=True)
    else:
        try:  # the common case: text and missing values only
            arr = pa.array(values.to_numpy(dtype=object), type=pa.string(), from_pandas=True)
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            arr = None
    if arr is None:
        objs = values.to_numpy(dtype=object)
        mask = pd.isna(values).to_numpy()
        arr = pa.array(
            [None if m else _scalar_text(v) for v, m in zip(objs, mask, strict=True)], type=pa.string()
        )
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    if not pa.types.is_string(arr.type):
        arr = arr.cast(pa.string())
    arr = pc.utf8_trim_whitespace(arr)
    return pc.if_else(pc.equal(pc.utf8_length(arr), 0), pa.scalar(None, pa.string()), arr)


def _scalar_text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return str(int(value))
    if isinstance(value, pd.Timestamp | np.datetime64):
        stamp = pd.Timestamp(value)
        return stamp.strftime("%Y-%m-%d" if stamp == stamp.normalize() else "%Y-%m-%d %H:%M:%S")
    return str(value)


def resolve_columns(template: Template, columns: Iterable[Any]) -> dict[str, Any]:
    """Map each placeholder of ``template`` to the column label it names.

    Labels are compared as text, so ``{2024}`` finds a column labelled ``2024``. Raises
    :class:`TemplateError` naming the unknown placeholders and listing the columns there are.

    >>> resolve_columns(parse_template("{姓名}您好"), ["mobile", "姓名"])
    {'姓名': '姓名'}
    """
    labels = list(columns)
    by_text: dict[str, Any] = {}
    for label in labels:
        by_text.setdefault(str(label), label)
        by_text.setdefault(str(label).strip(), label)
    unknown = [name for name in template.columns if name not in by_text]
    if unknown:
        shown = ", ".join(f"{{{name}}}" for name in unknown)
        available = ", ".join(str(label) for label in labels) or "(none)"
        raise TemplateError(f"placeholder {shown} names no column; the columns are: {available}")
    return {name: by_text[name] for name in template.columns}


def render_bodies(template: Template, values: Mapping[str, pa.Array], length: int) -> pa.Array:
    """Render ``template`` for every row, vectorised: one string a row, null where a value is null.

    ``values`` maps each placeholder to a pyarrow string array of ``length`` rows (see
    :func:`field_text`).

    >>> t = parse_template("{姓名}您好")
    >>> render_bodies(t, {"姓名": pa.array(["张三", None])}, 2).to_pylist()
    ['张三您好', None]
    """
    if template.is_constant:
        return pa.repeat(pa.scalar(template.literal_text(), pa.string()), length)
    pieces: list[Any] = []
    for part, name in zip(template.parts, template.fields, strict=False):
        if part:
            pieces.append(part)
        pieces.append(values[name])
    if template.parts[-1]:
        pieces.append(template.parts[-1])
    if len(pieces) == 1:
        return pieces[0]
    return pc.binary_join_element_wise(*pieces, "", null_handling="emit_null")
