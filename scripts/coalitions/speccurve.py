"""Specification curves of the multiverse (Simonsohn, Simmons and Nelson 2020), and their summary.

A specification curve shows one key coefficient in every universe of the multiverse
(:mod:`coalitions.multiverse`): the top panel the estimates with their 95% confidence intervals, sorted
from smallest to largest and coloured by sign and significance at 5%; the bottom panel, aligned with it,
a dot matrix of the coding choices (one row per value of each switch; a dark dot where the universe
takes that value). With more than :data:`BINNED_ABOVE` universes the curve is binned: the sorted estimates
as a line in the band of their confidence intervals, and beneath, per switch value, the share of universes
taking it in each bin of the sorted order (shaded from white, none, to black, all). A reader sees at once whether the estimate keeps its sign across the coding rules
the debate proposed, and which choices move it. The universe of the published coding is marked.

Figures are deterministic (byte-identical on every render of the same table): matplotlib's Agg/SVG
back ends without pyplot, fixed rcParams, a fixed ``svg.hashsalt`` and no dates or software versions
in the files' metadata.

:func:`summarise` gives the counts the paper reports: universes, estimable, same sign as the published
coding's estimate, significant at 5%.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import pandas as pd

from .util import CoalitionsError, atomic_path

__all__ = ["RC", "COLORS", "plot_spec_curve", "summarise", "curve_data"]

#: fixed rcParams: the same bytes on every render
RC: dict[str, Any] = {
    "font.family": "DejaVu Sans",
    "font.size": 8,
    "axes.titlesize": 9,
    "axes.labelsize": 8,
    "xtick.labelsize": 7,
    "ytick.labelsize": 7,
    "legend.fontsize": 7,
    "axes.linewidth": 0.6,
    "lines.linewidth": 0.8,
    "figure.dpi": 100,
    "savefig.dpi": 200,
    "svg.hashsalt": "coalitions-spec-curve",
    "svg.fonttype": "path",
    "path.simplify": False,
    "axes.unicode_minus": True,
}
COLORS = {"positive": "#1f5fa8", "negative": "#b2182b", "ns": "#9a9a9a", "baseline": "#000000",
          "active": "#222222", "inactive": "#dddddd", "band": "#f3f3f3", "baseline_band": "#fbe9b7"}
ALPHA = 0.05
#: above this many estimable universes the curve is drawn binned: the estimates as a line in a band of their
#: confidence intervals, and beneath, for each switch value, the share of the universes taking it in each of
#: at most :data:`N_BINS` bins of the sorted order (a dot per universe and setting would be unreadable, and
#: the files would grow with the number of universes)
BINNED_ABOVE = 256
N_BINS = 64


SCALES = ("coefficient", "per_sd")


def curve_data(table: pd.DataFrame, term: str, track: str | None = None,
               scale: str = "coefficient") -> tuple[pd.DataFrame, pd.DataFrame]:
    """(estimable rows sorted by estimate, all rows) of one term (and track) of a multiverse table.

    ``scale="per_sd"`` multiplies the estimate and its interval by ``term_sd`` (the SD of the term's
    variable in the universe's estimation sample); rows without it are not shown.
    """
    if scale not in SCALES:
        raise CoalitionsError(f"specification curve: scale must be one of {list(SCALES)}, got {scale!r}")
    need = {"universe_id", "term", "estimate", "conf_low", "conf_high", "p_value", "status"}
    miss = sorted(need - set(table.columns))
    if miss:
        raise CoalitionsError(f"specification curve: the multiverse table lacks column(s) {miss}")
    rows = table[table["term"] == term]
    if track is not None and "track" in rows.columns:
        rows = rows[rows["track"] == track]
    ok = rows[(rows["status"] == "ok") & np.isfinite(rows["estimate"].astype(float))
              & np.isfinite(rows["conf_low"].astype(float)) & np.isfinite(rows["conf_high"].astype(float))]
    if scale == "per_sd":
        if "term_sd" not in ok.columns:
            raise CoalitionsError("specification curve: scale per_sd needs the table's term_sd column")
        sd = ok["term_sd"].astype(float)
        ok = ok[np.isfinite(sd)].copy()
        for c in ("estimate", "conf_low", "conf_high"):
            ok[c] = ok[c].astype(float) * ok["term_sd"].astype(float)
    # sort by estimate; ties keep the universes' order (stable), so the figure is deterministic
    ok = ok.assign(_pos=np.arange(len(ok))).sort_values(["estimate", "_pos"], kind="stable").drop(columns="_pos")
    return ok.reset_index(drop=True), rows.reset_index(drop=True)


def _category(est: float, p: float) -> str:
    if not (p < ALPHA):
        return "ns"
    return "positive" if est > 0 else "negative"


def plot_spec_curve(table: pd.DataFrame, term: str, switches: Sequence[Any], outputs: Sequence[str | Path], *,
                    track: str | None = None, term_label: str | None = None, title: str | None = None,
                    estimate_label: str = "Coefficient (95% CI)", scale: str = "coefficient") -> dict[str, Any]:
    """Draw the specification curve of ``term`` and write it to every path of ``outputs`` (.png, .svg).

    ``switches``: the study's switches (:class:`coalitions.multiverse.Switch`: ``name``, ``label``,
    ``labels`` in order, ``baseline``); the table must have one column per switch. Returns a small
    summary (numbers shown, not estimable, baseline estimate) for logging.
    """
    import matplotlib

    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D

    ok, rows = curve_data(table, term, track, scale)
    n_all = int(rows["universe_id"].nunique())
    n_ok = len(ok)
    label = term_label or term
    missing = [s.name for s in switches if s.name not in rows.columns]
    if missing:
        raise CoalitionsError(f"specification curve of {term}: the table lacks the switch column(s) {missing}")
    # one row of the dot matrix per switch value, switches top to bottom in the configuration's order
    ylabels: list[tuple[str, bool]] = []
    ypos: dict[tuple[str, str], int] = {}
    groups: list[tuple[int, int]] = []
    for s in switches:
        start = len(ylabels)
        for v in s.labels:
            ypos[(s.name, v)] = len(ylabels)
            ylabels.append((f"{s.label}: {v}", v == s.baseline))
        groups.append((start, len(ylabels) - 1))
    n_rows = len(ylabels)

    with matplotlib.rc_context(RC):
        width = 7.0
        top_h, row_h = 2.6, 0.16
        if n_ok == 0:
            # nothing to sort: a short figure that says why, so the paper never shows an empty curve
            fig = Figure(figsize=(width, 1.6), layout="constrained")
            ax = fig.add_subplot()
            fig.suptitle(title or f"Specification curve: {label}", fontsize=9)
            reasons = rows["message"].fillna("").astype(str) if "message" in rows else pd.Series(dtype=str)
            first = next((m for m in reasons if m), "")
            text = f"No universe gives an estimate of {label} ({n_all} universe(s))."
            if first:
                text += "\n" + _wrap(first if len(first) <= 240 else first[:237] + "...", 100)
            ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes, fontsize=7.5)
            ax.set_axis_off()
        elif n_ok > BINNED_ABOVE:
            fig = Figure(figsize=(width, top_h + row_h * n_rows + 0.9), layout="constrained")
            _binned(fig, ok, n_ok, n_all, switches, ylabels, ypos, groups, top_h, row_h, n_rows,
                    title or f"Specification curve: {label}", estimate_label)
        else:
            fig = Figure(figsize=(width, top_h + row_h * n_rows + 0.9), layout="constrained")
            gs = fig.add_gridspec(2, 1, height_ratios=[top_h, row_h * n_rows + 0.2])
            ax = fig.add_subplot(gs[0])
            axm = fig.add_subplot(gs[1], sharex=ax)
            fig.suptitle(title or f"Specification curve: {label}", fontsize=9)
            x = np.arange(1, n_ok + 1)
            est = ok["estimate"].to_numpy(float)
            lo, hi = ok["conf_low"].to_numpy(float), ok["conf_high"].to_numpy(float)
            pv = ok["p_value"].to_numpy(float)
            cats = [_category(e, p) for e, p in zip(est, pv)]
            base = ok.index[ok["is_baseline"].astype(bool)].tolist() if "is_baseline" in ok else []
            for xb in base:
                for a in (ax, axm):
                    a.axvspan(x[xb] - 0.5, x[xb] + 0.5, color=COLORS["baseline_band"], zorder=0.5, lw=0)
            ax.axhline(0.0, color="#555555", lw=0.6, ls="--", zorder=1)
            for cat in ("ns", "negative", "positive"):
                m = np.array([c == cat for c in cats])
                if not m.any():
                    continue
                ax.vlines(x[m], lo[m], hi[m], color=COLORS[cat], lw=0.7, zorder=2)
                ax.scatter(x[m], est[m], s=9, color=COLORS[cat], zorder=3, linewidths=0)
            for xb in base:
                ax.scatter([x[xb]], [est[xb]], s=40, facecolors="none", edgecolors=COLORS["baseline"],
                           linewidths=0.9, zorder=4)
            ax.set_ylabel(estimate_label)
            ax.set_xlim(0.3, n_ok + 0.7)
            ax.tick_params(axis="x", labelbottom=False)
            handles = [Line2D([], [], marker="o", ls="", color=COLORS["positive"], ms=3.5,
                              label=f"positive, p < {ALPHA:g}"),
                       Line2D([], [], marker="o", ls="", color=COLORS["negative"], ms=3.5,
                              label=f"negative, p < {ALPHA:g}"),
                       Line2D([], [], marker="o", ls="", color=COLORS["ns"], ms=3.5, label="not significant")]
            if base:
                handles.append(Line2D([], [], marker="o", ls="", mfc="none", mec=COLORS["baseline"], ms=6,
                                      label="published coding"))
            ax.legend(handles=handles, loc="upper left", frameon=False, ncol=len(handles), handletextpad=0.2,
                      columnspacing=0.9)
            # the dot matrix
            for gi, (a, b) in enumerate(groups):
                if gi % 2 == 1:
                    axm.axhspan(a - 0.5, b + 0.5, color=COLORS["band"], zorder=0, lw=0)
            all_x = np.repeat(x, n_rows)
            all_y = np.tile(np.arange(n_rows), n_ok)
            axm.scatter(all_x, all_y, s=3, color=COLORS["inactive"], zorder=1, linewidths=0)
            ax_x, ax_y = [], []
            for i, r in enumerate(ok.to_dict("records")):
                for s in switches:
                    y = ypos.get((s.name, str(r[s.name])))
                    if y is not None:
                        ax_x.append(x[i])
                        ax_y.append(y)
            axm.scatter(ax_x, ax_y, s=7, color=COLORS["active"], zorder=2, linewidths=0)
            axm.set_ylim(n_rows - 0.5, -0.5)
            axm.set_yticks(np.arange(n_rows))
            axm.set_yticklabels([t for t, _ in ylabels])
            for tick, (_, is_base) in zip(axm.get_yticklabels(), ylabels):
                tick.set_fontweight("bold" if is_base else "normal")
            axm.set_xlabel(f"Universes sorted by the estimate ({n_ok} of {n_all} shown); bold: published coding")
            axm.tick_params(axis="x", labelsize=6)
            for spine in ("top", "right"):
                ax.spines[spine].set_visible(False)
                axm.spines[spine].set_visible(False)
        for out in outputs:
            out = Path(out)
            out.parent.mkdir(parents=True, exist_ok=True)
            fmt = out.suffix.lstrip(".").lower()
            if fmt == "png":
                meta: dict[str, Any] = {"Software": None, "Title": title or f"Specification curve: {label}"}
            elif fmt == "svg":
                meta = {"Date": None, "Creator": None, "Title": title or f"Specification curve: {label}"}
            else:
                raise CoalitionsError(f"{out}: a specification curve is written as .png or .svg")
            with atomic_path(out) as tmp:
                fig.savefig(tmp, format=fmt, metadata=meta)
    baseline = ok[ok["is_baseline"].astype(bool)] if ("is_baseline" in ok and n_ok) else ok.iloc[0:0]
    return {"term": term, "track": track, "scale": scale, "universes": n_all, "shown": n_ok,
            "binned": n_ok > BINNED_ABOVE,
            "baseline_estimate": float(baseline["estimate"].iloc[0]) if len(baseline) else None}


def _binned(fig: Any, ok: pd.DataFrame, n_ok: int, n_all: int, switches: Sequence[Any],
            ylabels: list[tuple[str, bool]], ypos: dict[tuple[str, str], int], groups: list[tuple[int, int]],
            top_h: float, row_h: float, n_rows: int, title: str, estimate_label: str) -> None:
    """The curve of many universes: a line and CI band on top, a heat map of switch shares beneath."""
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    gs = fig.add_gridspec(2, 1, height_ratios=[top_h, row_h * n_rows + 0.2])
    ax = fig.add_subplot(gs[0])
    axm = fig.add_subplot(gs[1], sharex=ax)
    fig.suptitle(title, fontsize=9)
    x = np.arange(1, n_ok + 1)
    est = ok["estimate"].to_numpy(float)
    lo, hi = ok["conf_low"].to_numpy(float), ok["conf_high"].to_numpy(float)
    pv = ok["p_value"].to_numpy(float)
    cats = np.array([_category(e, p) for e, p in zip(est, pv)])
    ax.axhline(0.0, color="#555555", lw=0.6, ls="--", zorder=1)
    for cat in ("ns", "negative", "positive"):
        m = cats == cat
        if m.any():
            ax.fill_between(x, lo, hi, where=m, color=COLORS[cat], alpha=0.35, lw=0, step="mid", zorder=2)
    ax.plot(x, est, color="#222222", lw=0.8, zorder=3)
    base = ok.index[ok["is_baseline"].astype(bool)].tolist() if "is_baseline" in ok else []
    for xb in base:
        ax.axvline(x[xb], color=COLORS["baseline"], lw=0.6, ls=":", zorder=4)
        ax.scatter([x[xb]], [est[xb]], s=40, facecolors="none", edgecolors=COLORS["baseline"], linewidths=0.9,
                   zorder=5)
    handles = [Patch(color=COLORS["positive"], alpha=0.35, lw=0, label=f"95% CI, positive, p < {ALPHA:g}"),
               Patch(color=COLORS["negative"], alpha=0.35, lw=0, label=f"negative, p < {ALPHA:g}"),
               Patch(color=COLORS["ns"], alpha=0.35, lw=0, label="not significant"),
               Line2D([], [], color="#222222", lw=0.8, label="estimate")]
    if base:
        handles.append(Line2D([], [], marker="o", ls="", mfc="none", mec=COLORS["baseline"], ms=6,
                              label="published coding"))
    ax.legend(handles=handles, loc="upper left", frameon=False, ncol=len(handles), handletextpad=0.3,
              columnspacing=0.9)
    ax.set_ylabel(estimate_label)
    ax.set_xlim(0.5, n_ok + 0.5)
    ax.tick_params(axis="x", labelbottom=False)
    # beneath: share of the universes of each bin (of the sorted order) that take each switch value
    n_bins = min(N_BINS, n_ok)
    edges = np.linspace(0, n_ok, n_bins + 1).round().astype(int)
    share = np.zeros((n_rows, n_bins))
    rows_of = np.full((len(ok), len(switches)), -1)
    for j, s in enumerate(switches):
        rows_of[:, j] = [ypos.get((s.name, str(v)), -1) for v in ok[s.name]]
    for b in range(n_bins):
        part = rows_of[edges[b]:edges[b + 1]]
        for j in range(len(switches)):
            r = part[:, j]
            r = r[r >= 0]
            if len(r):
                share[:, b] += np.bincount(r, minlength=n_rows) / len(part)
    for gi, (a, b) in enumerate(groups):
        if gi % 2 == 1:
            axm.axhspan(a - 0.5, b + 0.5, color=COLORS["band"], zorder=0, lw=0)
    axm.imshow(share, aspect="auto", cmap="Greys", vmin=0.0, vmax=1.0, interpolation="nearest",
               extent=(0.5, n_ok + 0.5, n_rows - 0.5, -0.5), zorder=1)
    axm.set_ylim(n_rows - 0.5, -0.5)
    axm.set_yticks(np.arange(n_rows))
    axm.set_yticklabels([t for t, _ in ylabels])
    for tick, (_, is_base) in zip(axm.get_yticklabels(), ylabels):
        tick.set_fontweight("bold" if is_base else "normal")
    axm.set_xlabel(f"Universes sorted by the estimate ({n_ok} of {n_all} shown); shade: share of the universes in "
                   f"each of {n_bins} bins taking the value; bold: published coding")
    axm.tick_params(axis="x", labelsize=6)
    for spine in ("top", "right"):
        ax.spines[spine].set_visible(False)
        axm.spines[spine].set_visible(False)


def _wrap(text: str, width: int) -> str:
    words, lines, cur = text.split(), [], ""
    for w in words:
        if len(cur) + len(w) + 1 > width and cur:
            lines.append(cur)
            cur = w
        else:
            cur = f"{cur} {w}".strip()
    if cur:
        lines.append(cur)
    return "\n".join(lines[:4])


def _f(v: Any) -> float | None:
    try:
        v = float(v)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(v) else v


def summarise(table: pd.DataFrame) -> dict[str, dict[str, dict[str, Any]]]:
    """Counts for the paper, per track and term: ``{track: {term: {...}}}``.

    ``universes`` (distinct universes), ``estimable`` (status ok), ``not_estimable``,
    ``not_available``, ``failed``; ``positive``/``negative`` (estimable, by sign);
    ``significant_5`` (estimable with p < .05); ``same_sign_as_baseline`` and
    ``significant_same_sign`` (None when the published coding's universe has no estimate);
    ``baseline`` (its estimate, 95% CI, p-value and status); ``estimate_min``/``median``/``max``; with a
    ``term_sd`` column also ``per_sd_min``/``median``/``max`` (estimate x SD of the term's variable) and
    ``per_sd_shown`` (universes with that SD).
    A table without a ``track`` column counts as one track, ``"rebuilt"``.
    """
    need = {"universe_id", "term", "estimate", "p_value", "status"}
    miss = sorted(need - set(table.columns))
    if miss:
        raise CoalitionsError(f"summarise: the multiverse table lacks column(s) {miss}")
    t = table if "track" in table.columns else table.assign(track="rebuilt")
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for (track, term), g in t.groupby(["track", "term"], sort=False):
        est = g["estimate"].astype(float)
        ok = g[(g["status"] == "ok") & np.isfinite(est)]
        e = ok["estimate"].astype(float)
        p = ok["p_value"].astype(float)
        base = g[g["is_baseline"].astype(bool)] if "is_baseline" in g else g.iloc[0:0]
        b = base.iloc[0] if len(base) else None
        b_est = _f(b["estimate"]) if b is not None and b["status"] == "ok" else None
        if b_est is not None and b_est != 0:
            same = np.sign(e) == np.sign(b_est)
            same_sign: int | None = int(same.sum())
            sig_same: int | None = int((same & (p < ALPHA)).sum())
        else:
            same_sign = sig_same = None
        counts = g.drop_duplicates("universe_id")["status"].value_counts()
        out.setdefault(str(track), {})[str(term)] = {
            "universes": int(g["universe_id"].nunique()),
            "estimable": int(len(ok)),
            "not_estimable": int(counts.get("not_estimable", 0)),
            "not_available": int(counts.get("not_available", 0)),
            "failed": int(counts.get("failed", 0)),
            "positive": int((e > 0).sum()),
            "negative": int((e < 0).sum()),
            "significant_5": int((p < ALPHA).sum()),
            "same_sign_as_baseline": same_sign,
            "significant_same_sign": sig_same,
            "baseline": None if b is None else {
                "universe_id": str(b["universe_id"]), "status": str(b["status"]), "estimate": b_est,
                "conf_low": _f(b.get("conf_low")), "conf_high": _f(b.get("conf_high")),
                "p_value": _f(b.get("p_value")),
            },
            "estimate_min": _f(e.min()) if len(e) else None,
            "estimate_median": _f(e.median()) if len(e) else None,
            "estimate_max": _f(e.max()) if len(e) else None,
        }
        if "term_sd" in ok.columns:
            sd = ok["term_sd"].astype(float)
            es = (e * sd)[np.isfinite(sd)]
            out[str(track)][str(term)].update({
                "per_sd_shown": int(len(es)),
                "per_sd_min": _f(es.min()) if len(es) else None,
                "per_sd_median": _f(es.median()) if len(es) else None,
                "per_sd_max": _f(es.max()) if len(es) else None,
            })
    return out
