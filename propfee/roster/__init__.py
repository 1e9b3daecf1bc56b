"""The owner roster: units, owners and tenants — read from other systems' files, kept, listed
and exported — and who answers for a unit on a day."""

from propfee.roster.contacts import Contact, change_contact, gender_label, relation_label
from propfee.roster.edits import EditResult, move_in, move_out, sell, set_owner, set_unit
from propfee.roster.feedraft import FeeDraft, draft, summary, write_draft
from propfee.roster.merge import ImportReport, apply_roster, import_roster
from propfee.roster.migration import write_report
from propfee.roster.reading import load_map, read_roster, shipped_profiles
from propfee.roster.units import (
    FIELDS,
    Event,
    Occupancy,
    UnitDetail,
    UnitView,
    building_label,
    export_units,
    field_label,
    has_units,
    kind_label,
    list_units,
    natural_key,
    party_events,
    print_key,
    resolve_code,
    resolve_kind,
    unit_detail,
    value_text,
)

__all__ = [
    "FIELDS",
    "Contact",
    "EditResult",
    "Event",
    "FeeDraft",
    "ImportReport",
    "Occupancy",
    "UnitDetail",
    "UnitView",
    "apply_roster",
    "building_label",
    "change_contact",
    "draft",
    "export_units",
    "field_label",
    "gender_label",
    "has_units",
    "import_roster",
    "kind_label",
    "list_units",
    "load_map",
    "move_in",
    "move_out",
    "natural_key",
    "party_events",
    "print_key",
    "read_roster",
    "relation_label",
    "resolve_code",
    "resolve_kind",
    "sell",
    "set_owner",
    "set_unit",
    "shipped_profiles",
    "summary",
    "unit_detail",
    "value_text",
    "write_draft",
    "write_report",
]
