"""Report notebooks: run them with papermill, turn them into HTML and Markdown reports.

**Running a notebook** (:func:`render_report`). The notebook is looked up by name in the
package's ``notebooks/`` folder (or taken as a path), its ``parameters`` cell is inspected with
:func:`papermill.inspect_notebook`, the given parameters are checked against it (an unknown name
is a :class:`~rrperf.errors.ConfigError` with a did-you-mean hint: a misspelt ``-p iteration 3``
would otherwise run the default silently), and papermill executes it in the ``python3`` kernel.
The executed notebook is written to the output folder and kept, also when a cell fails. Then
nbconvert exports it: code cells hidden (``exclude_input``), the ``parameters`` and
``injected-parameters`` cells removed, images embedded in the HTML as ``data:`` URIs, and the
Markdown report's images written to ``<stem>_files/`` beside it.

Every papermill, nbclient and jupyter_client error becomes a :class:`~rrperf.errors.ReportError`
in one place (:func:`_papermill_errors`), a failing cell a :class:`NotebookExecutionError`.

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

The helpers report notebooks call live in :mod:`rrperf.report.display` (display) and
:mod:`rrperf.report.workflows` (the two whole workflows); their public names are importable
from here too.
"""

from __future__ import annotations

import ast
import contextlib
import logging
import os
import re
import shutil
import threading
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rrperf import atomic
from rrperf._util import did_you_mean
from rrperf.errors import ConfigError, ReportError
from rrperf.report import display, workflows
from rrperf.report.display import *  # noqa: F403  (re-exported: the notebook helpers)
from rrperf.report.display import _untyped
from rrperf.report.workflows import *  # noqa: F403  (re-exported: the two workflows)

__all__ = [
    "DEFAULT_NOTEBOOK",
    "REPORT_FORMATS",
    "NotebookExecutionError",
    "NotebookParameter",
    "ReportPaths",
    "available_notebooks",
    "export_notebook",
    "notebook_parameters",
    "notebooks_dir",
    "parse_parameters",
    "render_report",
    "resolve_notebook",
]
__all__ += display.__all__
__all__ += workflows.__all__

logger = logging.getLogger(__name__)

#: Formats :func:`render_report` can write.
REPORT_FORMATS: tuple[str, ...] = ("html", "markdown")

#: The notebook ``rrperf report`` runs when none is named.
DEFAULT_NOTEBOOK = "benchmark_report"

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

# Serializes changes to os.environ while a kernel starts (see _kernel_environment).
_ENV_LOCK = threading.Lock()


# --- Value objects and errors ---------------------------------------------------------------


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


# --- Finding notebooks and their parameters -------------------------------------------------


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
    raise ReportError(
        f"no notebook {text!r}{did_you_mean(name, names)}"
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
        raise ConfigError(
            f"notebook {notebook!r} has no parameter {name!r}{did_you_mean(name, declared)}"
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


# --- Running and exporting ------------------------------------------------------------------


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


def _snapshot(folder: Path) -> dict[Path, tuple[int, int]]:
    if not folder.is_dir():
        return {}
    out = {}
    for p in folder.iterdir():
        if p.is_file():
            st = p.stat()
            out[p] = (st.st_mtime_ns, st.st_size)
    return out


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
            atomic.write_text(html_path, body)
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
            atomic.write_text(md_path, body)
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
