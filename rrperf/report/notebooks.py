"""Report notebooks: run them with papermill, turn them into HTML and Markdown reports.

Two halves live here.

**Running a notebook** (:func:`render_report`). The notebook is looked up by name in the
package's ``notebooks/`` folder (or taken as a path), its ``parameters`` cell is inspected with
:func:`papermill.inspect_notebook`, the given parameters are checked against it (an unknown name
is a :class:`~rrperf.errors.ConfigError` with a did-you-mean hint: a misspelt ``-p iteration 3``
would otherwise run the default silently), and papermill executes it in the ``python3`` kernel.
The executed notebook is written to the output folder and kept, also when a cell fails. Then
nbconvert exports it: code cells hidden (``exclude_input``), the ``parameters`` and
``injected-parameters`` cells removed, images embedded in the HTML as ``data:`` URIs, and the
Markdown report's images written to ``<stem>_files/`` beside it.

Every papermill, nbclient and jupyter_client error is translated to
:class:`~rrperf.errors.ReportError` in one place (:func:`_papermill_errors`); a failing cell
becomes a :class:`NotebookExecutionError` naming the cell, its first source line, the exception
and the kept notebook.

*Why MPLBACKEND is removed.* ipykernel selects the inline matplotlib backend only when
``MPLBACKEND`` is unset; a kernel that inherits ``MPLBACKEND=Agg`` (common in CI and test runs)
draws figures nobody displays, and the report silently loses every chart. The kernel is
therefore started with ``MPLBACKEND`` removed from its environment. The report helpers below
also render figures to PNG themselves (:func:`show_figure`), so charts never depend on the
backend.

The HTML report is self-contained and runs no script: the template drops nbconvert's CDN
``<script>`` tags (require.js, MathJax, mermaid) and a Content-Security-Policy allows only inline
styles and ``data:`` images. Every string that comes from the user or the data (titles, scenario
names, error messages) is escaped by the helpers that display it.

**Writing a notebook.** Report notebooks call only rrperf functions (STYLE.md C13). The helpers
they use are here: :func:`run_benchmark_report` runs the benchmark and computes every table of
``benchmark_report.ipynb``; ``show_*`` functions display one section each (a heading, an escaped
table shown as HTML in the HTML report and as a pipe table in the Markdown report, and charts
rendered to PNG). Tables show times with units, ratios as ``1.21×`` and p-values with two
digits (:func:`rrperf.bench.report.format_table`); the saved results keep the raw numbers.

*Warnings in reports.* The benchmark records the warnings its iterations raise
(:attr:`BenchmarkResult.warnings`) and re-emits each distinct one once; a report would still
print those to the cell's stderr, above the first table. :func:`run_benchmark_report` and
:func:`run_strategy_analysis` therefore record every warning raised while they run and show
them in a "Warnings" section (:func:`show_warnings`), one row per kind of warning (warnings
that differ only in the table or file they name are one kind) with its count and places,
instead of letting them spill out of the cell.

*One statistic, one unit.* Every time a report shows is a median (tables, charts, verdicts;
intervals are the median's), and charts draw durations in the unit the tables use for them
(:func:`rrperf.report.plots.time_unit`); every iteration is drawn beside its median
(:func:`rrperf.report.plots.distribution_chart`), and tables give min, max, CPU time and memory
beside the wall time. Markdown escapes only what Markdown would read as syntax, and paths are
shown relative to the report's folder.
"""

from __future__ import annotations

import ast
import contextlib
import difflib
import html
import logging
import math
import os
import re
import shutil
import tempfile
import threading
import warnings
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rrperf._util import usable_cpus
from rrperf.bench.report import format_table
from rrperf.errors import ConfigError, ReportError

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from rrperf.bench.results import BenchmarkResult
    from rrperf.config import RrperfConfig

__all__ = [
    "DEFAULT_NOTEBOOK",
    "REPORT_FORMATS",
    "RESULTS_STEM",
    "BenchmarkReport",
    "NotebookExecutionError",
    "NotebookParameter",
    "ReportPaths",
    "ReportTable",
    "StrategyReport",
    "available_notebooks",
    "cache_state_notes",
    "export_notebook",
    "heading",
    "headline_table",
    "notebook_parameters",
    "notebooks_dir",
    "parse_parameters",
    "render_report",
    "resolve_notebook",
    "run_benchmark_report",
    "run_strategy_analysis",
    "show_cache",
    "show_comparison",
    "show_correctness",
    "show_figure",
    "show_files",
    "show_recommendation",
    "show_regressions",
    "show_run",
    "show_scaling",
    "show_speedup",
    "show_stability",
    "show_strategies",
    "show_summary",
    "show_table",
    "show_text",
    "show_title",
    "show_warnings",
    "speedup_fits",
    "summary_table",
    "warning_table",
]

logger = logging.getLogger(__name__)

#: Formats :func:`render_report` can write.
REPORT_FORMATS: tuple[str, ...] = ("html", "markdown")

#: The notebook ``rrperf report`` runs when none is named.
DEFAULT_NOTEBOOK = "benchmark_report"

#: File stem of the results ``benchmark_report.ipynb`` writes (``.parquet``, ``.csv``).
RESULTS_STEM = "benchmark_results"

# Cells removed from every report: the notebook's defaults and papermill's injected values.
_HIDDEN_TAGS: tuple[str, ...] = ("parameters", "injected-parameters")

# The Markdown report prefers the Markdown form of an output (pipe tables) over its HTML form.
_MARKDOWN_PRIORITY: list[str] = [
    "text/markdown", "image/png", "image/svg+xml", "image/jpeg", "text/html", "text/latex",
    "text/plain",
]

# nbconvert's lab template without its CDN scripts (require.js, MathJax, mermaid): the report
# needs none of them, and a browser without network access would log an error for each. The
# policy forbids every script; styles are inline and images are data: URIs.
_HTML_TEMPLATE = """{%- extends 'index.html.j2' -%}
{%- block html_head_js -%}
<meta http-equiv="Content-Security-Policy"
      content="default-src 'none'; img-src data:; style-src 'unsafe-inline'; font-src data:">
{%- endblock html_head_js -%}
{%- block html_head_js_mathjax -%}{%- endblock html_head_js_mathjax -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
{% block data_png scoped %}
<div class="jp-RenderedImage jp-OutputArea-output {{ extra_class }}">
{%- set alt = (output | get_metadata('alt', 'image/png')) or 'chart' %}
<img src="data:image/png;base64,{{ output.data['image/png'] | escape_html }}"
 alt="{{ alt | escape_html }}">
</div>
{% endblock data_png %}
"""
# The Markdown report with each image's alternative text (``show_figure`` sets it).
_MD_TEMPLATE = """{%- extends 'index.md.j2' -%}
{% block data_png %}
{%- set alt = (output | get_metadata('alt', 'image/png')) or 'chart' %}
![{{ alt }}]({{ output.metadata.filenames['image/png'] | path2url }})
{% endblock data_png %}
"""
_MD_TEMPLATE_NAME = "rrperf_report.md.j2"
_HTML_TEMPLATE_NAME = "rrperf_report.html.j2"

# Figures in reports: one size and resolution everywhere.
_FIGURE_DPI = 100
# History charts shown by the regression section: the groups that changed most.
_REGRESSION_CHARTS = 4

# Serializes changes to os.environ while a kernel starts (see _kernel_environment).
_ENV_LOCK = threading.Lock()


# --------------------------------------------------------------------------------------------
# Value objects and errors
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReportPaths:
    """Where :func:`render_report` wrote a report.

    Attributes
    ----------
    notebook : Path
        The executed notebook (kept for inspection).
    html : Path or None
        The HTML report, when ``"html"`` was asked.
    markdown : Path or None
        The Markdown report, when ``"markdown"`` was asked.
    extras : tuple of Path
        Other files: the Markdown report's images and the files the notebook wrote or changed in
        the output folder (a benchmark report's Parquet and CSV results), sorted.
    """

    notebook: Path
    html: Path | None
    markdown: Path | None
    extras: tuple[Path, ...] = ()


@dataclass(frozen=True)
class NotebookParameter:
    """One parameter of a notebook's ``parameters`` cell, as papermill reads it.

    Attributes
    ----------
    name : str
    type_name : str
        The annotation (``"int"``, ``"list[str]"``), or ``"None"`` when there is none.
    default : str
        Source text of the default value.
    help : str
        The comment after the value, if any.
    """

    name: str
    type_name: str
    default: str
    help: str = ""

    @property
    def kind(self) -> str:
        """The type used to read command-line text: the annotation, else the default's type."""
        if self.type_name and self.type_name != "None":
            return self.type_name.replace(" ", "")
        try:
            value = ast.literal_eval(self.default)
        except (ValueError, SyntaxError):
            return "str"
        if isinstance(value, list):
            inner = {type(v).__name__ for v in value}
            return f"list[{inner.pop()}]" if len(inner) == 1 else "list"
        return "str" if value is None else type(value).__name__


class NotebookExecutionError(ReportError):
    """A cell of a report notebook raised; the executed notebook is kept.

    Parameters
    ----------
    notebook : str
        The notebook that was run.
    cell_index : int
        Index of the failing cell in the executed notebook as papermill counts it (the injected
        parameters cell included).
    source_line : str
        First non-blank line of the cell's source.
    ename, evalue : str
        The exception's type name and message.
    executed : str
        Path of the executed notebook.
    """

    def __init__(
        self,
        notebook: str,
        cell_index: int,
        source_line: str,
        ename: str,
        evalue: str,
        executed: str,
    ) -> None:
        self.notebook = notebook
        self.cell_index = cell_index
        self.source_line = source_line
        self.ename = ename
        self.evalue = evalue
        self.executed = executed
        detail = " ".join(f"{ename}: {evalue}".split())
        super().__init__(
            f"notebook {notebook!r} failed in cell {cell_index} ({source_line!r}): {detail}; "
            f"the executed notebook is kept at {executed}"
        )

    def __reduce__(self) -> tuple[Any, ...]:
        return (
            type(self),
            (self.notebook, self.cell_index, self.source_line, self.ename, self.evalue,
             self.executed),
        )


