"""Issue 15, the sending path: one gate for everything propfee sends or prints (LEGAL rules 1
and 2), and dunning settings that cannot go below the lawful floors (rules 2 and 10). Each
bypass the issue lists is tried through the command line, over the ``history`` estate (see
conftest): as of 2026-10-20 李四 2-201 and 赵六 3-302 are due a gentle message; as of
2026-11-10 张三 1-101, the shop S-101 and 赵六 3-302 are due a 催缴通知书 and 李四 a call."""

import sys

import pytest

from propfee.collection import dunning

from conftest import dump


def settings_file(tmp_path, text: str) -> str:
    path = tmp_path / "propfee.toml"
    path.write_text(text, encoding="utf-8")
    return str(path)


def user_template(tmp_path, name: str, text: str) -> str:
    """A template of the estate's own (``template_dir = "mine"``); the settings file's path."""
    path = tmp_path / "mine" / "zh" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return settings_file(tmp_path, 'template_dir = "mine"\n')


def gateway(tmp_path):
    """An SMS gateway that records every message it is handed."""
    script = tmp_path / "gateway.py"
    sent = tmp_path / "sent.txt"
    script.write_text(
        f"import sys\nopen({str(sent)!r}, 'a').write(sys.argv[1] + ' ' + sys.argv[2] + '\\n')\n",
        encoding="utf-8",
    )
    return f"{sys.executable} {script}", sent


# ---------------------------------------------------------------- rule 1: no threats


def test_a_user_message_template_that_threatens_is_refused_before_anything_is_sent(
    history, cli, tmp_path, db_path
):
    config = user_template(
        tmp_path,
        "remind_sms.txt",
        "{{ r.payer }}您好，您的物业费{{ r.outstanding_fen | money }}未缴，逾期将限制您使用电梯并停止供暖。",
    )
    send, sent = gateway(tmp_path)
    before = dump(db_path)
    out = tmp_path / "out"
    result = cli(
        "remind", "--as-of", "2026-10-20", "--at", "10:00", "--out", str(out),
        "--send-cmd", send, "--config", config,
    )  # fmt: skip
    assert result.exit_code == 1
    message = " ".join(result.stderr.split())
    assert str(tmp_path / "mine" / "zh" / "remind_sms.txt") in message  # the file
    assert "LEGAL 第1条" in message and "限制您使用电梯" in message  # the rule, the phrase
    assert not sent.exists()  # nothing went to the gateway
    assert not (out / "sms.csv").exists() and not out.exists()
    assert dump(db_path) == before  # nothing logged
    assert [c for c in dunning.list_contacts(history) if c.channel == "sms"] == []
    # refused as the settings are read: also by a run that would render no message at all
    letters_only = cli(
        "remind", "--as-of", "2026-11-10", "--at", "10:00", "--tier", "notice",
        "--out", str(out), "--config", config,
    )  # fmt: skip
    assert letters_only.exit_code == 1 and "remind_sms.txt" in letters_only.stderr
    assert dump(db_path) == before and not out.exists()


def test_a_threat_from_the_payment_methods_is_a_settings_error(history, cli, tmp_path, db_path):
    config = settings_file(
        tmp_path, '[payment]\nmethods = ["微信支付", "逾期将停水停电、停用电梯门禁卡"]\n'
    )
    before = dump(db_path)
    for command in (
        ("remind", "--as-of", "2026-11-10", "--at", "10:00", "--out", str(tmp_path / "out")),
        ("notices", "--period", "2026-11", "--as-of", "2026-11-10", "--out", str(tmp_path / "n")),
    ):
        result = cli(*command, "--config", config)
        assert result.exit_code == 1, result.output
        message = " ".join(result.stderr.split())
        assert "payment.methods" in message and config in message
        assert "LEGAL 第1条" in message and "停水" in message
    assert not (tmp_path / "out").exists() and not (tmp_path / "n").exists()
    assert dump(db_path) == before


def test_a_threat_the_data_brings_into_a_template_is_caught_after_rendering(
    history, cli, tmp_path, db_path
):
    """The check reads the text the owner would read: a phrase assembled by the template
    (here split across two expressions) is refused like one written out."""
    config = user_template(
        tmp_path,
        "remind_sms.txt",
        "{{ r.payer }}您好，请缴纳物业费{{ r.outstanding_fen | money }}，否则{{ '断' }}{{ '电' }}。",
    )
    before = dump(db_path)
    result = cli("remind", "--as-of", "2026-10-20", "--at", "10:00", "--config", config)
    assert result.exit_code == 1
    message = " ".join(result.stderr.split())
    assert "断电" in message and "不在模板里" in message  # not literally in the file
    assert dump(db_path) == before


