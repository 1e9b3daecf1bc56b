"""Issue 20, remind at scale: the letters' texts are rendered without ``Template.render``'s
copies of the context, each letter's formal notice is made once for both its texts, the
letters' HTML makes what is the same in every letter once, and the run pauses the cyclic
collector. None of it may change a byte of what a run writes: each test runs ``remind`` twice
on copies of one estate — once as shipped, once through the way it was done before (jinja2's
own ``Template.render``, the collector on, the HTML template as it was written before) — and
compares every file written and every contact logged. Over the demo estate, and over an
estate whose office has templates of its own (rendered in the sandbox, checked by the gate)."""

from __future__ import annotations

import contextlib
import re
import shutil
import sqlite3
import zipfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from propfee.cli import app
from propfee.collection import dunning
from propfee.files import render
from propfee.files.shipped import shipped_dir

AS_OF = "2026-11-15"
LATER = "2026-12-20"  # a month on: every tier has reminders due again


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("remind-paths") / "demo"
    result = CliRunner().invoke(app, ["demo", "--dir", str(folder), "--as-of", AS_OF])
    assert result.exit_code == 0, result.output
    return folder / "propfee.db"


def _before(text: str) -> str:
    """The shipped letters' HTML template as it was written before the letters shared what
    is the same in each: every date and the ways to pay made again in every letter."""
    text = re.sub(
        r"\{# the same in every letter: made once #\}\n\{% set [^\n]*\n\{% set [^\n]*\n", "", text
    )
    text = text.replace("{{ as_of_day }}", "{{ as_of | cn_date }}")
    return text.replace("{{ methods }}", '{{ payment.methods | join("；") }}')


def _content(path: Path) -> object:
    """A file's bytes; a workbook's, member by member, but for the clock openpyxl stamps on
    the zip and on its properties."""
    if path.suffix != ".xlsx":
        return path.read_bytes()
    with zipfile.ZipFile(path) as book:
        return {n: book.read(n) for n in book.namelist() if n != "docProps/core.xml"}


def _old_render(template, context: dict) -> str:
    return template.render(**context)


def _run(db: Path, out: Path, config: Path | None, *extra: str) -> None:
    args = ["remind", "--as-of", LATER, "--at", "10:00", "--out", str(out), "--db", str(db)]
    if config is not None:
        args += ["--config", str(config)]
    result = CliRunner().invoke(app, [*args, *extra], catch_exceptions=False)
    assert result.exit_code == 0, result.output


def _logged(db: Path) -> list[tuple]:
    with contextlib.closing(sqlite3.connect(db)) as conn:
        contacts = conn.execute("SELECT * FROM contact ORDER BY id").fetchall()
        counters = conn.execute("SELECT * FROM notice_counter ORDER BY year").fetchall()
    return contacts + counters


def _both_ways(monkeypatch, tmp_path, demo: Path, mine: Path | None) -> tuple:
    """(files, contacts) of the run as shipped and of the run the way it was done before."""
    found = []
    for way in ("now", "before"):
        db = tmp_path / f"{way}.db"
        shutil.copyfile(demo, db)
        config = None
        if mine is not None or way == "before":
            folder = tmp_path / f"templates-{way}"
            shutil.copytree(mine or tmp_path / "none", folder / "zh", dirs_exist_ok=True)
            if way == "before" and not (folder / "zh" / "notice_letter.html").exists():
                shipped = shipped_dir("templates") / "zh" / "notice_letter.html"
                (folder / "zh" / "notice_letter.html").write_text(
                    _before(shipped.read_text(encoding="utf-8")), encoding="utf-8"
                )
            config = tmp_path / f"propfee-{way}.toml"
            config.write_text(f'template_dir = "{folder}"\n', encoding="utf-8")
        with monkeypatch.context() as patched:
            if way == "before":
                patched.setattr(render, "_rendered", _old_render)
                patched.setattr(dunning, "no_gc", contextlib.nullcontext)
            out = tmp_path / f"out-{way}"
            _run(db, out, config)
        files = {p.name: _content(p) for p in sorted(out.iterdir())}
        found.append((files, _logged(db)))
    return found


def test_remind_writes_and_logs_the_same_as_before_over_the_demo(monkeypatch, tmp_path, demo):
    (tmp_path / "none").mkdir()
    now, before = _both_ways(monkeypatch, tmp_path, demo, None)
    files, logged = now
    letters = [n for n in files if n.startswith("催缴通知书")]
    assert letters and "call-scripts.txt" in files  # the run made letters and calls
    assert files[letters[0]].count(b'<section class="letter') >= 2
    assert any(row[4] == "letter" for row in logged)  # channel
    assert [n for n in files if files[n] != before[0].get(n)] == []
    assert now == before


MINE_HTML = """<html><body>{% for l in letters %}<div class="letter"><h1>催缴通知书 {{ l.notice_no }}</h1>
<p>{{ l.r.payer }}：根据物业服务合同及公示的收费标准，请于{{ l.deadline }}前缴清。</p>
<table>{% for b in l.r.lines %}<tr><td>{{ b.period }}</td><td>{{ b.covers_from }}至{{ b.covers_to }}</td><td>{{ b.each_fen | yuan }}</td></tr>
{% endfor %}</table><p>逾期未缴，本公司将依法提起诉讼或申请仲裁。{{ as_of | cn_date }}</p></div>
{% endfor %}</body></html>
"""


def test_an_offices_own_letters_are_the_same_as_before(monkeypatch, tmp_path, demo):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notice_letter.html").write_text(MINE_HTML, encoding="utf-8")
    now, before = _both_ways(monkeypatch, tmp_path, demo, mine)
    files, logged = now
    (letters,) = [n for n in files if n.startswith("催缴通知书")]
    assert files[letters].startswith(b"<html><body>")  # the office's letters, not ours
    texts = [  # at, channel, content
        row[15] for row in logged if len(row) > 4 and row[3] >= LATER and row[4] == "letter"
    ]
    # each letter logged with its own text as the office's template printed it
    assert texts and all(
        text.startswith("催缴通知书 催") and text.count("催缴通知书") == 1 and "提起诉讼" in text
        for text in texts
    )
    assert now == before


def test_an_offices_own_letter_stays_in_the_sandbox_and_behind_the_gate(tmp_path, demo):
    db = tmp_path / "estate.db"
    shutil.copyfile(demo, db)
    mine = tmp_path / "mine" / "zh"
    mine.mkdir(parents=True)
    config = tmp_path / "propfee.toml"
    config.write_text(f'template_dir = "{mine.parent}"\n', encoding="utf-8")
    runner = CliRunner()
    args = ["remind", "--as-of", LATER, "--out", str(tmp_path / "out"), "--db", str(db)]
    escape = MINE_HTML.replace("{{ l.notice_no }}", "{{ l.r.__class__.__mro__ }}")
    (mine / "notice_letter.html").write_text(escape, encoding="utf-8")
    refused = runner.invoke(app, [*args, "--config", str(config)])
    assert refused.exit_code != 0 and "不允许" in refused.output, refused.output
    (mine / "notice_letter.html").write_text(MINE_HTML.replace("逾期未缴", "逾期停水停电"), "utf-8")
    refused = runner.invoke(app, [*args, "--config", str(config)])
    assert refused.exit_code != 0 and "停水" in refused.output
    assert not (tmp_path / "out").exists()
    assert _logged(db) == _logged(demo)  # nothing logged
