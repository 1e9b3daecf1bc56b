"""A streaming .xlsx writer for big plain tables (the full export): rows go straight into the
zip as sheet XML, an order of magnitude faster than building cells with openpyxl, in constant
memory. It writes what a table needs and nothing else: bold frozen headers, column widths,
text, whole numbers, exact decimals (money with two places), dates. Every string is a text
cell (never a formula); one that looks like a formula is also quote-prefixed, as Excel does
when you type an apostrophe, so editing it does not turn it into one. Charts and styling stay
with openpyxl (export.write_workbook).
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal
from xml.sax.saxutils import escape

from propfee.files.writers import FORMULA_STARTS

# cell styles (indexes into cellXfs below)
_BOLD, _DATE, _MONEY, _TEXT, _DECIMAL4, _DATETIME, _QUOTED = 1, 2, 3, 4, 5, 6, 7
_STYLES = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">
<numFmts count="3"><numFmt numFmtId="164" formatCode="yyyy-mm-dd"/><numFmt numFmtId="165" formatCode="0.0000"/><numFmt numFmtId="166" formatCode="yyyy-mm-dd hh:mm:ss"/></numFmts>
<fonts count="2"><font><sz val="11"/><name val="Calibri"/></font><font><b/><sz val="11"/><name val="Calibri"/></font></fonts>
<fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill></fills>
<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>
<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>
<cellXfs count="8">
<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>
<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>
<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>
<xf numFmtId="4" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>
<xf numFmtId="49" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>
<xf numFmtId="165" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>
<xf numFmtId="166" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>
<xf numFmtId="49" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1" quotePrefix="1"/>
</cellXfs>
<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>
</styleSheet>"""
_EPOCH = date(1899, 12, 30).toordinal()
_XML_BAD = dict.fromkeys(c for c in range(32) if c not in (9, 10, 13))


def _text_cell(value: str, style: int = 0) -> str:
    value = escape(value.translate(_XML_BAD))
    space = ' xml:space="preserve"' if value[:1].isspace() or value[-1:].isspace() else ""
    styled = f' s="{style}"' if style else ""
    return f'<c t="inlineStr"{styled}><is><t{space}>{value}</t></is></c>'


def _cell(value: object, text: bool) -> str:
    if value is None or value == "":
        return "<c/>"
    if isinstance(value, str):
        if value.startswith(FORMULA_STARTS):
            # a text cell already; quote-prefixed, editing it never turns it into a formula
            return _text_cell(value, _QUOTED)
        return _text_cell(value, _TEXT if text else 0)
    if isinstance(value, bool):
        return f'<c t="b"><v>{int(value)}</v></c>'
    if isinstance(value, int):
        return f"<c><v>{value}</v></c>"
    if isinstance(value, Decimal):
        places = -value.as_tuple().exponent
        style = _MONEY if places == 2 else _DECIMAL4 if places == 4 else 0
        return f'<c s="{style}"><v>{value}</v></c>' if style else f"<c><v>{value}</v></c>"
    if isinstance(value, datetime):
        serial = (
            value.toordinal()
            - _EPOCH
            + (value.hour * 3600 + value.minute * 60 + value.second) / 86400
        )
        return f'<c s="{_DATETIME}"><v>{serial}</v></c>'
    if isinstance(value, date):
        return f'<c s="{_DATE}"><v>{value.toordinal() - _EPOCH}</v></c>'
    if isinstance(value, float):
        return f"<c><v>{value!r}</v></c>"
    return _cell(str(value), text)


