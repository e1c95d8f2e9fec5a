"""Mail plugins (``mail_plugins``): the hook API and the plugins we implement."""
