"""The comparison paper: gathered from the results files, rendered to LaTeX/PDF and HTML.

Runs on the synthetic results tree of ``tests/helpers/paper_fixture.py`` (and, for the published
values, on the project's real ``config/published`` files). What is checked:

(a) rendering succeeds and leaves no placeholder (TODO, XXX, template braces, nan, None);
(b) a changed estimate, count or multiverse result changes the text of both versions;
(c) two renders with the same SOURCE_DATE_EPOCH are byte-identical (.tex, .html, figures, PDF);
(d) the first-page notice when an original archive was not obtained, and the synthetic-data warning;
(e) empty published values are shown as not available, and no published number is invented;
(f) every table with a proxy term labels it;
plus missing parts of the results (no multiverse, nothing at all) and the small formatting helpers.
"""

from __future__ import annotations

import html
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest

from coalitions.paper import gather, render_paper
from coalitions.paper.bibtex import cite_label, parse_bibtex
from coalitions.paper.fmt import count, num, pval, stars, tex_escape
from coalitions.paper.gather import read_published
from coalitions.registry import load_registry
from coalitions.util import CoalitionsError
from helpers.paper_fixture import PAPER_TEMPLATES, PUBLISHED_TEST_VALUE, UNAVAILABLE_REASON, make_results, paper_inputs

ROOT = Path(__file__).resolve().parents[1]
SDE = 1_700_000_000
HAVE_TEX = bool(shutil.which("latexmk") and shutil.which("pdflatex") and shutil.which("bibtex"))
DATA_URI = re.compile(r"data:image/png;base64,[A-Za-z0-9+/=]+")
SCRIPTS = re.compile(r"<script\b[^>]*>.*?</script>", re.S)


def _render(tree: dict[str, Path], out: Path, *, pdf: bool, sde: int = SDE, **kw) -> dict:
    ctx = gather(paper_inputs(tree), git_commit="0123456789abcdef", source_date_epoch=sde, **kw)
    return render_paper(ctx, out, templates=PAPER_TEMPLATES, pdf=pdf)


def _html_text(path: Path) -> str:
    """The HTML without its embedded images (base64 can contain any letters) and its inline scripts and data."""
    return SCRIPTS.sub("", DATA_URI.sub("data:image/png;base64,", path.read_text(encoding="utf-8")))


@pytest.fixture(scope="module")
def rendered(tmp_path_factory) -> dict:
    """The fixture tree rendered once, with the PDF when TeX is installed."""
    base = tmp_path_factory.mktemp("paper")
    tree = make_results(base / "tree")
    out = _render(tree, base / "out", pdf=True)
    out["tree"] = tree
    return out


