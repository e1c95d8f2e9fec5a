"""Dovecot 2.3 ``%``-variable expansion: ``%u``, ``%{user}``, modifiers, hashes and ``%{if;...}``.

Syntax of one reference (everything after ``%`` up to the variable)::

    %[-][0][width][.[0][-]width][modifiers]<letter>     e.g. %Lu  %2.256Nu  %-1.2u  %0.-2u
    %[...][modifiers]{long_name}                         e.g. %{user}  %U{service}
    %{env:NAME}  %{md5;rounds=2,format=base64:user}  %{if;%u;eq;bob;x;y}  %{userdb:name:default}

Behaviour follows the 2.3.19 binaries, which were used as the oracle (tests/varexpand/goldens):

* Values are byte strings in Dovecot, so widths, offsets, %R and %L/%U work on the UTF-8 bytes
  (%L and %U change ASCII letters only).  We do the same and decode with ``surrogateescape``.
* An unknown variable is not fatal: the text ``UNSUPPORTED_VARIABLE_<name>`` is produced in its
  place (for letters too) and the result carries an "Unknown variable" error; callers decide
  whether that is fatal (auth userdb templates fail, auth_username_format keeps the text).
* A ``%`` at the very end, or one followed only by width/modifiers, ends the expansion there.
* ``%{`` without any later ``}`` is the letter ``{`` (unknown) followed by literal text;
  ``%{a{b}`` with unbalanced braces takes the rest of the template as the variable name.

Which letters exist depends on where a setting is expanded (auth, mail user, login); those maps
are data here (``AUTH``, ``MAIL_USER``, ``LOGIN``, ``LOGIN_LOG_FORMAT``), each a
``VariableContext``.  The table handed to ``expand`` is keyed by long names.
"""

from __future__ import annotations

from .contexts import AUTH, LOGIN, LOGIN_LOG_FORMAT, MAIL_USER, Variable, VariableContext, split_user
from .expander import ProcessInfo, VarFunction, expand, field_function
from .modifiers import escape_backslash
from .parse import VarRef, has_variable, parse
from .result import Expansion, ExpansionError, VarExpandFailure

__all__ = [
    "AUTH",
    "LOGIN",
    "LOGIN_LOG_FORMAT",
    "MAIL_USER",
    "Expansion",
    "ExpansionError",
    "ProcessInfo",
    "VarExpandFailure",
    "VarFunction",
    "VarRef",
    "Variable",
    "VariableContext",
    "escape_backslash",
    "expand",
    "field_function",
    "has_variable",
    "parse",
    "split_user",
]
