"""The HTML paper in a real headless browser (Debian's chromium and chromium-driver, driven by selenium).

The paper of the synthetic results tree (tests/helpers/paper_fixture.py) is opened from a file:// URL
(the page must work offline: no request leaves the machine). Checked: the page loads without console
errors; the view buttons switch views; the filters of the answer table, the results explorer, the
case browser and the multiverse explorer change what is shown; a screenshot of each view is written
into the test's temporary folder. Skipped with the reason only where chromium or its driver is missing
(scripts/install-system-packages.sh installs them).
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest

from coalitions.paper import gather, render_paper
from helpers.paper_fixture import PAPER_TEMPLATES, make_results, paper_inputs

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--window-size=1280,1400"]

pytestmark = pytest.mark.skipif(not (CHROMIUM and DRIVER),
                                reason="chromium and chromium-driver are not installed "
                                       "(bash scripts/install-system-packages.sh installs them as root)")


@pytest.fixture(scope="module")
def page(tmp_path_factory) -> Path:
    base = tmp_path_factory.mktemp("browser")
    tree = make_results(base / "tree")
    ctx = gather(paper_inputs(tree), git_commit="0123456789abcdef", source_date_epoch=1_700_000_000)
    out = render_paper(ctx, base / "out", templates=PAPER_TEMPLATES, pdf=False)
    return Path(out["html"])


@pytest.fixture(scope="module")
def driver(tmp_path_factory):
    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="chromium-profile-", dir=tmp_path_factory.mktemp("profile"))
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for f in FLAGS + [f"--user-data-dir={profile}"]:
        opts.add_argument(f)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    d = webdriver.Chrome(service=Service(executable_path=DRIVER), options=opts)
    d.set_page_load_timeout(60)
    yield d
    d.quit()


def _visible_rows(d, css: str) -> int:
    return d.execute_script(
        "return Array.prototype.filter.call(document.querySelectorAll(arguments[0]),"
        " function (r) { return r.offsetParent !== null; }).length;", css)


def _type(d, css: str, text: str) -> None:
    e = d.find_element("css selector", css)
    e.clear()
    e.send_keys(text)


def test_page_views_filters_and_screenshots(driver, page, tmp_path):
    from selenium.webdriver.support.ui import Select

    d = driver
    d.get(page.as_uri())
    errors = [e for e in d.get_log("browser") if e.get("level") == "SEVERE"]
    assert not errors, errors
    assert d.execute_script("return document.getElementById('views').hidden") is False
    shots = {}

    # --- the paper: the answer table is sortable and filterable
    first = d.find_element("css selector", "#sec-answer table.filterable")
    n_all = _visible_rows(d, "#sec-answer table.filterable tbody tr")
    assert n_all > 2
    inp = first.find_elements("css selector", "tr.filters input")[2]          # the Term column
    inp.send_keys("Common Front")
    n_cf = _visible_rows(d, "#sec-answer table.filterable tbody tr")
    assert 0 < n_cf < n_all
    inp.clear()
    inp.send_keys(" ")
    d.execute_script("arguments[0].value=''; arguments[0].dispatchEvent(new Event('input'));", inp)
    first.find_elements("css selector", "thead tr:first-child th")[3].click()  # sort by estimate
    shots["paper"] = tmp_path / "view-paper.png"
    d.save_screenshot(str(shots["paper"]))

    # --- results explorer
    d.find_element("css selector", "button[data-view='view-results']").click()
    assert d.find_element("id", "view-results").is_displayed()
    assert not d.find_element("id", "view-paper").is_displayed()
    info = d.find_element("css selector", "#results-explorer p.count")
    total = int(info.get_attribute("data-matches"))
    assert total > 10
    _type(d, "#results-explorer input[data-col='Term']", "Common Front")
    cf = int(info.get_attribute("data-matches"))
    assert 0 < cf < total
    _type(d, "#results-explorer input[data-col='Coding']", "Morey")
    assert 0 < int(info.get_attribute("data-matches")) < cf
    assert _visible_rows(d, "#results-explorer tbody tr") == int(info.get_attribute("data-matches"))
    shots["results"] = tmp_path / "view-results.png"
    d.save_screenshot(str(shots["results"]))

    # --- case browser: every participant, then those whose status differs; a row opens its case-file row
    d.find_element("css selector", "button[data-view='view-cases']").click()
    cinfo = d.find_element("css selector", "#case-browser p.count")
    n_units = int(cinfo.get_attribute("data-matches"))
    assert n_units == 6
    d.find_element("id", "case-diff").click()
    cinfo = d.find_element("css selector", "#case-browser p.count")
    assert int(cinfo.get_attribute("data-matches")) == 1
    d.find_element("css selector", "#case-browser tbody tr.click").click()
    detail = d.find_element("id", "case-detail").text
    assert "SYNTHETIC test source" in detail and "morey_entrapment.csv" in detail
    shots["cases"] = tmp_path / "view-cases.png"
    d.save_screenshot(str(shots["cases"]))
    Select(d.find_element("id", "case-study")).select_by_value("henke")
    d.find_element("id", "case-diff").click()          # off again: every country-operation
    assert int(d.find_element("css selector", "#case-browser p.count").get_attribute("data-matches")) == 8

    # --- multiverse explorer: a value per switch narrows the universes; the baseline button picks one
    d.find_element("css selector", "button[data-view='view-multiverse']").click()
    summ = d.find_element("id", "mv-summary")
    assert int(summ.get_attribute("data-matches")) == 8
    assert len(d.find_elements("css selector", "#mv-curve svg circle")) == 7      # one universe failed
    sel = Select(d.find_element("css selector", "#mv-switches select[data-switch='tolerance_days']"))
    sel.select_by_visible_text("30")
    assert int(summ.get_attribute("data-matches")) == 4
    assert len(d.find_elements("css selector", "#mv-curve svg circle.m")) == 3
    d.find_element("id", "mv-baseline").click()
    assert int(summ.get_attribute("data-matches")) == 1
    assert "(baseline)" in d.find_element("css selector", "#mv-explorer table.data tbody").text
    sel = Select(d.find_element("css selector", "#mv-switches select[data-switch='tolerance_days']"))
    sel.select_by_index(0)                              # any
    assert int(summ.get_attribute("data-matches")) == 2
    shots["multiverse"] = tmp_path / "view-multiverse.png"
    d.save_screenshot(str(shots["multiverse"]))

    errors = [e for e in d.get_log("browser") if e.get("level") == "SEVERE"]
    assert not errors, errors
    for name, p in shots.items():
        assert p.is_file() and p.stat().st_size > 5000, name
        assert p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    keep = Path(__import__("os").environ.get("COALITIONS_SCREENSHOTS", "")) if __import__("os").environ.get(
        "COALITIONS_SCREENSHOTS") else None
    if keep:
        keep.mkdir(parents=True, exist_ok=True)
        for p in shots.values():
            shutil.copyfile(p, keep / p.name)


def test_page_fetches_nothing(page):
    raw = page.read_text(encoding="utf-8")
    import re

    assert not re.search(r'<(script|img|link|iframe)[^>]+(src|href)="(https?:)?//', raw)
    assert "fetch(" not in raw and "XMLHttpRequest" not in raw
