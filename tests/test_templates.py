"""Golden files for every shipped template, rendered from fixed data with a fixed as-of.

Regenerate after an intended change with:  UPDATE_GOLDEN=1 pytest tests/test_templates.py
"""

import dataclasses
import os
from datetime import date, time
from pathlib import Path

import pytest
from jinja2.compiler import CodeGenerator
from markupsafe import Markup

from propfee.billing import fees
from propfee.billing.notices import write_notices
from propfee.config import DEFAULTS, Estate
from propfee.files.render import render, template_names
from propfee.store.db import transaction

from conftest import NOW, add_fee, estate, home, run

GOLDEN = Path(__file__).parent / "golden"
SETTINGS = dataclasses.replace(
    DEFAULTS,
    estate=Estate(
        company="兰州翠湖物业服务有限公司",
        name="翠湖花园",
        phone="0931-8123456",
        address="兰州市城关区翠湖路88号",
        developer="兰州翠湖置业有限公司",
    ),
)
COVERED: set[str] = set()


def check(name: str, text: str) -> None:
    COVERED.add(name)
    path = GOLDEN / name.replace("/", "__")
    if os.environ.get("UPDATE_GOLDEN"):
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"no golden file for {name}; run with UPDATE_GOLDEN=1"
    assert text == path.read_text(encoding="utf-8"), f"{name} differs from {path}"


@pytest.fixture
def billed(conn, tmp_path):
    estate(
        conn,
        tmp_path,
        [
            home("1-1-101", area="89.37", owner="张三", phone="13812341234"),
            home("1-1-102", area="120", owner="李四", delivered="2026-11-16", phone="13900001111"),
            home(
                "S-101",
                kind="商铺",
                area="60.5",
                owner="甘肃陇原商贸有限责任公司",
                phone="0931-8765432",
            ),
        ],
    )
    add_fee(conn, services="公共区域保洁、绿化养护、秩序维护")
    add_fee(conn, "SHOP", price="4.20", kinds=("commercial",))
    run(conn, "2026-10", settings=SETTINGS)  # October stays unpaid: arrears in November
    run(conn, "2026-11", settings=SETTINGS)
    return conn


@pytest.mark.parametrize("language", ["zh", "en"])
def test_fee_notice(billed, language):
    context = fees.notice_context(fees.load_items(billed), SETTINGS, date(2026, 11, 1))
    for ext in ("txt", "html"):
        name = f"{language}/fee_notice.{ext}"
        check(name, render(SETTINGS, name, context))


@pytest.mark.parametrize("language", ["zh", "en"])
def test_bill_notice(billed, tmp_path, language):
    report = write_notices(
        billed,
        month=date(2026, 11, 1),
        settings=SETTINGS,
        as_of=date(2026, 11, 1),
        out_dir=tmp_path / language,
        language=language,
    )
    assert (report.notices, report.sms, report.no_phone) == (4, 3, ["兰州翠湖置业有限公司"])
    check(f"{language}/bill_notice.html", report.html_path.read_text(encoding="utf-8"))
    check(f"{language}/bill_notice_sms.txt", report.sms_path.read_text(encoding="utf-8-sig"))
    html = report.html_path.read_text(encoding="utf-8")
    assert html.count('<section class="notice">') == 4
    assert "page-break-after: always" in html
    assert (report.sms_path.stat().st_mode & 0o777) == 0o600


def test_the_notice_shows_basis_arrears_and_how_to_pay(billed, tmp_path):
    report = write_notices(
        billed,
        month=date(2026, 11, 1),
        settings=SETTINGS,
        as_of=date(2026, 11, 1),
        out_dir=tmp_path,
    )
    html = report.html_path.read_text(encoding="utf-8")
    for needed in (
        "89.37㎡ × 2.50元/㎡·月",
        "223.43",
        "往期未缴",
        "微信支付",
        "0931-8123456",
        "120㎡ × 2.50元/㎡·月 × 15/30天",
        "贵公司",
    ):
        assert needed in html, needed