# --------------------------------------------------------------------------------------------
# Finding notebooks and their parameters
# --------------------------------------------------------------------------------------------


def notebooks_dir() -> Path:
    """The folder of the report notebooks shipped with rrperf (``rrperf/notebooks``)."""
    import rrperf

    return Path(rrperf.__file__).resolve().parent / "notebooks"


def available_notebooks() -> list[str]:
    """Names of the shipped report notebooks (file stems), sorted."""
    folder = notebooks_dir()
    if not folder.is_dir():
        return []
    return sorted(p.stem for p in folder.glob("*.ipynb") if not p.name.startswith("."))


def resolve_notebook(notebook: str | os.PathLike[str]) -> Path:
    """Find a notebook by name (``"benchmark_report"``) or path.

    Parameters
    ----------
    notebook : str or path-like
        A name from :func:`available_notebooks` (with or without ``.ipynb``), or the path of
        an ``.ipynb`` file.

    Returns
    -------
    Path

    Raises
    ------
    ReportError
        When nothing matches; the message lists the available names.
    """
    if not isinstance(notebook, str | os.PathLike) or not str(notebook):
        raise ConfigError(f"notebook must be a name or a path, got {notebook!r}")
    text = os.fspath(notebook)
    path = Path(text).expanduser()
    if path.is_file():
        return path.resolve()
    name = text[: -len(".ipynb")] if text.endswith(".ipynb") else text
    if "/" not in name and os.sep not in name:
        shipped = notebooks_dir() / f"{name}.ipynb"
        if shipped.is_file():
            return shipped
    names = available_notebooks()
    hint = difflib.get_close_matches(name, names, n=1)
    raise ReportError(
        f"no notebook {text!r}"
        + (f" (did you mean {hint[0]!r}?)" if hint else "")
        + f"; available notebooks: {', '.join(names) or 'none'}; or give the path of an .ipynb file"
    )


def notebook_parameters(notebook: str | os.PathLike[str]) -> dict[str, NotebookParameter]:
    """The parameters a notebook declares in its cell tagged ``parameters``.

    Parameters
    ----------
    notebook : str or path-like
        A name or path (see :func:`resolve_notebook`).

    Returns
    -------
    dict of str to NotebookParameter
        In the cell's order; empty when the notebook has no parameters cell.

    Raises
    ------
    ReportError
        When the notebook cannot be found or read.
    """
    path = resolve_notebook(notebook)
    with _papermill_errors(path.stem, executed=None, timeout_s=None, kernel_name=None):
        import papermill

        found = papermill.inspect_notebook(str(path))
    return {
        name: NotebookParameter(
            name=name,
            type_name=str(info.get("inferred_type_name") or "None"),
            default=str(info.get("default") or ""),
            help=str(info.get("help") or ""),
        )
        for name, info in found.items()
    }


def _check_names(
    given: Iterable[str], declared: Mapping[str, NotebookParameter], notebook: str
) -> None:
    for name in given:
        if name in declared:
            continue
        hint = difflib.get_close_matches(name, list(declared), n=1)
        raise ConfigError(
            f"notebook {notebook!r} has no parameter {name!r}"
            + (f" (did you mean {hint[0]!r}?)" if hint else "")
            + f"; its parameters are: {', '.join(declared) or 'none'}"
        )


_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})


def _scalar(text: str, kind: str, name: str) -> Any:
    try:
        if kind == "int":
            return int(text)
        if kind == "float":
            return float(text)
    except ValueError as err:
        raise ConfigError(f"parameter {name!r} expects {kind}, got {text!r}") from err
    if kind == "bool":
        low = text.strip().lower()
        if low in _TRUE:
            return True
        if low in _FALSE:
            return False
        raise ConfigError(f"parameter {name!r} expects true or false, got {text!r}")
    if kind == "str":
        return text
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def _coerce(text: str, param: NotebookParameter) -> Any:
    kind = param.kind
    match = re.fullmatch(r"(?:list|tuple|typing\.List|List)(?:\[(\w+)\])?", kind)
    if match:
        inner = match.group(1) or "str"
        stripped = text.strip()
        if stripped.startswith("["):
            try:
                items = ast.literal_eval(stripped)
            except (ValueError, SyntaxError) as err:
                raise ConfigError(
                    f"parameter {param.name!r} expects a list such as a,b or ['a', 'b'], "
                    f"got {text!r}"
                ) from err
            if not isinstance(items, list):
                raise ConfigError(f"parameter {param.name!r} expects a list, got {text!r}")
            if inner == "str":
                bad = [v for v in items if not isinstance(v, str)]
                if bad:
                    raise ConfigError(
                        f"parameter {param.name!r} expects a list of str, got {bad[0]!r} in "
                        f"{text!r}"
                    )
                return items
            return [_scalar(str(v), inner, param.name) for v in items]
        parts = [p.strip() for p in text.split(",") if p.strip()]
        return [_scalar(p, inner, param.name) for p in parts]
    return _scalar(text, kind if kind in ("int", "float", "bool", "str") else "", param.name)


def parse_parameters(
    notebook: str | os.PathLike[str], pairs: Iterable[tuple[str, str]] | Mapping[str, str]
) -> dict[str, Any]:
    """Read command-line ``NAME VALUE`` text as typed notebook parameters.

    The type comes from the parameter's annotation in the notebook (``iterations: int = 5``),
    or from its default value. Lists accept a comma-separated string (``small,large``) or a
    Python list literal; ``int``, ``float`` and ``bool`` (``true/false/yes/no/1/0``) are
    converted; anything else stays a string.

    Parameters
    ----------
    notebook : str or path-like
        A name or path (see :func:`resolve_notebook`).
    pairs : iterable of (name, text) pairs, or mapping
        A later pair for the same name wins.

    Returns
    -------
    dict of str to object

    Raises
    ------
    ConfigError
        For an unknown name (with a did-you-mean hint and the list of parameters) or a value
        that cannot be read as the parameter's type.
    ReportError
        When the notebook cannot be found or read.
    """
    declared = notebook_parameters(notebook)
    items = list(pairs.items()) if isinstance(pairs, Mapping) else list(pairs)
    _check_names([name for name, _ in items], declared, Path(os.fspath(notebook)).stem)
    return {name: _coerce(text, declared[name]) for name, text in items}


# --------------------------------------------------------------------------------------------
# Running and exporting
# --------------------------------------------------------------------------------------------


@contextlib.contextmanager
def _papermill_errors(
    notebook: str, *, executed: Path | None, timeout_s: float | None, kernel_name: str | None
) -> Iterator[None]:
    """The one place where papermill, nbclient, nbformat and jupyter_client errors become
    :class:`ReportError` (httpx's ``map_httpcore_exceptions``)."""
    import nbformat
    from jupyter_client.kernelspec import NoSuchKernel
    from nbclient.exceptions import CellTimeoutError, DeadKernelError
    from papermill.exceptions import PapermillException, PapermillExecutionError

    kept = f"; the executed notebook is kept at {executed}" if executed is not None else ""
    try:
        yield
    except PapermillExecutionError as err:
        lines = [ln.strip() for ln in str(err.source).splitlines() if ln.strip()]
        first = lines[0] if lines else ""
        if len(first) > 80:
            first = first[:77] + "..."
        raise NotebookExecutionError(
            notebook, int(err.cell_index), first, str(err.ename), str(err.evalue),
            str(executed) if executed is not None else "(not written)",
        ) from err
    except CellTimeoutError as err:
        raise ReportError(
            f"notebook {notebook!r}: a cell ran longer than timeout_s={timeout_s} s{kept}"
        ) from err
    except DeadKernelError as err:
        raise ReportError(f"notebook {notebook!r}: the kernel died: {err}{kept}") from err
    except NoSuchKernel as err:
        raise ReportError(
            f"no Jupyter kernel named {kernel_name!r}; install one for this environment with: "
            f"python -m ipykernel install --sys-prefix --name {kernel_name or 'python3'}"
        ) from err
    except PapermillException as err:
        raise ReportError(f"notebook {notebook!r}: {' '.join(str(err).split())}{kept}") from err
    except (nbformat.ValidationError, nbformat.reader.NotJSONError) as err:
        raise ReportError(f"notebook {notebook!r} is not a valid notebook: {err}") from err


@contextlib.contextmanager
def _kernel_environment() -> Iterator[None]:
    """Start kernels without ``MPLBACKEND`` (see the module notes), restoring it afterwards.

    papermill offers no way to pass an environment to the kernel it starts, and the kernel
    inherits ``os.environ`` when it is launched, so the variable is removed from
    ``os.environ`` for the duration of the run (under a lock, so two reports rendered from
    threads do not restore each other's value).
    """
    with _ENV_LOCK:
        saved = os.environ.pop("MPLBACKEND", None)
        try:
            yield
        finally:
            if saved is not None:
                os.environ["MPLBACKEND"] = saved


def _client_config() -> Any:
    """nbclient configuration: CurveZMQ-encrypted kernel sockets when pyzmq supports them.

    Kernel and client talk over local TCP; ipykernel 7 warns on stderr when that traffic is
    not encrypted, and jupyter_client provisions the keys itself with the ``auto`` policy.
    """
    import zmq
    from traitlets.config import Config

    config = Config()
    if zmq.has("curve"):
        config.KernelManager.transport_encryption = "auto"
    return config


