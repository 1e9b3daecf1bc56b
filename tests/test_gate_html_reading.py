"""The gate reads HTML the way a browser shows it (files/html_reading.py): no template can hide
a phrase LEGAL rule 1 forbids from the gate while a browser still shows it — by a stray "<", a
bogus comment, a ">" in a comment or a quoted value, raw text, a name or a space only Python
reads as a block tag, a character reference — nor hide, make or move text with CSS.

An independent oracle, html5lib (the HTML5 parsing algorithm in pure Python), says what a
browser shows of random HTML: whenever it shows a forbidden phrase within one line, the gate
refuses the text.
"""

from __future__ import annotations

import re

import html5lib
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from test_printed_letters import letters, mine, remind

from propfee.core import lawful
from propfee.core.errors import Unlawful
from propfee.files import html_reading, render

SOURCE = "mine/zh/notice_letter.html"


def refused(text: str) -> str:
    """The gate's message refusing the HTML ``text``; fails when the gate lets it through."""
    with pytest.raises(Unlawful) as refusal:
        render.check(text, SOURCE, html=True)
    return str(refusal.value)


# ---------------------------------------------------------------- the known ways round it

BYPASSES = [
    "1<<p>停水<b>",  # a "<" before "<" is text: the words after it are shown
    "停</ p>水",  # "</" before a space opens a bogus comment, no line break
    "停<!-- > -->水",  # a comment runs to "-->"
    "停<!-- --!>水",
    "停<!-->水",
    "停<!--->水",
    '停<b title=">">水',  # a ">" in a quoted value does not end the tag
    "停<b title='>'>水",
    "停<style>x</style>水",  # a style's text is not shown
    "停<style>p { color: #000 }</style>水",
    "停<p-x>水",  # a name that begins with a block name is another element
    "停<p_x>水",
    "停<td\u3000class=x>水",  # U+3000 is no HTML space: the name is "td\u3000class=x"
    "停<p\u00a0>水",
    "停<dİv>水",  # "İ" is no "i" in HTML
    "停<xsection>水",  # an unknown element
    "停<tdx>水",
    "停&#x6c34水",  # a numeric reference without ";"
    "停&#27700水",
    "停\x00水",  # a NUL in the text is not shown
    "停<title>x</title>水",  # a title is not shown where it is written
    "&time<b></b>suspend your water",  # no "&times" made across a tag
    "<title>逾期将停水</title><p>请缴费</p>",  # a title heads the printed page
    # a browser's tree builder ignores a block's end tag with no such element open, and a
    # table's part outside a table
    "停</div>水",
    "停<td>水",
    "停<tr>水",
    "<div>停</section>水</div>",
    "<table><tr><td>停</thead>水</td></tr></table>",
    "<div><table><tr><td>停</div>水</td></tr></table></div>",
    "<ul><li>a</li></li>停</li>水</ul>",
    "停</td></tr></table>水",
    "停</option>水",
    "停<caption>水",
]


@pytest.mark.parametrize("text", BYPASSES)
def test_each_known_way_round_the_gate_is_refused(text):
    message = refused(text)
    assert SOURCE in message and "LEGAL 第1条" in message


@pytest.mark.parametrize(
    ("text", "seen"),
    [
        ("停<ſection>水", "停<ſection>水"),  # "<ſ" is text: shown as written, no phrase
        ("停&#<b></b>27700;", "停&#27700;"),  # a reference is read within its run of text
        ("a<b title='<p>'>b", "ab"),
        ("a</>b<?x>c<!x>d", "abcd"),
        ("a<textarea>停&amp;</textarea>b", "a停&b"),
        ("a<xmp><b>&amp;</b></xmp>c", "a\n<b>&amp;</b>\nc"),
        ("a<plaintext></p>&amp;", "a\n</p>&amp;"),
        ("<p>a</p><br/>b<p\tclass=x>c", "\na\n\nb\nc"),
        ("a<b", "a"),  # a tag the text ends inside is not shown
        ("a<!-- b", "a"),
    ],
)
def test_what_a_browser_shows_is_what_the_gate_reads(text, seen):
    assert render.html_text(text) == seen


