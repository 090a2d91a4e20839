"""The package's public surface: sorted, lazy, one error root, ``df.sms``."""

import json
import subprocess
import sys

import pytest

import smscampaign as sc


def test_all_is_sorted_and_importable():
    assert sc.__all__ == sorted(sc.__all__)
    for name in sc.__all__:
        assert hasattr(sc, name), name


def test_errors_share_one_root():
    for name in sc.__all__:
        obj = getattr(sc, name)
        if isinstance(obj, type) and issubclass(obj, Exception) and not issubclass(obj, Warning):
            assert issubclass(obj, sc.SmsCampaignError), name


def test_dir_lists_every_public_name_and_unknown_names_raise():
    listed = dir(sc)
    assert set(sc.__all__) <= set(listed)
    assert "numbers" in listed and sc.numbers.check_numbers is sc.check_numbers
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        _ = sc.nope  # type: ignore[attr-defined]


HEAVY = ("pandas", "numpy", "pyarrow", "phonenumbers", "requests", "psycopg")


def _modules_after(code: str) -> dict:
    """Run ``code`` in a fresh interpreter; return which HEAVY modules it left imported."""
    probe = f"{code}\nimport json, sys\nprint(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))"
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_import_is_lazy():
    assert _modules_after("import smscampaign") == []
    # A name's module is loaded on first use.
    assert "phonenumbers" in _modules_after("import smscampaign\nsmscampaign.check_numbers")


def test_cli_help_imports_no_data_stack():
    code = (
        "import contextlib, io\nfrom smscampaign.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):\n"
        "    main(['--help'])"
    )
    assert not {"pandas", "numpy", "pyarrow", "phonenumbers", "psycopg"} & set(_modules_after(code))


def test_only_a_postgresql_home_imports_psycopg(tmp_path):
    """psycopg is the postgres extra's: a personal (SQLite) home never imports it."""
    code = f"from smscampaign.memory.history import History\nHistory({str(tmp_path)!r}).contacts()"
    assert "psycopg" not in _modules_after(code)


@pytest.mark.parametrize("first", ["smscampaign", "pandas"])
def test_sms_accessor_registered_whichever_is_imported_first(first):
    second = "pandas" if first == "smscampaign" else "smscampaign"
    code = (
        f"import {first}\nimport {second}\nimport pandas as pd\n"
        "df = pd.DataFrame({'手机': ['13800138000', 'x']})\n"
        "print(df.sms.check()['status'].tolist())"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["['ok',", "'invalid']"]