# --------------------------------------------------------------------------- HTML tables
class _Tables(HTMLParser):
    """Collect each ``<figure class="table">``: its cells (rows of text) and its notes."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tables: list[dict] = []
        self._fig = 0
        self._cell: list[str] | None = None
        self._row: list[str] | None = None
        self._note = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "figure" and a.get("class") == "table":
            self._fig += 1
            self.tables.append({"id": a.get("id"), "rows": [], "notes": ""})
        elif not self._fig:
            return
        elif tag == "tr":
            self._row = []
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []
        elif tag == "div" and a.get("class") == "tnote":
            self._note = True

    def handle_endtag(self, tag):
        if not self._fig:
            return
        if tag == "figure":
            self._fig -= 1
        elif tag in ("td", "th") and self._cell is not None and self._row is not None:
            self._row.append("".join(self._cell).strip())
            self._cell = None
        elif tag == "tr" and self._row is not None:
            self.tables[-1]["rows"].append(self._row)
            self._row = None
        elif tag == "div" and self._note:
            self._note = False

    def handle_data(self, data):
        if not self._fig:
            return
        if self._cell is not None:
            self._cell.append(data)
        if self._note:
            self.tables[-1]["notes"] += data
        else:
            self.tables[-1].setdefault("caption", "")
            self.tables[-1]["caption"] += data if self._cell is None else ""


def html_tables(path: Path) -> dict[str, dict]:
    p = _Tables()
    p.feed(path.read_text(encoding="utf-8"))
    return {t["id"]: t for t in p.tables}


# =========================================================================== (a) rendering
def test_render_writes_every_output(rendered):
    for key in ("tex", "html", "bib"):
        assert Path(rendered[key]).is_file() and Path(rendered[key]).stat().st_size > 1000
    pngs = [p for p in rendered["figures"] if p.suffix == ".png"]
    svgs = [p for p in rendered["figures"] if p.suffix == ".svg"]
    # coefficient plots (Weisiger, Henke), window sweep, survival curves, specification curve
    kinds = {p.stem.split("-")[0] for p in pngs}
    assert {"coef", "sweep", "survival", "spec"} <= kinds, kinds
    assert len(pngs) == len(svgs)
    if HAVE_TEX:
        assert rendered["pdf_status"] == "built", rendered["pdf_status"]
        assert Path(rendered["pdf"]).read_bytes()[:5] == b"%PDF-"
    else:
        assert rendered["pdf_status"].startswith("skipped")


def test_html_has_no_placeholders_and_is_self_contained(rendered):
    raw = Path(rendered["html"]).read_text(encoding="utf-8")
    text = _html_text(Path(rendered["html"]))
    for bad in ("TODO", "XXX", "{{", "{%", "}}", "%}"):
        assert bad not in text, bad
    assert not re.search(r"\bnan\b", text, re.I), re.search(r".{60}\bnan\b.{60}", text, re.I)
    assert not re.search(r"\bNone\b", text)
    # self-contained: every image is embedded, no stylesheet or script is fetched
    imgs = re.findall(r'<img [^>]*src="([^"]*)"', raw)
    assert imgs and all(s.startswith("data:image/png;base64,") for s in imgs)
    assert "<link" not in raw and "@import" not in raw
    assert not re.search(r"<script[^>]*\bsrc=", raw)            # scripts are inline
    assert 'id="explorer-data"' in raw and "fetch(" not in raw and "XMLHttpRequest" not in raw
    assert not re.search(r'src="(https?:)?//', raw)


def test_tex_has_no_placeholders(rendered):
    tex = Path(rendered["tex"]).read_text(encoding="utf-8")
    for bad in ("TODO", "XXX", "<<", ">>", "<%", "%>", "<#"):
        assert bad not in tex, bad
    assert not re.search(r"\bnan\b", tex, re.I)
    assert not re.search(r"\bNone\b", tex)
    # the LaTeX special characters of the data are escaped (status_changes.csv of the fixture)
    assert r"Côte d'Ivoire \& Test\_\allowbreak{}State \#2, War 100\% (999)" in tex
    assert r"(\$ \textasciitilde{} \textasciicircum{} \{braces\})" in tex
    # and the HTML escapes them its own way
    page = Path(rendered["html"]).read_text(encoding="utf-8")
    assert "Côte d&#39;Ivoire &amp; Test_State #2, War 100% (999)" in page


def test_sections_and_citations(rendered):
    tex = Path(rendered["tex"]).read_text(encoding="utf-8")
    for sec in ("Introduction", "The answer: do the coding rules change the conclusions?", "Multiverse", "Discussion",
                "Results by model", "Data, sources and variables", "Coding rules",
                "Participants whose status changes between codings", "Provenance"):
        assert f"\\section{{{sec}}}" in tex, sec
    for sub in ("Results for Weisiger (2016)", "Results for Henke (2017)"):
        assert f"\\subsection{{{sub}}}" in tex
    # the answer comes first: its tables before the appendix, the per-model tables after it
    assert tex.index("tab-answer-weisiger-rebuilt") < tex.index("\\appendix") < tex.index("tab-weisiger-t2-full")
    assert re.search(r"\\caption\{([^}]*)\}", tex).group(1).startswith("Does the coding rule change the result?")
    for key in ("weisiger2016exiting", "henke2017politics", "henke2017abandoning", "morey2017defining",
                "sarkees2010resort"):
        assert re.search(r"\\cite[tp]\{[^}]*" + key, tex), key
    bib = Path(rendered["bib"]).read_text(encoding="utf-8")
    keys = {e.key for e in parse_bibtex(bib)}
    cited = {k for grp in re.findall(r"\\cite[tp]\{([^}]*)\}", tex) for k in grp.split(",")}
    assert cited <= keys, cited - keys
    page = _html_text(Path(rendered["html"]))
    for k in cited:                      # every citation of the LaTeX version is in the HTML reference list
        assert f'id="ref-{k}"' in page, k
    # natbib's 2017a/2017b/2017c: three cited works of Henke in 2017 -> suffixes in the HTML too
    assert re.search(r"Henke</a> \(2017[abc]\)", page)


def test_provenance_appendix(rendered):
    tex = Path(rendered["tex"]).read_text(encoding="utf-8")
    page = _html_text(Path(rendered["html"]))
    import importlib.metadata as md

    for doc in (tex, page):
        assert "0123456789abcdef" in doc                              # git commit given by the caller
        assert md.version("pandas") in doc and md.version("matplotlib") in doc
        assert "2535e30b145141c331a07d12d91e498a" in doc              # a data checksum (first half)
    codings = pd.read_csv(rendered["tree"]["results"] / "comparison" / "codings.csv")
    for sha in codings["sha256"]:
        assert sha in page and sha[:32] in tex


# =========================================================================== (b) perturbation
def _mv_counts(path: Path) -> tuple[int, int]:
    mv = pd.read_csv(path)
    ok = mv[(mv["status"] == "ok") & mv["estimate"].notna()]
    return int(((ok["estimate"] < 0) & (ok["p_value"] < 0.05)).sum()), int(mv["universe_id"].nunique())


def test_a_model_switch_counts_each_models_own_universes(tmp_path):
    """When a switch sets the model, each model's block (and the abstract) counts the universes that fit
    that model, not every universe of the multiverse (the others were fitted with the other model, not
    "could not be estimated")."""
    tree = make_results(tmp_path / "tree")
    mv_path = tree["results"] / "multiverse" / "weisiger_multiverse.csv"
    mv = pd.read_csv(mv_path)
    uids = sorted(mv["universe_id"].unique())
    other = set(uids[: len(uids) // 2])
    mv.loc[mv["universe_id"].isin(other), "model_id"] = "t2_controls"
    mv.to_csv(mv_path, index=False)
    out = _render(tree, tmp_path / "out", pdf=False)
    page = _html_text(Path(out["html"]))
    for mid, n in (("t2_full", len(uids) - len(other)), ("t2_controls", len(other))):
        sub = mv[(mv["model_id"] == mid) & (mv["term"] == "foverlap")]
        ok = sub[(sub["status"] == "ok") & sub["estimate"].notna()]
        neg = int(((ok["estimate"] < 0) & (ok["p_value"] < 0.05)).sum())
        assert f"In {neg} of {n} universes the coefficient of Common Front (" in page, mid
    assert f"of {len(uids)} universes the coefficient of Common Front" not in page
    assert re.search(r"Common Front is significant at the 5% level in \d+ of the \d+ universes that fit ", page)


def test_perturbed_results_change_the_text(tmp_path):
    tree = make_results(tmp_path / "tree")
    comp = tree["results"] / "comparison"
    before = _render(tree, tmp_path / "before", pdf=False)
    tex0, html0 = Path(before["tex"]).read_text(), _html_text(Path(before["html"]))
    mv_path = tree["results"] / "multiverse" / "weisiger_multiverse.csv"
    neg0, n = _mv_counts(mv_path)
    sent = "In {} of {} universes the coefficient of Common Front is negative and significant at the 5% level"
    sent_tex = sent.replace("%", r"\%")
    assert sent_tex.format(neg0, n) in tex0 and sent.format(neg0, n) in html0

    est = pd.read_csv(comp / "weisiger_estimates.csv")
    sel = (est["model_id"] == "t2_full") & (est["track"] == "rebuilt") & (est["coding"] == "baseline") & (
        est["term"] == "ctrend60")
    assert sel.sum() == 1
    est.loc[sel, ["estimate", "std_error", "p_value"]] = [-2.4681, 0.1111, 0.0000001]
    est.to_csv(comp / "weisiger_estimates.csv", index=False)
    fits = pd.read_csv(comp / "weisiger_fits.csv")
    fsel = (fits["model_id"] == "t2_full") & (fits["track"] == "rebuilt") & (fits["coding"] == "baseline")
    fits.loc[fsel, "n_failures"] = 777
    fits.to_csv(comp / "weisiger_fits.csv", index=False)
    mv = pd.read_csv(mv_path)
    ok = mv["status"] == "ok"
    mv.loc[ok, "estimate"] = -mv.loc[ok, "estimate"].abs() - 0.5
    mv.loc[ok, "p_value"] = 0.001
    mv.to_csv(mv_path, index=False)
    neg1, _ = _mv_counts(mv_path)
    assert neg1 != neg0

    after = _render(tree, tmp_path / "after", pdf=False)
    tex1, html1 = Path(after["tex"]).read_text(), _html_text(Path(after["html"]))
    assert "2.468" not in tex0 and "2.468" not in html0
    assert "$-$2.468$^{**}$" in tex1 and "(0.111)" in tex1
    assert "-2.468<sup>**</sup>" in html1 and "(0.111)" in html1
    assert "777" not in tex0 and "777" in tex1 and "777" in html1
    assert sent_tex.format(neg1, n) in tex1 and sent.format(neg1, n) in html1
    assert sent.format(neg0, n) not in html1
    # the per-switch table follows: every universe that was estimated is now negative and significant
    t = html_tables(Path(after["html"]))["tab-mv-weisiger-foverlap"]
    for row in t["rows"][1:]:
        assert row[3] == row[4], row            # estimated == negative & p<0.05


# =========================================================================== (c) determinism
def test_two_renders_are_byte_identical(tmp_path):
    tree = make_results(tmp_path / "tree")
    a = _render(tree, tmp_path / "a", pdf=True)
    b = _render(tree, tmp_path / "b", pdf=True)
    for key in ("tex", "html", "bib"):
        assert Path(a[key]).read_bytes() == Path(b[key]).read_bytes(), key
    names_a = sorted(p.name for p in a["figures"])
    assert names_a == sorted(p.name for p in b["figures"]) and names_a
    for pa in a["figures"]:
        pb = tmp_path / "b" / "figures" / pa.name
        assert pa.read_bytes() == pb.read_bytes(), pa.name
    if HAVE_TEX:
        assert a["pdf_status"] == b["pdf_status"] == "built", (a["pdf_status"], b["pdf_status"])
        assert Path(a["pdf"]).read_bytes() == Path(b["pdf"]).read_bytes()
        pdf = Path(a["pdf"]).read_bytes()
        assert b"/CreationDate" not in pdf and b"/ModDate" not in pdf and b"PTEX.Fullbanner" not in pdf
    # the date comes from SOURCE_DATE_EPOCH, not from the clock
    c = _render(tree, tmp_path / "c", pdf=False, sde=0)
    assert "1 January 1970" in Path(c["tex"]).read_text() and "14 November 2023" in Path(a["tex"]).read_text()


#: a table's column specification: ``{@{}lcc...@{}}`` or ``{@{}P{3.4cm}cc...@{}}`` (per-coding tables), or others
_TABLE_SPEC = re.compile(r"\\begin\{(tabular|longtable)\}(?:\[[^\]]*\])?\{(.*?)\}\s*$", re.M)


def test_wide_per_coding_tables_fit_the_page(tmp_path):
    """With as many codings as the real project (12 on the rebuilt track), every per-coding table of
    the LaTeX version is set in parts of at most TEX_MAX_COLUMNS columns, each with the row labels and
    a caption naming its part, no column is lost, the HTML keeps the table whole, and (with TeX) the
    PDF has no overfull line: no table runs into the margin."""
    from coalitions.paper.render import TEX_MAX_COLUMNS

    tree = make_results(tmp_path / "tree", extra_codings=10)
    out = _render(tree, tmp_path / "out", pdf=HAVE_TEX)
    if HAVE_TEX:
        assert out["pdf_status"] == "built", out["pdf_status"]
        log = (tmp_path / "out" / "paper.latex.log").read_text(encoding="latin-1")
        overfull = [ln for ln in log.splitlines() if ln.startswith("Overfull \\hbox")]
        assert not overfull, overfull[:5]
    tex = Path(out["tex"]).read_text(encoding="utf-8")
    specs = [m.group(2) for m in _TABLE_SPEC.finditer(tex)]
    per_coding = [m for sp in specs if (m := re.fullmatch(r"@\{\}(?:l|P\{[0-9.]+cm\})(c+)@\{\}", sp))]
    assert per_coding, "no per-coding table in the LaTeX"
    widest = max(len(m.group(1)) for m in per_coding)
    assert widest <= TEX_MAX_COLUMNS, f"a per-coding table has {widest} columns (at most {TEX_MAX_COLUMNS} fit)"
    # the window sweep of the fixture (1 published + 1 original + 12 rebuilt columns) is in 3 parts
    caps = re.findall(r"\\caption\{Weisiger \(2016\), Fig\. 5: window sweep \(part (\d) of (\d): ([^}]*)\)\}", tex)
    assert [(a, b) for a, b, _ in caps] == [("1", "3"), ("2", "3"), ("3", "3")], caps
    assert caps[0][2].startswith("Published; ") and "Synthetic test coding 10" in caps[2][2]
    sweep = tex[tex.index("window sweep (part 1 of 3"):]
    assert sweep.count("15-day window &") == 3  # the row labels are repeated in each part
    for k in range(1, 11):
        assert f"Synthetic test coding {k}: exits merged within {k} days" in sweep
    # one table number for all parts: the counter steps back before parts 2 and 3
    assert sweep.count("\\addtocounter{table}{-1}") >= 2
    page = Path(out["html"]).read_text(encoding="utf-8")
    tabs = html_tables(Path(out["html"]))
    sweep_html = [t for i, t in tabs.items() if i and "window-sweep" in i]
    assert sweep_html and all(len(t["rows"][1]) == 15 for t in sweep_html), "the HTML table is not whole"
    assert "(part 1 of" not in page


def test_figures_carry_no_run_metadata(rendered):
    for p in rendered["figures"]:
        data = p.read_bytes()
        if p.suffix == ".png":
            assert b"Software" not in data and b"matplotlib" not in data.lower()
        else:
            assert b"<dc:date>" not in data and b"Matplotlib v" not in data


# =========================================================================== (d) notices
def _before_abstract(tex: str) -> str:
    return tex[: tex.index(r"\begin{abstract}")]


def test_first_page_says_which_battle_data_the_trends_use(rendered):
    first = _before_abstract(Path(rendered["tex"]).read_text(encoding="utf-8"))
    assert "Battle data." in first and "rebuilt from the dated battles of CDB90" in first
    assert "Interstate War Battle Dataset (IWBD) was not obtained" in first
    page = _html_text(Path(rendered["html"]))
    head = page[: page.index('class="abstract"')]
    assert "so no trend in this paper uses it" in head


def test_notice_for_unavailable_archive_and_synthetic_data(rendered):
    tex = Path(rendered["tex"]).read_text(encoding="utf-8")
    first = _before_abstract(tex)
    assert "The original replication archive of Henke (2017) (doi:10.7910/\\allowbreak{}DVN/" in first
    assert "could not be downloaded: the server was unreachable on " in first
    assert "-{}-forcerun fetch\\_\\allowbreak{}archive" in first and "once online" in first
    # the raw error is not on the first page, but in the provenance appendix
    assert "ConnectionError" not in first and "https://" not in first
    prov = tex[tex.index("\\section{Provenance}"):]
    assert "ConnectionError (test fixture)" in prov
    assert "synthetic" in first.lower() and "original-archive track of Weisiger (2016)" in first
    page = _html_text(Path(rendered["html"]))
    head = page[: page.index('class="abstract"')]
    assert "The original replication archive of Henke (2017) (doi:10.7910/DVN/ZAPWHZ) could not be downloaded" in head
    assert html.escape(UNAVAILABLE_REASON, quote=True) not in head and "ConnectionError" not in head
    assert html.escape(UNAVAILABLE_REASON, quote=True) in page[page.index('id="sec-provenance"'):]
    date = re.search(r"unreachable on (\d{1,2} \w+ \d{4});", head)
    assert date, head[-600:]
    assert "Warning: synthetic data." in head
    # the synthetic track is labelled as such in the column headers of every Weisiger table
    tabs = html_tables(Path(rendered["html"]))
    assert "Original archive (synthetic data)" in tabs["tab-weisiger-t2-full"]["rows"][0]


def test_unavailable_weisiger_archive_empties_its_columns(tmp_path):
    tree = make_results(tmp_path / "tree")
    status = tree["archives"] / "weisiger2016" / "status.json"
    status.write_text('{"available": false, "reason": "offline build (test)", "files": {}, '
                      '"dataset_doi": "doi:10.7910/DVN/DUFHM1"}\n', encoding="utf-8")
    out = _render(tree, tmp_path / "out", pdf=False)
    tex, page = Path(out["tex"]).read_text(), _html_text(Path(out["html"]))
    assert re.search(r"The original replication archives? of Weisiger \(2016\)", _before_abstract(tex))
    head = page[: page.index('class="abstract"')]
    assert "Weisiger (2016) (doi:10.7910/DVN/DUFHM1) and Henke (2017)" in head and "unreachable" in head
    assert head.count("could not be downloaded") == 1          # one notice for both archives
    assert "offline build (test)" not in head and "offline build (test)" in page[page.index('id="sec-provenance"'):]
    # results of the original track exist in the tree, but none of them is shown
    est = pd.read_csv(tree["results"] / "comparison" / "weisiger_estimates.csv")
    orig = est[(est["track"] == "original") & (est["model_id"] == "t2_full")]
    t = html_tables(Path(out["html"]))["tab-weisiger-t2-full"]
    header = t["rows"][1]
    col = header.index("not available")
    assert t["rows"][0][2].startswith("Original archive")
    for row in t["rows"][2:]:
        assert row[col] in ("", "not available"), row
    for v in orig["estimate"]:
        assert f"{v:.3f}" not in " ".join(" ".join(r) for r in t["rows"])
    assert "Warning: synthetic data." not in page      # the synthetic track is not shown at all


# =========================================================================== (e) published values
def test_empty_published_values_are_not_available(rendered):
    tabs = html_tables(Path(rendered["html"]))
    t1 = tabs["tab-weisiger-t1-exit-coalition-trend"]
    assert "Published values: not available" in t1["notes"]
    t2 = tabs["tab-weisiger-t2-full"]
    assert t2["rows"][1][1] == "Article"
    pub = {}
    rows = t2["rows"]
    for i in range(2, len(rows) - 1):
        if rows[i][0] and rows[i + 1][0] == "":          # an estimate row followed by its standard-error row
            pub[rows[i][0]] = (rows[i][1], rows[i + 1][1])
    assert len(pub) == 8
    assert pub["Relative Capabilities"] == (f"{PUBLISHED_TEST_VALUE['estimate']:.3f}",
                                           f"({PUBLISHED_TEST_VALUE['std_error']:.3f})")
    for label, (est, se) in pub.items():
        if label != "Relative Capabilities":
            assert est == "n.a." and se == "", (label, est, se)
    assert "7 terms not available in config/published/weisiger2016.csv" in t2["notes"]


def test_no_published_number_is_invented_from_the_real_files(tmp_path):
    """The project's own config/published files: every empty cell must come out as n.a."""
    tree = make_results(tmp_path / "tree")
    for name in ("weisiger2016.csv", "henke2017.csv"):
        shutil.copyfile(ROOT / "config" / "published" / name, tree["config"] / "published" / name)
    real = {n: read_published(ROOT / "config" / "published" / n) for n in ("weisiger2016.csv", "henke2017.csv")}
    out = _render(tree, tmp_path / "out", pdf=False)
    tabs = html_tables(Path(out["html"]))
    for tid, t in tabs.items():
        if not tid.startswith("tab-weisiger-") or len(t["rows"]) < 3 or t["rows"][1][1:2] != ["Article"]:
            continue
        model = tid[len("tab-weisiger-"):].replace("-", "_")
        pub = real["weisiger2016.csv"]
        has_numbers = pub[(pub["model_id"] == model)]["estimate"].map(lambda v: pd.notna(pd.to_numeric(v, errors="coerce"))).any()
        for row in t["rows"][2:]:
            if not has_numbers and row and row[0] not in ("Status",):
                assert row[1] in ("n.a.", ""), (tid, row)
        if not has_numbers:
            assert "not available" in t["notes"]


