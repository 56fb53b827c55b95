"""``rrperf report [NOTEBOOK] [-p NAME VALUE ...]``: run a report notebook, write HTML and Markdown.

NOTEBOOK is the name of a shipped notebook (``benchmark_report`` by default, ``--list`` shows
them with their parameters) or the path of an ``.ipynb`` file. ``-p NAME VALUE`` sets a
parameter; the value is read with the type the notebook declares (``-p iterations 3`` is the
int 3, ``-p scenarios small,large`` the list ``["small", "large"]``). An unknown parameter name
is an error (exit 1, with a did-you-mean hint): silently running the default would produce a
report of something else than was asked.

A failing cell exits 1 with one line naming the cell and the exception; the executed notebook
is kept in the output folder for inspection.
"""

from __future__ import annotations

import argparse

from rrperf.cli._util import csv_list, project_config


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "report",
        help="run a report notebook with papermill and write HTML/Markdown reports",
        description="Execute a parameterized report notebook (papermill) and convert it to "
        "HTML and Markdown with the code hidden. A scenario parameter (-p scenarios a,b; -p "
        "scenario a) takes the names of `rrperf scenarios`, synthetic:N, schema.rb / SQLite "
        "paths (labelled by file stem) or database URLs. Exit status: 0 success, 1 error "
        "(unknown notebook or parameter, failing cell).",
    )
    p.add_argument(
        "notebook", nargs="?", default=None,
        help="a notebook name (see --list; default benchmark_report) or an .ipynb path",
    )
    p.add_argument(
        "-p", "--parameter", dest="parameters", nargs=2, action="append", default=[],
        metavar=("NAME", "VALUE"),
        help="set a notebook parameter; lists take a,b,c (repeatable)",
    )
    p.add_argument("--out", default="reports", help="output folder (default: reports)")
    p.add_argument(
        "--format", dest="formats", type=csv_list, default=("html", "markdown"),
        help="comma-separated formats among html, markdown (default: both)",
    )
    p.add_argument("--kernel", default="python3", help="Jupyter kernel name (default: python3)")
    p.add_argument(
        "--timeout", type=float, default=600.0, help="longest run of one cell, in seconds"
    )
    p.add_argument(
        "--list", action="store_true", help="list the notebooks and their parameters, run none"
    )
    p.set_defaults(run=run)


def _list(notebook: str | None) -> int:
    from rrperf.cli._util import format_table
    from rrperf.report.notebooks import available_notebooks, notebook_parameters

    names = [notebook] if notebook else available_notebooks()
    for i, name in enumerate(names):
        if i:
            print()
        print(name)
        rows = [
            {"parameter": p.name, "type": p.kind, "default": p.default, "help": p.help}
            for p in notebook_parameters(name).values()
        ]
        print(format_table(rows, ["parameter", "type", "default", "help"]))
    return 0


def run(args: argparse.Namespace) -> int:
    from rrperf.report.notebooks import (
        DEFAULT_NOTEBOOK,
        notebook_parameters,
        parse_parameters,
        render_report,
    )

    if args.list:
        return _list(args.notebook)
    # rrperf.toml from here upwards, read before anything runs; a bad one: exit 1
    config = project_config()
    notebook = args.notebook or DEFAULT_NOTEBOOK
    parameters = parse_parameters(notebook, [tuple(pair) for pair in args.parameters])
    if "config_file" in notebook_parameters(notebook) and "config_file" not in parameters:
        parameters["config_file"] = config.source or ""  # the kernel reads the same file
    paths = render_report(
        notebook,
        parameters=parameters,
        output_dir=args.out,
        formats=args.formats,
        kernel_name=args.kernel,
        timeout_s=args.timeout,
    )
    print(f"executed notebook: {paths.notebook}")
    if paths.html is not None:
        print(f"HTML report:       {paths.html}")
    if paths.markdown is not None:
        print(f"Markdown report:   {paths.markdown}")
    for extra in paths.extras:
        print(f"  also written:    {extra}")
    return 0
