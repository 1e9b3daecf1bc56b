"""The report pages (``report collection --out X.html``, ``survey-report --out X.html``): one
self-contained file each whose charts carry the figures of ``--format json``, and which a real
headless Chromium prints on A4 with those figures on the page."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from propfee.cli import app
from propfee.files.render import check
from propfee.insight import charts

from conftest import DemoEstate, build_demo

AS_OF = "2026-11-15"
GOLDEN = Path(__file__).parent / "golden"
SVG = re.compile(r"<svg\b.*?</svg>", re.S)
VALUE = re.compile(r'<text[^>]*class="value"[^>]*>([^<]*)</text>')


@pytest.fixture(scope="module")
def engine(request) -> str:
    """The module's tests share one demo estate on each engine ([lite] and [pg])."""
    return request.param


@pytest.fixture(scope="module")
def demo(engine, tmp_path_factory, request) -> DemoEstate:
    folder = tmp_path_factory.mktemp("pages") / "demo"
    return build_demo(engine, folder, request, "--as-of", AS_OF)


def _run(demo: DemoEstate, *args: str) -> str:
    result = CliRunner().invoke(app, [*args, *demo.options()], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.stdout


COLLECTION = ("report", "collection", "--period", "2026-11", "--as-of", AS_OF, "--by", "building")
SURVEY = ("survey-report", "--compare", "2025年度")


@pytest.fixture(scope="module")
def collection(demo: DemoEstate) -> tuple[dict, str, Path]:
    out = demo.folder / "收缴率.html"
    _run(demo, *COLLECTION, "--out", str(out), "-q")
    document = json.loads(_run(demo, *COLLECTION, "--format", "json"))
    return document, out.read_text(encoding="utf-8"), out


@pytest.fixture(scope="module")
def survey(demo: DemoEstate) -> tuple[dict, str, Path]:
    out = demo.folder / "满意度.html"
    _run(demo, *SURVEY, "--out", str(out))
    document = json.loads(_run(demo, *SURVEY, "--format", "json"))
    return document, out.read_text(encoding="utf-8"), out


def _values(svg: str) -> list[str]:
    return VALUE.findall(svg)


def test_the_collection_charts_hold_the_json_figures(collection):
    document, page, _path = collection
    trend, buildings, aging, reasons = SVG.findall(page)
    points = document["trend"]
    assert _values(trend) == [
        f"{p['rate_at_period_end']}%" for p in points if p["rate_at_period_end"]
    ] + [f"{p['rate']}%" for p in points if p["rate"]]
    for p in points:
        assert f">{p['period']}<" in trend
    drawn = _values(buildings)
    for group in document["groups"]:
        assert f">{group['label']}<" in buildings
        assert f"{group['current_rate']}%" in drawn and f"{group['overall_rate']}%" in drawn
    assert len(document["aging"]) == 5
    assert _values(aging) == [f"{Decimal(a['overdue']):,.2f}" for a in document["aging"]]
    assert _values(reasons) == [str(r["households"]) for r in document["reasons"]]
    assert sum(a["households"] for a in document["aging"]) >= 1
    assert f"{document['total']['current_rate']}%" in page


def test_the_survey_chart_holds_each_question_its_interval_and_last_years_mean(survey):
    document, page, _path = survey
    questions, rates, bands = SVG.findall(page)
    drawn = _values(questions)
    assert drawn == [f"{d['mean']}（{d['previous']}）" for d in document["dimensions"]]
    for d in document["dimensions"]:
        assert f">{d['dimension']}<" in questions
        assert f"{d['ci_low']}–{d['ci_high']}" in page  # the table beside it
    assert _values(rates) == [b["rate"] for b in document["buildings"][:-1]]
    assert _values(bands) == [b["rate"] for b in document["collection_by_band"]]
    assert f">{document['index']}<" in page and f">{document['nps']}<" in page


def test_the_pages_are_self_contained_chinese_and_lawful(collection, survey):
    for _document, page, path in (collection, survey):
        assert page.startswith("<!DOCTYPE html>") and 'lang="zh-CN"' in page
        assert "<script" not in page and "http://" not in page.replace(
            'xmlns="http://www.w3.org/2000/svg"', ""
        )
        assert "https://" not in page and "<link" not in page and "@import" not in page
        assert "size: A4" in page
        check(page, path.name, html=True)
    assert "翠湖花园" in collection[1] and "收缴率报表" in collection[1]
    assert "2026年度满意度调查分析" in survey[1]


def test_a_label_is_escaped_in_the_svg():
    svg = charts.bar_chart("<b>x</b>", ["<script>"], [charts.Series("a&b", [1])], top=None)
    assert "<script>" not in svg and "&lt;script&gt;" in svg and "&lt;b&gt;x&lt;/b&gt;" in svg


def test_nice_axis_tops():
    assert [charts.nice_top(v) for v in (56745, 87, 100, 0.5, 0)] == [60000, 100, 100, 0.6, 1.0]


def test_out_takes_xlsx_or_html_only(demo):
    result = CliRunner().invoke(
        app, [*COLLECTION, "--out", str(demo.folder / "x.pdf"), *demo.options()]
    )
    assert result.exit_code == 1 and ".xlsx 或 .html" in result.output


def _golden(name: str, text: str) -> None:
    path = GOLDEN / name.replace("/", "__")
    if os.environ.get("UPDATE_GOLDEN"):
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8"), f"{name} differs from {path}"


def test_golden_pages(demo, collection, survey):
    """The shipped templates rendered from the demo, the time of making fixed."""
    for name, (_document, page, _path) in (
        ("zh/collection_report.html", collection),
        ("zh/survey_report.html", survey),
    ):
        made = re.search(r"制表时间：(\d{4}-\d\d-\d\d \d\d:\d\d)", page).group(1)
        _golden(name, page.replace(made, "2026-11-15 09:30"))


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.skipif(CHROMIUM is None, reason="no chromium binary")
@pytest.mark.parametrize("which", ["collection", "survey"])
def test_chromium_prints_the_page_on_a4_with_its_figures(which, collection, survey, tmp_path):
    if shutil.which("pdftotext") is None or shutil.which("pdfinfo") is None:
        pytest.skip("no poppler-utils (pdftotext, pdfinfo)")
    document, _page, path = collection if which == "collection" else survey
    pdf = tmp_path / "page.pdf"
    subprocess.run(
        [
            CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-pdf-header-footer",
            f"--user-data-dir={tmp_path / 'profile'}", f"--print-to-pdf={pdf}", path.as_uri(),
        ],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True)
    assert "(A4)" in info.stdout, info.stdout
    pages = int(re.search(r"Pages:\s+(\d+)", info.stdout).group(1))
    assert 1 <= pages <= 4
    text = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    if which == "collection":
        wanted = [
            f"{p['rate_at_period_end']}%" for p in document["trend"] if p["rate_at_period_end"]
        ]
        wanted += [f"{g['current_rate']}%" for g in document["groups"]]
        wanted += [f"{Decimal(a['overdue']):,.2f}" for a in document["aging"]]
        wanted += ["收缴率走势", "各楼栋收缴率", "欠费账龄", "欠费原因"]
    else:
        wanted = [d["mean"] for d in document["dimensions"]]
        wanted += [b["rate"] for b in document["buildings"]]
        wanted += ["各项满意度", "满意度指数", document["index"]]
    missing = [w for w in wanted if w not in text]
    assert missing == [], f"not on the printed page: {missing}"