def test_published_long_layout(tmp_path):
    p = tmp_path / "henke2017.csv"
    p.write_text("model_id,table,page,term,quantity,value,column_label,note\n"
                 "m1,3,415,embeddedness,estimate,0.25,(1),read from the article\n"
                 "m1,3,415,embeddedness,std_error,,(1),read from the article\n"
                 "m1,3,415,polity2,estimate,,(1),\n", encoding="utf-8")
    df = read_published(p).set_index("term")
    assert float(df.loc["embeddedness", "estimate"]) == 0.25
    assert pd.isna(pd.to_numeric(df.loc["embeddedness", "std_error"], errors="coerce"))
    assert pd.isna(pd.to_numeric(df.loc["polity2", "estimate"], errors="coerce"))
    assert df.loc["embeddedness", "source_note"] == "read from the article"
    p.write_text("model_id,term,quantity,value\nm1,x,coefficient,1\n", encoding="utf-8")
    with pytest.raises(CoalitionsError, match="unknown quantity"):
        read_published(p)


# =========================================================================== (f) proxies
def test_every_table_with_a_proxy_labels_it(rendered):
    tabs = html_tables(Path(rendered["html"]))
    with_proxy = []
    for tid, t in tabs.items():
        cells = " ".join(" ".join(r) for r in t["rows"])
        if "‡" in cells:
            with_proxy.append(tid)
            assert "proxy" in t["notes"], tid
            assert "‡ proxy" in t["notes"], tid
    # the Full Model (rebuilt Common Front), Table A4, the window sweep and the variables table
    assert {"tab-weisiger-t2-full", "tab-weisiger-a4-first-day", "tab-vars-weisiger"} <= set(with_proxy)
    # the window sweep reports War Worsening, which is not a proxy: no mark there
    assert not any(t.startswith("tab-weisiger-fig-5") for t in with_proxy)
    # LaTeX: every caption-to-caption segment that uses the mark also explains it
    tex = Path(rendered["tex"]).read_text(encoding="utf-8")
    segments = tex.split(r"\caption{")[1:]
    marked = [s for s in segments if r"\ddag" in s.split(r"\section")[0]]
    assert len(marked) >= 3
    for s in marked:
        assert "proxy" in s.split(r"\section")[0]