def _untyped(module: str) -> Any:
    """A module without type annotations (nbformat, nbconvert, IPython), typed as Any."""
    import importlib

    return importlib.import_module(module)


def _snapshot(folder: Path) -> dict[Path, tuple[int, int]]:
    if not folder.is_dir():
        return {}
    out = {}
    for p in folder.iterdir():
        if p.is_file():
            st = p.stat()
            out[p] = (st.st_mtime_ns, st.st_size)
    return out


def _write_text(path: Path, text: str) -> None:
    """Write ``text`` atomically (a temporary file beside ``path``, then a rename)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        with open(tmp, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _check_formats(formats: Iterable[str]) -> tuple[str, ...]:
    chosen = (formats,) if isinstance(formats, str) else tuple(formats)
    bad = [f for f in chosen if f not in REPORT_FORMATS]
    if bad:
        raise ConfigError(
            f"report formats must be among {', '.join(REPORT_FORMATS)}, "
            f"got {', '.join(map(repr, bad))}"
        )
    return tuple(dict.fromkeys(chosen))


def export_notebook(
    executed: str | os.PathLike[str],
    *,
    output_dir: str | os.PathLike[str] | None = None,
    formats: Iterable[str] = REPORT_FORMATS,
    title: str | None = None,
) -> tuple[Path | None, Path | None, tuple[Path, ...]]:
    """Convert an executed notebook into HTML and/or Markdown reports, code hidden.

    Parameters
    ----------
    executed : path-like
        An executed ``.ipynb`` file.
    output_dir : path-like or None
        Where to write; the notebook's folder when None.
    formats : iterable of {"html", "markdown"}
    title : str or None
        The HTML page title (escaped); the notebook's stem when None.

    Returns
    -------
    (html, markdown, images)
        The paths written (None for a format not asked) and the Markdown report's images,
        written to ``<stem>_files/`` (that folder is replaced on every export).

    Raises
    ------
    ConfigError
        For an unknown format.
    ReportError
        When the notebook cannot be read or a report cannot be written.
    """
    chosen = _check_formats(formats)
    src = Path(executed)
    out = Path(output_dir) if output_dir is not None else src.parent
    stem = src.stem
    import jinja2
    from traitlets.config import Config

    # nbformat and nbconvert have no type annotations: use them through Any.
    nbformat = _untyped("nbformat")
    nbconvert = _untyped("nbconvert")
    HTMLExporter, MarkdownExporter = nbconvert.HTMLExporter, nbconvert.MarkdownExporter
    TagRemovePreprocessor = _untyped("nbconvert.preprocessors").TagRemovePreprocessor
    with _papermill_errors(stem, executed=None, timeout_s=None, kernel_name=None):
        nb = nbformat.read(str(src), as_version=4)
    config = Config()
    config.TagRemovePreprocessor.enabled = True
    config.TagRemovePreprocessor.remove_cell_tags = set(_HIDDEN_TAGS)
    for exporter_name in ("HTMLExporter", "MarkdownExporter"):
        config[exporter_name].exclude_input = True
        config[exporter_name].exclude_input_prompt = True
        config[exporter_name].exclude_output_prompt = True
    html_path = md_path = None
    images: list[Path] = []
    try:
        out.mkdir(parents=True, exist_ok=True)
        if "html" in chosen:
            exporter = HTMLExporter(
                config=config,
                template_name="lab",
                extra_loaders=[jinja2.DictLoader({_HTML_TEMPLATE_NAME: _HTML_TEMPLATE})],
                template_file=_HTML_TEMPLATE_NAME,
            )
            exporter.register_preprocessor(TagRemovePreprocessor(config=config), enabled=True)
            body, _ = exporter.from_notebook_node(
                nb, resources={"metadata": {"name": title or stem}}
            )
            html_path = out / f"{stem}.html"
            _write_text(html_path, body)
        if "markdown" in chosen:
            md_config = Config(config)
            md_config.NbConvertBase.display_data_priority = list(_MARKDOWN_PRIORITY)
            md_exporter = MarkdownExporter(
                config=md_config,
                extra_loaders=[jinja2.DictLoader({_MD_TEMPLATE_NAME: _MD_TEMPLATE})],
                template_file=_MD_TEMPLATE_NAME,
            )
            md_exporter.register_preprocessor(
                TagRemovePreprocessor(config=md_config), enabled=True
            )
            files_dir = f"{stem}_files"
            body, resources = md_exporter.from_notebook_node(
                nb, resources={"metadata": {"name": title or stem}, "output_files_dir": files_dir}
            )
            shutil.rmtree(out / files_dir, ignore_errors=True)
            for rel, payload in sorted(resources.get("outputs", {}).items()):
                target = out / rel
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(payload)
                images.append(target)
            md_path = out / f"{stem}.md"
            _write_text(md_path, body)
    except OSError as err:
        raise ReportError(f"cannot write the report of {stem!r} to {str(out)!r}: {err}") from err
    return html_path, md_path, tuple(images)


def render_report(
    notebook: str | os.PathLike[str],
    *,
    parameters: Mapping[str, Any] | None = None,
    output_dir: str | os.PathLike[str] = "reports",
    formats: Iterable[str] = REPORT_FORMATS,
    kernel_name: str = "python3",
    timeout_s: float = 600,
) -> ReportPaths:
    """Execute a report notebook with papermill and export it as HTML and Markdown.

    Parameters
    ----------
    notebook : str or path-like
        A shipped notebook's name (see :func:`available_notebooks`) or an ``.ipynb`` path.
    parameters : mapping or None
        Values for the notebook's ``parameters`` cell (Python values; use
        :func:`parse_parameters` for command-line text). When the notebook declares an
        ``output_dir`` parameter and none is given, the absolute ``output_dir`` is passed, so
        the files it writes land beside the report.
    output_dir : path-like
        Where the executed notebook (``<stem>.ipynb``), ``<stem>.html``, ``<stem>.md`` and its
        ``<stem>_files/`` images go; created when missing.
    formats : iterable of {"html", "markdown"}
        Reports to write.
    kernel_name : str
        Jupyter kernel to run in. ``python3`` is installed into the environment by
        ``make venv`` (``python -m ipykernel install --sys-prefix``), and its ``python``
        command resolves to the running interpreter.
    timeout_s : float
        Longest time one cell may run.

    Returns
    -------
    ReportPaths

    Raises
    ------
    ConfigError
        For an unknown parameter name, an unknown format or a bad timeout.
    NotebookExecutionError
        When a cell raises (the executed notebook is kept; its path is in the message).
    ReportError
        When the notebook cannot be found, read or run (no such kernel, timeout, dead kernel),
        or a report cannot be written.

    Examples
    --------
    >>> paths = render_report("benchmark_report",                      # doctest: +SKIP
    ...                       parameters={"scenarios": ["small"], "iterations": 2})
    >>> paths.html                                                     # doctest: +SKIP
    PosixPath('reports/benchmark_report.html')
    """
    chosen = _check_formats(formats)
    if isinstance(timeout_s, bool) or not isinstance(timeout_s, int | float) or timeout_s <= 0:
        raise ConfigError(f"timeout_s must be a positive number of seconds, got {timeout_s!r}")
    if not isinstance(kernel_name, str) or not kernel_name:
        raise ConfigError(f"kernel_name must be a non-empty string, got {kernel_name!r}")
    source = resolve_notebook(notebook)
    name = source.stem
    declared = notebook_parameters(source)
    values = dict(parameters or {})
    _check_names(values, declared, name)
    out = Path(output_dir).resolve()
    if "output_dir" in declared and "output_dir" not in values:
        values["output_dir"] = str(out)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise ReportError(f"cannot create the report folder {str(out)!r}: {err}") from err
    executed = out / f"{name}.ipynb"
    if executed.resolve() == source.resolve():
        raise ConfigError(
            f"output_dir {str(out)!r} holds the notebook itself; choose another folder"
        )
    before = _snapshot(out)
    logger.info("running notebook %s into %s", source, out)
    import papermill

    with (
        _papermill_errors(name, executed=executed, timeout_s=timeout_s, kernel_name=kernel_name),
        _kernel_environment(),
    ):
        papermill.execute_notebook(
            str(source),
            str(executed),
            parameters=values,
            kernel_name=kernel_name,
            progress_bar=False,
            log_output=False,
            execution_timeout=timeout_s,
            request_save_on_cell_execute=False,
            config=_client_config(),
        )
    title = values.get("title")
    html_path, md_path, images = export_notebook(
        executed, output_dir=out, formats=chosen, title=title if isinstance(title, str) else None
    )
    reports = {executed, html_path, md_path}
    written = [
        p for p, stamp in _snapshot(out).items() if before.get(p) != stamp and p not in reports
    ]
    extras = tuple(sorted({*images, *written}))
    logger.info("report %s written to %s", name, out)
    return ReportPaths(notebook=executed, html=html_path, markdown=md_path, extras=extras)


# --------------------------------------------------------------------------------------------
# Display helpers used by the report notebooks
# --------------------------------------------------------------------------------------------

# Characters that can start Markdown syntax anywhere in a line: code, emphasis, links and
# images, HTML, table cells, strikethrough, entities. Parentheses, braces, dots and the like
# are literal unless they follow one of these, so they are left alone (a report reads
# "4 scenario(s)", not "4 scenario\\(s\\)").
_MD_SPECIAL = re.compile(r"([\\`*\[\]|<>~&])")
# "_" opens emphasis only at a word boundary: cache_state stays as it is.
_MD_UNDERSCORE = re.compile(r"(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])")
# What makes a line a heading, quote, list item, rule or setext underline when it starts it.
_MD_LINE_START = re.compile(r"^(\s*)(?:([#>+=-])|(\d+)([.)]))")


def _md_escape(text: str, *, line: bool = True) -> str:
    """Text shown literally in Markdown (and in the HTML nbconvert renders from it), with only
    the characters escaped that Markdown would read as syntax there; ``line=False`` for a
    table cell, where a leading ``#``, ``-`` or ``1.`` starts nothing."""
    flat = " ".join(text.split())
    escaped = _MD_UNDERSCORE.sub(r"\\_", _MD_SPECIAL.sub(r"\\\1", flat))
    return _MD_LINE_START.sub(_escape_line_start, escaped) if line else escaped


