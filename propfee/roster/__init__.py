"""The owner roster: units, owners and tenants — read from other systems' files, kept, listed
and exported — and who answers for a unit on a day."""

from propfee.roster.units import (
    ImportReport,
    UnitView,
    apply_roster,
    export_units,
    has_units,
    import_roster,
    kind_label,
    list_units,
    load_map,
    natural_key,
    read_roster,
    resolve_kind,
    unit_detail,
)

__all__ = [
    "ImportReport",
    "UnitView",
    "apply_roster",
    "export_units",
    "has_units",
    "import_roster",
    "kind_label",
    "list_units",
    "load_map",
    "natural_key",
    "read_roster",
    "resolve_kind",
    "unit_detail",
]
