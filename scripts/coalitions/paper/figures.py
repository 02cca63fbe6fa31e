"""Figures of the paper (matplotlib, Agg backend), written byte-for-byte reproducibly.

Determinism: every figure is drawn inside :func:`_style` (fixed rcParams: the DejaVu Sans font that
ships with matplotlib, sizes, colours, a fixed ``svg.hashsalt`` so the SVG element ids do not change
between runs), PNGs are written with ``metadata={"Software": None}`` (no matplotlib version) and SVGs
with no date, creator or other run-dependent metadata. The same input data give the same bytes.

Each figure is a PNG (for LaTeX and the HTML's embedded data URI) and an SVG (for re-use).

Figure kinds (the ``kind`` of a figure spec in the paper context):

* ``coef``: the coefficient of one key term in every model, estimate with 95% CI per track and
  coding (how much the coding rules move the evidence);
* ``survival``: predicted survival for Common Front = 1 vs 0 (the article's survival-curve figure);
* ``sweep``: the coefficient of the battlefield-trend variable by averaging window (Fig. 5);
* ``spec_curve``: the multiverse's specification curve with the switch settings beneath;
* ``file``: a figure another step already drew (copied as is).
"""

from __future__ import annotations

import contextlib
import shutil
from pathlib import Path
from typing import Any, Iterator

import matplotlib

matplotlib.use("Agg", force=True)

import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402

from ..util import LOG  # noqa: E402

#: colour-blind-safe palette (Okabe-Ito, then Paul Tol's muted scheme), assigned to codings in their order
PALETTE = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#882255",
           "#44AA99", "#999933", "#332288", "#AA4499", "#DDCC77", "#117733", "#88CCEE", "#CC6677"]
TRACK_MARKER = {"rebuilt": "o", "original": "s"}

RC: dict[str, Any] = {
    "backend": "Agg",
    "font.family": "DejaVu Sans",
    "font.size": 8.5,
    "axes.titlesize": 9,
    "axes.labelsize": 8.5,
    "xtick.labelsize": 7.5,
    "ytick.labelsize": 7.5,
    "legend.fontsize": 7.5,
    "axes.linewidth": 0.6,
    "lines.linewidth": 1.2,
    "lines.markersize": 4.5,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": False,
    "figure.dpi": 100,
    "savefig.dpi": 150,
    "savefig.bbox": "tight",
    "savefig.pad_inches": 0.05,
    "svg.hashsalt": "coalitions-paper",
    "svg.fonttype": "path",
    "svg.image_inline": True,
    "path.simplify": True,
    "image.interpolation": "nearest",
    "axes.prop_cycle": matplotlib.cycler(color=PALETTE),
    "text.usetex": False,
    "axes.unicode_minus": True,
    "pdf.fonttype": 42,
}
PNG_META = {"Software": None}
SVG_META = {"Date": None, "Creator": None, "Format": None, "Type": None}


@contextlib.contextmanager
def _style() -> Iterator[None]:
    with matplotlib.rc_context(RC):
        yield


def _save(fig: Any, outdir: Path, fid: str) -> dict[str, str]:
    png, svg = outdir / f"{fid}.png", outdir / f"{fid}.svg"
    fig.savefig(png, format="png", metadata=PNG_META)
    fig.savefig(svg, format="svg", metadata=SVG_META)
    plt.close(fig)
    return {"png": str(png), "svg": str(svg)}


def _colours(keys: list[str]) -> dict[str, str]:
    return {k: PALETTE[i % len(PALETTE)] for i, k in enumerate(dict.fromkeys(keys))}


# --------------------------------------------------------------------------- coefficient plot
def _wrap(text: str, width: int = 30) -> str:
    import textwrap

    return "\n".join(textwrap.wrap(text, width)) or text


