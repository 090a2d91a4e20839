"""The demo campaign and the notebooks, shipped inside the package.

``smscampaign demo`` (and ``make demo``, and ``python -m smscampaign.notebook.demo``): a whole campaign
against the in-process sandbox, ending in an Excel report. Load the sample recipients → check the
numbers → plan a ``{姓名}`` template with a signature → send in batches (journal in a temporary
folder) → a few customers reply, two of them 退订 → fetch the replies → ``reports/demo-report.xlsx``.
Nothing leaves the machine (loopback only) and no credentials are needed: the sandbox account gets
a random password that is never printed.

``smscampaign notebooks DIR``: copy the analyst notebooks with the sample data they read into
``DIR/notebooks`` and ``DIR/sample_data``, ready to open in JupyterLab.

The sample data and the notebooks are package data (``smscampaign/data-files``, read with
:mod:`importlib.resources`), so both work from an installed wheel as well as from a clone.

>>> copy_notebooks("my-notebooks")  # doctest: +SKIP
[PosixPath('my-notebooks/notebooks/01_quickstart.ipynb'), ...]
"""

from __future__ import annotations

import argparse
import contextlib
import secrets
import sys
import tempfile
from collections.abc import Iterator, Sequence
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import TYPE_CHECKING

from smscampaign.core.errors import ConfigError

if TYPE_CHECKING:  # pragma: no cover - typing only; pandas is imported when needed (CLI start-up)
    import pandas as pd

__all__ = ["copy_notebooks", "format_table", "run_demo", "sample_data"]

REPORT_DIR = Path("reports")
REPORT_NAME = "demo-report.xlsx"
TEMPLATE = "{姓名}您好，春季会员日全场八折，详询门店。回T退订"
SIGNATURE = "【演示商城】"
ACCOUNT = "demo"
#: The sample files the demo and the notebooks read (the generator script stays in the repository).
SAMPLE_SUFFIXES = (".csv", ".xlsx")


def _data(*parts: str) -> Traversable:
    return resources.files("smscampaign").joinpath("data-files", *parts)


def _sample_files() -> list[Traversable]:
    return sorted(
        (f for f in _data("sample_data").iterdir() if f.name.endswith(SAMPLE_SUFFIXES)),
        key=lambda f: f.name,
    )


def _notebook_files() -> list[Traversable]:
    return sorted(
        (f for f in _data("notebooks").iterdir() if f.name.endswith(".ipynb")), key=lambda f: f.name
    )


@contextlib.contextmanager
def sample_data(name: str = "recipients.xlsx") -> Iterator[Path]:
    """The path of a shipped sample file (``recipients.xlsx``, ``recipients.csv``,
    ``recipients_gbk.csv``), valid inside the ``with`` block.

    >>> with sample_data() as path:  # doctest: +SKIP
    ...     recipients = load_recipients(path)
    """
    names = [f.name for f in _sample_files()]
    if name not in names:
        raise ConfigError(f"no sample file {name!r}; the package ships {', '.join(names)}")
    with resources.as_file(_data("sample_data", name)) as path:
        yield path


def copy_notebooks(dest: str | Path, *, overwrite: bool = False) -> list[Path]:
    """Copy the notebooks to ``dest/notebooks`` and the sample data they read to
    ``dest/sample_data`` (the notebooks open ``../sample_data``); returns the files written.

    Existing files are never replaced unless ``overwrite=True``: nothing is copied and a
    :class:`ConfigError` names them.
    """
    root = Path(dest)
    plan = [(f, root / "notebooks" / f.name) for f in _notebook_files()]
    plan += [(f, root / "sample_data" / f.name) for f in _sample_files()]
    existing = [str(target) for _, target in plan if target.exists()]
    if existing and not overwrite:
        raise ConfigError(
            f"{len(existing)} file(s) already exist, e.g. {existing[0]}; "
            "choose another folder or pass --force to replace them"
        )
    for source, target in plan:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(source.read_bytes())
    return [target for _, target in plan]