# =========================================================================== missing parts
def test_partial_results_render(tmp_path):
    tree = make_results(tmp_path / "tree")
    shutil.rmtree(tree["results"] / "multiverse")
    (tree["results"] / "comparison" / "survival_curves.csv").unlink()
    (tree["results"] / "comparison" / "henke_estimates.csv").unlink()
    (tree["results"] / "comparison" / "henke_fits.csv").unlink()
    out = _render(tree, tmp_path / "out", pdf=False)
    page = _html_text(Path(out["html"]))
    assert "The multiverse of Weisiger (2016) is not available" in page
    assert "Survival curves for the front-overlap contrast are not available" in page
    assert "No results of Henke (2017) are available" in page
    assert not re.search(r"\bnan\b|\bNone\b|TODO|XXX", page)


def test_empty_project_renders(tmp_path):
    """Nothing but the registry: every section says what is not available; the PDF still builds."""
    (tmp_path / "config").mkdir()
    shutil.copyfile(ROOT / "config" / "sources.yaml", tmp_path / "config" / "sources.yaml")
    ctx = gather(paper_inputs({"results": tmp_path / "results", "config": tmp_path / "config",
                               "registry": tmp_path / "config" / "sources.yaml",
                               "archives": tmp_path / "resources" / "original"}), source_date_epoch=SDE)
    out = render_paper(ctx, tmp_path / "paper", templates=PAPER_TEMPLATES, pdf=HAVE_TEX)
    page = _html_text(Path(out["html"]))
    for s in ("No coding-rule sets are available", "No results of Weisiger (2016) are available",
              "The list of status changes is not available", "no record of a download attempt"):
        assert s in page, s
    assert not re.search(r"\bnan\b|\bNone\b|TODO|XXX", page)
    if HAVE_TEX:
        assert out["pdf_status"] == "built", out["pdf_status"]


