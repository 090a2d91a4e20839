"""smscampaign.stages.recipients: every format, exact text cells, column and sheet detection, errors."""

import datetime
import io
import pathlib
import subprocess
import sys
import zipfile

import openpyxl
import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

import smscampaign as sc
from smscampaign.stages.numbers import TEXT

ROWS = [
    ["张三", "13800138000", "北京"],
    ["李四", "+86 139-0013-9000", "上海"],
    ["王五", None, "NA"],
]
HEADER = ["姓名", "手机号码", "城市"]


def expected(rows=ROWS, header=HEADER, source_rows=(2, 3, 4)) -> pd.DataFrame:
    df = pd.DataFrame({h: pd.array([r[i] for r in rows], dtype=TEXT) for i, h in enumerate(header)})
    df.insert(0, "source_row", list(source_rows))
    return df


def write_csv(path, rows=ROWS, header=HEADER, encoding="utf-8", delimiter=","):
    lines = [delimiter.join(header)] + [delimiter.join(c or "" for c in r) for r in rows]
    path.write_bytes(("\n".join(lines) + "\n").encode(encoding))
    return path


# --- text files ---------------------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030", "utf-16"])
def test_csv_encodings(tmp_path, encoding):
    df = sc.load_recipients(write_csv(tmp_path / "list.csv", encoding=encoding))
    assert_frame_equal(df, expected())
    assert df.attrs["phone_column"] == "手机号码"
    assert df.attrs["encoding"] in {"utf-8", "gb18030", "utf-16"}


def test_gbk_is_detected(tmp_path):
    path = tmp_path / "gbk.csv"
    pd.DataFrame({"姓名": ["张三"], "联系电话": ["13800138000"]}).to_csv(
        path, index=False, encoding="gbk"
    )
    df = sc.load_recipients(path)
    assert df["姓名"].tolist() == ["张三"] and df.attrs["encoding"] == "gb18030"


def test_explicit_encoding_and_bad_encoding(tmp_path):
    path = write_csv(tmp_path / "list.csv", encoding="gbk")
    assert sc.load_recipients(path, encoding="gbk")["姓名"].tolist() == ["张三", "李四", "王五"]
    with pytest.raises(sc.RecipientsError, match="cannot decode the file as utf-8"):
        sc.load_recipients(path, encoding="utf-8")


def test_tsv_and_txt_delimiters(tmp_path):
    for name in ("list.tsv", "list.txt"):
        df = sc.load_recipients(write_csv(tmp_path / name, delimiter="\t"))
        assert_frame_equal(df, expected())
    df = sc.load_recipients(write_csv(tmp_path / "semi.txt", delimiter=";"))
    assert_frame_equal(df, expected())


def test_csv_cells_are_exact_text(tmp_path):
    path = tmp_path / "list.csv"
    path.write_text(
        '手机,备注\n13800138000.0,NA\n1.38001E+10,null\n\'13800138000,"a,b"\n',
        encoding="utf-8",
    )
    df = sc.load_recipients(path)
    assert df["手机"].tolist() == ["13800138000.0", "1.38001E+10", "'13800138000"]
    assert df["备注"].tolist() == ["NA", "null", "a,b"]


def test_csv_blank_lines_keep_source_rows_and_ragged_rows_load(tmp_path):
    path = tmp_path / "list.csv"
    path.write_text("手机,姓名\n13800138000,a\n\n13900139000,b\n,\n", encoding="utf-8")
    df = sc.load_recipients(path)
    assert df["source_row"].tolist() == [2, 4]
    path.write_text("手机,姓名\n13800138000\n13900139000,b,extra\n", encoding="utf-8")
    df = sc.load_recipients(path)
    assert df["手机"].tolist() == ["13800138000", "13900139000"]
    assert df["姓名"].tolist() == [pd.NA, "b"]


def test_csv_line_breaks_inside_quotes_and_lists_without_quotes(tmp_path):
    # A quoted field may hold a line break (the slower rule); a file without any quote is split at
    # every line break (the faster rule). Both must give the same frame for the same cells.
    quoted = '姓名,手机,备注\n"张\n三",13800138000,"a,b"\n李四,"13900139000",\n'
    path = tmp_path / "quoted.csv"
    path.write_text(quoted, encoding="utf-8")
    for source in (path, quoted.encode("gbk")):
        df = sc.load_recipients(source)
        assert df["姓名"].tolist() == ["张\n三", "李四"]
        assert df["手机"].tolist() == ["13800138000", "13900139000"]
        assert df["备注"].tolist() == ["a,b", pd.NA]
    plain = "姓名,手机,备注\n张三,13800138000,a\n李四,13900139000,\n"
    again = plain.replace("13800138000", '"13800138000"')  # one quote anywhere: the slower rule
    frames = []
    for name, text in (("plain.csv", plain), ("again.csv", again)):
        (tmp_path / name).write_text(text, encoding="utf-8")
        frames.append(sc.load_recipients(tmp_path / name))
        frames.append(sc.load_recipients(text.encode("utf-8")))
    for frame in frames[1:]:
        assert_frame_equal(frame, frames[0])
    assert frames[0]["手机"].tolist() == ["13800138000", "13900139000"]


