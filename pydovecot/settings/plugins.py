"""The plugin section: free-form settings read by mail plugins.

Declared as data from Dovecot 2.3.19; defaults are the text `doveconf -a` prints.
"""

from __future__ import annotations

from pydovecot.settings.model import Kind, SectionType, Setting

SETTINGS: tuple[Setting, ...] = (
    Setting(
        "plugin",
        Kind.STRLIST,
        "",
        "Free-form settings read by the mail plugins.",
        section="plugin",
        modules=(
            "doveadm",
            "fs-crypt",
            "imap",
            "imap-urlauth-worker",
            "lda",
            "lmtp",
            "mail",
            "pop3",
            "submission",
        ),
    ),
)

SECTION_TYPES: tuple[SectionType, ...] = (
    SectionType(
        name="plugin",
        key=None,
        settings=(),
        doc="Free-form key = value settings for mail plugins.",
        modules=(
            "doveadm",
            "fs-crypt",
            "imap",
            "imap-urlauth-worker",
            "lda",
            "lmtp",
            "mail",
            "pop3",
            "submission",
        ),
    ),
)
