"""The demo estate: a database built from the shipped sample data, to try propfee on."""

from __future__ import annotations

import shutil
import sqlite3
from dataclasses import dataclass, field
from datetime import date, datetime
from importlib import resources
from pathlib import Path

from propfee import db, roster
from propfee.errors import PropfeeError

DEMO_SETTINGS = """\
# Settings for the demo estate. Every key is optional; see the README.
[estate]
company = "兰州翠湖物业服务有限公司"
name = "翠湖花园"
phone = "0931-8123456"
address = "兰州市城关区翠湖路88号"
developer = "兰州翠湖置业有限公司"
"""


@dataclass
class DemoReport:
    folder: Path
    db_path: Path
    roster: roster.ImportReport
    files: list[Path] = field(default_factory=list)
    replaced: bool = False


def sample_file(name: str) -> Path:
    """A file shipped in propfee/sample_data (works from a wheel install too)."""
    path = Path(str(resources.files("propfee") / "sample_data" / name))
    if not path.is_file():
        raise PropfeeError(f"sample data {name} is missing from this installation")
    return path


def build_demo(folder: Path, *, as_of: date, now: datetime) -> DemoReport:
    """Create ``folder`` with a demo database, its settings and the sample files.

    An existing demo database in the folder is rebuilt; any other database there is left
    alone and the demo refuses to run.
    """
    folder.mkdir(parents=True, exist_ok=True)
    db_path = folder / "propfee.db"
    replaced = False
    if db_path.exists():
        conn = db.connect(db_path, migrate=False)
        try:
            is_demo = _is_demo(conn)
        finally:
            conn.close()
        if not is_demo:
            raise PropfeeError(f"{db_path} exists and is not a demo database; choose another --dir")
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db_path}{suffix}").unlink(missing_ok=True)
        replaced = True
    settings = folder / "propfee.toml"
    settings.write_text(DEMO_SETTINGS, encoding="utf-8")
    roster_file = folder / "roster.xlsx"
    shutil.copyfile(sample_file("roster.xlsx"), roster_file)

    conn = db.connect(db_path)
    try:
        with db.transaction(conn):
            db.set_meta(conn, "demo", "1")
        report = roster.import_roster(conn, roster_file, as_of=as_of, now=now)
    finally:
        conn.close()
    return DemoReport(folder, db_path, report, [settings, roster_file], replaced)


def _is_demo(conn) -> bool:
    try:
        return db.get_meta(conn, "demo") == "1"
    except sqlite3.Error:  # not our schema at all: certainly not a demo
        return False
