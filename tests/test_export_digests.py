"""``export-all`` masks phone numbers in free text, never the digits of a hash: the exported
audit trail must still prove itself."""

from __future__ import annotations

import csv
import itertools

from propfee.core.privacy import mask_in_text
from propfee.insight import fullexport
from propfee.store import db

from conftest import PROP_FEE, published_fees


def test_masked_export_keeps_the_audit_chain_whole(cli, database, tmp_path):
    assert cli(*PROP_FEE).exit_code == 0
    published = cli(*published_fees(tmp_path))  # fmt: skip
    assert published.exit_code == 0, published.output
    result = cli("export-all", str(tmp_path / "out"), "--raw")  # masked by default
    assert result.exit_code == 0, result.output
    with (tmp_path / "out" / "csv" / "audit.csv").open(encoding="utf-8-sig") as handle:
        exported = [(row["prev_hash"], row["hash"]) for row in csv.DictReader(handle)]
    connection = db.connect(database)
    try:
        held = connection.execute("SELECT prev_hash, hash FROM audit ORDER BY id").fetchall()
    finally:
        connection.close()
    assert len(exported) >= 3
    assert exported == [tuple(row) for row in held][: len(exported)]
    assert all("*" not in h for pair in exported for h in pair)
    # the chain links: each entry's prev_hash is the hash before it
    assert all(b[0] == a[1] for a, b in itertools.pairwise(exported))


def test_no_digest_column_is_masked_though_its_digits_look_like_a_phone(conn):
    """A hash with a run like a mobile number (13812345678) or an ID would be starred by the
    free-text mask; the audit trail's and a survey file's digests are left as they are."""
    digest = "a13812345678b" + "620102199001011234" + "c" * 33
    assert mask_in_text(digest) != digest  # what the free-text mask would do to it
    for table, names in (("audit", {"hash", "prev_hash"}), ("survey", {"sha256"})):
        columns = {c.name: c for c in fullexport._columns(conn, table, mask=True)}
        assert names <= columns.keys()
        for name in names:
            convert = columns[name].convert
            assert convert is None or convert(digest) == digest, (table, name)
        note = next((c for c in columns.values() if c.name in ("note", "title", "args")), None)
        if note is not None:  # free text in the same table is still masked
            assert note.convert is mask_in_text
