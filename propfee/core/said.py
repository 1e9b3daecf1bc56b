"""A sentence kept in a module constant and said in the reader's language each time it is
shown: ``RULE = Said(N_("…"))``; ``f"{RULE}"``, ``str(RULE)`` and ``"…" + RULE`` give the text
in the active language, so a constant imported elsewhere follows ``--lang`` too."""

from __future__ import annotations

from propfee.core.i18n import _


class Said:
    def __init__(self, msgid: str) -> None:
        self.msgid = msgid

    def __str__(self) -> str:
        return _(self.msgid)

    def __format__(self, spec: str) -> str:
        return format(str(self), spec)

    def __add__(self, other: str) -> str:
        return str(self) + other

    def __radd__(self, other: str) -> str:
        return other + str(self)

    def __repr__(self) -> str:
        return repr(str(self))
