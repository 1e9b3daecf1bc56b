"""The document gate's quick reading of HTML agrees with its exact reading.

What a reader sees of an HTML letter (``html_text``) is what LEGAL rules 1 and 2 are checked
against. The exact reading (files/html_reading.py) tokenizes HTML as a browser does; most
letters are read by a quicker path for tags as templates write them. The text seen, and so
every verdict and every message of the gate, must be the same whichever path reads it,
whatever the HTML: odd case and spacing, stray "<" and ">", comments, quotes, raw text,
entities, forbidden words.
"""

from __future__ import annotations

import io
import re

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from propfee.core import lawful
from propfee.core.errors import Unlawful
from propfee.files import html_reading, render

# ---------------------------------------------------------------- the exact reading


def exact_html_text(html: str) -> str:
    return html_reading.read(html).text


def exact_reading(html: str, *, final: bool = True, tree=None) -> tuple[str, bool]:
    reading = html_reading.read(html, final=final, tree=tree)
    return reading.text, reading.cut


def outcome(read, text: str):
    """What ``read`` makes of ``text``, or the refusal of HTML that may hide text."""
    try:
        return read(text)
    except html_reading.Hidden as hidden:
        return "hidden", str(hidden)


def verdict(text: str, notices) -> tuple[str, str]:
    """What render.check makes of an HTML text: ("seen", the text seen) or ("refused", its
    message)."""
    try:
        return "seen", render.check(text, "letter.html", notices=notices, html=True)
    except Unlawful as exc:
        return "refused", str(exc)


def exact_verdict(text: str, notices) -> tuple[str, str]:
    """The same, with every text read by the exact reading."""
    quick, render._reading = render._reading, exact_reading
    try:
        return verdict(text, notices)
    finally:
        render._reading = quick


# ---------------------------------------------------------------- texts built to break it

TAGS = [
    "<p>",
    "</p>",
    "<td>",
    "</td>",
    '<td class="money">',
    "<tr>",
    "</tr>",
    "<th>",
    "<thead>",
    "<tbody>",
    "<table>",
    '<section class="letter">',
    "</section>",
    "<div>",
    "<br>",
    "<br/>",
    "<h1>",
    "<h6>",
    "<h7>",
    "<hr>",
    "<li>",
    "<ul>",
    "<ol>",
    "<b>",
    "</b>",
    "<span>",
    "<pre>",
    "<TD>",
    "<P CLASS=x>",
    "< p>",
    "</ td>",
    "< / TR >",
    "<\nbr>",
    "<td\n>",
    "<Section>",
    "<ſection>",
    "<dİv>",
    "<lı>",
    "<tdx>",
    "<p-x>",
    "<p_x>",
    "<p1>",
    "<th3>",
    "<",
    ">",
    "< ",
    "</",
    "<p",
    "td>",
    "<b",
    "<!-- c -->",
    "<td class='a>b'>",
    "<!-->",
    "<!--->",
    "<!--",
    "-->",
    "--!>",
    '<b title=">">',
    "<b title='<p>'>",
    '<td title="<p>">',
    "<b class=<p>>",
    '<td class="a\nb">',
    "</ p>",
    "</>",
    "<?x>",
    "<!x>",
    "<!DOCTYPE html>",
    "<style>",
    "</style>",
    "<title>",
    "</title>",
    "<textarea>",
    "</textarea>",
    "<xmp>",
    "</xmp>",
    "<td\u3000class=x>",
    "<p\u3000>",
    "<tD>",
    "<b\nclass=x>",
    "<span id=a>",
    '<td colspan="2" class="x">',
    "<td class=x/>",
    "<br />",
    "<pre>",
    "</pre>",
    "<figure class=x>",
    "<blockquote>",
    "<plaintext>",
    "<textarea>\n",
    '"',
    "'",
    "=",
    # what a browser's tree builder ignores or moves: stray end tags, a table's parts
    "</div>",
    "</table>",
    "</tbody>",
    "</th>",
    "<caption>",
    "</caption>",
    "<col>",
    "<colgroup>",
    "</colgroup>",
    "</section>",
    "</li>",
    "</ul>",
    "<h2>",
    "</h1>",
    "<dl>",
    "<dd>",
    "</dd>",
    "<form>",
    "<legend>",
    "</option>",
]
ENTITIES = [
    "&amp;",
    "&lt;",
    "&gt;",
    "&lt",
    "&gt",
    "&amp",
    "&#20572;",
    "&#x6c34;",
    "&nbsp;",
    "&",
    "&#;",
    "&#0;",
    "&#x110000;",
    "&#128;",
    "&times",
    "\x00",
    "\r",
]
WORDS = [
    "停水",
    "停电",
    "停",
    "水",
    "门禁卡",
    "停用",
    "限制",
    "电梯",
    "黑名单",
    "曝光",
    "公示",
    "姓名",
    "不会",
    "严禁",
    "不得",
    "不得不",
    "将",
    "cut off",
    "Cut Off",
    "never",
    "not",
    "we will ",
    "suspend",
    "your",
    " water",
    "name",
    "合同",
    "收费标准",
    "诉讼",
    "仲裁",
    "Contract",
    "COURT",
    "arbitration",
    "物业服务合同",
    "如逾期未缴，本公司将依法提起诉讼或申请仲裁",
]
LETTER = [
    "2026-12-05",
    "2026年12月5日",
    "2026/12/05",
    "2026-10",
    "2026年10月",
    "263.75",
    "1,263.75",
    "12026年3月",
    "2026-10-01 至 2026-10-31",
    "3-2-2003",
    "合计：",
    "元",
    "业主",
    "，",
    "：",
]
MARKS = ["。", "！", "？", "!", "?", "\n", " ", "\u3000", ".", ",", ";"]