HIDING = [
    '<p style="display:none">x</p>',
    '<p style="display: NONE !important">x</p>',
    '<span style="visibility:hidden">x</span>',
    '<span style="font-size:0">x</span>',
    '<span style="font-size:0.1em">x</span>',
    '<span style="opacity:0">x</span>',
    '<span style="color:#fff">x</span>',
    '<span style="color: rgba(0, 0, 0, 0)">x</span>',
    '<p style="background: #000">x</p>',
    '<p style="font-size: smaller">x</p>',
    '<p style="letter-spacing: -1em">x</p>',
    '<span style="position:absolute;left:-9999px">x</span>',
    '<p style="margin-left:-5em">x</p>',
    '<p style="line-height:0">x</p>',
    '<p style="dis&#112;lay:none">x</p>',
    "<style>p::before { content: '停水' }</style>",
    "<style>@media print { .x { display: none } }</style>",
    "<style>p { display: inline }</style>",
    "<style>.box { display: inline-block }</style>",
    "<style>@import url(x.css);</style>",
    "<style>@font-face { font-family: x }</style>",
    "<style>p { dis\\70 lay: none }</style>",
    "<style>p { display: none</style>",
    "<style>p { transform: scale(0) }</style>",
    "<p hidden>x</p>",
    "<p popover>x</p>",
    '<p onclick="x">x</p>',
    '<bdo dir="rtl">水停</bdo>',
    '<p dir="rtl">x</p>',
    '<font color="white">x</font>',
    '<body text="white">x</body>',
    '<img src="a.png" alt="停水">',
    "<template>x</template>",
    "<script>document.write('停水')</script>",
    "<noscript>x</noscript>",
    '<iframe srcdoc="停水"></iframe>',
    "<details><summary>s</summary>x</details>",
    "<dialog>x</dialog>",
    "<ruby>x<rt>y</rt></ruby>",
    "<select><option>x</option></select>",
    '<input value="停水">',
    "<small><small><small>x</small></small></small>",
    '<link rel="stylesheet" href="x.css">',
    '<meta http-equiv="refresh" content="0;url=x">',
    "<svg>x</svg>",
    '<svg><text transform="scale(0)">x</text></svg>',
    '<svg><text fill="#fff">x</text></svg>',
    '<svg><text font-size="1">x</text></svg>',
    "<svg><foreignObject><p>x</p></foreignObject></svg>",
    "<svg><text><![CDATA[x]]></text></svg>",
    "<table><tr><td>x</td></tr>y</table>",
    "<table><b>x</b><tr><td>y</td></tr></table>",
    "<table><tr><p>x</p><td>y</td></tr></table>",
    "<h1>x<h2>y</h2></h1>",
    "<form>x</form>",
    "<button>x</button>",
    "<marquee>x</marquee>",
    "<fieldset><legend>x</legend></fieldset>",
]


@pytest.mark.parametrize("text", HIDING)
def test_html_or_css_that_hides_makes_or_moves_text_is_refused(text):
    message = refused(f"<p>请缴费</p>{text}")
    assert SOURCE in message and "隐藏、生成或移动文字" in message