def test_malformed_results_file_names_the_file(tmp_path):
    tree = make_results(tmp_path / "tree")
    p = tree["results"] / "comparison" / "weisiger_fits.csv"
    pd.read_csv(p).drop(columns=["status"]).to_csv(p, index=False)
    with pytest.raises(CoalitionsError, match=r"weisiger_fits\.csv: missing column\(s\) \['status'\]"):
        gather(paper_inputs(tree))


def test_no_tex_engine_is_not_an_error(tmp_path, monkeypatch):
    tree = make_results(tmp_path / "tree")
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))
    out = _render(tree, tmp_path / "out", pdf=True)
    assert out["pdf"] is None and out["pdf_status"].startswith("skipped: latexmk and pdflatex not on PATH")
    assert Path(out["tex"]).is_file() and Path(out["html"]).is_file()


# =========================================================================== helpers
def test_number_formatting():
    assert num(-0.81234) == "-0.812" and num(1.5, 1) == "1.5" and num(-0.0001) == "0.000"
    assert num(float("nan")) == "n.a." and num(None, na="not available") == "not available" and num("") == "n.a."
    assert count(1234.0) == "1,234" and count(None) == "n.a."
    assert pval(0.0004) == "<0.001" and pval(0.0456) == "0.046"
    assert [stars(p) for p in (0.005, 0.03, 0.07, 0.2, None)] == ["**", "*", "†", "", ""]


