"""Files that drivers read on their own: ``dovecot-sql.conf.ext`` (passdb/userdb sql) and
dict-sql map files.  Dovecot reads them with its older settings reader (lib-settings);
we read them with the same grammar as dovecot.conf and report errors the same way."""
