"""Library nodes: SVG rendering (resvg), charts and array plots (matplotlib), QR codes
(segno) and Markdown documents (markdown-it-py, fpdf2). All offline, in a worker thread."""

from __future__ import annotations

import asyncio
import html
import io
import re
import threading
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, model_validator

from execution import media
from execution.context import ProcessingContext
from execution.node import BaseNode
from execution.nodes.image import MAX_SIDE, Color, Side
from execution.refs import AssetRef, DocumentRef, ImageRef
from services.errors import InvalidInput

MAX_SVG_BYTES = 10 * 1024 * 1024
SAMPLE_SVG = (
    '<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64" viewBox="0 0 64 64">'
    '<rect width="64" height="64" fill="#1e3a8a"/><circle cx="32" cy="32" r="20" fill="#fbbf24"/>'
    "</svg>"
)
# References to anything outside the document itself: resvg would read local files for them.
_EXTERNAL_HREF = re.compile(
    r"""(?:href|src)\s*=\s*["']\s*(?!#|data:)[^"']*["']|url\(\s*["']?\s*(?!#|data:)""",
    re.IGNORECASE,
)


def render_svg(svg: str, width: int | None, height: int | None, background: str | None) -> bytes:
    import resvg_py

    if _EXTERNAL_HREF.search(svg):
        raise InvalidInput(
            "the SVG refers to external files or URLs; only embedded (data:) images are allowed"
        )
    try:
        png = resvg_py.svg_to_bytes(
            svg_string=svg,
            width=width,
            height=height,
            background=background,
            skip_system_fonts=False,
        )
    except Exception as error:  # resvg reports parse errors as a plain exception
        raise InvalidInput(f"not a renderable SVG ({error})") from error
    image = media.image_from_bytes(bytes(png))
    if image.width > MAX_SIDE or image.height > MAX_SIDE:
        raise InvalidInput(f"the rendered image is larger than {MAX_SIDE} pixels a side")
    return bytes(png)


class SVGToImage(BaseNode):
    """Render SVG to a PNG with resvg: the SVG `asset` when connected, else the `svg` text.

    `width` or `height` scales it (keeping the aspect when only one is given); `background`
    fills behind transparent parts. External files and URLs are not fetched.
    """

    _auto_save_asset = True
    _title = "SVG To Image"

    asset: AssetRef | None = None
    svg: Annotated[str, Field(max_length=MAX_SVG_BYTES)] = SAMPLE_SVG
    width: Side | None = None
    height: Side | None = None
    background: Color | None = None

    async def process(self, context: ProcessingContext) -> ImageRef:
        text = self.svg
        if self.asset is not None:
            data = await context.asset_bytes(self.asset)
            if len(data) > MAX_SVG_BYTES:
                raise InvalidInput(f"the SVG is larger than {MAX_SVG_BYTES} bytes")
            try:
                text = data.decode("utf-8-sig")
            except UnicodeDecodeError as error:
                raise InvalidInput("the asset is not SVG text") from error
        png = await asyncio.to_thread(render_svg, text, self.width, self.height, self.background)
        return ImageRef(data=png, content_type="image/png")


# pyplot keeps global state; the object-oriented API with one lock keeps threads apart.
_PLOT_LOCK = threading.Lock()


def _figure(width: int, height: int, dpi: int) -> Any:
    from matplotlib.figure import Figure

    return Figure(figsize=(width / dpi, height / dpi), dpi=dpi, layout="constrained")


def _png(figure: Any, dpi: int) -> bytes:
    out = io.BytesIO()
    figure.savefig(out, format="png", dpi=dpi)
    return out.getvalue()


ChartKind = Literal["line", "bar", "scatter", "area", "pie"]