def test_templates_are_sandboxed_and_strict(tmp_path):
    from propfee.core.errors import PropfeeError

    folder = tmp_path / "mine" / "zh"
    folder.mkdir(parents=True)
    (folder / "fee_notice.txt").write_text("{{ nothing_here }}", encoding="utf-8")
    (folder / "bill_notice.html").write_text("{{ ''.__class__.__mro__ }}", encoding="utf-8")
    mine = dataclasses.replace(SETTINGS, template_dir=str(tmp_path / "mine"))
    with pytest.raises(PropfeeError, match="nothing_here"):
        render(mine, "zh/fee_notice.txt", {})
    with pytest.raises(PropfeeError, match=r"不允许|__mro__"):
        render(mine, "zh/bill_notice.html", {})
    (folder / "fee_notice.html").write_text("<p>{{ estate.name }}</p>", encoding="utf-8")
    assert (
        render(mine, "zh/fee_notice.html", {"estate": Estate(name="<b>翠湖</b>")})
        == "<p>&lt;b&gt;翠湖&lt;/b&gt;</p>"
    )


def test_every_shipped_template_has_a_golden_test():
    names = set(template_names())
    golden = {p.name.replace("__", "/") for p in GOLDEN.iterdir()}
    assert names <= golden, f"templates without golden files: {sorted(names - golden)}"


def test_a_publication_names_what_the_law_asks(conn):
    add_fee(conn, publish_on=None)
    with transaction(conn):
        publication = fees.publish(
            conn, as_of=date(2026, 11, 1), now=NOW, settings=SETTINGS, out_dir=None
        )
    text = conn.execute(
        "SELECT content FROM publication WHERE id = ?", (publication.id,)
    ).fetchone()[0]
    for needed in (
        "兰州翠湖物业服务有限公司",
        "收费标准",
        "计费方式",
        "执行日期",
        "价格形式",
        "12358",
        "计费起始",
    ):
        assert needed in text


@pytest.mark.parametrize("language", ["zh", "en"])
def test_receipt_and_statement(billed, language):
    from propfee.core.money import chinese_amount
    from propfee.payments import ledger

    with transaction(billed):
        payment = ledger.record_payment(
            billed,
            "1-1-101",
            50000,
            channel="wechat",
            ref="4200001234202611150001",
            paid_on=date(2026, 11, 15),
            as_of=date(2026, 11, 15),
            now=NOW,
            settings=SETTINGS,
            cashier="李娜",
            note="1-1-101物业费",
        )
    context = {
        "estate": SETTINGS.estate,
        "p": payment,
        "channel": "微信支付",
        "amount_words": chinese_amount(payment.amount_fen),
    }
    for ext in ("txt", "html"):
        check(f"{language}/receipt.{ext}", render(SETTINGS, f"{language}/receipt.{ext}", context))
    party = billed.execute("SELECT party_id FROM payment WHERE id = ?", (payment.id,)).fetchone()[0]
    result = ledger.statement(billed, "1-1-101", party_id=party)
    check(
        f"{language}/statement.html",
        render(SETTINGS, f"{language}/statement.html", {"estate": SETTINGS.estate, "s": result}),
    )


@pytest.mark.parametrize("language", ["zh", "en"])
def test_dunning_templates(history, tmp_path, language):
    """Messages, call script, letter (HTML and the logged text), thank-you and notice board,
    rendered over the hand-computed history (see conftest)."""
    from propfee.collection import arrears, dunning

    from conftest import pay

    def remind(day, out, **options):
        with transaction(history):
            return dunning.remind(
                history,
                as_of=day,
                at=time(10),
                now=NOW,
                settings=SETTINGS,
                out_dir=out,
                language=language,
                **options,
            )

    remind(date(2026, 10, 20), tmp_path / "gentle")
    check(
        f"{language}/remind_sms.txt",
        (tmp_path / "gentle" / "sms.csv").read_text(encoding="utf-8-sig"),
    )
    remind(date(2026, 11, 10), tmp_path / "notice")
    check(
        f"{language}/call_script.txt",
        (tmp_path / "notice" / "call-scripts.txt").read_text(encoding="utf-8"),
    )
    (letters,) = (tmp_path / "notice").glob("*.html")
    check(f"{language}/notice_letter.html", letters.read_text(encoding="utf-8"))
    logged = [c for c in dunning.list_contacts(history) if c.channel == "letter"]
    check(
        f"{language}/notice_letter.logged.txt",  # the contact log: each letter as printed
        "\n\n".join(dict.fromkeys(c.content for c in logged)),
    )
    pay(history, "3-302", 40000, date(2026, 11, 21))
    remind(date(2026, 11, 22), tmp_path / "thanks", thanks=True)
    check(
        f"{language}/thanks_sms.txt",
        (tmp_path / "thanks" / "thanks.csv").read_text(encoding="utf-8-sig"),
    )
    rows = arrears.overdue(history, as_of=date(2026, 11, 22), settings=SETTINGS)
    board = render(
        SETTINGS,
        f"{language}/notice_board.html",
        {
            "estate": SETTINGS.estate,
            "as_of": "2026-11-22",
            "lines": arrears.notice_board(rows),
        },
    )
    check(f"{language}/notice_board.html", board)
    assert "王五" not in board and "138" not in board