def test_lawful_wording_in_a_user_template_goes_through(history, cli, tmp_path):
    config = user_template(
        tmp_path,
        "remind_sms.txt",
        "{{ r.payer }}您好！您的物业费{{ r.outstanding_fen | money }}尚未缴纳，含供暖费。"
        "我们不会因欠费停水停电，如有困难请致电物业服务中心。",
    )
    out = tmp_path / "out"
    result = cli(
        "remind", "--as-of", "2026-10-20", "--at", "10:00", "--out", str(out), "--config", config
    )
    assert result.exit_code == 0, result.output
    text = (out / "sms.csv").read_text(encoding="utf-8-sig")
    assert text.count("我们不会因欠费停水停电") == 2  # 李四 and 赵六


# ---------------------------------------------------------------- rule 2: the formal notice


def test_a_user_notice_without_what_rule_2_asks_is_refused_as_a_formal_notice(
    history, cli, tmp_path, db_path
):
    config = user_template(
        tmp_path, "notice_letter.html", "{% for l in letters %}<p>请立即缴费，否则后果自负。</p>{% endfor %}"
    )
    before = dump(db_path)
    out = tmp_path / "out"
    result = cli(
        "remind", "--as-of", "2026-11-10", "--at", "10:00", "--out", str(out), "--config", config
    )
    assert result.exit_code == 1
    message = " ".join(result.stderr.split())
    assert str(tmp_path / "mine" / "zh" / "notice_letter.html") in message
    assert "LEGAL 第2条" in message
    assert "最后缴费日期 2026-11-25" in message  # the deadline it should have stated
    assert "收费依据" in message and "起诉或申请仲裁" in message
    assert "欠费金额" in message
    assert not out.exists()  # no call list, no letters
    assert dump(db_path) == before
    assert [c for c in dunning.list_contacts(history) if c.channel == "letter"] == []


def test_a_printed_letter_is_checked_before_any_file_is_written(history, cli, tmp_path, db_path):
    """The estate's own HTML letter leaves out the deadline: the run stops before the call
    list or any letter is written, and nothing is logged."""
    body = (
        "{% for l in letters %}<p>{{ l.r.payer }}：根据物业服务合同及公示的收费标准，"
        "{% for b in l.r.lines %}{{ b.covers_from }} {{ b.each_fen | yuan }}；{% endfor %}"
        "请尽快缴清。逾期本公司将依法提起诉讼。</p>{% endfor %}"
    )
    config = user_template(tmp_path, "notice_letter.html", body)
    before = dump(db_path)
    out = tmp_path / "out"
    result = cli(
        "remind", "--as-of", "2026-11-10", "--at", "10:00", "--out", str(out), "--config", config
    )
    assert result.exit_code == 1
    message = " ".join(result.stderr.split())
    assert "notice_letter.html" in message and "最后缴费日期 2026-11-25" in message
    assert not out.exists()
    assert dump(db_path) == before