def _escape_line_start(m: re.Match[str]) -> str:
    if m.group(2):
        return f"{m.group(1)}\\{m.group(2)}"
    return f"{m.group(1)}{m.group(3)}\\{m.group(4)}"


def _cell_text(value: Any) -> str:
    import pandas as pd

    if value is None or value is pd.NA or value is pd.NaT:
        return ""
    if isinstance(value, float):
        if math.isnan(value):
            return ""
        return f"{value:.0f}" if abs(value) >= 1e4 else f"{value:.4g}"
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    return str(value)


@dataclass(frozen=True)
class ReportTable:
    """A table displayed as escaped HTML in Jupyter and HTML reports, as a pipe table in
    Markdown reports.

    Attributes
    ----------
    frame : DataFrame
        The rows (displayed without the index; floats with 4 significant digits).
    caption : str
        Optional caption (escaped).
    """

    frame: pd.DataFrame
    caption: str = ""

    def _rows(self) -> tuple[list[str], list[list[str]]]:
        cols = [str(c) for c in self.frame.columns]
        rows = [
            [_cell_text(v) for v in row]
            for row in self.frame.astype(object).itertuples(index=False, name=None)
        ]
        return cols, rows

    def _repr_html_(self) -> str:
        cols, rows = self._rows()
        esc = html.escape
        parts = ['<table class="rrperf-table">']
        if self.caption:
            parts.append(f"<caption>{esc(self.caption)}</caption>")
        parts.append("<thead><tr>" + "".join(f"<th>{esc(c)}</th>" for c in cols) + "</tr></thead>")
        parts.append("<tbody>")
        for row in rows:
            parts.append("<tr>" + "".join(f"<td>{esc(v)}</td>" for v in row) + "</tr>")
        parts.append("</tbody></table>")
        return "\n".join(parts)

    def _repr_markdown_(self) -> str:
        cols, rows = self._rows()
        lines = []
        if self.caption:
            lines += [_md_escape(self.caption), ""]
        lines.append("| " + " | ".join(_md_escape(c, line=False) for c in cols) + " |")
        lines.append("|" + "|".join("---" for _ in cols) + "|")
        for row in rows:
            lines.append("| " + " | ".join(_md_escape(v, line=False) for v in row) + " |")
        return "\n".join(lines) + "\n"

    def __repr__(self) -> str:
        return f"<ReportTable rows={len(self.frame)} columns={list(map(str, self.frame.columns))}>"


def _display(obj: Any) -> None:
    _untyped("IPython.display").display(obj)


def heading(text: str, level: int = 1) -> Any:
    """A Markdown heading with ``text`` escaped (an ``IPython.display.Markdown`` object).

    Parameters
    ----------
    text : str
        Any text; HTML and Markdown characters are shown literally.
    level : int
        1 to 6.

    Raises
    ------
    ConfigError
        When ``level`` is not 1 to 6.
    """
    Markdown = _untyped("IPython.display").Markdown
    if isinstance(level, bool) or not isinstance(level, int) or not 1 <= level <= 6:
        raise ConfigError(f"heading level must be 1 to 6, got {level!r}")
    return Markdown(f"{'#' * level} {_md_escape(str(text))}")


def show_text(text: str) -> None:
    """Display one paragraph of plain text (escaped)."""
    _display(_untyped("IPython.display").Markdown(_md_escape(str(text))))


def show_title(title: str) -> None:
    """Display the report's title as its top heading (escaped)."""
    _display(heading(title, 1))


def show_table(frame: pd.DataFrame, *, caption: str = "", empty: str = "none") -> None:
    """Display a table (:class:`ReportTable`), or the text ``empty`` when it has no rows."""
    if len(frame) == 0:
        show_text(empty)
        return
    _display(ReportTable(frame.reset_index(drop=True), caption))


def show_figure(ax: Axes | Figure, *, alt: str | None = None) -> None:
    """Display a chart as a PNG image and close its figure.

    The PNG is rendered here, not by the notebook's matplotlib backend, so reports get their
    images whatever backend the kernel runs (see the module notes).

    Parameters
    ----------
    ax : Axes or Figure
        What a chart function returned.
    alt : str or None
        Alternative text of the image; the axes title when None. Characters other than
        letters, digits, spaces and ``.,%/:-`` are dropped, so it is safe in Markdown and HTML.

    Raises
    ------
    ReportError
        When ``ax`` belongs to no figure.
    """
    import io

    import matplotlib.pyplot as plt

    Image = _untyped("IPython.display").Image
    fig: Any = ax if hasattr(ax, "savefig") else ax.get_figure()
    if fig is None:
        raise ReportError("show_figure needs an Axes that belongs to a figure")
    if alt is None:
        axes = fig.get_axes()
        alt = (axes[0].get_title() if axes else "") or "chart"
    alt = " ".join(re.sub(r"[^\w .,%/:-]", " ", alt).split()) or "chart"
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=_FIGURE_DPI, bbox_inches="tight")
    plt.close(fig)
    _display(Image(data=buf.getvalue(), format="png", metadata={"alt": alt}))


# --------------------------------------------------------------------------------------------
# The benchmark report
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BenchmarkReport:
    """Everything ``benchmark_report.ipynb`` shows, computed once by :func:`run_benchmark_report`.

    Attributes
    ----------
    result : BenchmarkResult
        The measurements of this run.
    summary, comparison, correctness, stability : DataFrame
        :meth:`BenchmarkResult.summary`, ``compare(baseline)``, ``correctness`` and
        ``stability()``.
    baseline : str
        The system every variant is compared with.
    history_path : Path or None
        The history store the run was saved to, or None.
    previous_run_id : str or None
        The latest complete run stored before this one (the regression baseline).
    regressions : DataFrame
        :func:`rrperf.bench.regress.detect_regressions` of this run against that run (empty
        when there is none).
    history : DataFrame
        The stored measurements of the benchmarked scenarios, this run included.
    change_points : DataFrame
        :func:`rrperf.bench.regress.detect_change_points` over ``history``.
    warnings : DataFrame
        :func:`warning_table`: the warnings raised while the report was computed, one row
        per distinct warning (the benchmark's counts come from ``result.warnings``).
    files : tuple of Path
        The results written: Parquet, CSV and the CSV's metadata sidecar.
    """

    result: BenchmarkResult
    summary: pd.DataFrame
    comparison: pd.DataFrame
    correctness: pd.DataFrame
    stability: pd.DataFrame
    baseline: str
    history_path: Path | None
    previous_run_id: str | None
    regressions: pd.DataFrame
    history: pd.DataFrame
    change_points: pd.DataFrame
    warnings: pd.DataFrame
    files: tuple[Path, ...] = field(default=())


@contextlib.contextmanager
def _recorded_warnings() -> Iterator[list[warnings.WarningMessage]]:
    """Record every warning raised in the block (whatever the filters say), except
    StabilityWarnings: the reports show those as their Stability tables."""
    from rrperf.errors import StabilityWarning

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        warnings.simplefilter("ignore", StabilityWarning)
        yield caught


def warning_table(
    results: Iterable[BenchmarkResult], caught: Iterable[warnings.WarningMessage] = ()
) -> pd.DataFrame:
    """The warnings of one or more benchmark results and of a recording, one row per warning.

    A benchmark re-emits each distinct warning of its iterations once; those re-emitted
    warnings are already counted in the result's :attr:`~BenchmarkResult.warnings`, so a
    recorded warning whose category and message a result holds is not counted again.

    Parameters
    ----------
    results : iterable of BenchmarkResult
        Their :attr:`~BenchmarkResult.warnings` tables.
    caught : iterable of warnings.WarningMessage
        Warnings recorded around the benchmark (``warnings.catch_warnings(record=True)``).

    Returns
    -------
    DataFrame
        ``category, message, count, places, scenarios, variants`` (see
        :func:`rrperf.bench.report.warnings_overview`: warnings that differ only in the place
        they name are one row); recorded warnings that no result holds come last, with empty
        ``scenarios`` and ``variants``.
    """
    import pandas as pd

    from rrperf.bench.report import warnings_overview
    from rrperf.bench.results import WARNING_COLUMNS, empty_warnings

    frames = [r.warnings for r in results]
    known = {
        (str(c), str(m))
        for f in frames for c, m in f[["category", "message"]].itertuples(index=False, name=None)
    }
    extra: dict[tuple[str, str], int] = {}
    for w in caught:
        key = (w.category.__name__, str(w.message))
        if key not in known:
            extra[key] = extra.get(key, 0) + 1
    others = pd.DataFrame({
        "scenario": [None] * len(extra), "system": [None] * len(extra),
        "strategy": [None] * len(extra),
        "category": [k[0] for k in extra], "message": [k[1] for k in extra],
        "count": pd.Series(list(extra.values()), dtype="int64"),
        "first_iteration": pd.Series([0] * len(extra), dtype="int64"),
    })
    parts = [f[list(WARNING_COLUMNS)] for f in frames if len(f)]
    if len(others):
        parts.append(others[list(WARNING_COLUMNS)])
    tidy = pd.concat(parts, ignore_index=True) if parts else empty_warnings()
    return warnings_overview(tidy[list(WARNING_COLUMNS)])


