#!/bin/sh
# A decoder script for the tests, speaking as Dovecot's decode2text.sh does: without an argument
# it lists what it decodes ("<content-type> <extension>..." lines, then an empty line); with a
# content type it turns the attachment on stdin into text on stdout. It decodes rot13, so the
# words it yields appear nowhere in the raw message.
content_type=$1
if [ "$content_type" = "" ]; then
  printf 'application/x-rot13 r13 rot\napplication/x-broken brk\n\n'
  exit 0
fi
case "$content_type" in
  application/x-rot13) tr 'A-Za-z' 'N-ZA-Mn-za-m' ;;
  *) echo "Content-Type: $content_type not supported" >&2; exit 1 ;;
esac