class Workbook:
    """``with Workbook(path) as book: book.add_sheet(name, headers, rows)``."""

    def __init__(self, path) -> None:
        self._zip = zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1)
        self._sheets: list[str] = []

    def __enter__(self) -> Workbook:
        return self

    def __exit__(self, kind, *_rest) -> None:
        if kind is None:
            self.close()
        else:
            self._zip.close()

    def add_sheet(
        self,
        name: str,
        headers: Sequence[str],
        rows: Iterable[Sequence[object]],
        *,
        text_columns: Iterable[str] = (),
        limit: int | None = None,
    ) -> int:
        """Write a sheet; stop after ``limit`` rows and return how many were written."""
        self._sheets.append(name)
        number = len(self._sheets)
        text = {i for i, h in enumerate(headers) if h in set(text_columns)}
        written = 0
        with self._zip.open(f"xl/worksheets/sheet{number}.xml", "w", force_zip64=True) as raw:
            out = _Buffered(raw)
            out.write(
                '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
                '<sheetViews><sheetView workbookViewId="0"><pane ySplit="1" topLeftCell="A2" '
                'activePane="bottomLeft" state="frozen"/></sheetView></sheetViews><cols>'
            )
            for i, header in enumerate(headers):
                width = max(8, len(header) * 2 + 2)
                out.write(f'<col min="{i + 1}" max="{i + 1}" width="{width}" customWidth="1"/>')
            out.write('</cols><sheetData><row r="1">')
            out.write("".join(_text_cell(str(h), _BOLD) for h in headers))
            out.write("</row>")
            plain = [i not in text for i in range(len(headers))]
            for row in rows:
                written += 1
                cells = "".join(
                    _cell(value, not plain[i] if i < len(plain) else False)
                    for i, value in enumerate(row)
                )
                out.write(f'<row r="{written + 1}">{cells}</row>')
                if limit is not None and written >= limit:
                    break
            out.write("</sheetData></worksheet>")
            out.flush()
        return written

    def close(self) -> None:
        sheets = "".join(
            f'<sheet name="{escape(name, {chr(34): "&quot;"})}" sheetId="{i}" r:id="rId{i}"/>'
            for i, name in enumerate(self._sheets, start=1)
        )
        relations = "".join(
            f'<Relationship Id="rId{i}" Type="http://schemas.openxmlformats.org/officeDocument/'
            f'2006/relationships/worksheet" Target="worksheets/sheet{i}.xml"/>'
            for i in range(1, len(self._sheets) + 1)
        )
        count = len(self._sheets)
        overrides = "".join(
            f'<Override PartName="/xl/worksheets/sheet{i}.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
            for i in range(1, count + 1)
        )
        files = {
            "[Content_Types].xml": (
                '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Types xmlns='
                '"http://schemas.openxmlformats.org/package/2006/content-types">'
                '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
                'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
                '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.'
                'openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
                '<Override PartName="/xl/styles.xml" ContentType="application/vnd.'
                'openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
                f"{overrides}</Types>"
            ),
            "_rels/.rels": (
                '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Relationships xmlns='
                '"http://schemas.openxmlformats.org/package/2006/relationships"><Relationship '
                'Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
                'relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>'
            ),
            "xl/workbook.xml": (
                '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<workbook xmlns='
                '"http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://'
                'schemas.openxmlformats.org/officeDocument/2006/relationships">'
                f"<sheets>{sheets}</sheets></workbook>"
            ),
            "xl/_rels/workbook.xml.rels": (
                '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Relationships xmlns='
                f'"http://schemas.openxmlformats.org/package/2006/relationships">{relations}'
                f'<Relationship Id="rId{count + 1}" Type="http://schemas.openxmlformats.org/'
                'officeDocument/2006/relationships/styles" Target="styles.xml"/></Relationships>'
            ),
            "xl/styles.xml": _STYLES,
        }
        for name, content in files.items():
            self._zip.writestr(name, content)
        self._zip.close()


class _Buffered:
    """Collect small strings and hand the zip stream large UTF-8 blocks."""

    def __init__(self, raw) -> None:
        self._raw = raw
        self._parts: list[str] = []
        self._size = 0

    def write(self, text: str) -> None:
        self._parts.append(text)
        self._size += len(text)
        if self._size > 1 << 20:
            self.flush()

    def flush(self) -> None:
        if self._parts:
            self._raw.write("".join(self._parts).encode("utf-8"))
            self._parts.clear()
            self._size = 0