@pytest.mark.parametrize(
    "text",
    [
        "<style>@page { size: A4; margin: 20mm } body { font-size: 11pt; line-height: 1.7 }"
        ' td.money { white-space: nowrap; text-align: right } h1 { font-family: "Noto Serif'
        ' CJK SC", serif; letter-spacing: 2pt } .x { border: 1px solid #000; color: #555;'
        " background: #eee; display: flex; gap: 3mm } span.box { display: inline-block;"
        " vertical-align: -0.3mm }</style>",
        "<style>@media print { .letter { break-after: page } }</style>",
        '<p style="text-align: right">x</p>',
        '<b style="color: red">x</b><b style="color: rgb(0, 0, 139)">y</b>',
        '<p style="background: white; font-size: 12px; line-height: 18pt">x</p>',
        '<span style="display:inline-block">x</span>',
        "<details open><summary>s</summary>x</details>",
        '<img src="logo.png" alt="">',
        '<p dir="ltr">x</p>',
        "<small><small>x</small></small>",
        '<svg viewBox="0 0 10 10"><title>t</title><text x="1" y="2" font-size="10" '
        'fill="#555">x</text><rect x="0" y="0" width="1" height="1" fill="#eee" '
        'opacity="0.5"/></svg>',
        # optional end tags, implied parts, void elements and end tags that close several
        "<p>a<p>b<ul><li>c<li>d</ul><dl><dt>e<dd>f</dl>",
        "<table>\n <col><colgroup><col></colgroup><tr><td>a<td>b\n<tr><th>c</table>",
        "<table><caption>t</caption><thead><tr><th>a</thead><tbody><tr><td>b</tbody></table>",
        "<p>a</br>b</p></p><hr><br/><img src=x alt=''><meta charset=utf-8>",
        "<div><table><tr><td><div>a</div></table></div><h1>b</h1><h2>c</h2>",
        "<table><tr><td><table><tr><td>a</table>b</td></tr></table>",
    ],
)
def test_layout_that_shows_every_word_passes(text):
    render.check(f"<p>请缴费</p>{text}", SOURCE, html=True)


def test_every_shipped_template_keeps_to_the_css_the_gate_reads():
    for name in render.template_names():
        if name.endswith(".html"):
            text = (render.shipped_dir("templates") / name).read_text(encoding="utf-8")
            text = re.sub(r"{%.*?%}|{#.*?#}", "", text, flags=re.DOTALL)  # the HTML it holds
            html_reading.read(text)  # raises Hidden for CSS that could hide text


# ---------------------------------------------------------------- through an office's template


def shipped_letter() -> str:
    path = render.shipped_dir("templates") / "zh" / "notice_letter.html"
    return path.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    "added",
    ["逾期将停<!-- > -->水。", "逾期将停</ p>水。", '逾期将停<b title=">">水</b>。'],
)
def test_a_letter_template_that_hides_a_threat_in_its_markup_writes_nothing(
    history, cli, tmp_path, added
):
    template = shipped_letter().replace(
        "追索欠缴的物业服务费用。", "追索欠缴的物业服务费用。" + added
    )
    config = mine(tmp_path, "notice_letter.html", template)
    result = remind(cli, tmp_path, "--config", config)
    assert result.exit_code == 1
    message = " ".join(result.output.split())
    assert "notice_letter.html" in message and "停水" in message
    assert letters(history) == [] and not (tmp_path / "out").exists()


def test_a_letter_template_that_hides_text_with_css_writes_nothing(history, cli, tmp_path):
    template = shipped_letter().replace("  .total {", "  .fine { font-size: 0; }\n  .total {")
    config = mine(tmp_path, "notice_letter.html", template)
    result = remind(cli, tmp_path, "--config", config)
    assert result.exit_code == 1
    message = " ".join(result.output.split())
    assert "notice_letter.html" in message and "font-size: 0" in message
    assert letters(history) == [] and not (tmp_path / "out").exists()


# ---------------------------------------------------------------- against an independent oracle

#: what html5lib shows of an element (hidden: its text is not shown) and where lines break
HIDDEN = {"script", "style", "template", "title", "head", "noscript", "xmp-hidden"}
BREAKS = html_reading.BLOCK


def shown(html: str) -> str:
    """What a browser shows of ``html``, as html5lib parses it: the text of every element that
    is shown, each block element on lines of its own."""
    root = html5lib.parse(html, treebuilder="etree", namespaceHTMLElements=False)
    out: list[str] = []

    def walk(element) -> None:
        tag = element.tag if isinstance(element.tag, str) else None  # None: a comment
        if tag is not None and tag not in HIDDEN:
            if tag in BREAKS:
                out.append("\n")
            out.append(element.text or "")
            for child in element:
                walk(child)
            if tag in BREAKS:
                out.append("\n")
        out.append(element.tail or "")

    walk(root)
    return "".join(out)


