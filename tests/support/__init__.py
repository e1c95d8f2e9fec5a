"""Harness code the test packages and the benchmarks share: free ports and waits (``net``), our
server as a process (``server``), a private real Dovecot (``real_dovecot``) and throw-away MariaDB
databases (``mariadb``). Import as ``tests.support.<module>``; no fixtures live here, so each test
package keeps its own scopes and skips."""