def _names(value: str | Iterable[str], what: str) -> tuple[str, ...]:
    items = (value,) if isinstance(value, str) else tuple(value)
    if not all(isinstance(v, str) and v for v in items):
        raise ConfigError(f"{what}: expected names (non-empty strings), got {list(items)!r}")
    return items


def project_config(config_file: str | os.PathLike[str] | None) -> RrperfConfig:
    """The project configuration of a report run: ``config_file`` (with the ``RRPERF_*``
    environment variables over it), or the defaults and the environment when it is empty or
    None. No file is searched for: ``rrperf report`` passes the one it found.

    Raises
    ------
    ConfigError
        When the file is missing or malformed (naming the file and line) or a key is bad.
    """
    from rrperf.config import load_config

    return load_config(os.fspath(config_file) if config_file else None, search=False)


def _strategies(asked: str | Iterable[str] | None) -> tuple[str, ...] | None:
    """``[]``/None mean every strategy this installation offers (None when it offers none)."""
    from rrperf.bench.systems import available_strategies

    if asked is None:
        names: tuple[str, ...] = ()
    else:
        names = _names(asked, "strategies")
    if names:
        return names
    offered = available_strategies()
    return offered or None


def run_benchmark_report(
    *,
    scenarios: str | Iterable[str],
    systems: str | Iterable[str] = ("legacy", "pipeline"),
    strategies: str | Iterable[str] | None = None,
    iterations: int = 5,
    warmup: int = 1,
    cache_states: str | Iterable[str] = ("cold", "warm"),
    baseline: str = "legacy",
    history_path: str | os.PathLike[str] | None = None,
    output_dir: str | os.PathLike[str] = "reports",
    seed: int | None = 0,
    name: str | None = None,
    config_file: str | os.PathLike[str] | None = None,
) -> BenchmarkReport:
    """Run the comparative benchmark and compute every table of the benchmark report.

    The run is measured by :class:`~rrperf.bench.runner.BenchmarkRunner` (no progress bar),
    saved to ``output_dir`` as ``benchmark_results.parquet`` and ``benchmark_results.csv``
    (with its ``.meta.json`` sidecar) and, when ``history_path`` is given, stored in that
    history and compared with the latest complete run stored before it.

    No warning leaves this function: :class:`~rrperf.errors.StabilityWarning` is a row of
    :attr:`BenchmarkReport.stability`, and every other warning raised meanwhile (the
    benchmark's, counted per iteration in ``result.warnings``, and any other) is a row of
    :attr:`BenchmarkReport.warnings`; the report shows both tables.

    Parameters
    ----------
    scenarios, systems, cache_states : str or iterable of str
        As for :meth:`BenchmarkRunner.run_comparative_benchmark`.
    strategies : str, iterable of str or None
        Strategies of the ``pipeline`` system; empty or None means every strategy this
        installation offers.
    iterations, warmup, seed : int
        As for :class:`BenchmarkRunner`.
    baseline : str
        System (or ``system/strategy``) the others are compared with.
    history_path : path-like or None
        A :class:`~rrperf.bench.history.HistoryStore` file; ``""`` or None for none.
    output_dir : path-like
        Where the results files go.
    name : str or None
        Name of the run in the history and the metadata.
    config_file : path-like or None
        The project's ``rrperf.toml`` the benchmark runs with (:func:`project_config`);
        ``""`` or None: the defaults.

    Returns
    -------
    BenchmarkReport

    Raises
    ------
    BenchmarkError, ConfigError
        On an unknown scenario, system, strategy or cache state (before anything runs).
    HistoryError
        When the history store cannot be used.
    """
    from rrperf.bench.history import HistoryStore
    from rrperf.bench.regress import detect_change_points, detect_regressions
    from rrperf.bench.runner import BenchmarkRunner

    project = project_config(config_file)
    scen = _names(scenarios, "scenarios")
    chosen_strategies = _strategies(strategies)
    out = Path(output_dir)
    out.mkdir(parents=True, exist_ok=True)
    store = HistoryStore(history_path) if history_path else None
    with _recorded_warnings() as caught:
        try:
            previous: str | None = None
            if store is not None:
                runs = store.list_runs()
                done = runs[runs["status"] == "complete"]
                previous = str(done["run_id"].iloc[-1]) if len(done) else None
            runner = BenchmarkRunner(
                iterations=iterations, warmup=warmup, progress=False, seed=seed,
                history=store, name=name, config=project,
            )
            result = runner.run_comparative_benchmark(
                scen, systems=systems, strategies=chosen_strategies, cache_states=cache_states
            )
            files = (
                result.to_parquet(out / f"{RESULTS_STEM}.parquet"),
                result.to_csv(out / f"{RESULTS_STEM}.csv"),
                out / f"{RESULTS_STEM}.meta.json",
            )
            import pandas as pd

            regressions = pd.DataFrame()
            history = result.data.iloc[0:0]
            change_points = pd.DataFrame()
            if store is not None:
                if previous is not None:
                    regressions = detect_regressions(result.data, store.load_run(previous).data)
                history = store.load_history(scenario=list(scen))
                change_points = detect_change_points(history)
        finally:
            if store is not None:
                store.close()
        summary = result.summary()
        comparison = result.compare(baseline)
        correctness = result.correctness
        stability = result.stability()
    return BenchmarkReport(
        result=result,
        summary=summary,
        comparison=comparison,
        correctness=correctness,
        stability=stability,
        baseline=baseline,
        history_path=Path(history_path) if history_path else None,
        previous_run_id=previous,
        regressions=regressions,
        history=history,
        change_points=change_points,
        warnings=warning_table([result], caught),
        files=files,
    )


def _with_variant(frame: pd.DataFrame) -> pd.DataFrame:
    from rrperf.report.plots import variant_label

    out = frame.copy()
    pos = list(out.columns).index("system")
    variant = variant_label(out)
    out = out.drop(columns=[c for c in ("system", "strategy") if c in out.columns])
    out.insert(pos, "variant", variant.to_numpy())
    return out


def _figure(rows: int, *, width: float = 8.0) -> Axes:
    import matplotlib.pyplot as plt

    _, ax = plt.subplots(figsize=(width, min(2.0 + 0.32 * rows, 30.0)))
    return ax


def _filesystem_of(path: str | os.PathLike[str]) -> str | None:
    """The file system type (``ext4``, ``tmpfs``...) of the mount holding ``path``, if known."""
    import psutil

    target = os.path.realpath(path)
    best: tuple[int, str] | None = None
    try:
        partitions = psutil.disk_partitions(all=True)
    except (OSError, RuntimeError):
        return None
    for part in partitions:
        mount = part.mountpoint.rstrip("/") or "/"
        inside = target == mount or target.startswith(mount + "/") or mount == "/"
        if inside and (best is None or len(mount) > best[0]):
            best = (len(mount), part.fstype)
    return best[1] if best else None


def cache_state_notes(result: BenchmarkResult) -> list[str]:
    """What ``cold`` and ``warm`` mean for each system of ``result``, one paragraph each, and
    why legacy's warm iterations can be the slower ones (with the ratio measured here).

    Parameters
    ----------
    result : BenchmarkResult

    Returns
    -------
    list of str
        Plain-text paragraphs (empty when only one cache state was measured).
    """
    import tempfile as _tempfile

    from rrperf.bench.stats import summarize

    data = result.data
    measured = data[~data["warmup"]]
    states = set(measured["cache_state"].astype(str))
    if not {"cold", "warm"} <= states:
        return []
    systems = list(dict.fromkeys(measured["system"].astype(str)))
    notes = []
    if "legacy" in systems:
        notes.append(
            "legacy has no cache. Cold: its output folder is emptied before each iteration "
            "(before the clock starts), so every file is created new. Warm: the folder still "
            "holds the previous iteration's files, and legacy rewrites every one of them "
            "(each write is a temporary file renamed over the old one)."
        )
    if "pipeline" in systems:
        notes.append(
            "pipeline: cold empties the output folder and clears the strategy's memory and "
            "disk caches before each iteration. Warm keeps both from the previous iteration: "
            "stages whose inputs are unchanged are read from the cache (except with minimal, "
            "which has none) and only files whose content changed are written (none, for an "
            "unchanged schema)."
        )
    legacy = measured[measured["system"].astype(str) == "legacy"]
    if len(legacy):
        med = summarize(legacy, by=["scenario", "cache_state"])
        wide = med.pivot_table(index="scenario", columns="cache_state", values="median",
                               observed=True)
        if {"cold", "warm"} <= set(wide.columns):
            ratio = (wide["warm"] / wide["cold"]).dropna()
            if len(ratio) and float(ratio.max()) > 1.1:
                span = (f"{ratio.min():.1f}x to {ratio.max():.1f}x" if len(ratio) > 1
                        else f"{ratio.iloc[0]:.1f}x")
                fs = _filesystem_of(_tempfile.gettempdir())
                text = (
                    f"Here legacy's warm median is {span} its cold median, although it does "
                    "the same work: a warm iteration replaces existing files. "
                )
                if fs in ("ext4", "ext3"):
                    text += (
                        f"The output is on {fs}, which (with its default auto_da_alloc "
                        "option) allocates and starts writing a file's data as soon as it is "
                        "renamed over an existing file, and frees the old file's blocks, all "
                        "inside the timed rename; a cold iteration's new files are written "
                        "later in the background, and the old output was deleted before the "
                        "clock started. On tmpfs both take the same time."
                    )
                else:
                    text += (
                        f"Replacing a file costs the file system ({fs or 'unknown'}) more than "
                        "creating one in an empty folder, and a cold iteration's deletions "
                        "happen before the clock starts."
                    )
                notes.append(text)
    return notes