def format_table(frame: pd.DataFrame) -> str:
    """``frame`` as terminal text, Chinese characters counted as two columns so the columns line up;
    shares and rates (``share``, ``*_share``, ``*_rate``) as percentages (``86.0%``, not
    ``0.8600``). ``frame`` is not modified.

    >>> print(format_table(pd.DataFrame({"status": ["accepted"], "share": [0.86]})))
      status share
    accepted 86.0%
    """
    import pandas as pd

    shown = frame.copy(deep=False)
    for column in shown.columns:
        name = str(column)
        if (name == "share" or name.endswith(("_share", "_rate"))) and pd.api.types.is_float_dtype(
            shown[column].dtype
        ):
            shown[column] = [
                "" if pd.isna(value) else f"{value:.1%}" for value in shown[column].tolist()
            ]
    with pd.option_context("display.unicode.east_asian_width", True):
        return shown.to_string(index=False)


def _report_path(out: str | Path | None) -> Path:
    if out is None:
        return REPORT_DIR / REPORT_NAME
    path = Path(out)
    return path if path.suffix.lower() == ".xlsx" else path / REPORT_NAME


def run_demo(out: str | Path | None = None, *, recipients: str | Path | None = None) -> Path:
    """Run the demo campaign, print a short summary and return the report's path.

    ``out`` is a folder (the report is ``out/demo-report.xlsx``; default ``reports``) or an
    ``.xlsx`` path; ``recipients`` defaults to the shipped ``recipients.xlsx``.
    """
    if recipients is None:
        with sample_data() as path:
            return _run(path, _report_path(out), shown="sample recipients.xlsx")
    return _run(Path(recipients), _report_path(out), shown=str(recipients))


def _run(recipients_path: Path, report: Path, *, shown: str) -> Path:
    from smscampaign.campaign.account import bind_numbers
    from smscampaign.campaign.plan import plan_campaign
    from smscampaign.campaign.replies import fetch_replies, opt_outs
    from smscampaign.campaign.send import send_campaign
    from smscampaign.reports.tables import campaign_report
    from smscampaign.reports.workbook import export_report
    from smscampaign.sandbox import Sandbox
    from smscampaign.stages.numbers import check_numbers
    from smscampaign.stages.recipients import load_recipients

    recipients = load_recipients(recipients_path)
    checked = check_numbers(recipients)
    plan = plan_campaign(checked, TEMPLATE, signature=SIGNATURE)
    print(f"recipients: {shown} — {len(recipients)} rows")
    print(repr(plan))

    password = secrets.token_urlsafe(16)  # never printed, never stored
    with tempfile.TemporaryDirectory(prefix="smscampaign-demo-") as tmp, Sandbox() as box:
        box.add_account(ACCOUNT, password, sms_left=10_000)
        with box.gateway(ACCOUNT, password) as gw:
            # A campaign home of its own: sandbox sends never enter the user's registry.
            results = send_campaign(
                plan,
                gw,
                journal=Path(tmp) / "demo.journal",
                home=Path(tmp) / "home",
                progress=sys.stderr.isatty(),
            )
            # A few customers answer; two of them opt out. Replies reach the account once bound.
            accepted = results.loc[results["status"] == "accepted", "mobile"].head(3).tolist()
            bind_numbers(gw, accepted, progress=False)
            for mobile, text in zip(accepted, ["退订", "好的，周末去看看", "TD"], strict=False):
                box.reply(mobile, text, ACCOUNT)
            replies = fetch_replies(gw, store=False)  # the demo keeps no history either
            left = gw.user_info().fields.get("sms_left")

    path = export_report(results, report, plan=plan, replies=replies)
    summary = campaign_report(results)["summary"]
    print()
    print(format_table(summary))
    print(
        f"\nsandbox messages left: {left}; replies: {len(replies)}, opt-outs: {len(opt_outs(replies))}"
    )
    print(f"report written to {path.resolve()}")
    return path


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m smscampaign.notebook.demo",
        description="Run a full sandbox campaign on the sample recipients and write an Excel report.",
    )
    add_demo_options(parser)
    return parser


def add_demo_options(parser: argparse.ArgumentParser) -> None:
    """``--out DIR`` and ``--recipients FILE`` (shared with ``smscampaign demo``)."""
    parser.add_argument(
        "--out",
        metavar="DIR",
        help=f"folder for {REPORT_NAME} (default {REPORT_DIR}/), or an .xlsx path",
    )
    parser.add_argument(
        "--recipients", metavar="FILE", help="recipient list (default: the shipped sample)"
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run the demo campaign; prints a short summary and the report's path. Returns 0."""
    args = build_parser().parse_args(argv)
    run_demo(args.out, recipients=args.recipients)
    return 0


if __name__ == "__main__":
    sys.exit(main())
