"""Where the files shipped with propfee live: the templates (``templates/zh``, ``templates/en``)
and the demo's sample data (``sample_data/``).

In the source tree they sit at the top level, where a user looks for them; a wheel carries them
inside the package (``propfee/templates``, ``propfee/sample_data``, see pyproject.toml)."""

from __future__ import annotations

from pathlib import Path

from propfee.core.errors import PropfeeError
from propfee.core.i18n import _

_PACKAGE = Path(__file__).resolve().parent.parent


def shipped_dir(name: str) -> Path:
    """The folder ``name`` (``templates`` or ``sample_data``) of this installation."""
    for folder in (_PACKAGE / name, _PACKAGE.parent / name):
        if folder.is_dir():
            return folder
    raise PropfeeError(_("{name} is missing from this installation of propfee").format(name=name))
