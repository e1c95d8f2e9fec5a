"""doveadm: Dovecot's administration tool, over pydovecot's library."""