def test_tex_escape():
    assert tex_escape("A & B_1 50% $5 #3 {x} ~ ^ \\") == (
        r"A \& B\_\allowbreak{}1 50\% \$5 \#3 \{x\} \textasciitilde{} \textasciicircum{} \textbackslash{}")
    assert tex_escape("-0.5 (p -1) 1950-1953 x--y") == r"$-$0.5 (p $-$1) 1950-1953 x-{}-y"
    assert tex_escape("† ‡ – —") == r"\textdagger{} \textdaggerdbl{} -- ---"
    assert tex_escape("Côte d'Ivoire, Curaçao") == "Côte d'Ivoire, Curaçao"
    assert tex_escape("漢") == "?"


def test_registry_bibtex_parses():
    reg = load_registry(ROOT / "config" / "sources.yaml")
    for key, src in reg.sources.items():
        entries = parse_bibtex(src.bibtex, origin=key)
        assert entries, key
        for e in entries:
            lab = cite_label(e)
            assert lab["author"] and lab["year"].isdigit(), (key, e.key, lab)
    (e,) = parse_bibtex('@article{k, author = {Doe, Jane and {World Bank}}, title = "A {B} c", year = 2001}')
    assert e.fields["title"] == "A {B} c" and cite_label(e) == {"author": "Doe and World Bank", "year": "2001"}
    with pytest.raises(CoalitionsError, match="entry 'k'"):
        parse_bibtex("@article{k, title = {unbalanced}")