def _legend_handles(series: list[dict], colours: dict[str, str], models: list[dict] | None = None) -> list[Line2D]:
    """Legend entries of the series that have at least one point."""
    used = [s for j, s in enumerate(series) if models is None or any(m["points"][j] for m in models)]
    return [Line2D([], [], color=colours[s["coding"]], marker=TRACK_MARKER.get(s["track"], "o"), lw=1.0,
                   label=s["label"]) for s in used]


def _draw_points(ax: Any, series: list[dict], points: list[dict | None], colours: dict[str, str], y0: float) -> None:
    step = 0.8 / max(len(series), 1)
    for j, (s, p) in enumerate(zip(series, points)):
        if p is None:
            continue
        y = y0 + 0.4 - step * (j + 0.5)
        col = colours[s["coding"]]
        if p["lo"] is not None and p["hi"] is not None:
            ax.plot([p["lo"], p["hi"]], [y, y], color=col, lw=1.0, solid_capstyle="butt")
        ax.plot([p["est"]], [y], marker=TRACK_MARKER.get(s["track"], "o"), color=col,
                markerfacecolor="white" if p.get("proxy") else col, markeredgecolor=col, ls="none")


def coef_plot(data: dict[str, Any], outdir: Path, fid: str) -> dict[str, str]:
    """A key term across models: rows = models, one marker + 95% CI per track and coding.

    When the models measure the key variable differently (each model's own measure, ``term`` empty),
    every row gets its own x axis: coefficients of measures in different units are not comparable.
    """
    series, models = data["series"], data["models"]
    n_s = max(len(series), 1)
    colours = _colours([s["coding"] for s in series])
    shared = bool(data.get("term"))
    with _style():
        if shared:
            height = 0.9 + 0.16 * len(models) * max(n_s, 2)
            fig, ax = plt.subplots(figsize=(6.3, min(max(height, 2.2), 11.0)))
            for i, m in enumerate(models):
                _draw_points(ax, series, m["points"], colours, -i)
            ax.axvline(0.0, color="0.5", lw=0.6, ls=":")
            ax.set_yticks([-i for i in range(len(models))])
            ax.set_yticklabels([_wrap(m["title"]) for m in models])
            ax.set_ylim(-len(models) + 0.45, 0.55)
            ax.set_xlabel(f"Coefficient of {data['label']} (95% CI)")
            legend_anchor = (0.5, -0.12 if len(models) > 3 else -0.25)
            ax.legend(handles=_legend_handles(series, colours, models), loc="upper center", bbox_to_anchor=legend_anchor,
                      ncol=2, frameon=False)
        else:
            row_h = 0.35 + 0.13 * n_s
            fig_h = min(1.2 + row_h * len(models), 11.0)
            fig, axes = plt.subplots(len(models), 1, figsize=(6.3, fig_h), squeeze=False)
            for ax, m in zip(axes[:, 0], models):
                _draw_points(ax, series, m["points"], colours, 0)
                ax.axvline(0.0, color="0.5", lw=0.6, ls=":")
                ax.set_yticks([0])
                ax.set_yticklabels([_wrap(m["title"], 34)])
                ax.set_ylim(-0.45, 0.45)
                ax.tick_params(axis="x", labelsize=6.5)
            axes[-1, 0].set_xlabel(f"Coefficient of {data['label']} (95% CI; each row on its own scale)")
            # room for the tick labels and the axis label below the last row; the legend goes under it
            fig.subplots_adjust(hspace=0.55, bottom=min(0.6 / fig_h, 0.45), top=1 - min(0.1 / fig_h, 0.1))
            fig.legend(handles=_legend_handles(series, colours, models), loc="upper center", ncol=2, frameon=False,
                       bbox_to_anchor=(0.5, 0.0))
        return _save(fig, outdir, fid)


