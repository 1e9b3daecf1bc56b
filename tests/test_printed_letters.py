"""A 催缴通知书 is logged with its text as printed (LEGAL rule 3: the full content sent): the
text the letters' file shows for that letter, checked by the gate, whatever the template —
over the ``history`` estate (see conftest), where as of 2026-11-10 张三 1-101, the shop S-101
and 赵六 3-302 are due a letter."""

from propfee.collection import dunning
from propfee.files import render

from conftest import dump

AS_OF = "2026-11-10"
PAYERS = {"张三", "陇原商贸有限公司", "赵六"}


#: one letter ``l`` as an office's own template may print it
LETTER = (
    "<section><p>催缴通知书 {{ l.notice_no }}</p>"
    "<p>{{ l.r.payer }}：依据物业服务合同和公示的收费标准，尚欠：</p>"
    "{% for b in l.r.lines %}<p>{{ b.period }} {{ b.item }} {{ b.each_fen | money }}</p>"
    "{% endfor %}<p>请于{{ l.deadline | cn_date }}前缴清；逾期本公司将依法提起诉讼或申请"
    "仲裁。</p></section>"
)


def mine(tmp_path, name: str, text: str) -> str:
    """A template of the estate's own; the settings file's path."""
    path = tmp_path / "mine" / "zh" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    settings = tmp_path / "propfee.toml"
    settings.write_text('template_dir = "mine"\n', encoding="utf-8")
    return str(settings)


def remind(cli, tmp_path, *extra: str):
    out = tmp_path / "out"
    return cli("remind", "--as-of", AS_OF, "--at", "10:00", "--out", str(out), *extra)


def letters(conn) -> list:
    return [c for c in dunning.list_contacts(conn) if c.channel == "letter"]


def own_text_only(contacts) -> None:
    """Each letter's record names its own notice and payer, and no one else's."""
    assert len({c.notice_no for c in contacts}) == 3
    for contact in contacts:
        assert contact.notice_no in contact.content
        others = {c.notice_no for c in contacts} - {contact.notice_no}
        assert not any(number in contact.content for number in others)
        assert contact.addressee in contact.content
        assert not any(payer in contact.content for payer in PAYERS - {contact.addressee})


def test_the_record_is_the_letter_as_the_file_shows_it(history, cli, tmp_path):
    result = remind(cli, tmp_path)
    assert result.exit_code == 0, result.output
    (path,) = (tmp_path / "out").glob("催缴通知书-*.html")
    shown = render.html_text(path.read_text(encoding="utf-8"))
    logged = letters(history)
    own_text_only(logged)
    for contact in logged:
        lines = contact.content.split("\n")
        assert lines[:2] == ["物业服务费催缴通知书", f"编号：{contact.notice_no}"]
        assert "请于2026年11月25日前缴清上述费用" in contact.content
        for line in lines:  # every line is what the page shows (a table row's cells apart)
            assert all(cell in shown for cell in line.split("　") if cell)
    # a row of the table is one line of the record
    (shop,) = [c for c in logged if c.addressee == "陇原商贸有限公司"]
    assert "2026-06-01 至 2026-06-30　商业物业服务费　60.5㎡ × 4.20元/㎡·月" in shop.content


def test_letters_printed_together_are_each_logged_with_their_own_text(history, cli, tmp_path):
    """A template that lists every letter before printing them: no letter is printed on its
    own, so each is logged as the template prints it alone."""
    config = mine(
        tmp_path,
        "notice_letter.html",
        "<html><body>{% set all = letters | list %}<p>本批通知书：{% for l in all %}"
        "{{ l.notice_no }} {% endfor %}</p>{% for l in all %}" + LETTER + "{% endfor %}"
        "</body></html>",
    )
    result = remind(cli, tmp_path, "--config", config)
    assert result.exit_code == 0, result.output
    logged = letters(history)
    own_text_only(logged)
    for contact in logged:
        assert contact.content.split("\n")[0].strip() == f"本批通知书：{contact.notice_no}"


def test_letters_a_template_leaves_out_are_logged_as_it_prints_them(history, cli, tmp_path):
    """A template that prints the first letter only: the others are still reminded, each
    logged as the template prints it alone."""
    config = mine(
        tmp_path,
        "notice_letter.html",
        "{% set l = letters | first %}" + LETTER,
    )
    result = remind(cli, tmp_path, "--config", config)
    assert result.exit_code == 0, result.output
    (path,) = (tmp_path / "out").glob("催缴通知书-*.html")
    assert path.read_text(encoding="utf-8").count("<section>") == 1
    logged = letters(history)
    own_text_only(logged)
    assert all(c.content.startswith(f"催缴通知书 {c.notice_no}\n") for c in logged)


