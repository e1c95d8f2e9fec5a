#!/bin/sh
# Prepare the quickstart's data directory. Safe to run again; it overwrites
# only what it created. Run it as the account that will run the server.
#
#   /tmp/pydovecot-quickstart/users       copy of ./users (the passwd-file)
#   /tmp/pydovecot-quickstart/mail/       users' homes and Maildirs
#   /tmp/pydovecot-quickstart/local.conf  who the server's processes run as
#   /tmp/pydovecot-quickstart/run/        base_dir, created by the server
#   /tmp/pydovecot-quickstart/dovecot.log log_path, written by the server
set -eu

DATA_DIR=/tmp/pydovecot-quickstart
TREE_DIR=$(CDPATH='' cd -- "$(dirname -- "$0")" && pwd)

mkdir -p "$DATA_DIR/mail"
# Readable by all: when started as root, the auth process reads the users
# file as the unprivileged "dovecot" account.
chmod 0755 "$DATA_DIR"
cp "$TREE_DIR/users" "$DATA_DIR/users"
chmod 0644 "$DATA_DIR/users"

if [ "$(id -u)" -eq 0 ]; then
    # Dovecot never opens mail as root: mail processes switch to an
    # unprivileged account, which must own the mail directory.
    mail_user=nobody
    mail_group=$(id -gn nobody)
    chown "$mail_user:$mail_group" "$DATA_DIR/mail"
    chmod 0700 "$DATA_DIR/mail"
    cat > "$DATA_DIR/local.conf" <<EOF
# Written by examples/quickstart/prepare.sh for a run as root.
# Mail processes switch to this account; it owns $DATA_DIR/mail.
mail_uid = $mail_user
mail_gid = $mail_group
EOF
else
    # Without root there is no switching accounts and no chroot: every
    # service runs as the invoking user, so the accounts the services
    # would switch to are all set to that user, and the login processes'
    # chroot (which needs root) is turned off.
    me=$(id -un)
    my_group=$(id -gn)
    chmod 0700 "$DATA_DIR/mail"
    cat > "$DATA_DIR/local.conf" <<EOF
# Written by examples/quickstart/prepare.sh for a run as $me.
default_login_user = $me
default_internal_user = $me
default_internal_group = $my_group
service imap-login {
  chroot =
}
service pop3-login {
  chroot =
}
service anvil {
  chroot =
}
EOF
fi

echo "prepared $DATA_DIR (local.conf for $(id -un))"