def show_run(report: BenchmarkReport) -> None:
    """Section "Run": what was measured, on which machine, and what cold and warm mean."""
    import pandas as pd

    _display(heading("Run", 2))
    data = report.result.data
    measured = data[~data["warmup"]]
    show_text(
        f"{len(measured)} measured iterations ({int(data['warmup'].sum())} warm-up) of "
        f"{data['scenario'].nunique()} scenario(s), baseline {report.baseline}. Every time "
        "is the median of the iterations of a group, in the unit its size calls for; every "
        "ratio is a ratio of medians."
    )
    meta = report.result.metadata
    cols = [c for c in ("run_id", "rrperf_version", "git_revision", "python_version",
                        "platform", "cpu_model", "cpu_count", "memory_total_mb") if c in meta]
    show_table(pd.DataFrame(meta[cols]), empty="no run metadata")
    notes = cache_state_notes(report.result)
    if notes:
        _display(heading("Cold and warm", 3))
        for note in notes:
            show_text(note)


def summary_table(data: pd.DataFrame) -> pd.DataFrame:
    """Per group, the wall time's median with its interval, min and max, and the CPU time and
    memory beside it, as pyperf and hyperfine print them.

    Parameters
    ----------
    data : DataFrame
        A measurement table (warm-ups and failed iterations are left out).

    Returns
    -------
    DataFrame
        The group columns, then ``n, median, ci_low, ci_high`` (95 % percentile-bootstrap
        interval of the median), ``min, max``, ``cpu_s`` (median CPU time, the process and its
        children) and ``mem_mb`` (median peak memory above the iteration's start, MiB); raw
        numbers in seconds.
    """
    from rrperf.bench.stats import group_columns, measured_rows, summarize

    by = group_columns(data, None)
    summary = summarize(data, by=by, center="median", n_resamples=2000)
    rows = measured_rows(data, "wall_s")
    extra = rows.groupby(by, sort=False, observed=True, dropna=False).agg(
        min=("wall_s", "min"), max=("wall_s", "max"), cpu_s=("cpu_s", "median"),
        mem_mb=("peak_rss_mb", "median"),
    ).reset_index()
    out = summary[[*by, "n", "median", "ci_low", "ci_high"]].merge(extra, on=by, how="left")
    return out


def _megabytes(frame: pd.DataFrame) -> pd.DataFrame:
    """``*_mb`` columns as text with two decimals (a table for people)."""
    out = frame.copy()
    for col in out.columns:
        if str(col).endswith("_mb"):
            out[col] = ["" if v != v else f"{float(v):.2f}" for v in frame[col]]
    return out


def _summary_caption() -> str:
    return ("wall time: median of the measured iterations with its 95 % interval (bootstrap), "
            "min and max; cpu_s: median CPU time (process and children); mem_mb: median peak "
            "memory above the iteration's start, in MiB")


def show_summary(report: BenchmarkReport) -> None:
    """Section "Summary": per group the median with its interval, min, max, CPU time and
    memory, and per cache state a chart of every iteration with the medians."""
    from rrperf.report.plots import distribution_chart

    _display(heading("Summary", 2))
    data = report.result.data
    show_table(_megabytes(format_table(_with_variant(summary_table(data)))),
               caption=_summary_caption())
    measured = data[~data["warmup"]]
    for state in dict.fromkeys(measured["cache_state"].astype(str)):
        part = measured[measured["cache_state"].astype(str) == state]
        if part["wall_s"].notna().sum() == 0:
            continue
        n_variants = int(part[["system", "strategy"]].drop_duplicates().shape[0])
        ax = distribution_chart(part, ax=_figure(4, width=8.0 + 0.25 * n_variants))
        ax.set_title(f"wall time, {state} cache: every iteration, median with its 95 % interval")
        show_figure(ax)


def show_comparison(report: BenchmarkReport) -> None:
    """Section "Comparison": each variant against the baseline, with a forest plot."""
    from rrperf.report.plots import comparison_chart

    _display(heading("Comparison", 2))
    comp = report.comparison
    show_text(f"Ratio of medians variant / {report.baseline} (below 1 is faster).")
    cols = ["scenario", "system", "strategy", "cache_state", "ratio", "ratio_ci_low",
            "ratio_ci_high", "p_value", "verdict"]
    show_table(
        format_table(_with_variant(comp[[c for c in cols if c in comp.columns]]))
        if len(comp) else comp,
        empty="no comparison: a single variant was measured",
    )
    if len(comp) and comp["ratio"].notna().any():
        show_figure(comparison_chart(comp, ax=_figure(len(comp))))


def show_correctness(report: BenchmarkReport) -> None:
    """Section "Correctness": did every variant write the baseline's files?"""
    _display(heading("Correctness", 2))
    corr = report.correctness
    cols = ["scenario", "system", "strategy", "baseline", "matches_baseline", "note"]
    show_table(_with_variant(corr[cols]) if len(corr) else corr,
               empty="no variant besides the baseline")


def _shown_path(path: Path, report: BenchmarkReport) -> str:
    """A path as a report shows it: relative to the report's folder when it is absolute (a
    report names no folder of the machine it was made on)."""
    if not path.is_absolute() or not report.files:
        return str(path)
    return os.path.relpath(path, report.files[0].parent)


def _worst_first(reg: pd.DataFrame) -> pd.DataFrame:
    """Regressions first, then improvements, then the rest; within each, the largest change
    (``|log ratio|``) first."""
    import numpy as np

    change = np.abs(np.log(reg["ratio"].to_numpy(dtype=float)))
    flagged = [
        0 if bool(r) else (1 if bool(i) else 2)
        for r, i in zip(reg.get("regression", [False] * len(reg)),
                        reg.get("improvement", [False] * len(reg)), strict=True)
    ]
    order = np.lexsort((-np.nan_to_num(change, nan=-1.0), np.asarray(flagged)))
    return reg.iloc[order]


def show_regressions(report: BenchmarkReport) -> None:
    """Section "Regressions": this run against the previous one in the history, with the
    history chart of the group that changed most."""

    from rrperf.report.plots import regression_chart, time_unit

    _display(heading("Regressions", 2))
    if report.history_path is None:
        show_text("No history store was given (history_path), so there is nothing to compare.")
        return
    if report.previous_run_id is None:
        show_text(
            f"First run in the history {_shown_path(report.history_path, report)}: the next run "
            "will be compared "
            "with this one."
        )
    else:
        show_text(f"Compared with run {report.previous_run_id} from "
                  f"{_shown_path(report.history_path, report)}.")
        reg = report.regressions
        if len(reg) and reg["ratio"].notna().any():
            reg = _worst_first(reg)
        cols = ["scenario", "system", "strategy", "cache_state", "ratio", "ratio_ci_low",
                "ratio_ci_high", "p_adjusted", "regression", "improvement"]
        show_table(
            format_table(_with_variant(reg[[c for c in cols if c in reg.columns]]))
            if len(reg) else reg,
            empty="no group was measured in both runs",
        )
    show_table(report.change_points, caption="change points over the history",
               empty="no change point in the history")
    history = report.history
    if len(history) == 0:
        return
    runs = history["run_id"].nunique()
    if runs < 2:
        show_text("The history holds one run: its chart appears from the second run on.")
        return
    keys = ["scenario", "system", "strategy", "cache_state"]
    reg = report.regressions
    groups: list[tuple[Any, ...]] = []
    if len(reg) and reg["ratio"].notna().any():
        ranked = _worst_first(reg)
        groups = [tuple(r) for r in ranked[keys].head(_REGRESSION_CHARTS).itertuples(
            index=False, name=None)]
        show_text(
            f"History of the {len(groups)} group(s) that changed most since the previous run, "
            "largest change first (the table above lists every group)."
        )
    else:
        groups = [tuple(history[keys].iloc[-1])]
    factor, unit = time_unit(history["wall_s"])
    scaled = history.assign(**{f"wall_{unit}": history["wall_s"] * factor})
    for group in groups:
        ax = regression_chart(scaled, value=f"wall_{unit}", group=group,
                              change_points=report.change_points
                              if len(report.change_points) else None, ax=_figure(4, width=9.0))
        show_figure(ax)


def show_stability(report: BenchmarkReport) -> None:
    """Section "Stability": one sentence, then one line per group, worst first: is the median
    measured precisely enough to be trusted (:func:`rrperf.bench.report.stability_overview`)?"""
    from rrperf.bench.report import stability_overview, stability_verdict

    _display(heading("Stability", 2))
    overview = stability_overview(report.result.data)
    show_text(stability_verdict(overview))
    checks = report.stability
    if len(checks):
        failing = checks[["scenario", "system", "strategy", "cache_state"]].drop_duplicates()
        show_text(
            f"The mean-based checks (pyperf's: cv above 10 %, too few iterations for the mean "
            f"to ±5 %) fail for {len(failing)} group(s); they are in the results "
            "(BenchmarkResult.stability()). This report quotes medians."
        )
    comp = report.comparison
    if len(comp) and "verdict" in comp.columns:
        decided = int(comp["verdict"].isin(["faster", "slower", "equivalent"]).sum())
        show_text(
            f"{decided} of {len(comp)} comparisons with {report.baseline} are decided "
            "(faster, slower or equivalent); the paired ratios cancel much of the machine's "
            "drift that widens each group's own interval."
        )
    show_table(
        format_table(_with_variant(overview)),
        caption="median_pm: half-width of the median's 95 % interval relative to the median; "
        "needed: iterations that would bring it to 5 %",
    )


def show_warnings(report: BenchmarkReport | StrategyReport) -> None:
    """Section "Warnings": the warnings raised while the report's measurements ran, one row per
    distinct warning, with how often it was raised and where.

    Like pytest's warnings summary, the section is left out when nothing warned.
    """
    if len(report.warnings) == 0:
        return
    _display(heading("Warnings", 2))
    show_table(report.warnings,
               caption="raised while measuring; count includes warm-up iterations")


