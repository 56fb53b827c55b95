"""Display helpers of the report notebooks: headings, text, tables and charts.

Every text is escaped (:mod:`rrperf.document`); a table shows as HTML in Jupyter and in HTML
reports and as a pipe table in Markdown reports; charts are rendered to PNG here, so reports
get them whatever matplotlib backend the kernel runs (see :mod:`rrperf.report.notebooks`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from rrperf.document import html_table, md_escape, md_table, table_cells
from rrperf.errors import ConfigError, ReportError

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = [
    "ReportTable",
    "heading",
    "show_figure",
    "show_heading",
    "show_table",
    "show_text",
    "show_title",
]

# Figures in reports: one size and resolution everywhere.
_FIGURE_DPI = 100


def _untyped(module: str) -> Any:
    """A module without type annotations (nbformat, nbconvert, IPython), typed as Any."""
    import importlib

    return importlib.import_module(module)


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

    def _repr_html_(self) -> str:
        return html_table(*table_cells(self.frame), caption=self.caption)

    def _repr_markdown_(self) -> str:
        return md_table(*table_cells(self.frame), caption=self.caption) + "\n"

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
    return Markdown(f"{'#' * level} {md_escape(str(text))}")


def show_text(text: str) -> None:
    """Display one paragraph of plain text (escaped)."""
    _display(_untyped("IPython.display").Markdown(md_escape(str(text))))


def show_title(title: str) -> None:
    """Display the report's title as its top heading (escaped)."""
    show_heading(title, 1)


def show_heading(text: str, level: int = 2) -> None:
    """Display a section heading (escaped; :func:`heading`)."""
    _display(heading(text, level))


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
