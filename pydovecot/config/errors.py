"""Configuration errors, each with the place it was found."""

from __future__ import annotations


class ConfigError(Exception):
    """An error in a configuration tree.

    ``str()`` gives the text Dovecot prints after ``Fatal: ``: with a file and line when the
    error belongs to one ("Error in configuration file PATH line N: ..."), with only the
    file for whole-tree errors ("Error in configuration file PATH: ..."), or bare for
    errors that come before any file is read ("open(PATH) failed: ...").
    """

    def __init__(self, message: str, path: str | None = None, line: int | None = None,
                 *, whole_file: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.path = path
        self.line = line
        self.whole_file = whole_file

    def __str__(self) -> str:
        if self.path is None:
            return self.message
        if self.line is None:
            return f"Error in configuration file {self.path}: {self.message}"
        return f"Error in configuration file {self.path} line {self.line}: {self.message}"
