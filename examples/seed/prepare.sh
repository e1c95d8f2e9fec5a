#!/bin/sh
# Prepare the seed example (run as root, like the seed: mail processes switch
# to uid/gid 10000). Safe to run again; the database starts from scratch.
#
#   database pydovecot_seed                     loaded from schema.sql (dropped
#                                               and recreated) on 127.0.0.1:3306
#   /tmp/pydovecot-seed/vmail/                  mail, owned by 10000:10000
#   /tmp/pydovecot-seed/dovecot-sql.conf.ext    symlink to this tree's copy
#   /tmp/pydovecot-seed/run/, state/, dovecot.log  created by the server
#
# SEED_NO_DB=1 leaves the database alone (load schema.sql yourself).
set -eu

DATA_DIR=/tmp/pydovecot-seed
TREE_DIR=$(CDPATH='' cd -- "$(dirname -- "$0")" && pwd)

if [ "$(id -u)" -ne 0 ]; then
    echo "prepare.sh: run as root (the seed's mail processes switch to uid 10000)" >&2
    exit 1
fi

if [ "${SEED_NO_DB:-0}" != 1 ]; then
    client=$(command -v mariadb || command -v mysql || true)
    if [ -z "$client" ]; then
        echo "prepare.sh: no mariadb or mysql client; load $TREE_DIR/schema.sql yourself" >&2
        exit 1
    fi
    # root with no password, as dovecot-sql.conf.ext connects.
    "$client" -h 127.0.0.1 -P 3306 -u root < "$TREE_DIR/schema.sql"
fi

mkdir -p "$DATA_DIR/vmail"
chmod 0755 "$DATA_DIR"
# The seed's /srv/vmail belonged to vmail (10000:10000), mode 0770.
chown 10000:10000 "$DATA_DIR/vmail"
chmod 0770 "$DATA_DIR/vmail"
# auth-sql.conf.ext names this fixed path; the link makes it this tree's file.
ln -sfn "$TREE_DIR/dovecot-sql.conf.ext" "$DATA_DIR/dovecot-sql.conf.ext"

echo "prepared $DATA_DIR"
