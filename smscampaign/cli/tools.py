"""``smscampaign demo``, ``notebooks`` and ``sandbox``: the shipped sample, notebooks and simulator.

None needs credentials: ``demo`` sends to an in-process sandbox, ``sandbox`` serves one on 127.0.0.1::

    smscampaign demo --out demo
    smscampaign notebooks ~/analysis
    smscampaign sandbox --port 8080 --account demo:secret:10000
"""

from __future__ import annotations

import argparse
from pathlib import Path

from smscampaign.cli.common import Subparsers


def add_demo(sub: Subparsers) -> None:
    from smscampaign.notebook.demo import add_demo_options  # noqa: PLC0415 - keep CLI start-up light

    parser = sub.add_parser(
        "demo",
        help="a whole sandbox campaign on the shipped sample, ending in an Excel report",
        description="Load the shipped sample recipients, check, plan and send them to an in-process "
        "sandbox (no credentials, loopback only), let three customers reply, and write the report.",
    )
    add_demo_options(parser)
    parser.set_defaults(func=_cmd_demo)


def _cmd_demo(args: argparse.Namespace) -> int:
    from smscampaign.notebook.demo import run_demo  # noqa: PLC0415

    run_demo(args.out, recipients=args.recipients)
    return 0


def add_notebooks(sub: Subparsers) -> None:
    parser = sub.add_parser(
        "notebooks",
        help="copy the analyst notebooks and their sample data into a folder",
        description="Copy the notebooks to DIR/notebooks and the sample data they read to "
        "DIR/sample_data, ready to open in JupyterLab.",
    )
    parser.add_argument("dir", metavar="DIR", help="destination folder (created if missing)")
    parser.add_argument("--force", action="store_true", help="replace files that already exist")
    parser.set_defaults(func=_cmd_notebooks)


def _cmd_notebooks(args: argparse.Namespace) -> int:
    import importlib.util  # noqa: PLC0415

    from smscampaign.notebook.demo import copy_notebooks  # noqa: PLC0415

    written = copy_notebooks(args.dir, overwrite=args.force)
    books = [p for p in written if p.suffix == ".ipynb"]
    print(f"{len(books)} notebooks and {len(written) - len(books)} sample files copied to {args.dir}")
    print(f"open them with:  jupyter lab {Path(args.dir) / 'notebooks'}")
    if importlib.util.find_spec("jupyterlab") is None:
        print("(JupyterLab is not installed here: pip install 'smscampaign[notebook]')")
    return 0


def add_sandbox(sub: Subparsers) -> None:
    from smscampaign import sandbox  # noqa: PLC0415

    parser = sub.add_parser(
        "sandbox",
        parents=[sandbox.build_parser()],
        add_help=False,
        help="serve a local simulator of the gateway",
        description="Serve a local simulator of the 短信通 gateway until "
        "interrupted. Prints its URL on the first line.",
    )
    parser.set_defaults(func=_cmd_sandbox)


def _cmd_sandbox(args: argparse.Namespace) -> int:
    from smscampaign import sandbox  # noqa: PLC0415

    return sandbox.serve(args)