class ChartRenderer(BaseNode):
    """A chart of tabular data rendered with matplotlib to PNG.

    `data` is a list of rows (objects); `x` names the column along the horizontal axis and
    `y` the columns plotted against it, one series each (a pie uses the first only, with `x`
    as the labels). For example: `{"kind": "bar", "data": [{"month": "Jan", "sales": 3},
    {"month": "Feb", "sales": 5}], "x": "month", "y": ["sales"]}`.
    """

    _auto_save_asset = True

    data: Annotated[list[dict[str, Any]], Field(min_length=1, max_length=100_000)] = [
        {"x": 1, "y": 1},
        {"x": 2, "y": 4},
        {"x": 3, "y": 9},
    ]
    x: str = "x"
    y: Annotated[list[str], Field(min_length=1, max_length=32)] = ["y"]
    kind: ChartKind = "line"
    title: str = ""
    x_label: str | None = None
    y_label: str | None = None
    width: Annotated[int, Field(ge=64, le=4096)] = 640
    height: Annotated[int, Field(ge=64, le=4096)] = 480
    dpi: Annotated[int, Field(ge=50, le=600)] = 100
    legend: bool = True

    @model_validator(mode="after")
    def _columns_exist(self) -> ChartRenderer:
        for column in (self.x, *self.y):
            missing = [i for i, row in enumerate(self.data) if column not in row]
            if missing:
                raise ValueError(f"row {missing[0]} of `data` has no column '{column}'")
        for column in self.y:
            for i, row in enumerate(self.data):
                value = row[column]
                if not isinstance(value, int | float) or isinstance(value, bool):
                    raise ValueError(f"row {i}: '{column}' must be a number, not {value!r}")
        return self

    async def process(self, context: ProcessingContext) -> ImageRef:
        return ImageRef(data=await asyncio.to_thread(self._render), content_type="image/png")

    def _render(self) -> bytes:
        xs = [row[self.x] for row in self.data]
        with _PLOT_LOCK:
            figure = _figure(self.width, self.height, self.dpi)
            axes = figure.add_subplot()
            if self.kind == "pie":
                values = [row[self.y[0]] for row in self.data]
                axes.pie(values, labels=[str(x) for x in xs], autopct="%1.0f%%")
            else:
                count = len(self.y)
                positions = list(range(len(xs)))
                for index, column in enumerate(self.y):
                    ys = [row[column] for row in self.data]
                    if self.kind == "line":
                        axes.plot(xs, ys, label=column, marker="o" if len(xs) <= 50 else None)
                    elif self.kind == "scatter":
                        axes.scatter(xs, ys, label=column)
                    elif self.kind == "area":
                        axes.fill_between(xs, ys, alpha=0.5, label=column)
                    else:
                        width = 0.8 / count
                        offset = (index - (count - 1) / 2) * width
                        axes.bar([p + offset for p in positions], ys, width, label=column)
                if self.kind == "bar":
                    axes.set_xticks(positions, [str(x) for x in xs])
                axes.set_xlabel(self.x if self.x_label is None else self.x_label)
                axes.set_ylabel(", ".join(self.y) if self.y_label is None else self.y_label)
                axes.grid(alpha=0.3)
                if self.legend and count > 1:
                    axes.legend()
            if self.title:
                axes.set_title(self.title)
            return _png(figure, self.dpi)


Numbers = list[float] | list[list[float]]


class PlotArray(BaseNode):
    """Plot an array of numbers with matplotlib: a 1-D list as a `line`, `bar`, `scatter`
    (against its index) or `histogram`; a 2-D list (rows of equal length) as a `heatmap`, or
    as one line per row."""

    _auto_save_asset = True

    values: Annotated[Numbers, Field(min_length=1, max_length=1_000_000)] = [0.0, 1.0, 4.0, 9.0]
    kind: Literal["line", "bar", "scatter", "histogram", "heatmap"] = "line"
    bins: Annotated[int, Field(ge=1, le=1000)] = 20
    colormap: Literal["viridis", "magma", "gray", "coolwarm", "plasma"] = "viridis"
    title: str = ""
    width: Annotated[int, Field(ge=64, le=4096)] = 640
    height: Annotated[int, Field(ge=64, le=4096)] = 480
    dpi: Annotated[int, Field(ge=50, le=600)] = 100

    @model_validator(mode="after")
    def _shape(self) -> PlotArray:
        if isinstance(self.values[0], list):
            lengths = {len(row) for row in self.values if isinstance(row, list)}
            if len(lengths) != 1 or 0 in lengths:
                raise ValueError("the rows of a 2-D `values` must all have the same length")
        elif self.kind == "heatmap":
            raise ValueError("a heatmap needs 2-D `values` (a list of rows)")
        return self

    async def process(self, context: ProcessingContext) -> ImageRef:
        return ImageRef(data=await asyncio.to_thread(self._render), content_type="image/png")

    def _render(self) -> bytes:
        import numpy as np

        array = np.asarray(self.values, dtype=np.float64)
        with _PLOT_LOCK:
            figure = _figure(self.width, self.height, self.dpi)
            axes = figure.add_subplot()
            if self.kind == "heatmap":
                shown = axes.imshow(array, cmap=self.colormap, aspect="auto")
                figure.colorbar(shown, ax=axes)
            elif array.ndim == 2:
                for row in array:
                    axes.plot(row)
            elif self.kind == "bar":
                axes.bar(np.arange(len(array)), array)
            elif self.kind == "scatter":
                axes.scatter(np.arange(len(array)), array)
            elif self.kind == "histogram":
                axes.hist(array, bins=self.bins)
            else:
                axes.plot(array)
            if self.title:
                axes.set_title(self.title)
            return _png(figure, self.dpi)