def show_files(report: BenchmarkReport | StrategyReport) -> None:
    """Section "Results files": the measurements saved beside this report (names only: the
    folder is the report's own)."""
    import pandas as pd

    _display(heading("Results files", 2))
    show_text("Saved in the folder of this report:")
    kinds = {".parquet": "measurements (Parquet)", ".csv": "measurements (CSV)",
             ".json": "run metadata of the CSV"}
    show_table(pd.DataFrame({
        "file": [p.name for p in report.files],
        "content": [kinds.get(p.suffix, "") for p in report.files],
    }))


def headline_table(result: BenchmarkResult, *, baseline: str | None = None) -> pd.DataFrame:
    """One row per scenario, cache state and variant: median time, ratio to the baseline and
    verdict.

    The verdict is the comparison's (``faster``, ``slower``, ``equivalent``,
    ``inconclusive``), ``baseline`` for the baseline's own rows (ratio 1), ``failed`` for a
    variant none of whose measured iterations succeeded, and ``wrong output`` for a variant
    whose files differ from the baseline's (:attr:`BenchmarkResult.correctness`).

    Parameters
    ----------
    result : BenchmarkResult
    baseline : str or None
        The reference system; ``result.baseline`` when None.

    Returns
    -------
    DataFrame
        ``scenario, cache_state, variant, median_s, ratio, verdict``, one row per group of the
        measured (non-warm-up) rows, sorted by scenario, system, strategy and cache state.
    """
    import pandas as pd

    from rrperf.report.plots import variant_label

    base = result.baseline if baseline is None else baseline
    keys = ["scenario", "system", "strategy", "cache_state"]
    data = result.data
    groups = (
        data.loc[~data["warmup"], keys].drop_duplicates().sort_values(keys).reset_index(drop=True)
    )
    summary = result.summary()
    comp = result.compare(base)
    merged = groups.merge(summary[[*keys, "median"]], on=keys, how="left")
    if len(comp):
        merged = merged.merge(comp[[*keys, "ratio", "verdict"]], on=keys, how="left")
    else:
        merged["ratio"] = math.nan
        merged["verdict"] = None
    corr = result.correctness
    wrong = {
        tuple(r)
        for r in corr.loc[corr["matches_baseline"].eq(False).fillna(False).astype(bool),
                          ["scenario", "system", "strategy"]].itertuples(index=False, name=None)
    }
    verdicts = []
    ratios = []
    records: list[Any] = list(merged.astype(object).itertuples(index=False))
    for row in records:
        ratio = float(row.ratio) if not pd.isna(row.ratio) else math.nan
        if pd.isna(row.median):
            verdict, ratio = "failed", math.nan
        elif str(row.system) == base:
            verdict, ratio = "baseline", 1.0
        elif (row.scenario, row.system, row.strategy) in wrong:
            verdict, ratio = "wrong output", math.nan
        else:
            verdict = "" if pd.isna(row.verdict) else str(row.verdict)
        verdicts.append(verdict)
        ratios.append(ratio)
    return pd.DataFrame({
        "scenario": merged["scenario"].astype(str),
        "cache_state": merged["cache_state"].astype(str),
        "variant": variant_label(merged).to_numpy(),
        "median_s": merged["median"].astype(float),
        "ratio": pd.Series(ratios, dtype="float64"),
        "verdict": pd.Series(verdicts, dtype=object),
    })


# --------------------------------------------------------------------------------------------
# The strategy analysis
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StrategyReport:
    """Everything ``strategy_analysis.ipynb`` shows, computed by :func:`run_strategy_analysis`.

    Attributes
    ----------
    analysis : AnalysisResult
        :meth:`PerformanceOptimizer.run_comprehensive_analysis` of the scenario: the
        recommendation per cache state, its rationale and the benchmark of the strategies.
    summary : DataFrame
        Summary of that benchmark.
    comparison : DataFrame
        That benchmark compared with ``pipeline/sequential`` (empty when it was not measured).
    execution_methods : DataFrame
        :func:`rrperf.generator.speedup.compare_strategies` of the scenario: cold runs of the
        ``sequential`` and ``parallel`` strategies (pool started), the path every strategy
        runs, in the frame of :meth:`ParallelExecutor.compare_execution_methods` (``method``
        is the strategy).
    cache_strategy : str or None
        The strategy whose cache statistics are in ``cache_report`` (None when no strategy
        has a cache).
    cache_report : DataFrame
        :meth:`CacheOptimizer.cache_efficiency_report` after a cold and a warm run of that
        strategy.
    scaling : DataFrame
        Measurements over the synthetic sizes, with a ``variant`` column.
    warnings : DataFrame
        :func:`warning_table` of the warnings raised while measuring, one row per distinct
        warning.
    files : tuple of Path
        Results written: ``strategy_results`` and ``scaling_results`` as Parquet and CSV.
    """

    analysis: Any
    summary: pd.DataFrame
    comparison: pd.DataFrame
    execution_methods: pd.DataFrame
    cache_strategy: str | None
    cache_report: pd.DataFrame
    scaling: pd.DataFrame
    warnings: pd.DataFrame
    files: tuple[Path, ...] = field(default=())


def _sizes(sizes: Iterable[int]) -> tuple[int, ...]:
    items = tuple(sizes)
    if not items or not all(
        isinstance(n, int) and not isinstance(n, bool) and n >= 1 for n in items
    ):
        raise ConfigError(f"sizes: expected positive table counts, got {list(items)!r}")
    return items


def _cache_report(optimizer: Any, scenario: str, order: Iterable[str]) -> tuple[Any, Any]:
    """Run the first strategy of ``order`` that has a cache twice (cold, then warm) and return
    its name and cache report; (None, empty frame) when none has one."""
    import pandas as pd

    with tempfile.TemporaryDirectory(prefix="rrperf-cache-run-") as tmp:
        for name in dict.fromkeys(order):
            if name not in optimizer.strategies:
                continue
            optimizer.optimize_generation(scenario, name, out_dir=Path(tmp) / name)
            cache = optimizer.cache_optimizer
            if cache is None:
                continue
            optimizer.optimize_generation(scenario, name, out_dir=Path(tmp) / name)
            return name, cache.cache_efficiency_report()
    return None, pd.DataFrame()


def run_strategy_analysis(
    *,
    scenario: str,
    include_all_strategies: bool = True,
    cache_states: str | Iterable[str] = ("cold", "warm"),
    iterations: int = 5,
    warmup: int = 1,
    sizes: Iterable[int] = (50, 200),
    scaling_iterations: int = 3,
    workers: int | None = None,
    output_dir: str | os.PathLike[str] = "reports",
    seed: int = 0,
    config_file: str | os.PathLike[str] | None = None,
) -> StrategyReport:
    """Analyse the pipeline strategies on a scenario, as ``strategy_analysis.ipynb`` shows it.

    Four measurements, all on this machine:

    1. :meth:`~rrperf.optimize.optimizer.PerformanceOptimizer.run_comprehensive_analysis`:
       the optimizer's recommendation per cache state, checked against a benchmark of the
       strategies (all of them with ``include_all_strategies``);
    2. cold runs of the scenario with the ``sequential`` and ``parallel`` strategies (the
       latter with ``workers`` workers, its pool started before measuring), interleaved
       (:func:`rrperf.generator.speedup.compare_strategies`), for the parallel speedup;
    3. the cache of the recommended strategy (or the first strategy with a cache) after a cold
       and a warm run, for the hit rates;
    4. legacy and the recommended strategy on synthetic schemas of ``sizes`` tables (cold),
       for the scaling exponent.

    The benchmarks are saved to ``output_dir`` as ``strategy_results`` and
    ``scaling_results`` (Parquet and CSV). No warning leaves this function: stability
    warnings are left out (the tables show the intervals), every other warning raised while
    measuring is a row of :attr:`StrategyReport.warnings`.

    Parameters
    ----------
    scenario : str
        A benchmark scenario (see :mod:`rrperf.bench.scenarios`).
    include_all_strategies : bool
        Benchmark every strategy, not only the optimizer's three best predictions.
    cache_states : str or iterable of str
    iterations, warmup, seed : int
        Of the strategy benchmark.
    sizes : iterable of int
        Table counts of the synthetic schemas.
    scaling_iterations : int
        Measured iterations per size.
    workers : int or None
        Workers of the ``parallel`` strategy in the speedup measurement; the CPU count (at
        least 2) when None.
    output_dir : path-like
    config_file : path-like or None
        The project's ``rrperf.toml`` the optimizer and the scaling benchmark run with
        (:func:`project_config`); ``""`` or None: the defaults.

    Returns
    -------
    StrategyReport

    Raises
    ------
    ConfigError, BenchmarkError
        On a bad option or an unknown scenario.
    """
    from rrperf.bench.runner import BenchmarkRunner
    from rrperf.generator.speedup import compare_strategies
    from rrperf.optimize.optimizer import PerformanceOptimizer
    from rrperf.report.plots import variant_label
    from rrperf.schema.sources import load_schema

    project = project_config(config_file)
    size_list = _sizes(sizes)
    if workers is None:
        workers = max(2, usable_cpus())
    out = Path(output_dir)
    out.mkdir(parents=True, exist_ok=True)
    with _recorded_warnings() as caught:
        with PerformanceOptimizer({"enable_monitoring": False}, project=project) as optimizer:
            analysis = optimizer.run_comprehensive_analysis(
                include_all_strategies, scenario=scenario, cache_states=cache_states,
                iterations=iterations, warmup=warmup, seed=seed,
            )
            recommended = analysis.recommendation.strategy
            cache_strategy, cache_report = _cache_report(
                optimizer, scenario, [recommended, "cache_heavy", *optimizer.strategies]
            )
        from rrperf.bench.scenarios import resolve_scenario

        schema = load_schema(resolve_scenario(scenario).source)
        methods = compare_strategies(
            schema, strategies=("sequential", "parallel"), workers=workers,
            repeats=max(3, iterations),
        )
        # Synthetic schemas have inet columns, which the TypeScript mapping types as unknown;
        # the runner counts that SchemaWarning per iteration in scaling_result.warnings.
        scaling_result = BenchmarkRunner(
            iterations=scaling_iterations, warmup=1, progress=False, seed=seed, config=project,
        ).run_comparative_benchmark(
            [f"synthetic:{n}" for n in size_list], systems=("legacy", "pipeline"),
            strategies=[recommended], cache_states=("cold",),
        )
    bench = analysis.benchmark
    variants = set(variant_label(bench.data))
    import pandas as pd

    comparison = (
        bench.compare("pipeline/sequential") if "pipeline/sequential" in variants
        else pd.DataFrame()
    )
    files = (
        bench.to_parquet(out / "strategy_results.parquet"),
        bench.to_csv(out / "strategy_results.csv"),
        scaling_result.to_parquet(out / "scaling_results.parquet"),
        scaling_result.to_csv(out / "scaling_results.csv"),
    )
    scaling = scaling_result.data
    scaling["variant"] = variant_label(scaling).to_numpy()
    return StrategyReport(
        analysis=analysis,
        summary=bench.summary(),
        comparison=comparison,
        execution_methods=methods,
        cache_strategy=cache_strategy,
        cache_report=cache_report,
        scaling=scaling,
        warnings=warning_table([bench, scaling_result], caught),
        files=files,
    )