@pytest.mark.parametrize("language", ["zh", "en"])
def test_legal_pack_cover(history, tmp_path, language):
    from propfee.collection.legalpack import build

    settings = dataclasses.replace(SETTINGS, language=language)
    with transaction(history):
        dunning_run(history, date(2026, 11, 10))
    pack = build(
        history, "S-101", out_dir=tmp_path / "pack", as_of=date(2026, 11, 30), settings=settings
    )
    check(f"{language}/legal_pack.html", pack.files[0].read_text(encoding="utf-8"))


def dunning_run(conn, day):
    from propfee.collection import dunning

    return dunning.remind(conn, as_of=day, at=time(10), now=NOW, settings=SETTINGS, out_dir=None)


class _Keys(dict):
    """A dict of another type: read through the sandbox, not in line."""


@pytest.mark.parametrize(
    "source, data, expected",
    [
        ("{{ d.name }}", {"name": "翠湖"}, "翠湖"),
        ("{{ d.r.lines | length }}", {"r": {"lines": [1, 2, 3]}}, "3"),
        ("{{ d.items | default('x') is defined }}", {"items": "键"}, "True"),  # dict's own
        ("{{ d['items'] }}", {"items": "键"}, "键"),
        ("{{ k.name }}", None, "子类"),
        ("{{ (d if d.name else k).name }}", {"name": ""}, "子类"),
        ("{% for x in d.xs %}{{ loop.index }}{{ x.v }}{% endfor %}", {"xs": [{"v": "甲"}]}, "1甲"),
        ("{{ d.v }}", {"v": "<b>甲&乙</b>'\""}, "&lt;b&gt;甲&amp;乙&lt;/b&gt;&#39;&#34;"),
        ("{{ d.v }}|{{ d.n }}|{{ d.z }}", {"v": Markup("<i>甲</i>"), "n": 5, "z": None}, "<i>甲</i>|5|None"),
        ("{{ d.v ~ '<' }}{{ d.v | e }}", {"v": "甲&"}, "甲&amp;&lt;甲&amp;"),
    ],
)
def test_a_dicts_key_read_in_line_is_what_the_sandbox_reads(source, data, expected):
    """Read and escaped in line (see render.Generator), as jinja2's own code reads them."""
    from propfee.files import render as rendering

    env = rendering._environment(None).overlay(autoescape=True)  # as an HTML template
    context = {"d": data if data is not None else {}, "k": _Keys(name="子类")}
    assert env.from_string(source).render(context) == expected
    plain = env.overlay()  # the same sandbox, jinja2's own code: every read through getattr
    plain.code_generator_class = CodeGenerator
    assert plain.from_string(source).render(context) == expected


def test_a_missing_key_or_an_unsafe_attribute_is_still_refused():
    from jinja2.exceptions import SecurityError, UndefinedError

    from propfee.files import render as rendering

    env = rendering._environment(None)
    with pytest.raises(UndefinedError):
        env.from_string("{{ d.missing }}").render(d={"name": "x"})
    with pytest.raises(SecurityError):
        env.from_string("{{ d.__class__ }}").render(d={"name": "x"})
    with pytest.raises(SecurityError):
        env.from_string("{{ d.name.__class__.__mro__ }}").render(d={"name": "x"})
