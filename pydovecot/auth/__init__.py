"""Authentication: passdb/userdb drivers, password schemes, SASL mechanisms, the auth service."""
