"""Chinese first: every string a person reads goes through the catalogue, and the catalogue
has the Chinese for it (issue: Chinese first)."""

from __future__ import annotations

import gettext
import importlib.util
import inspect
import os
import subprocess
import sys
from pathlib import Path

import click
import pytest
import typer
from i18n_scan import CJK, is_text, scan, scan_source
from rich.cells import cell_len

from propfee.cli import app
from propfee.core import i18n

ROOT = Path(__file__).resolve().parent.parent

# files whose user-facing text is still being moved into the catalogue; the list only shrinks
PENDING: set[str] = {
    "propfee/cli/reports.py",
    "propfee/cli/surveys.py",
    "propfee/insight/fullexport.py",
    "propfee/insight/profile.py",
    "propfee/insight/reports.py",
    "propfee/insight/survey_reading.py",
    "propfee/insight/survey_records.py",
    "propfee/insight/survey_report.py",
    "propfee/insight/survey_workbook.py",
    "propfee/insight/surveys.py",
}


def _tool():
    spec = importlib.util.spec_from_file_location("i18n_tool", ROOT / "tools" / "i18n.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_wrapped_string_has_its_chinese_in_the_catalogue():
    tool = _tool()
    gaps = tool.missing(tool.build([]))
    assert gaps == [], (
        f"{len(gaps)} message(s) without Chinese; run python tools/i18n.py: {gaps[:20]}"
    )


def test_the_catalogue_is_current_and_its_compiled_form_matches():
    tool = _tool()
    built = {m.id: m.string for m in tool.build([]) if m.id}
    on_disk = {m.id: m.string for m in tool.read(tool.PO) if m.id}
    assert built == on_disk, "propfee.po is not current: run python tools/i18n.py"
    with tool.MO.open("rb") as f:
        compiled = gettext.GNUTranslations(f)
    for msgid, msgstr in on_disk.items():
        if isinstance(msgid, tuple):
            assert compiled.ngettext(msgid[0], msgid[1], 1) == msgstr[0]
        else:
            assert compiled.gettext(msgid) == msgstr, msgid


def test_no_text_reaches_a_person_outside_the_catalogue():
    findings = [f for f in scan(ROOT / "propfee") if f.path not in PENDING]
    assert findings == [], "\n".join(str(f) for f in findings[:40])


def test_pending_list_only_names_files_that_still_need_work():
    done = PENDING - {f.path for f in scan(ROOT / "propfee")}
    assert done == set(), f"remove from PENDING: {sorted(done)}"


def test_the_scanner_sees_bare_text_and_lets_wrapped_text_pass():
    source = (
        "raise PropfeeError(f'{x} is not a date')\n"
        "raise PropfeeError(_('{x} is not a date').format(x=x))\n"
        "env.note('已记录')\n"
        "Col('unit', _('Unit'))\n"
        "typer.Option(help='Print nothing on success.')\n"
        "_CellError('promise_on', '不是日期')\n"
    )
    lines = sorted(f.line for f in scan_source(source, "x.py"))
    assert lines == [1, 3, 5, 6]
    assert not is_text("promise_on") and not is_text("--as-of YYYY-MM-DD")
    assert is_text("no unit code in the memo") and is_text("房号")


@pytest.mark.parametrize(
    ("explicit", "environ", "argv", "expected"),
    [
        (None, {}, [], "zh"),
        (None, {"LANG": "C.UTF-8"}, [], "zh"),
        (None, {"LANG": "en_US.UTF-8"}, [], "en"),
        (None, {"LC_ALL": "zh_CN.UTF-8", "LANG": "en_US.UTF-8"}, [], "zh"),
        (None, {"PROPFEE_LANG": "zh", "LANG": "en_US.UTF-8"}, [], "zh"),
        (None, {"PROPFEE_LANG": "en"}, [], "en"),
        (None, {"PROPFEE_LANG": "en"}, ["overdue", "--lang", "zh"], "zh"),
        (None, {}, ["--lang=en", "overdue"], "en"),
        (None, {}, ["pay", "--", "--lang", "en"], "zh"),
        ("en", {"PROPFEE_LANG": "zh"}, [], "en"),
        (None, {"PROPFEE_LANG": "klingon"}, [], "zh"),
    ],
)
def test_the_language_is_chinese_unless_english_is_asked_for(explicit, environ, argv, expected):
    assert i18n.choose(explicit, environ, argv) == expected


def test_documents_stay_chinese_whatever_the_operator_reads():
    try:
        i18n.activate("en")
        assert i18n._("Options") == "Options"
        assert i18n.zh("Options") == i18n._zh.gettext("Options")
    finally:
        i18n.activate("zh")


def _commands(group: click.Command, prefix: str = ""):
    yield prefix or "propfee", group
    for name, command in getattr(group, "commands", {}).items():
        yield from _commands(command, f"{prefix} {name}".strip())


def _module_of(command: click.Command) -> str:
    callback = command.callback
    if callback is None:  # a group: where its commands are declared
        subcommands = list(getattr(command, "commands", {}).values())
        return _module_of(subcommands[0]) if subcommands else ""
    return Path(inspect.getsourcefile(inspect.unwrap(callback))).relative_to(ROOT).as_posix()


def test_every_help_page_is_chinese():
    root = typer.main.get_command(app)
    english = []
    for path, command in _commands(root):
        if _module_of(command) in PENDING:
            continue
        texts = [command.help or "", command.short_help or ""]
        texts += [getattr(p, "help", None) or "" for p in command.params]
        for text in texts:
            if text and is_text(text) and not CJK.search(text):
                english.append(f"{path}: {text[:60]!r}")
    assert english == [], "\n".join(english)


def _run(args, lang):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LANG", "LC_"))}
    env["PROPFEE_LANG"] = lang
    return subprocess.run(
        [sys.executable, "-m", "propfee", *args],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=120,
    )


def test_help_is_chinese_by_default_and_english_on_request():
    zh = _run(["--help"], "zh")
    en = _run(["--help"], "en")
    assert zh.returncode == en.returncode == 0
    assert "选项" in zh.stdout and "命令" in zh.stdout
    assert "Options" in en.stdout and "Commands" in en.stdout
    assert not CJK.search(en.stdout.split("Commands")[0])


def test_chinese_help_wraps_between_characters_never_inside_an_option():
    env = {**os.environ, "PROPFEE_LANG": "zh", "COLUMNS": "64"}
    done = subprocess.run(
        [sys.executable, "-m", "propfee", "overdue", "--help"],
        capture_output=True, text=True, env=env, check=False, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    lines = [line.strip("│ ") for line in done.stdout.splitlines()]
    assert max(cell_len(line) for line in done.stdout.splitlines()) <= 64
    assert not [line for line in lines if line.endswith(("--", "-"))], done.stdout
    assert not [line for line in lines if line.startswith(("，", "。", "：", "；", "）"))]


@pytest.mark.parametrize("columns", ["80", "97", "120"])
def test_option_help_is_never_cut_short(columns):
    env = {**os.environ, "PROPFEE_LANG": "zh", "COLUMNS": columns}
    for command in (["overdue"], ["pay"], ["reconcile"]):
        done = subprocess.run(
            [sys.executable, "-m", "propfee", *command, "--help"],
            capture_output=True, text=True, env=env, check=False, timeout=120,
        )  # fmt: skip
        assert done.returncode == 0 and "…" not in done.stdout, done.stdout
