"""The acl plugin (``mail_plugins = acl``): vfile ACLs, rights, and their enforcement."""

from .plugin import AclPlugin, ExpungeDenied
from .rights import AclRule, Identifier, Requester, effective_rights, parse_rights, rights_string

__all__ = ["AclPlugin", "AclRule", "ExpungeDenied", "Identifier", "Requester", "effective_rights", "parse_rights",
           "rights_string"]