class QRCode(BaseNode):
    """A QR code for `data` as a PNG (segno): `scale` pixels per module, a quiet zone of
    `border` modules, and the error correction level (L 7%, M 15%, Q 25%, H 30%)."""

    _auto_save_asset = True
    _title = "QR Code"

    data: Annotated[str, Field(min_length=1, max_length=4000)] = "https://example.com"
    scale: Annotated[int, Field(ge=1, le=100)] = 8
    border: Annotated[int, Field(ge=0, le=20)] = 4
    error: Literal["L", "M", "Q", "H"] = "M"
    dark: Color = "#000000"
    light: Color = "#ffffff"

    async def process(self, context: ProcessingContext) -> ImageRef:
        import segno

        def render() -> bytes:
            try:
                code = segno.make_qr(self.data, error=self.error, boost_error=False)
            except segno.DataOverflowError as error:
                raise InvalidInput(f"too much data for a QR code: {error}") from error
            out = io.BytesIO()
            code.save(
                out,
                kind="png",
                scale=self.scale,
                border=self.border,
                dark=self.dark,
                light=self.light,
            )
            return out.getvalue()

        return ImageRef(data=await asyncio.to_thread(render), content_type="image/png")


def _markdown(*, images: bool) -> Any:
    from markdown_it import MarkdownIt

    # Raw HTML in the source is escaped, not passed through: the result may be served.
    parser = MarkdownIt("commonmark", {"html": False}).enable(["table", "strikethrough"])
    if not images:
        parser.disable("image")
    return parser


HTML_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>
body {{ font-family: system-ui, sans-serif; max-width: 46em; margin: 2em auto;
  padding: 0 1em; line-height: 1.5; color: #222; }}
pre, code {{ background: #f4f4f4; border-radius: 4px; }}
pre {{ padding: 0.8em; overflow-x: auto; }}
table {{ border-collapse: collapse; }}
th, td {{ border: 1px solid #ccc; padding: 0.3em 0.6em; }}
img {{ max-width: 100%; }}
</style>
</head>
<body>
{body}</body>
</html>
"""


class MarkdownToHTML(BaseNode):
    """Markdown (CommonMark with tables and strikethrough) as a standalone HTML page.

    Raw HTML in the Markdown is shown as text, not passed through.
    """

    _auto_save_asset = True
    _title = "Markdown To HTML"

    text: Annotated[str, Field(max_length=5_000_000)] = "# Hello\n\nFrom **Trove**."
    title: str = "Document"

    async def process(self, context: ProcessingContext) -> DocumentRef:
        def render() -> bytes:
            body = _markdown(images=True).render(self.text)
            page = HTML_PAGE.format(title=html.escape(self.title), body=body)
            return page.encode("utf-8")

        return DocumentRef(data=await asyncio.to_thread(render), content_type="text/html")


def _font_dir() -> Path:
    import matplotlib

    return Path(matplotlib.get_data_path()) / "fonts" / "ttf"


class MarkdownToPDF(BaseNode):
    """Markdown (CommonMark with tables) typeset as an A4 PDF with fpdf2, in DejaVu Sans so
    any Unicode text shows. Images are left out (their alt text stays)."""

    _auto_save_asset = True
    _title = "Markdown To PDF"

    text: Annotated[str, Field(max_length=1_000_000)] = "# Hello\n\nFrom **Trove**."
    title: str = ""

    async def process(self, context: ProcessingContext) -> DocumentRef:
        return DocumentRef(data=await asyncio.to_thread(self._render))

    def _render(self) -> bytes:
        from fpdf import FPDF
        from fpdf.fonts import TextStyle

        body = _markdown(images=False).render(self.text)
        pdf = FPDF(format="A4")
        fonts = _font_dir()
        for style, file in (
            ("", "DejaVuSans.ttf"),
            ("B", "DejaVuSans-Bold.ttf"),
            ("I", "DejaVuSans-Oblique.ttf"),
            ("BI", "DejaVuSans-BoldOblique.ttf"),
        ):
            pdf.add_font("DejaVu", style, str(fonts / file))
        pdf.add_font("DejaVuMono", "", str(fonts / "DejaVuSansMono.ttf"))
        mono = TextStyle(font_family="DejaVuMono")
        if self.title:
            pdf.set_title(self.title)
        pdf.set_creator("Trove")
        pdf.add_page()
        pdf.set_font("DejaVu", size=11)
        try:
            pdf.write_html(
                body,
                font_family="DejaVu",
                tag_styles={"code": mono, "pre": mono},
                warn_on_tags_not_matching=False,
            )
        except Exception as error:  # fpdf2 rejects some nestings (e.g. a table in a list)
            raise InvalidInput(f"the Markdown could not be typeset as PDF: {error}") from error
        return bytes(pdf.output())