FRAGMENTS = [
    *["停", "水", "停水", "电", "将", "不会", "我们不会", "逾期", "，", "。", " ", "\n"],
    *["cut", " off", "suspend", " your water", "we will ", "never "],
    *["&#20572;", "&#x6c34;", "&#27700", "&#x6c34", "&amp;", "&lt", "&#", "&", "&#0;"],
    *["&#x110000;", "&times", "&#128;", "\x00", "\r"],
    *["<", "< ", "<<", "</", "</ ", "<3", "<\u3000", ">", "'", '"', "=", "-", "!"],
    *["<b>", "</b>", '<span class="x">', "</span>", "<i>", "<sup>", "<x-y>", "<foo bar=baz>"],
    *["<p>", "</p>", "<br>", "</br>", "<br/>", "<hr>", "<div>", "<section>", "<li>", "<h1>"],
    *["<P>", "<DiV>", "<p-x>", "<p\u3000x>", "<dİv>", "<ſection>", "<td\u3000x>", "<tdx>"],
    *['<b title=">">', "<b title='<p>'>", '<b title="a"x>', "<b x=>", '<b\nclass="a">'],
    *["<b/>", "</ p>", "</>", "<?x>", "<!x>", "<!-- c -->", "<!-->", "<!--->"],
    *["<!-- > -->", "<!-- --!>", "<!--", "-->", "<!DOCTYPE html>"],
    *["<style>x</style>", "<style>停</style>", "<title>x</title>", "<textarea>停</textarea>"],
    *["<xmp>水</xmp>", "<style>", "<title>", "<textarea>", "<plaintext>", "<b title='"],
    *["<pre>", "<blockquote>", "<center>", "<figure>", "<dl>", "<dt>", "<address>", "<nav>"],
    *["<textarea>\n", "\r\n", "<listing>", "<footer>", "<main>", "<summary>"],
    *["</div>", "</section>", "</li>", "<ul>", "</ul>", "</h1>", "<h2>", "</pre>", "</dd>"],
    *["<dl>", "<dd>", "<dt>", "</table>", "<table>", "<tr>", "</tr>", "<td>", "</td>", "<th>"],
    *["</th>", "<tbody>", "</tbody>", "<thead>", "</thead>", "<caption>", "</caption>"],
    *["<col>", "<colgroup>", "</colgroup>", "</option>", "</xmp>", "</tfoot>", "<tfoot>"],
]
HTML = st.lists(st.sampled_from(FRAGMENTS), max_size=30).map("".join)


def gate_refuses(html: str) -> bool:
    try:
        render.check(html, SOURCE, html=True)
    except Unlawful:
        return True
    return False


@settings(max_examples=800, deadline=None)
@given(HTML)
@example("1<<p>停水<b>")
@example("停</ p>水")
@example("停<!-- > -->水")
@example('停<b title=">">水')
@example("停<style>x</style>水")
@example("停<td\u3000x>水")
@example("停<title>x</title>水")
@example("停&#x6c34水")
@example("停</div>水")
@example("<table>停<tr><td>x</td></tr>水</table>")
def test_whatever_a_browser_shows_as_a_threat_on_one_line_is_refused(html):
    lines = shown(html).split("\n")
    if any(lawful.threat(line) is not None for line in lines):
        assert gate_refuses(html), (html, shown(html))


#: a browser's tree builder drops a block end tag whose element is not open and a table's
#: tag outside a table, and shows text written in a table outside its cells before the
#: table: the gate reads no line break there, or refuses the table
TREE_BUILDER = ["停</div>水", "停<td>水", "停<tr>水", "<table>停<tr><td>x</td></tr>水</table>"]


@pytest.mark.parametrize("text", TREE_BUILDER)
def test_what_the_tree_builder_drops_or_moves_is_refused(text):
    assert any(lawful.threat(line) for line in shown(text).split("\n"))
    message = refused(text)
    assert SOURCE in message and ("LEGAL 第1条" in message or "表格" in message)