def test_buffers_and_open_files(tmp_path):
    path = write_csv(tmp_path / "list.csv", encoding="gbk")
    raw = path.read_bytes()
    assert_frame_equal(sc.load_recipients(raw), expected())
    assert_frame_equal(sc.load_recipients(io.BytesIO(raw)), expected())
    with open(path, "rb") as f:
        assert_frame_equal(sc.load_recipients(f), expected())
    with open(path, encoding="gbk") as f:
        assert_frame_equal(sc.load_recipients(f), expected())
    assert_frame_equal(sc.load_recipients(io.StringIO(raw.decode("gbk"))), expected())


# --- spreadsheets ---------------------------------------------------------------------------------


def write_xlsx(path, sheets):
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for title, rows in sheets.items():
        ws = wb.create_sheet(title)
        for row in rows:
            ws.append(row)
    wb.save(path)
    return path


def test_xlsx_numeric_cells_become_integer_digits(tmp_path):
    path = write_xlsx(
        tmp_path / "list.xlsx",
        {
            "名单": [
                ["姓名", "手机", "金额", "日期"],
                ["张三", 13800138000, 12.5, datetime.datetime(2024, 1, 5)],
                [None, None, None, None],
                ["李四", 13900139000.0, 3, datetime.datetime(2024, 1, 5, 9, 30)],
                ["NA", "null", None, None],
            ]
        },
    )
    df = sc.load_recipients(path)
    assert_frame_equal(
        df,
        expected(
            rows=[
                ["张三", "13800138000", "12.5", "2024-01-05"],
                ["李四", "13900139000", "3", "2024-01-05 09:30:00"],
                ["NA", "null", None, None],
            ],
            header=["姓名", "手机", "金额", "日期"],
            source_rows=(2, 4, 5),
        ),
    )
    assert df.attrs["sheet_name"] == "名单" and df.attrs["phone_column"] == "手机"


def test_first_sheet_with_a_phone_column_is_chosen(tmp_path):
    path = write_xlsx(
        tmp_path / "list.xlsx",
        {
            "说明": [["本文件为客户名单"], ["请勿外传"]],
            "空": [],
            "名单": [["客户", "联系电话"], ["张三", 13800138000]],
        },
    )
    df = sc.load_recipients(path)
    assert df.attrs["sheet_name"] == "名单" and df["联系电话"].tolist() == ["13800138000"]
    by_number = sc.load_recipients(path, sheet_name=2)
    assert by_number.attrs["sheet_name"] == "名单"


def test_sheet_errors(tmp_path):
    path = write_xlsx(
        tmp_path / "list.xlsx",
        {"说明": [["备注"], ["hello"]], "空": [], "名单": [["手机"], [13800138000]]},
    )
    with pytest.raises(sc.RecipientsError, match=r"no sheet '其他'; the sheets are: 说明, 空, 名单"):
        sc.load_recipients(path, sheet_name="其他")
    with pytest.raises(sc.RecipientsError, match="sheet '空' is empty"):
        sc.load_recipients(path, sheet_name="空")
    with pytest.raises(sc.RecipientsError, match=r"no phone column in sheet '说明'; columns: 备注"):
        sc.load_recipients(path, sheet_name="说明")
    only_notes = write_xlsx(tmp_path / "notes.xlsx", {"说明": [["备注"], ["hello"]]})
    with pytest.raises(
        sc.RecipientsError, match=r"no phone column in any sheet; columns seen: '说明': 备注"
    ):
        sc.load_recipients(only_notes)
    empty = write_xlsx(tmp_path / "empty.xlsx", {"Sheet1": []})
    with pytest.raises(sc.RecipientsError, match="the workbook is empty"):
        sc.load_recipients(empty)


def test_phone_column_argument(tmp_path):
    path = write_xlsx(
        tmp_path / "list.xlsx",
        {"a": [["手机"], [13800138000]], "b": [["备用号"], [13900139000]]},
    )
    df = sc.load_recipients(path, phone_column="备用号")
    assert df.attrs == {"phone_column": "备用号", "sheet_name": "b", "source": str(path)}
    with pytest.raises(sc.RecipientsError, match="no column 'x' in any sheet"):
        sc.load_recipients(path, phone_column="x")


def test_xlsx_bytes_and_content_detection(tmp_path):
    path = write_xlsx(
        tmp_path / "list.xlsx",
        {"S": [["名字", "号"], ["张三", 13800138000], ["李四", "139 0013 9000"]]},
    )
    df = sc.load_recipients(path.read_bytes())
    assert df.attrs["phone_column"] == "号"


