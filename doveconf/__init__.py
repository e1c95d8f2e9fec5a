"""doveconf: prints and checks a Dovecot configuration tree, as Dovecot 2.3's doveconf does."""