def test_a_user_notice_that_states_everything_is_accepted(history, cli, tmp_path):
    config = user_template(
        tmp_path,
        "notice_letter.html",
        "<html><body>{% for l in letters %}<section><p>催缴通知书 {{ l.notice_no }}</p>"
        "<p>{{ l.r.payer }}：依据物业服务合同和公示的收费标准，尚欠：</p>"
        "{% for b in l.r.lines %}<p>{{ b.period }} {{ b.item }} {{ b.each_fen | money }}</p>"
        "{% endfor %}<p>请于{{ l.deadline | cn_date }}前缴清；逾期本公司将依法提起诉讼或申请仲裁。"
        "</p></section>{% endfor %}</body></html>",
    )
    result = cli(
        "remind", "--as-of", "2026-11-10", "--at", "10:00", "--out", str(tmp_path / "out"),
        "--config", config,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    letters = [c for c in dunning.list_contacts(history) if c.channel == "letter"]
    assert len(letters) == 3
    assert all("2026年11月25日" in c.content for c in letters)
    # each letter is logged with its own text as printed, and nobody else's
    printed = (tmp_path / "out" / "催缴通知书-2026-11-10.html").read_text(encoding="utf-8")
    for contact in letters:
        assert contact.content.startswith(f"催缴通知书 {contact.notice_no}\n{contact.addressee}：")
        assert contact.content.count("催缴通知书") == 1
        assert f"<p>{contact.addressee}：依据物业服务合同" in printed


# ---------------------------------------------------------------- the lawful floors


@pytest.mark.parametrize(
    ("lines", "key", "rule"),
    [
        ("deadline_days = 1", "dunning.deadline_days", "LEGAL 第2条"),
        ("deadline_days = 6", "dunning.deadline_days", "LEGAL 第2条"),
        ('quiet_start = "21:00"\nquiet_end = "21:00"', "dunning.quiet_start", "LEGAL 第10条"),
        ('quiet_start = "23:30"\nquiet_end = "06:00"', "dunning.quiet_start", "LEGAL 第10条"),
        ('quiet_start = "08:01"\nquiet_end = "08:00"', "dunning.quiet_start", "LEGAL 第10条"),
        ("min_days_between = 0", "dunning.min_days_between", "LEGAL 第10条"),
        ("min_days_between = 2", "dunning.min_days_between", "LEGAL 第10条"),
    ],
)
def test_a_setting_below_its_lawful_floor_is_refused(
    history, cli, tmp_path, db_path, lines, key, rule
):
    config = settings_file(tmp_path, f"[dunning]\n{lines}\n")
    before = dump(db_path)
    result = cli(
        "remind", "--as-of", "2026-11-10", "--at", "10:00", "--out", str(tmp_path / "out"),
        "--config", config,
    )  # fmt: skip
    assert result.exit_code == 1
    message = " ".join(result.stderr.split())
    assert key in message and config in message and rule in message
    assert dump(db_path) == before and not (tmp_path / "out").exists()


def test_the_floors_themselves_are_lawful_settings(history, cli, tmp_path):
    config = settings_file(
        tmp_path,
        '[dunning]\ndeadline_days = 7\nmin_days_between = 3\nquiet_start = "22:00"\n'
        'quiet_end = "06:00"\n',
    )
    result = cli(
        "remind", "--as-of", "2026-11-10", "--at", "21:30", "--out", str(tmp_path / "out"),
        "--config", config,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    letters = [c for c in dunning.list_contacts(history) if c.channel == "letter"]
    assert {c.deadline_on for c in letters} == {"2026-11-17"}  # 7 days, not 15


def test_a_call_logged_in_the_quiet_hours_warns_and_is_recorded(history, cli):
    before = len(dunning.list_contacts(history, unit_code="1-101"))
    night = cli(
        "contact", "add", "1-101", "--channel", "phone", "--outcome", "reached",
        "--at", "2026-11-09 23:40", "--staff", "小王",
    )  # fmt: skip
    assert night.exit_code == 0, night.output
    warning = " ".join(night.stderr.split())
    assert "免打扰时段" in warning and "23:40" in warning and "LEGAL 第10条" in warning
    logged = dunning.list_contacts(history, unit_code="1-101")
    assert len(logged) == before + 1
    assert logged[-1].at == "2026-11-09 23:40:00" and logged[-1].staff == "小王"
    day = cli(
        "contact", "add", "1-101", "--channel", "visit", "--outcome", "reached",
        "--at", "2026-11-09 10:00",
    )  # fmt: skip
    assert day.exit_code == 0 and "免打扰" not in day.stderr
    letter = cli(
        "contact", "add", "1-101", "--channel", "letter", "--outcome", "reached",
        "--at", "2026-11-09 23:50",
    )  # fmt: skip
    assert letter.exit_code == 0 and "免打扰" not in letter.stderr  # a letter disturbs no one


def test_a_threat_staff_record_as_sent_is_kept_as_evidence_with_a_warning(history, cli):
    """The log keeps what really went out (LEGAL rule 3); staff are told it breaks rule 1."""
    result = cli(
        "contact", "add", "1-101", "--channel", "sms", "--outcome", "reached",
        "--at", "2026-11-09 10:00", "--content", "逾期将停水停电",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    warning = " ".join(result.stderr.split())
    assert "LEGAL 第1条" in warning and "停水" in warning
    logged = dunning.list_contacts(history, unit_code="1-101")
    assert logged[-1].content == "逾期将停水停电"