def test_ods_via_calamine(tmp_path):
    # No writer for these formats is installed: an .ods is written by hand (it is a zip of XML).
    import zipfile

    content = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
        'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
        'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">'
        '<office:body><office:spreadsheet><table:table table:name="名单">'
        '<table:table-row><table:table-cell office:value-type="string"><text:p>手机</text:p>'
        "</table:table-cell></table:table-row>"
        '<table:table-row><table:table-cell office:value-type="float" office:value="13800138000">'
        "<text:p>13800138000</text:p></table:table-cell></table:table-row>"
        "</table:table></office:spreadsheet></office:body></office:document-content>"
    )
    path = tmp_path / "list.ods"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        z.writestr("content.xml", content)
        z.writestr(
            "META-INF/manifest.xml",
            '<?xml version="1.0" encoding="UTF-8"?><manifest:manifest '
            'xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0">'
            '<manifest:file-entry manifest:full-path="/" '
            'manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
            '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
            "</manifest:manifest>",
        )
    df = sc.load_recipients(path)
    assert df["手机"].tolist() == ["13800138000"] and df["source_row"].tolist() == [2]


# --- DataFrames and errors ----------------------------------------------------------------------


def test_dataframe_source_is_converted_not_mutated():
    source = pd.DataFrame({"姓名": ["张三", "李四"], "手机": [13800138000.0, None]})
    before = source.copy()
    df = sc.load_recipients(source)
    assert_frame_equal(
        df,
        expected(
            rows=[["张三", "13800138000"], ["李四", None]],
            header=["姓名", "手机"],
            source_rows=(2, 3),
        ),
    )
    assert_frame_equal(source, before)


def test_missing_unreadable_and_empty_files(tmp_path):
    with pytest.raises(sc.RecipientsError, match="no such file"):
        sc.load_recipients(tmp_path / "nope.xlsx")
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(b"PK\x03\x04 this is not a workbook")
    with pytest.raises(sc.RecipientsError, match="cannot read the workbook"):
        sc.load_recipients(bad)
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    with pytest.raises(sc.RecipientsError, match="the file is empty"):
        sc.load_recipients(empty)
    binary = tmp_path / "x.csv"
    binary.write_bytes(bytes(range(128, 256)) * 3)
    with pytest.raises(sc.RecipientsError, match="neither UTF-8 nor GBK"):
        sc.load_recipients(binary)
    with pytest.raises(sc.RecipientsError, match="no phone column in .*columns: a, b"):
        sc.load_recipients(write_csv(tmp_path / "nophone.csv", rows=[["x", "y"]], header=["a", "b"]))
    assert issubclass(sc.RecipientsError, ValueError)


def test_load_then_check(tmp_path):
    df = sc.check_numbers(sc.load_recipients(write_csv(tmp_path / "list.csv")))
    assert df["status"].tolist() == ["ok", "ok", "invalid"]
    assert df["reason"].tolist() == [pd.NA, pd.NA, "empty"]


def test_legacy_xls_with_numeric_cells_and_a_notes_sheet_first():
    """A real BIFF8 .xls (written with xlwt, committed as a fixture): numeric cells read as exact
    integer digits, the list sheet found after a notes sheet, source rows as Excel shows them."""
    path = pathlib.Path(__file__).parent / "data" / "recipients_legacy.xls"
    df = sc.load_recipients(path)
    assert df.attrs["sheet_name"] == "名单" and df.attrs["phone_column"] == "手机号码"
    assert df["手机号码"].tolist()[:3] == ["13800138000", "+86 139-0013-9000", "13800138000"]
    assert df["手机号码"].isna().tolist() == [False, False, False, True, False]
    assert df["source_row"].tolist() == [2, 3, 4, 5, 6]
    checked = sc.check_numbers(df)
    assert checked["status"].tolist() == ["ok", "ok", "duplicate", "invalid", "invalid"]
    assert checked["reason"].iloc[2] == "duplicate of row 2"


# --- hostile files (issue 16) ------------------------------------------------------------------------

_XLSX_PARTS = {
    "[Content_Types].xml": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" '
        'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>'
    ),
    "_rels/.rels": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Target="xl/workbook.xml" Type="http://schemas.openxmlformats.org/'
        'officeDocument/2006/relationships/officeDocument"/></Relationships>'
    ),
    "xl/workbook.xml": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
        'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
        '<sheets><sheet name="名单" sheetId="1" r:id="rId1"/></sheets></workbook>'
    ),
    "xl/_rels/workbook.xml.rels": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Target="worksheets/sheet1.xml" Type="http://schemas.openxmlformats.org/'
        'officeDocument/2006/relationships/worksheet"/></Relationships>'
    ),
}