PIECES = st.sampled_from(TAGS + ENTITIES + WORDS + LETTER + MARKS) | st.text(
    alphabet="<>/&;#pdtbrhl1 \n停水合同。", max_size=6
)
HTML = st.lists(PIECES, max_size=40).map("".join)

NOTICE = lawful.FormalNotice(
    deadline="2026-12-05",
    lines=(lawful.NoticeLine(("2026-10", "2026-10-01", "2026-10-31"), 26375),),
)
LAWFUL = (
    "<p>根据物业服务合同及收费标准，您尚欠</p><table><tr><td>2026-10</td>"
    "<td>263.75</td></tr></table><p>请于<b>2026年12月5日</b>前缴清。逾期将依法提起诉讼或"
    "申请仲裁。</p>"
)


@settings(max_examples=600, deadline=None)
@given(HTML)
@example("a < b <p> c > d")
@example("x <td <b>停</b>水")
@example("<ſection>停<b>水</b></ſection>")
@example("&lt<p>&gt;<br/>&#20572;&#x6c34;")
@example('<b title="<p>">停水')
@example('<td title="<p>">停水')
@example("<td class=<p>>停水")
@example("&#<b></b>27700;")
@example("停</div>水")
@example("<table><tr><td>a</td></tr>停</table>水")
@example("<table>\n<tr><td>a<td>b</table></td>c</p>")
@example("<div><table><tr><td>停</div>水")
def test_the_quick_reading_is_the_exact_one(text):
    assert outcome(render._reading, text) == outcome(exact_reading, text)
    assert outcome(render.html_text, text) == outcome(exact_html_text, text)


@settings(max_examples=300, deadline=None)
@given(HTML, st.sampled_from(["", LAWFUL]), st.booleans())
@example("停<b>水</b>", "", False)
@example("<p>我们不会<b>停水</b></p>", LAWFUL, True)
@example("<td>263.<b>75</b></td>", LAWFUL, True)
def test_the_gate_refuses_what_the_exact_reading_refuses(text, letter, formal):
    whole = letter + text
    notices = [NOTICE] if formal else []
    assert verdict(whole, notices) == exact_verdict(whole, notices)