# --------------------------------------------------------------------------- survival curves
def survival_plot(data: dict[str, Any], outdir: Path, fid: str) -> dict[str, str]:
    """Predicted survival for Common Front = 1 (solid) and 0 (dashed); one panel per track."""
    series = data["series"]
    tracks = [t for t in ("original", "rebuilt") if any(s["track"] == t for s in series)]
    colours = _colours([s["coding"] for s in series])
    with _style():
        fig, axes = plt.subplots(1, len(tracks), figsize=(6.3 if len(tracks) > 1 else 4.6, 2.9),
                                 sharey=True, squeeze=False)
        for ax, tr in zip(axes[0], tracks):
            for s in (s for s in series if s["track"] == tr):
                ax.step(s["day"], s["survival"], where="post", color=colours[s["coding"]],
                        ls="-" if s["foverlap"] == 1 else "--", lw=1.1)
            ax.set_title({"original": "Original archive", "rebuilt": "Rebuilt from public data"}[tr])
            ax.set_xlabel("Days at war")
            ax.set_ylim(0.0, 1.02)
        axes[0][0].set_ylabel("Share still in the war")
        handles = [Line2D([], [], color=colours[c], lw=1.2, label=lab)
                   for c, lab in dict.fromkeys((s["coding"], s["coding_label"]) for s in series)]
        handles += [Line2D([], [], color="0.2", ls="-", label="Common Front = 1"),
                    Line2D([], [], color="0.2", ls="--", label="Common Front = 0")]
        fig.legend(handles=handles, loc="lower center", ncol=min(len(handles), 4), frameon=False,
                   bbox_to_anchor=(0.5, -0.08))
        fig.subplots_adjust(bottom=0.28, wspace=0.08)
        return _save(fig, outdir, fid)


# --------------------------------------------------------------------------- window sweep
def sweep_plot(data: dict[str, Any], outdir: Path, fid: str) -> dict[str, str]:
    """A family of models that differ in one variable (Weisiger's Fig. 5 window sweep).

    When every model label holds a number (``"15-day window"``), the x axis is that number and each
    series is a line with a 95% band; otherwise one marker with its interval per model.
    """
    import re

    series, models = data["series"], data["models"]
    colours = _colours([s["coding"] for s in series])
    nums = [re.search(r"-?\d+(?:\.\d+)?", m["label"]) for m in models]
    numeric = all(nums) and len({float(n.group(0)) for n in nums}) == len(models)
    with _style():
        fig, ax = plt.subplots(figsize=(6.3, 3.0))
        for j, s in enumerate(series):
            col = colours[s["coding"]]
            pts = [(i, m["points"][j]) for i, m in enumerate(models) if m["points"][j] is not None]
            if not pts:
                continue
            if numeric:
                xs = [float(nums[i].group(0)) for i, _ in pts]
                ys = [p["est"] for _, p in pts]
                lo = [p["lo"] if p["lo"] is not None else p["est"] for _, p in pts]
                hi = [p["hi"] if p["hi"] is not None else p["est"] for _, p in pts]
                ax.fill_between(xs, lo, hi, color=col, alpha=0.15, lw=0)
                ax.plot(xs, ys, color=col, lw=1.2, ls="-" if s["track"] == "rebuilt" else "--", label=s["label"])
            else:
                n_s = max(len(series), 1)
                width = 0.7 / n_s
                xs = [i - 0.35 + width * (j + 0.5) for i, _ in pts]
                ax.vlines(xs, [p["lo"] if p["lo"] is not None else p["est"] for _, p in pts],
                          [p["hi"] if p["hi"] is not None else p["est"] for _, p in pts], color=col, lw=1.0)
                ax.plot(xs, [p["est"] for _, p in pts], marker=TRACK_MARKER.get(s["track"], "o"), color=col,
                        ls="none", label=s["label"])
        ax.axhline(0.0, color="0.5", lw=0.6, ls=":")
        if numeric:
            unit = " (days)" if all("day" in m["label"].lower() for m in models) else ""
            ax.set_xlabel(f"Window{unit}")
        else:
            ax.set_xticks(range(len(models)))
            ax.set_xticklabels([m["label"] for m in models], rotation=90 if len(models) > 8 else 0)
        ax.set_ylabel("Coefficient (95% CI)")
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.18), ncol=2, frameon=False)
        return _save(fig, outdir, fid)


