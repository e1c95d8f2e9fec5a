-- Database for the seed example: the Postfixadmin tables the seed's
-- dovecot-sql.conf.ext queries (mailbox), plus the two Postfixadmin keeps
-- beside it (domain, alias) so Postfix-style lookups have their usual shape.
-- Column names and types follow Postfixadmin 3.x; unused columns are omitted.
--
-- Load with:  mariadb -h 127.0.0.1 -P 3306 -u root < examples/seed/schema.sql
-- Running it again starts from scratch (the database is recreated).

DROP DATABASE IF EXISTS pydovecot_seed;
CREATE DATABASE pydovecot_seed CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci;
USE pydovecot_seed;

-- Mail domains served.
CREATE TABLE domain (
  domain      VARCHAR(255) NOT NULL,
  description VARCHAR(255) NOT NULL DEFAULT '',
  aliases     INT(10)      NOT NULL DEFAULT 0,   -- max aliases, 0 = unlimited
  mailboxes   INT(10)      NOT NULL DEFAULT 0,   -- max mailboxes, 0 = unlimited
  maxquota    BIGINT(20)   NOT NULL DEFAULT 0,   -- max quota per mailbox, MB
  quota       BIGINT(20)   NOT NULL DEFAULT 0,   -- quota for the domain, MB
  transport   VARCHAR(255) NOT NULL DEFAULT '',
  backupmx    TINYINT(1)   NOT NULL DEFAULT 0,
  created     DATETIME     NOT NULL DEFAULT CURRENT_TIMESTAMP,
  modified    DATETIME     NOT NULL DEFAULT CURRENT_TIMESTAMP,
  active      TINYINT(1)   NOT NULL DEFAULT 1,
  PRIMARY KEY (domain)
) ENGINE=InnoDB COMMENT='Postfix Admin - Virtual Domains';

-- One row per mail account. Dovecot reads username, password (with its
-- {SCHEME} prefix), maildir (relative to the vmail root), quota (bytes)
-- and active.
CREATE TABLE mailbox (
  username   VARCHAR(255) NOT NULL,
  password   VARCHAR(255) NOT NULL,
  name       VARCHAR(255) NOT NULL DEFAULT '',
  maildir    VARCHAR(255) NOT NULL,
  quota      BIGINT(20)   NOT NULL DEFAULT 0,
  local_part VARCHAR(255) NOT NULL,
  domain     VARCHAR(255) NOT NULL,
  created    DATETIME     NOT NULL DEFAULT CURRENT_TIMESTAMP,
  modified   DATETIME     NOT NULL DEFAULT CURRENT_TIMESTAMP,
  active     TINYINT(1)   NOT NULL DEFAULT 1,
  PRIMARY KEY (username),
  KEY domain (domain)
) ENGINE=InnoDB COMMENT='Postfix Admin - Virtual Mailboxes';

-- Address rewriting for the MTA: mail to "address" goes to the
-- comma-separated "goto" list. Postfixadmin adds one self-alias per mailbox.
CREATE TABLE alias (
  address  VARCHAR(255) NOT NULL,
  goto     TEXT         NOT NULL,
  domain   VARCHAR(255) NOT NULL,
  created  DATETIME     NOT NULL DEFAULT CURRENT_TIMESTAMP,
  modified DATETIME     NOT NULL DEFAULT CURRENT_TIMESTAMP,
  active   TINYINT(1)   NOT NULL DEFAULT 1,
  PRIMARY KEY (address),
  KEY domain (domain)
) ENGINE=InnoDB COMMENT='Postfix Admin - Virtual Aliases';

INSERT INTO domain (domain, description) VALUES
  ('example.test', 'pydovecot seed demo domain');

-- Demo users. Passwords (made with doveadm pw -s SHA512-CRYPT):
--   alice@example.test  alice-seed   quota 1 GiB
--   bob@example.test    bob-seed     quota 0 (no limit)
INSERT INTO mailbox (username, password, name, maildir, quota, local_part, domain) VALUES
  ('alice@example.test',
   '{SHA512-CRYPT}$6$TewJZ7mY/Oa4AIy8$W6QwsQARhfRq9Au.mOi6dMkwPfttlnILmDS4bybAEC1/9KnJnNOYf1Jqn3CqgOr3ydFtstcbrG13OHEWvPOcg/',
   'Alice Demo', 'example.test/alice/', 1073741824, 'alice', 'example.test'),
  ('bob@example.test',
   '{SHA512-CRYPT}$6$tv29K6JY/rvw3AST$86eITBeK2Wqkesz6/Xqu9bsD9C2lmWf3R/M5EtPYemjkiC1Y5sYDxeXruszfIWGo9Iogt8q6m.PaqeO063huQ0',
   'Bob Demo', 'example.test/bob/', 0, 'bob', 'example.test');

INSERT INTO alias (address, goto, domain) VALUES
  ('alice@example.test', 'alice@example.test', 'example.test'),
  ('bob@example.test', 'bob@example.test', 'example.test'),
  ('postmaster@example.test', 'alice@example.test', 'example.test');
