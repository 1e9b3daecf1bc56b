"""The message catalogue: extract every wrapped string, keep the translations, compile.

    python tools/i18n.py                 # extract, merge into propfee.po, compile propfee.mo
    python tools/i18n.py --also OTHER.po # take translations from another catalogue as well
    python tools/i18n.py check           # exit 1 naming every string without a translation

The catalogue is sorted by message and carries no source locations, so two changes that add
different messages merge cleanly. A message no longer in the code leaves the catalogue.
"""

from __future__ import annotations

import argparse
import io
import sys
from datetime import UTC, datetime
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "propfee"
PO = PACKAGE / "locale" / "zh_CN" / "LC_MESSAGES" / "propfee.po"
MO = PO.with_suffix(".mo")
KEYWORDS = {"_": None, "N_": None, "zh": None, "ngettext": (1, 2), "Nn_": (1, 2)}
FIXED_DATE = datetime(2026, 1, 1, tzinfo=UTC)


def extract() -> dict[str | tuple[str, str], None]:
    """Every message wrapped in the package, in a stable order."""
    found: dict[str | tuple[str, str], None] = {}
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(PACKAGE), method_map=[("**.py", "python")], keywords=KEYWORDS
    ):
        if isinstance(message, tuple):
            message = tuple(m for m in message if m)
            if len(message) == 1:
                message = message[0]
        if message:
            found[message] = None
    return found


def read(path: Path) -> Catalog:
    with path.open("rb") as f:
        return read_po(f, locale="zh_CN")


def translations(paths: list[Path]) -> dict[str, str | tuple[str, ...]]:
    """msgid → msgstr from the given catalogues; a later file wins, an empty one never does."""
    known: dict[str, str | tuple[str, ...]] = {}
    for path in paths:
        if not path.exists():
            continue
        for message in read(path):
            if not message.id or message.fuzzy:
                continue
            key = message.id[0] if isinstance(message.id, tuple) else message.id
            value = message.string
            if isinstance(value, tuple | list):
                value = tuple(value)
                if not any(value):
                    continue
            elif not value:
                continue
            known[key] = value
    return known


def new_catalogue() -> Catalog:
    return Catalog(
        locale="zh_CN",
        domain="propfee",
        project="propfee",
        creation_date=FIXED_DATE,
        revision_date=FIXED_DATE,
        language_team="zh_CN",
        copyright_holder="propfee",
        header_comment=(
            "# propfee 的中文消息目录：代码中的英文原文（msgid）与界面显示的中文（msgstr）。\n"
            "# 由 python tools/i18n.py 生成并保持排序；只需填写或修改 msgstr。"
        ),
        fuzzy=False,
    )


def build(also: list[Path]) -> Catalog:
    known = translations([PO, *also])
    catalogue = new_catalogue()
    for message in extract():
        key = message[0] if isinstance(message, tuple) else message
        value = known.get(key, "" if not isinstance(message, tuple) else ("",))
        if isinstance(message, tuple) and isinstance(value, str):
            value = (value,)
        if not isinstance(message, tuple) and isinstance(value, tuple):
            value = value[0]
        catalogue.add(message, value)
    return catalogue


def write(catalogue: Catalog) -> None:
    PO.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    write_po(buffer, catalogue, width=0, no_location=True, sort_output=True, omit_header=False)
    PO.write_bytes(buffer.getvalue())
    buffer = io.BytesIO()
    write_mo(buffer, catalogue)
    MO.write_bytes(buffer.getvalue())


def missing(catalogue: Catalog) -> list[str]:
    out = []
    for message in catalogue:
        if not message.id:
            continue
        value = message.string
        empty = not any(value) if isinstance(value, tuple | list) else not value
        if empty:
            out.append(message.id[0] if isinstance(message.id, tuple) else message.id)
    return out


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", nargs="?", choices=["build", "check"], default="build")
    parser.add_argument("--also", type=Path, action="append", default=[])
    args = parser.parse_args(argv)
    catalogue = build(args.also)
    gaps = missing(catalogue)
    if args.action == "build":
        write(catalogue)
        print(f"{PO.relative_to(ROOT)}: {len(catalogue)} messages, {len(gaps)} untranslated")
    for gap in gaps:
        print(f"untranslated: {gap!r}", file=sys.stderr)
    return 1 if gaps and args.action == "check" else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
