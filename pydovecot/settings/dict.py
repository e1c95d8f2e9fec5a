"""Dict service settings and the dict section.

Declared as data from Dovecot 2.3.19; defaults are the text `doveconf -a` prints.
"""

from __future__ import annotations

from pydovecot.settings.model import Kind, SectionType, Setting

SETTINGS: tuple[Setting, ...] = (
    Setting(
        "dict",
        Kind.STRLIST,
        "",
        "Named dictionaries the dict service serves, as name = driver:args.",
        section="dict",
        modules=("dict",),
    ),
    Setting(
        "dict_db_config",
        Kind.STR,
        "",
        "Berkeley DB configuration file used by the dict service's db backends.",
        modules=("dict",),
    ),
)

SECTION_TYPES: tuple[SectionType, ...] = (
    SectionType(
        name="dict",
        key=None,
        settings=(),
        doc="Named dictionaries served by the dict service (name = driver:args).",
        modules=("dict",),
    ),
)