# =========================================================================== richer layouts of the workflow
def test_feasible_variant_is_shown_and_explained(tmp_path):
    """When the model as published cannot be estimated on a track, the estimated variant without the
    missing variables is shown, and the table says so."""
    tree = make_results(tmp_path / "tree")
    comp = tree["results"] / "comparison"
    fits = pd.read_csv(comp / "weisiger_fits.csv")
    est = pd.read_csv(comp / "weisiger_estimates.csv")
    sel = (fits["model_id"] == "t2_full") & (fits["track"] == "rebuilt")
    fits["variant"], fits["dropped"] = "as_published", None
    feasible = fits[sel].assign(variant="feasible", dropped="ctrend60")
    fits.loc[sel, ["status", "message"]] = ["not_estimable", "ctrend60 is not available in the rebuilt track"]
    for c in ("n_subjects", "n_failures"):
        fits.loc[sel, c] = None
    pd.concat([fits, feasible]).to_csv(comp / "weisiger_fits.csv", index=False)
    esel = (est["model_id"] == "t2_full") & (est["track"] == "rebuilt")
    est["variant"] = "as_published"
    est.loc[esel, "variant"] = "feasible"
    est = est[~(esel & (est["term"] == "ctrend60"))]
    est.to_csv(comp / "weisiger_estimates.csv", index=False)
    out = _render(tree, tmp_path / "out", pdf=False)
    t = html_tables(Path(out["html"]))["tab-weisiger-t2-full"]
    status = next(r for r in t["rows"] if r[0] == "Status")
    assert status[-2:] == ["feasible variant (a)", "feasible variant (a)"]
    assert ("(a) Rebuilt from public data, every coding: the model as published is not estimable (War Worsening is "
            "not available in the rebuilt track); shown: the feasible variant without War Worsening.") in t["notes"]
    ww = next(i for i, r in enumerate(t["rows"]) if r[0] == "War Worsening")
    assert t["rows"][ww][-2:] == ["", ""]                      # the dropped variable stays empty
    subjects = next(r for r in t["rows"] if r[0] == "Subjects")
    assert subjects[-1] == f"{int(feasible['n_subjects'].iloc[-1]):,}"


def test_survival_curves_with_term_value_and_model(tmp_path):
    tree = make_results(tmp_path / "tree")
    p = tree["results"] / "comparison" / "survival_curves.csv"
    df = pd.read_csv(p).rename(columns={"foverlap": "term_value"}).assign(
        model_id="t2_full", variant="feasible", dropped="ctrend60", note="test note of the workflow")
    df.to_csv(p, index=False)
    out = _render(tree, tmp_path / "out", pdf=False)
    page = _html_text(Path(out["html"]))
    assert "survival curves implied by Weisiger's Table 2, Full Model" in html.unescape(page)
    assert "without War Worsening" in page and "Note of the workflow: test note of the workflow." in page
    base = df[(df["coding"] == "baseline") & (df["track"] == "original")]
    s1 = base[base["term_value"] == 1].sort_values("day")["survival"].iloc[-1]
    s0 = base[base["term_value"] == 0].sort_values("day")["survival"].iloc[-1]
    assert f"after 1,500 days is {s1:.2f} when it fights entirely on fronts" in page
    assert f"and {s0:.2f} when it fights alone" in page


def test_multiverse_baseline_universe_and_drawn_figure(tmp_path):
    tree = make_results(tmp_path / "tree")
    mv_dir = tree["results"] / "multiverse"
    mv = pd.read_csv(mv_dir / "weisiger_multiverse.csv")
    base = mv[mv["is_baseline"]].iloc[0]
    # a figure the multiverse step drew: included as it is
    drawn = b"\x89PNG\r\n\x1a\n" + b"drawn by the multiverse step"
    (mv_dir / "weisiger_spec_curve_foverlap.png").write_bytes(drawn)
    out = _render(tree, tmp_path / "out", pdf=False)
    page = _html_text(Path(out["html"]))
    assert (f"In the baseline universe (every switch at the published coding) it is {base['estimate']:.3f} "
            f"(p = {base['p_value']:.3f}).") in page
    assert (tmp_path / "out" / "figures" / "spec-weisiger-foverlap.png").read_bytes() == drawn
    assert "Drawn by the multiverse step." in page


def test_model_family_without_estimates_is_a_sentence(tmp_path):
    tree = make_results(tmp_path / "tree")
    comp = tree["results"] / "comparison"
    fits = pd.read_csv(comp / "weisiger_fits.csv")
    fam = fits["model_id"].str.startswith("fig5_")
    fits.loc[fam, ["status", "message"]] = ["not_estimable", "ctrendK is not available in this test"]
    fits.to_csv(comp / "weisiger_fits.csv", index=False)
    out = _render(tree, tmp_path / "out", pdf=False)
    page = _html_text(Path(out["html"]))
    assert ("Not one of the 6 models of Fig. 5 has an estimate of the variable that changes between them on any "
            "track (for example: ctrendK is not available in this test)") in page
    assert 'id="sec-sweeps"' not in page and "sweep-weisiger" not in page
    assert "Model families" not in Path(out["tex"]).read_text()


# =========================================================================== the answer and its prose
def _sentences(page: str) -> list[str]:
    text = re.sub(r"<[^>]+>", " ", page)
    text = html.unescape(re.sub(r"\s+", " ", text))
    return [x.strip() for x in re.split(r"(?<=[.;])\s+(?=[A-Z(])", text) if len(x.strip()) > 40]