# --------------------------------------------------------------------------- specification curve
def spec_curve_plot(data: dict[str, Any], outdir: Path, fid: str) -> dict[str, str]:
    """Estimates sorted (with 95% CI; filled = p<0.05), and beneath a dot per switch setting."""
    pts = sorted((p for p in data["points"] if p["ok"]), key=lambda p: (p["est"], p["universe_id"]))
    switches = data["switches"]
    rows = [(sw, v) for sw in switches for v in sorted({p["switches"][sw] for p in pts})]
    n = len(pts)
    with _style():
        fig, (top, bot) = plt.subplots(
            2, 1, figsize=(6.3, 2.6 + 0.17 * max(len(rows), 1)), sharex=True,
            gridspec_kw={"height_ratios": [2.4, max(0.5, 0.22 * max(len(rows), 1))], "hspace": 0.06})
        xs = list(range(n))
        for x, p in zip(xs, pts):
            sig = p["p"] is not None and p["p"] < 0.05
            col = PALETTE[0] if sig else "0.55"
            if p["lo"] is not None and p["hi"] is not None:
                top.plot([x, x], [p["lo"], p["hi"]], color=col, lw=0.8)
            top.plot([x], [p["est"]], marker="o", ls="none", color=col,
                     markerfacecolor=col if sig else "white", markeredgecolor=col, markersize=3.5)
        top.axhline(0.0, color="0.4", lw=0.6, ls=":")
        top.set_ylabel(f"{data['label']}\n(95% CI)")
        top.set_xlim(-0.7, max(n, 1) - 0.3)
        for i, (sw, v) in enumerate(rows):
            y = -i
            on = [x for x, p in zip(xs, pts) if p["switches"][sw] == v]
            bot.plot(on, [y] * len(on), marker="|", ls="none", color="0.15", markersize=7, mew=1.2)
        bot.set_yticks([-i for i in range(len(rows))])
        bot.set_yticklabels([f"{sw} = {v}" for sw, v in rows])
        bot.set_ylim(-len(rows) + 0.5, 0.5)
        bot.set_xlabel("Universes, sorted by the estimate")
        bot.set_xticks([])
        bot.spines["left"].set_visible(False)
        bot.tick_params(axis="y", length=0)
        return _save(fig, outdir, fid)


def copy_figure(spec: dict[str, Any], outdir: Path, fid: str) -> dict[str, str]:
    """A figure another workflow step drew (the multiverse's specification curves): copied as is."""
    png = outdir / f"{fid}.png"
    shutil.copyfile(spec["source_png"], png)
    out = {"png": str(png), "svg": ""}
    if spec.get("source_svg"):
        svg = outdir / f"{fid}.svg"
        shutil.copyfile(spec["source_svg"], svg)
        out["svg"] = str(svg)
    return out


DRAW = {"coef": coef_plot, "survival": survival_plot, "sweep": sweep_plot, "spec_curve": spec_curve_plot}


def make_figures(figures: dict[str, dict[str, Any]], outdir: str | Path) -> dict[str, dict[str, str]]:
    """Draw (or copy) every figure of the context into ``outdir``; returns ``{id: {"png", "svg"}}``.

    A figure that fails to draw is left out with a warning (the text then says it is not available)
    rather than stopping the paper.
    """
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    out: dict[str, dict[str, str]] = {}
    for fid in sorted(figures):
        spec = figures[fid]
        try:
            if spec["kind"] == "file":
                out[fid] = copy_figure(spec, outdir, fid)
            else:
                out[fid] = DRAW[spec["kind"]](spec["data"], outdir, fid)
        except (OSError, ValueError, KeyError, TypeError) as exc:
            LOG.warning("paper: figure %s could not be drawn (%s: %s); left out", fid, type(exc).__name__, exc)
            plt.close("all")
    return out
