"""propfee today on the demo estate: each kind of work the demo holds is listed, and each count
equals what the command named on its line shows (through that command's JSON)."""

from __future__ import annotations

import json
from datetime import date, timedelta
from decimal import Decimal

import pytest
from typer.testing import CliRunner

from propfee.cli import app
from propfee.collection import arrears, limitation
from propfee.config import load_settings
from propfee.store.db import connect

from conftest import DemoEstate, build_demo

AS_OF = "2026-11-15"


@pytest.fixture(scope="module")
def engine(request) -> str:
    """The module's tests share one demo estate on each engine ([lite] and [pg])."""
    return request.param


@pytest.fixture(scope="module")
def demo(engine, tmp_path_factory, request) -> DemoEstate:
    folder = tmp_path_factory.mktemp("today") / "demo"
    return build_demo(engine, folder, request, "--as-of", AS_OF)


def _json(demo: DemoEstate, *args: str):
    result = CliRunner().invoke(
        app, [*args, "--format", "json", *demo.options()], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


@pytest.fixture(scope="module")
def lines(demo) -> dict[str, dict]:
    document = _json(demo, "today", "--as-of", AS_OF)
    assert document["as_of"] == AS_OF
    return {line["key"]: line for line in document["rows"]}


def test_money_received_today_matches_the_daily_close(demo, lines):
    close = _json(demo, "report", "daily", "--date", AS_OF)
    assert lines["received"]["amount"] == close["net"]
    assert Decimal(lines["received"]["amount"]) > 0
    assert lines["received"]["count"] == sum(c["count"] for c in close["by_channel"])
    by_channel = {c["channel"]: c["amount"] for c in close["by_channel"]}
    shown = {
        line["label"].removeprefix("今日实收（").removesuffix("）"): line["amount"]
        for key, line in lines.items()
        if key.startswith("received_")
    }
    assert shown == by_channel and len(shown) >= 2
    assert lines["received"]["command"] == f"propfee report daily --date {AS_OF}"


def test_collection_work_matches_overdue_and_contacts(demo, lines):
    rows = _json(demo, "overdue", "--as-of", AS_OF)["rows"]
    calls = _json(demo, "overdue", "--as-of", AS_OF, "--tier", "call")["rows"]
    assert lines["calls_due"]["count"] == len(calls) > 0
    assert Decimal(lines["calls_due"]["amount"]) == sum(Decimal(r["outstanding"]) for r in calls)
    promised = [r for r in rows if r.get("promise_date") and r["promise_date"] <= AS_OF]
    assert lines["promises_due"]["count"] == len(promised)
    contacts = _json(demo, "contact", "list")["rows"]
    waiting = [
        c
        for c in contacts
        if c["notice_no"] and not c["delivered"] and c["at"] <= AS_OF + " 23:59:59"
    ]
    assert lines["letters_undelivered"]["count"] == len(waiting) > 0
    clocks = _json(demo, "overdue", "--as-of", AS_OF, "--limitation", "--within", "90")["rows"]
    assert lines["limitation_ending"]["count"] == len(clocks)
    horizon = (date.fromisoformat(AS_OF) + timedelta(days=7)).isoformat()
    due = [
        p
        for p in _json(demo, "plan", "list", "--as-of", AS_OF)["rows"]
        if p["state"] != "completed"
        and any(
            Decimal(i["paid"]) < Decimal(i["amount"]) and i["due_on"] <= horizon
            for i in p["installments"]
        )
    ]
    assert lines["installments_due"]["count"] == len(due)


def test_service_and_people_match_complaints_and_care(demo, lines):
    at = f"{AS_OF} 23:59:59"
    late = _json(demo, "complain", "list", "--overdue", "--at", at)["rows"]
    assert lines["complaints_overdue"]["count"] == len(late) > 0
    visits = _json(demo, "complain", "list", "--awaiting-visit", "--at", at)["rows"]
    assert lines["visits_due"]["count"] == len(visits)
    care = _json(demo, "owners", "care", "--month", AS_OF[:7])["rows"]
    assert lines["care_list"]["count"] == len(care) > 0
    assert lines["birthdays"]["count"] == sum(1 for p in care if p["birthday"] == AS_OF[5:])


def test_every_line_is_chinese_and_names_its_command(lines):
    keys = list(lines)
    assert keys[-1] == "care_list" and "complaints_near" in keys
    for key, line in lines.items():
        assert key.isascii() and line["command"].startswith("propfee ")
        assert not line["label"].isascii()
        assert line["count"] >= 0


def test_the_table_shows_each_line_and_a_bad_day_is_refused(demo):
    result = CliRunner().invoke(app, ["today", "--as-of", AS_OF, *demo.options()])
    assert result.exit_code == 0, result.output
    for words in ("今日实收合计", "电话催缴", "催缴通知书待登记送达", "propfee remind --tier call"):
        assert words in result.stdout
    bad = CliRunner().invoke(app, ["today", "--as-of", "2026-13-01", *demo.options()])
    assert bad.exit_code != 0 and "--as-of" in bad.output


@pytest.mark.parametrize("days_on", [0, 20, 45, 400, 3 * 365 - 80])
def test_the_counting_twins_give_what_the_full_lists_give(demo, days_on):
    """today counts with arrears.overdue_totals, limitation.ending_within and the report's
    aging with arrears.owed_by_age, which sum in SQL: each equals what the full lists hold, on
    the demo as of its day and later (tiers moved on, clocks near their end)."""
    day = date.fromisoformat(AS_OF) + timedelta(days=days_on)
    settings = load_settings(demo.folder / "propfee.toml")  # the settings beside the demo's
    conn = connect(demo.database)
    full = arrears.overdue(conn, as_of=day, settings=settings)
    totals = arrears.overdue_totals(conn, as_of=day, settings=settings)

    def seen(row):
        return (
            row.unit_id,
            row.party_id,
            row.outstanding_fen,
            row.oldest_due,
            row.days_overdue,
            row.history,
            row.tier,
            row.reason,
            row.promise_on,
            row.follow_up,
        )

    assert [seen(r) for r in totals] == [seen(r) for r in full] and full
    assert len({r.tier for r in full}) >= 2  # tiers that could differ
    edges = settings.dunning.buckets
    by_age = arrears.owed_by_age(conn, as_of=day, edges=edges)
    for i, (units, owed) in enumerate(by_age):
        assert units == len({r.unit_id for r in full if r.buckets[i]})
        assert owed == sum(r.buckets[i] for r in full)
    within = limitation.clocks_within(conn, as_of=day, settings=settings, within=90)
    ending = limitation.ending_within(conn, as_of=day, settings=settings, within=90)
    assert ending == within
    if days_on > 1000:
        assert ending  # the clocks of the demo's oldest debts are near their end