def test_no_sentence_repeats_with_only_a_coding_name_changed(tmp_path):
    """A sentence may appear at most twice when the codings' names are blanked out."""
    from helpers.paper_fixture import CODINGS

    tree = make_results(tmp_path / "tree")
    # more codings make repetition visible: copy the alternative coding's results under three more names
    comp = tree["results"] / "comparison"
    extra = {"alt_one": "Alternative one", "alt_two": "Alternative two", "alt_three": "Alternative three"}
    for name in ("weisiger_estimates", "weisiger_fits", "henke_estimates", "henke_fits"):
        df = pd.read_csv(comp / f"{name}.csv")
        alt = df[df["coding"] == "morey_entrapment"]
        df = pd.concat([df] + [alt.assign(coding=c) for c in extra])
        df.to_csv(comp / f"{name}.csv", index=False)
    cod = pd.read_csv(comp / "codings.csv")
    alt = cod[cod["coding"] == "morey_entrapment"]
    cod = pd.concat([cod] + [alt.assign(coding=c, label=lab) for c, lab in extra.items()])
    cod.to_csv(comp / "codings.csv", index=False)
    sc = pd.read_csv(comp / "status_changes.csv")
    sc = pd.concat([sc] + [sc[sc["coding"] == "morey_entrapment"].assign(coding=c) for c in extra])
    sc.to_csv(comp / "status_changes.csv", index=False)
    out = _render(tree, tmp_path / "out", pdf=False)
    page = _html_text(Path(out["html"]))
    labels = sorted([m["label"] for m in CODINGS.values()] + list(extra.values()), key=len, reverse=True)
    seen: dict[str, list[str]] = {}
    for sent in _sentences(page[page.index("<body"):]):
        if "|" in sent or sent.count("(") > 6:
            continue                                   # table rows, not sentences
        norm = sent
        for lab in labels:
            norm = norm.replace(lab, "<CODING>")
        if "<CODING>" in norm:
            seen.setdefault(norm, []).append(sent)
    repeated = {k: v for k, v in seen.items() if len(set(v)) > 2}
    assert not repeated, next(iter(repeated.values()))[:3]


def test_answer_table_verdicts_follow_the_results(tmp_path):
    """The answer's verdicts and sentences are computed: reversing Common Front under the alternative coding
    changes the verdict, the sentence, the abstract and the discussion."""
    tree = make_results(tmp_path / "tree")
    comp = tree["results"] / "comparison"
    est = pd.read_csv(comp / "weisiger_estimates.csv")
    base = (est["model_id"] == "t2_full") & (est["track"] == "rebuilt") & (est["term"] == "foverlap")
    est.loc[base & (est["coding"] == "baseline"), ["estimate", "std_error", "p_value"]] = [-0.9, 0.2, 0.00001]
    est.loc[base & (est["coding"] == "morey_entrapment"), ["estimate", "std_error", "p_value"]] = [-0.85, 0.21, 0.0001]
    est.to_csv(comp / "weisiger_estimates.csv", index=False)
    out = _render(tree, tmp_path / "a", pdf=False)
    t = html_tables(Path(out["html"]))["tab-answer-weisiger-rebuilt"]
    row = next(r for r in t["rows"] if r[1].startswith("Morey") and r[2].startswith("Common Front"))
    assert row[3].startswith("-0.850") and row[-1] == "same", row
    page = html.unescape(_html_text(Path(out["html"])))
    assert "Common Front is negative and significant at 5% under the baseline (-0.900, SE 0.200), and under the one " \
           "alternative coding it stays negative and significant at 5%." in page

    est.loc[base & (est["coding"] == "morey_entrapment"), ["estimate", "std_error", "p_value"]] = [0.77, 0.2, 0.0002]
    est.to_csv(comp / "weisiger_estimates.csv", index=False)
    out = _render(tree, tmp_path / "b", pdf=False)
    t = html_tables(Path(out["html"]))["tab-answer-weisiger-rebuilt"]
    row = next(r for r in t["rows"] if r[1].startswith("Morey") and r[2].startswith("Common Front"))
    assert row[3].startswith("0.770") and row[-1] == "reversed", row
    page = html.unescape(_html_text(Path(out["html"])))
    assert "under 0 of 1 alternative codings it stays negative and significant at 5%; under Morey: entrapment its " \
           "sign reverses (0.770)." in page
    assert ("1 of the 1 combinations of an alternative coding and a key term (Common Front) that can be estimated "
            "change the conclusion at the 5% level") in page


def test_not_estimable_says_why_with_labels(tmp_path):
    tree = make_results(tmp_path / "tree")
    comp = tree["results"] / "comparison"
    fits = pd.read_csv(comp / "weisiger_fits.csv")
    sel = (fits["model_id"] == "t2_full") & (fits["track"] == "rebuilt")
    fits.loc[sel, ["status", "message"]] = ["not_estimable", "ctrend60 (War Worsening) cannot be rebuilt from public data"]
    fits.to_csv(comp / "weisiger_fits.csv", index=False)
    out = _render(tree, tmp_path / "out", pdf=False)
    t = html_tables(Path(out["html"]))["tab-answer-weisiger-rebuilt"]
    assert all(r[-1] == "not estimable (a)" for r in t["rows"][1:]), t["rows"][:3]
    assert "(a) not estimable: War Worsening cannot be rebuilt from public data." in t["notes"]
    page = html.unescape(_html_text(Path(out["html"])))
    assert ("Common Front cannot be estimated under the baseline or any alternative coding, so whether the coding "
            "rules change it cannot be said from these data; the reason: War Worsening cannot be rebuilt from public "
            "data.") in page
    assert "ctrend60" not in page[page.index('id="sec-answer"'):page.index('id="sec-models"')]
