"""Find text a person reads that does not go through the message catalogue.

A literal is "text" when it holds a Chinese character or an English phrase (two words or
more, once placeholders, options, markup and paths are taken out). It is flagged where it is
handed to something that shows it: an error, a message, a help text, a column header, a
progress label — unless it sits inside ``_()``, ``ngettext()``, ``N_()`` or ``zh()``.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

WRAPPERS = {"_", "ngettext", "N_", "Nn_", "zh"}
SINK_CALLS = {
    "echo",
    "print",
    "note",
    "warn",
    "result",
    "say",
    "progress",
    "Option",
    "Argument",
    "Typer",
    "command",
    "callback",
    "add_typer",
    "Col",
    "add_column",
    "add_row",
    "Table",
    "Panel",
    "BadParameter",
    "Exit",
    "secho",
    "confirm",
    "prompt",
}
SINK_KEYWORDS = {"help", "short_help", "message", "title", "caption", "header", "epilog", "label"}
CJK = re.compile(r"[\u3400-\u9fff]")
NOISE = re.compile(
    r"\{[^}]*\}"  # placeholders
    r"|--?[A-Za-z][\w-]*"  # options
    r"|\[/?[a-z ]*\]"  # rich markup
    r"|\b[\w./-]+\.(?:py|db|toml|xlsx|xls|csv|html|json|zip|txt|pdf)\b"  # file names
    r"|\bYYYY(?:-MM(?:-DD)?)?\b|\bHH:MM\b"
    r"|https?://\S+"
    r"|\bpropfee(?: [a-z-]+)*"  # a command line quoted in a message
    r"|%\(?\w*\)?[sd]"
)
WORD = re.compile(r"[A-Za-z]{2,}")


@dataclass(frozen=True)
class Finding:
    path: str
    line: int
    text: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.text[:80]!r}"


def is_text(value: str) -> bool:
    if CJK.search(value):
        return True
    if not re.search(r"\s", value.strip()):
        return False  # a key, a code or one word
    stripped = NOISE.sub(" ", value)
    return len(WORD.findall(stripped)) >= 2


def _name(func: ast.expr) -> str:
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return ""


def _literals(node: ast.AST):
    """String literals in an expression, not looking inside the catalogue's wrappers."""
    if isinstance(node, ast.Call) and _name(node.func) in WRAPPERS:
        return
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        yield node, node.value
        return
    if isinstance(node, ast.JoinedStr):
        parts = [v.value for v in node.values if isinstance(v, ast.Constant)]
        yield node, "{}".join(parts)
        for v in node.values:
            if isinstance(v, ast.FormattedValue):
                yield from _literals(v.value)
        return
    if isinstance(node, ast.Call):
        # a call inside a shown value: its receiver and arguments may be shown too,
        # except a dict/list lookup key or a call that only formats
        yield from _literals(node.func)
        for arg in node.args:
            yield from _literals(arg)
        for kw in node.keywords:
            yield from _literals(kw.value)
        return
    if isinstance(node, ast.Subscript):
        yield from _literals(node.value)
        return
    for child in ast.iter_child_nodes(node):
        yield from _literals(child)


BUILTIN_ERRORS = {"ValueError", "TypeError", "KeyError", "RuntimeError", "LookupError", "OSError"}


def _is_error(name: str) -> bool:
    if name in BUILTIN_ERRORS:
        return False  # a programming error, never shown as a message
    return name.endswith(("Error", "Errors")) or name in {
        "PropfeeError",
        "InvalidValue",
        "NotFound",
        "DatabaseBusy",
        "Unlawful",
    }


def scan_source(source: str, path: str) -> list[Finding]:
    tree = ast.parse(source)
    findings: list[Finding] = []
    seen: set[int] = set()
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = _name(node.func)
        shown: list[ast.expr] = []
        if name in SINK_CALLS or _is_error(name):
            shown.extend(node.args)
        shown.extend(kw.value for kw in node.keywords if kw.arg in SINK_KEYWORDS)
        for expr in shown:
            for lit, value in _literals(expr):
                if id(lit) in seen or not is_text(value):
                    continue
                seen.add(id(lit))
                findings.append(Finding(path, lit.lineno, value))
    return findings


def scan(root: Path) -> list[Finding]:
    findings: list[Finding] = []
    for file in sorted(root.rglob("*.py")):
        rel = file.relative_to(root.parent).as_posix()
        findings.extend(scan_source(file.read_text(encoding="utf-8"), rel))
    return findings