def test_the_gate_still_refuses_a_threat_cut_by_tags():
    kind, said = verdict("<p>欠费将<B>停</B>&#x6c34;</p>", [])
    assert kind == "refused" and "“停水”" in said
    assert verdict(LAWFUL, [NOTICE])[0] == "seen"
    assert verdict(LAWFUL.replace("诉讼", "协商").replace("仲裁", "调解"), [NOTICE])[0] == "refused"


# ---------------------------------------------------------------- a document read in pieces


def piecewise_verdict(pieces: list[str]) -> str:
    """What the gate makes of a document written piece by piece (a reminder run's letters):
    each piece read on its own where no tag or reference is cut between two."""
    written = render._Pieces(io.StringIO(), "letter.html", "zh/notice_letter.html", None)
    try:
        for piece in pieces[:-1]:
            written.ready.append((piece, *written.read(piece)))
        written.texts = [pieces[-1]]  # the template's last words, after its last part
        written.flush(final=True)
    except Unlawful:
        return "refused"
    return "seen"


@settings(max_examples=400, deadline=None)
@given(st.lists(HTML, min_size=1, max_size=5))
@example(["<p>欠费将停&#", "27700;</p>"])
@example(["<p>欠费将停&#" + "0" * 60, "27700;</p>"])
@example(["<p>欠费将停&#x6c", "34</p>"])
@example(["<p>欠费将<b", ">停</b>水</p>"])
@example(["<p>门禁</td>", "<td>停用</p>"])
@example(["<p>我们不会\n", "  停水</p>"])
@example(["<<p>", "停水<tdx>"])
@example(["1<<p>", "<tdx>never黑名单"])
@example(["停&<b>", "</b>#27700;"])
@example(["停<!-- ", "> -->水"])
@example(["停<style>", "x</style>水"])
@example(['停<b title="', '>">水'])
@example(["停<", "!-- -->水"])
@example(["停&#2770", "0;"])
@example(["<p>欠费将停<b", ">水</p>"])
@example(["<p>x<!-- ", "<style>'</style> -->停水</p>"])
@example(["<p>x<!-- ", "<style>'</style>", " -->停水</p>"])
@example(["<div>停", "</div></div>水"])
@example(["<table><tr><td>a", "</td></tr>停</table>水"])
@example(["<table>", "停<tr><td>x</td></tr>水</table>"])
@example(["<table><tr><td>x</td></tr><", "b>停</b></table>"])
@example(["<table><tr><td>停", "</td></tr></table>", "</td>水"])
@example(["<section><!-- ", "--></section>停</section>", "水"])
def test_a_document_read_in_pieces_is_refused_as_a_whole_is(pieces):
    whole = "".join(pieces)
    assert piecewise_verdict(pieces) == verdict(whole, [])[0]


@settings(max_examples=300, deadline=None)
@given(HTML)
@example("<tr><td>2026-10</td><td>263.75</td></tr><p>请于2026年12月5日前缴清</p>")
def test_the_record_reading_keeps_the_gates_verdicts(text):
    """What a record keeps of a letter (rows on a line) is read by the gate as html_text."""
    try:
        seen = render.html_text(text)
    except html_reading.Hidden:  # refused whichever way it is read
        with pytest.raises(html_reading.Hidden):
            render._reader_text(text)
        return
    marked = render._reader_text(text)
    assert (lawful.threat(seen) is None) == (lawful.threat(marked) is None)
    assert lawful.notice_gaps(seen, [NOTICE]) == lawful.notice_gaps(marked, [NOTICE])


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="\n\n \t\r\f\x0b\x1c\x85\u2028\u3000a停", max_size=30))
@example("a\nb\n\n c\n")
def test_tidying_takes_out_what_follows_each_line_break_as_it_always_did(seen):
    """Every line break with the white space after it made one line break (``\\n\\s*``)."""
    assert render._tidy(seen) == re.sub(r"\n\s*", "\n", seen)
