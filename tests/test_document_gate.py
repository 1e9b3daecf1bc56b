"""Documents written in batches (files/render.py ``_Pieces``): the gate checks what is
written, whatever the size of the batch — a phrase LEGAL rule 1 forbids is refused wherever
it falls, the files are the same for any batch size, and a refusal leaves nothing behind."""

from __future__ import annotations

import pytest
from test_scaling import billed_estate

from propfee.files import render
from propfee.files.shipped import shipped_dir
from propfee.store import db as store
from propfee.store import pg


def user_templates(tmp_path, **templates: str):
    mine = tmp_path / "mine" / "zh"
    mine.mkdir(parents=True)
    for name, text in templates.items():
        (mine / name).write_text(text, encoding="utf-8")
    toml = tmp_path / "propfee.toml"
    toml.write_text(f'template_dir = "{tmp_path / "mine"}"\n', encoding="utf-8")
    return str(toml)


def estate_in(cli, database, folder, homes: int):
    """test_scaling's billed estate, in ``database`` (on [pg] an estate on the server)."""
    billed_estate(lambda *args, db=None: cli(*args, db=database), folder, homes)
    return database


def another(database, tmp_path, name: str) -> str:
    """A second database beside the test's: a file in its folder, or on [pg] another
    estate on the same server."""
    if not pg.is_server(database):
        return str(tmp_path / f"{name}.db")
    url, schema = pg.split_target(str(database))
    return pg.shareable(url, f"{schema[:50]}_{name}")


def notices(cli, db, out, *extra: str):
    return cli(
        "notices", "--period", "2026-11", "--as-of", "2026-11-20", "--out", str(out), *extra,
        db=db,
    )  # fmt: skip


@pytest.mark.parametrize("batch", [1, 300, 1 << 16])
def test_a_threat_in_one_notice_of_a_user_template_is_refused_at_any_batch_size(
    cli, database, tmp_path, monkeypatch, batch
):
    monkeypatch.setattr(render._Pieces, "BATCH", batch)
    db = estate_in(cli, database, tmp_path / "estate", 8)
    shipped = (shipped_dir("templates") / "zh" / "bill_notice.html").read_text(encoding="utf-8")
    # the sixth notice alone says it; a phrase cut by a tag is what a reader sees as one
    threat = "{% if loop.index == 6 %}<p>逾期将<b>停</b>水。</p>{% endif %}"
    config = user_templates(
        tmp_path,
        **{
            "bill_notice.html": shipped.replace(
                "{% for n in notices %}", "{% for n in notices %}" + threat
            )
        },
    )
    out = tmp_path / "notices"
    result = notices(cli, db, out, "--config", config)
    assert result.exit_code == 1
    message = " ".join(result.output.split())
    assert "停水" in message and "bill_notice.html" in message
    assert not out.exists()  # no HTML, no messages' CSV, no .part file


def test_a_threat_in_a_user_message_template_leaves_no_notices(cli, database, tmp_path):
    db = estate_in(cli, database, tmp_path / "estate", 4)
    config = user_templates(
        tmp_path,
        **{
            "bill_notice_sms.txt": "{{ n.party.name }}：请缴费{{ n.total_fen | money }}"
            "{% if n.number == 3 %}，否则锁车{% endif %}。"
        },
    )
    out = tmp_path / "notices"
    result = notices(cli, db, out, "--config", config)
    assert result.exit_code == 1 and "锁车" in result.output
    assert "bill_notice_sms.txt" in " ".join(result.output.split())
    assert not out.exists()


def test_the_files_are_the_same_whatever_the_batch(cli, database, tmp_path, monkeypatch):
    made = []
    for batch in (1, 700, 1 << 16):
        monkeypatch.setattr(render._Pieces, "BATCH", batch)
        copy = another(database, tmp_path, f"copy_{batch}")  # the same estate, made afresh
        estate_in(cli, copy, tmp_path / f"estate-{batch}", 6)
        out = tmp_path / f"notices-{batch}"
        assert notices(cli, copy, out).exit_code == 0
        letters = tmp_path / f"remind-{batch}"
        reminded = cli(
            "remind", "--as-of", "2026-12-20", "--at", "10:00", "--out", str(letters), db=copy
        )
        assert reminded.exit_code == 0, reminded.output
        conn = store.connect(copy)
        logged = [tuple(r) for r in conn.execute("SELECT content FROM contact ORDER BY id")]
        conn.close()
        made.append(
            (
                (out / "缴费通知单-2026-11.html").read_bytes(),
                (out / "sms-2026-11.csv").read_bytes(),
                (letters / "催缴通知书-2026-12-20.html").read_bytes(),
                logged,
            )
        )
    for index, what in enumerate(made[0]):
        assert what == made[1][index] == made[2][index], index
    html, sms, letters, logged = made[0]
    assert html.count(b'<section class="notice">') == 7 and sms.startswith(b"\xef\xbb\xbfphone")
    assert letters.count(b'<section class="letter') == 6 and len(logged) == 7


def test_names_are_escaped_in_the_html_and_kept_in_the_messages(cli, database, tmp_path):
    """What the data brings into an HTML notice is escaped (a name is never markup); the
    same name in the SMS text is as it is."""
    db = estate_in(cli, database, tmp_path / "estate", 3)
    conn = store.connect(db)
    conn.execute("UPDATE party SET name = '张<b>三 & \"李\"' WHERE name = '业主000'")
    conn.close()
    out = tmp_path / "notices"
    assert notices(cli, db, out).exit_code == 0
    html = (out / "缴费通知单-2026-11.html").read_text(encoding="utf-8")
    assert "张&lt;b&gt;三 &amp; &#34;李&#34;" in html and "张<b>三" not in html
    sms = (out / "sms-2026-11.csv").read_text(encoding="utf-8-sig")
    assert '张<b>三 & ""李""' in sms  # CSV doubles the quotes
