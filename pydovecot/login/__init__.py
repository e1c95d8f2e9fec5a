"""What imap-login and pop3-login share: talking to auth before a session starts."""