def show_recommendation(report: StrategyReport) -> None:
    """Section "Recommendation": the strategy per cache state, why, and how it measured."""
    _display(heading("Recommendation", 2))
    analysis = report.analysis
    for state, rec in analysis.recommendations.items():
        show_text(f"{state} cache: {rec.strategy}. {rec.rationale}")
    from rrperf.bench.report import SECONDS_COLUMNS

    seconds = (*SECONDS_COLUMNS, "predicted_s", "recommended_median_s", "best_median_s")
    show_table(format_table(analysis.to_frame(), seconds=seconds),
               caption="recommendation against the measured best (medians)")
    show_table(format_table(analysis.recommendation.to_frame(), seconds=seconds),
               caption="predicted time per strategy (first cache state)")


def show_strategies(report: StrategyReport) -> None:
    """Section "Strategies measured": median, interval, min, max, CPU time and memory of every
    benchmarked strategy, and a chart of every iteration."""
    from rrperf.report.plots import distribution_chart

    _display(heading("Strategies measured", 2))
    data = report.analysis.benchmark.data
    show_table(_megabytes(format_table(_with_variant(summary_table(data)))),
               caption=_summary_caption())
    measured = data[~data["warmup"]]
    if measured["wall_s"].notna().any():
        ax = distribution_chart(measured, x="cache_state", ax=_figure(4, width=9.0))
        ax.set_title("wall time per strategy: every iteration, median with its 95 % interval")
        show_figure(ax)
    if len(report.comparison):
        comp = report.comparison
        cols = ["scenario", "system", "strategy", "cache_state", "ratio", "ratio_ci_low",
                "ratio_ci_high", "verdict"]
        show_table(format_table(_with_variant(comp[[c for c in cols if c in comp.columns]])),
                   caption="each strategy against pipeline/sequential (ratio of medians)")


def speedup_fits(methods: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, Any], list[str]]:
    """Amdahl's law fitted to each execution method's speedups, where the data can support it.

    Amdahl's law ``speedup = 1 / (f + (1 - f) / workers)`` has no overhead term: a method
    slower than the sequential run (speedup <= 1) or faster than linear (speedup >= workers)
    lies outside it, and its serial fraction would come out below 0 or above 1. Those methods
    get no fit and a sentence saying why; the others a bounded least-squares fit
    (:func:`rrperf.bench.stats.fit_amdahl`, ``f`` in [0, 1]) with an interval when there are
    speedups at two or more worker counts.

    Parameters
    ----------
    methods : DataFrame
        As :meth:`ParallelExecutor.compare_execution_methods` returns it (``method, workers,
        speedup`` at least).

    Returns
    -------
    (table, fits, sentences)
        ``table``: ``method, workers, wall_s, speedup, efficiency, serial_fraction, ci_low,
        ci_high`` (``serial_fraction`` NaN where there is no fit); ``fits``: method -> AmdahlFit
        for the fitted ones; ``sentences``: one plain sentence per method that has more than one
        worker.
    """
    import pandas as pd

    from rrperf.bench.stats import fit_amdahl

    fits: dict[str, Any] = {}
    sentences: list[str] = []
    rows = []
    for name, part in methods.groupby("method", sort=False):
        part = part.loc[part["workers"].notna() & part["speedup"].notna()]
        multi = part.loc[part["workers"].astype(float) > 1]
        fraction = low = high = math.nan
        if len(multi):
            workers = multi["workers"].to_numpy(dtype=float)
            speedup = multi["speedup"].to_numpy(dtype=float)
            counts = ", ".join(str(int(w)) for w in dict.fromkeys(workers))
            if (speedup <= 1).all():
                sentences.append(
                    f"{name}: slower than sequential (speedup {float(speedup.max()):.2f}x with "
                    f"{counts} workers): its overhead (starting or feeding workers) outweighs "
                    "the parallel gain, which Amdahl's law does not model, so no serial fraction "
                    "is fitted."
                )
            elif (speedup >= workers).all():
                sentences.append(
                    f"{name}: speedup {float(speedup.max()):.2f}x with {counts} workers is "
                    "linear or better (caches, noise), outside Amdahl's law: no serial "
                    "fraction is fitted."
                )
            else:
                from scipy.optimize import OptimizeWarning

                with warnings.catch_warnings():
                    # One point has no covariance: the fit then has no interval (NaN), which
                    # the sentence below says in words.
                    warnings.simplefilter("ignore", OptimizeWarning)
                    fit = fit_amdahl(workers, speedup)
                fits[str(name)] = fit
                fraction, low, high = fit.serial_fraction, fit.ci_low, fit.ci_high
                if math.isfinite(low) and math.isfinite(high):
                    sentences.append(
                        f"{name}: serial fraction {fraction:.2f} (95 % interval {low:.2f} to "
                        f"{high:.2f}), so at most {fit.max_speedup:.1f}x with any number of "
                        "workers."
                    )
                else:
                    sentences.append(
                        f"{name}: serial fraction {fraction:.2f}, solved from speedups at one "
                        f"worker count ({counts}); it has no interval, and measuring more worker "
                        "counts would test the law itself."
                    )
        for r in part.to_dict("records"):
            rows.append({
                "method": name, "workers": r["workers"], "wall_s": r.get("wall_s", math.nan),
                "speedup": r["speedup"], "efficiency": r.get("efficiency", math.nan),
                "serial_fraction": fraction if float(r["workers"]) > 1 else math.nan,
                "ci_low": low if float(r["workers"]) > 1 else math.nan,
                "ci_high": high if float(r["workers"]) > 1 else math.nan,
            })
    return pd.DataFrame(rows), fits, sentences


def show_speedup(report: StrategyReport) -> None:
    """Section "Parallel speedup": the ``parallel`` strategy against ``sequential`` (cold runs
    of the scenario), with Amdahl's law fitted only where the data can support it."""
    from rrperf.report.plots import speedup_chart

    _display(heading("Parallel speedup", 2))
    methods = report.execution_methods
    table, fits, sentences = speedup_fits(methods)
    shown = table.rename(columns={"ci_low": "fraction_low", "ci_high": "fraction_high"})
    show_table(format_table(shown),
               caption="generator run cold by each strategy, pool started (median wall time)")
    for sentence in sentences:
        show_text(sentence)
    ax = speedup_chart(methods, fit=fits, ax=_figure(6, width=7.0))
    ax.set_title("speedup over sequential" + (", with the fitted Amdahl curve" if fits else ""))
    show_figure(ax)


def show_cache(report: StrategyReport) -> None:
    """Section "Cache": hit rates of a caching strategy after a cold and a warm run."""
    from rrperf.report.plots import cache_chart

    _display(heading("Cache", 2))
    if report.cache_strategy is None or len(report.cache_report) == 0:
        show_text("No strategy of this installation has a cache.")
        return
    show_text(f"Cache of strategy {report.cache_strategy} after a cold and a warm run.")
    cols = [c for c in ("category", "tier", "hits", "misses", "hit_rate")
            if c in report.cache_report.columns]
    show_table(report.cache_report[cols])
    ax = cache_chart(report.cache_report, ax=_figure(6, width=9.0))
    ax.set_title(f"cache hit rate, {report.cache_strategy}")
    show_figure(ax)


def show_scaling(report: StrategyReport) -> None:
    """Section "Scaling": wall time against table count on synthetic schemas."""
    from rrperf.report.plots import scaling_chart, time_unit

    _display(heading("Scaling", 2))
    data = report.scaling
    measured = data[~data["warmup"]]
    table = measured.groupby(["scenario", "variant", "n_tables"], sort=False)["wall_s"].agg(
        ["median", "min", "max"])
    show_table(format_table(table.reset_index()),
               caption="wall time per synthetic size (cold): median, min and max")
    factor, unit = time_unit(measured["wall_s"])
    column = f"wall_{unit}"
    scaled = data.assign(**{column: data["wall_s"] * factor})
    ax = scaling_chart(scaled, x="n_tables", y=column, hue="variant", ax=_figure(6, width=7.0))
    ax.set_title("wall time against table count (log-log, power-law fit)")
    show_figure(ax)