def hand_made_xlsx(path, rows_xml: str, dimension: str = "") -> pathlib.Path:
    """An .xlsx written part by part with zipfile (inline strings, no shared strings)."""
    sheet = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        f"{dimension}<sheetData>{rows_xml}</sheetData></worksheet>"
    )
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in {**_XLSX_PARTS, "xl/worksheets/sheet1.xml": sheet}.items():
            archive.writestr(name, text)
    return path


def _cell(ref: str, text: str) -> str:
    return f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>'


GOOD_ROWS = (
    f'<row r="1">{_cell("A1", "手机")}{_cell("B1", "姓名")}</row>'
    f'<row r="2">{_cell("A2", "13800138000")}{_cell("B2", "张三")}</row>'
)


def test_hand_made_xlsx_loads(tmp_path):
    df = sc.load_recipients(hand_made_xlsx(tmp_path / "ok.xlsx", GOOD_ROWS))
    assert df[["手机", "姓名"]].values.tolist() == [["13800138000", "张三"]]


@pytest.mark.parametrize(
    "rows_xml, dimension",
    [
        (GOOD_ROWS + f'<row r="1048576">{_cell("XFD1048576", "x")}</row>', ""),
        (GOOD_ROWS, '<dimension ref="A1:XFD1048576"/>'),
    ],
    ids=["far cell", "declared dimension"],
)
def test_a_workbook_spanning_the_whole_grid_is_refused_not_fatal(tmp_path, rows_xml, dimension):
    # Read by calamine, the far cell makes it allocate ~512 GB and abort the process (exit 134):
    # so the load runs in a child process, through the CLI a user would run.
    path = hand_made_xlsx(tmp_path / "far.xlsx", rows_xml, dimension)
    assert path.stat().st_size < 5000
    out = subprocess.run(
        [sys.executable, "-m", "smscampaign", "check", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 2, out.stderr
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1, out.stderr
    assert "1,048,576 rows × 16,384 columns" in lines[0] and "max_cells" in lines[0]


def test_workbook_bounds_are_keyword_arguments(tmp_path):
    path = hand_made_xlsx(tmp_path / "ok.xlsx", GOOD_ROWS)
    with pytest.raises(sc.RecipientsError, match=r"2 rows × 2 columns = 4 cells, more than the 3"):
        sc.load_recipients(path, max_cells=3)
    with pytest.raises(sc.RecipientsError, match=r"unpacks to .* MiB.*max_unpacked_bytes"):
        sc.load_recipients(path.read_bytes(), max_unpacked_bytes=100)
    assert len(sc.load_recipients(path, max_cells=4)) == 1


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be"])
def test_utf16_without_bom_is_detected(tmp_path, codec):
    df = sc.load_recipients(write_csv(tmp_path / "list.csv", encoding=codec))
    assert_frame_equal(df, expected())
    assert df.attrs["encoding"] == codec


def test_nul_bytes_that_are_not_utf16_are_refused_clearly(tmp_path):
    path = tmp_path / "list.csv"
    path.write_bytes(b"\x00\x00\x00\x01" * 50 + "手机\n13800138000\n".encode())
    with pytest.raises(sc.RecipientsError, match="NUL bytes"):
        sc.load_recipients(path)


def test_a_lone_surrogate_is_replaced_and_the_plan_goes_on():
    source = pd.DataFrame(
        {"手机": ["13800138000", "13900139000"], "姓名": ["张\ud800三", "李四"]}, dtype=object
    )
    df = sc.load_recipients(source)
    assert df["姓名"].tolist() == ["张\ufffd三", "李四"]
    plan = sc.plan_campaign(sc.check_numbers(df), "{姓名}您好", signature="小店")
    assert plan.recipients["status"].tolist() == ["ready", "ready"]
    assert (
        plan.recipients["content"].iloc[0].startswith("【小店】张\ufffd三")
        or "张\ufffd三" in plan.recipients["content"].iloc[0]
    )


@pytest.mark.parametrize("chunk", [5, 7, 13, 1 << 20])
def test_cell_extent_is_found_across_chunk_edges(monkeypatch, chunk):
    from smscampaign.stages import recipients

    monkeypatch.setattr(recipients, "_CHUNK", chunk)
    xml = b'<row r="9"><c r="B2"/>' * 5 + b'<c\tr=\'ZZ77\' s="1"/><c r="A1"/></row>'
    assert recipients._scan_part(io.BytesIO(xml)) == (77, 702)
    assert recipients._scan_part(io.BytesIO(b'<dimension ref="A1:C9"/><c r="A1"/>')) == (9, 3)


def test_a_source_of_the_wrong_kind_is_a_config_error():
    from smscampaign.core.errors import ConfigError

    with pytest.raises(ConfigError, match="cannot load recipients from a int"):
        sc.load_recipients(12345)  # type: ignore[arg-type]