def test_a_dry_run_checks_the_printed_letter(history, cli, tmp_path, db_path):
    """No letter is written in a dry run, yet each goes through the gate as it would print."""
    shipped = render.shipped_dir("templates") / "zh" / "notice_letter.html"
    threat = shipped.read_text(encoding="utf-8").replace(
        "追索欠缴的物业服务费用。", "追索欠缴的物业服务费用，并停水停电。"
    )
    config = mine(tmp_path, "notice_letter.html", threat)
    before = dump(db_path)
    result = remind(cli, tmp_path, "--config", config, "--dry-run")
    assert result.exit_code == 1
    assert "notice_letter.html" in result.output and "停水" in result.output
    assert dump(db_path) == before and not (tmp_path / "out").exists()


def cut_between_letters() -> str:
    """The shipped letters' template with 停&#27700; (停水) cut between each two letters."""
    shipped = render.shipped_dir("templates") / "zh" / "notice_letter.html"
    return (
        shipped.read_text(encoding="utf-8")
        .replace(
            "{% for l in letters %}\n",
            "{% for l in letters %}{% if not loop.first %}27700;{% endif %}\n",
        )
        .replace("{% endif %}\n{% endfor %}\n</body>", "{% endif %}停&#{% endfor %}\n</body>")
    )


def test_a_phrase_cut_between_two_letters_is_still_read_as_printed(history, cli, tmp_path):
    """A template that cuts a character reference between two letters: 停&#27700; prints 停水."""
    cut = cut_between_letters()
    assert cut.count("停&#") == 1 and cut.count("27700;") == 1
    config = mine(tmp_path, "notice_letter.html", cut)
    result = remind(cli, tmp_path, "--config", config)
    assert result.exit_code == 1
    assert "停水" in " ".join(result.output.split())
    assert letters(history) == [] and not (tmp_path / "out").exists()


def test_an_offices_old_text_template_is_named_as_unused(history, cli, tmp_path):
    config = mine(tmp_path, "notice_letter.txt", "{{ r.payer }}：请缴费。\n")
    result = remind(cli, tmp_path, "--config", config)
    assert result.exit_code == 0, result.output
    said = " ".join(result.output.split())
    assert "notice_letter.txt 已不再使用" in said
    assert all("请缴费。" not in c.content for c in letters(history))


def test_a_template_that_changes_a_letter_is_still_checked_for_what_it_was(
    history, cli, tmp_path, db_path
):
    """A template may change what a letter holds (a sandbox lets it alter a dict): the
    letter is still the same letter, logged and checked for the deadline it was made with."""
    config = mine(
        tmp_path,
        "notice_letter.html",
        '{% for l in letters %}{% set _ = l.update({"notice_no": "X", "deadline": "2099-01-01"})'
        " %}" + LETTER + "{% endfor %}",
    )
    before = dump(db_path)
    result = remind(cli, tmp_path, "--config", config)
    assert result.exit_code == 1  # it states 2099, not the letter's own deadline
    assert "最后缴费日期 2026-11-25" in " ".join(result.output.split())
    assert dump(db_path) == before and not (tmp_path / "out").exists()


def test_a_letter_a_template_renumbers_is_logged_under_its_own_number(history, cli, tmp_path):
    config = mine(
        tmp_path,
        "notice_letter.html",
        '{% for l in letters %}{% set _ = l.update({"notice_no": "X"}) %}'
        + LETTER
        + "{% endfor %}",
    )
    result = remind(cli, tmp_path, "--config", config)
    assert result.exit_code == 0, result.output
    logged = letters(history)
    assert len({c.notice_no for c in logged}) == 3 and "X" not in {c.notice_no for c in logged}
    assert all(c.content.startswith("催缴通知书 X\n") for c in logged)  # as it was printed


def test_a_phrase_cut_between_two_batches_of_letters_is_still_read_as_printed(
    history, cli, tmp_path, monkeypatch
):
    """The letters' file is checked and written in batches: a batch never ends inside a
    character reference, whatever a template makes of the end of a letter."""
    monkeypatch.setattr(render._Pieces, "BATCH", 1)  # a batch after every letter
    cut = cut_between_letters()
    config = mine(tmp_path, "notice_letter.html", cut)
    result = remind(cli, tmp_path, "--config", config)
    assert result.exit_code == 1
    assert "停水" in " ".join(result.output.split())
    assert letters(history) == [] and not (tmp_path / "out").exists()
