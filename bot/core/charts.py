"""Chart images for staff reports: matplotlib, headless (Agg), with a Chinese font found on the system."""

from __future__ import annotations

from pathlib import Path

# Chinese fonts from Debian packages (fonts-wqy-microhei, fonts-wqy-zenhei, fonts-noto-cjk, fonts-arphic-*)
# or installed by hand, by family name and by file name.
CJK_FAMILIES = (
    "WenQuanYi Micro Hei",
    "WenQuanYi Zen Hei",
    "Noto Sans CJK SC",
    "Noto Serif CJK SC",
    "Source Han Sans SC",
    "Droid Sans Fallback",
    "AR PL UMing CN",
    "SimHei",
    "Microsoft YaHei",
)
CJK_FILE_HINTS = ("wqy", "notosanscjk", "notoserifcjk", "sourcehan", "droidsansfallback", "uming", "ukai", "simhei")


class ChartFontMissing(RuntimeError):
    """No Chinese font is installed, so a chart would show boxes instead of characters."""


def chinese_font() -> str:
    """The family name of an installed Chinese font; raises ChartFontMissing with the fix when none is."""
    import matplotlib

    matplotlib.use("Agg")  # headless: never a display, whatever MPLBACKEND says
    from matplotlib import font_manager

    installed = {font.name for font in font_manager.fontManager.ttflist}
    for family in CJK_FAMILIES:
        if family in installed:
            return family
    # The font cache may predate the font's installation: look at the files themselves.
    for path in font_manager.findSystemFonts():
        if any(hint in Path(path).name.lower().replace("-", "") for hint in CJK_FILE_HINTS):
            font_manager.fontManager.addfont(path)
            return font_manager.FontProperties(fname=path).get_name()
    raise ChartFontMissing(
        "no Chinese font found for charts: install one, e.g. `apt-get install fonts-wqy-microhei`"
    )


def bar_chart(path: Path, title: str, labels: list[str], series: dict[str, list[int]]) -> Path:
    """Grouped bars, one group per label and one bar per series; written as a PNG to ``path``."""
    from matplotlib.figure import Figure

    family = chinese_font()
    title = "".join(ch for ch in title if ord(ch) <= 0xFFFF).strip()  # no emoji: CJK fonts lack them
    figure = Figure(figsize=(8, 4.5), dpi=100)
    axes = figure.add_subplot()
    count = max(len(series), 1)
    width = 0.8 / count
    positions = list(range(len(labels)))
    for index, (name, values) in enumerate(series.items()):
        axes.bar([p + (index - (count - 1) / 2) * width for p in positions], values, width, label=name)
    axes.set_xticks(positions, labels, fontfamily=family)
    axes.set_title(title, fontfamily=family)
    axes.legend(prop={"family": family})
    axes.yaxis.get_major_locator().set_params(integer=True)
    if not labels:
        axes.text(0.5, 0.5, "-", ha="center", va="center", transform=axes.transAxes)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, format="png")
    return path
