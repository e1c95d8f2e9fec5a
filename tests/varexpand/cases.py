"""Templates and usernames expanded by the real Dovecot to record the goldens.

Each template becomes the auth_username_format of one protocol in the oracle's config (see
oracle.py), so templates may contain spaces, quotes and braces; they must not contain '$'
(dovecot.conf expands $setting references) or newlines.
"""

from __future__ import annotations

USERNAMES: tuple[str, ...] = (
    "First.Last@Sub.Example.COM",
    "user",
    "a@b@c",
    "12345",
    "Jürgen.Müller@Bücher.example",
    "O'Brien\"q\\x@q.example",
    "trailing  ",
    "x" * 150 + "@example.org",
)

_LETTERS = "abcdefghijklmnopqrstuvwxyzABCFGIJKOPQSVWYZ!%&*?/"
_LONG_NAMES = (
    "user username domain service home lip rip local_ip remote_ip lport rport local_port remote_port "
    "pid password mech mechanism secured cert login_user login_username login_domain session "
    "real_lip real_rip real_lport real_rport real_local_ip real_remote_ip real_local_port "
    "real_remote_port domain_first domain_last master_user session_pid orig_user orig_username "
    "orig_domain original_user original_username original_domain auth_user auth_username "
    "auth_domain local_name client_id uid gid hostname client_pid id protocol mail_pid ssl_security"
).split()

TEMPLATES: tuple[str, ...] = (
    # every letter, one at a time, and all long names
    *(f"[%{c}]" for c in _LETTERS),
    *(f"[%{{{name}}}]" for name in _LONG_NAMES),
    # modifiers
    "%Lu", "%Uu", "%Eu", "%Xu", "%Ru", "%Hu", "%Nu", "%Mu", "%Du", "%Tu", "%Tu|",
    "%Xn", "%X{pid}", "%X{lport}", "%Ln", "%1Lu", "%LRu", "%RLu", "%URn", "%MLu", "%LMu", "%ULu",
    "%D{domain}", "%E{domain}", "%Ls %Us", "%U{service}", "%L{user}", "%TLu", "%RRu",
    "%LLLLLLLLLLu", "%LLLLLLLLLLLu",
    # substrings and padding
    "%1n", "%2u", "%3.1n", "%2.1u", "%-1.2u", "%.3u", "%0.1u", "%-2.2u", "%04u", "%1.04u",
    "%0.-2u", "%.-1u", "%-3u", "%-5.-1u", "%10.2u", "%200.2u", "%-100u", "%-100.3u", "%08.3u",
    "%00u", "%0.0u", "%3.0u", "%.0u", "%010n", "%4{domain}", "%-3.3{domain}", "%1.1L{user}",
    "%04{lport}", "%0.-100u", "%3.-2u", "%.-0u",
    # hashes mod N
    "%256Nu", "%2.256Nu", "%4.256Hu", "%256Hu", "%3RHu", "%Hn", "%Nn", "%16N{domain}",
    "%.256Nu", "%8.Nu", "%-2.256Nu", "%0.256Nu", "%1Nu", "%1000000Nu", "%08.10Hu", "%2.256HLu",
    "%2.256NLu", "%L2.256Nu",
    # hash functions
    "%{md5:user}", "%{md4:user}", "%{sha1:user}", "%{sha256:username}", "%{sha384:user}",
    "%{sha512:user}", "%{sha3-256:user}", "%{sha3-512:user}", "%{size:user}", "%{pkcs5:user}",
    "%{md5;truncate=32:user}", "%{sha256;truncate=12:user}", "%{sha1;truncate=7:user}",
    "%{md5;truncate=999:user}", "%{md5;truncate=0:user}", "%{sha1;truncate=1:user}",
    "%{md5;rounds=3:user}", "%{sha256;rounds=2,format=base64:user}", "%{md5;format=hexuc:user}",
    "%{md5;format=base64:user}", "%{md5;format=hex:user}", "%{md5;salt=abc:user}",
    "%{md5;salt=%d:user}", "%{md5;salt=%d,rounds=5:user}", "%{sha1;rounds=2,salt=x:user}",
    "%{pkcs5;rounds=10:user}", "%{pkcs5;rounds=1,salt=s,truncate=64:user}",
    "%{pkcs5;format=base64,rounds=3,truncate=20:domain}", "%{size;rounds=2:user}",
    "%{md5;format=bogus:user}", "%{md5;rounds=0:user}", "%{md5;rounds=x:user}",
    "%{md5;truncate=x:user}", "%{md5;foo:user}", "%{md5;foo=bar:user}", "%{MD5:user}",
    "%{Md5;truncate=8:user}", "%{md5:nosuch}", "%{md5:env:VXTEST}", "%{md5}", "%{md5:}",
    "%U{md5:user}", "%2.256N{sha1:user}", "%5{sha1:user}", "%{sha1:lip}", "%{md5:userdb:x:dflt}",
    "%{sha256;truncate=12,format=base64:user}", "%{md5;salt=:user}", "%{pkcs5:local_ip}",
    "%{sha1;salt=%{md5:user}:user}",
    # env, built-ins, functions
    "%{env:VXTEST}", "%{env:VXEMPTY}", "%{env:NOPE}", "%{env}", "%{ENV:VXTEST}",
    "%U{env:VXTEST}", "%{env:VXTEST:x}", "%3{env:VXTEST}", "%{uid}", "%{gid}", "%{UID}",
    "%{hostname}", "%U{hostname}", "%{userdb:foo:def}", "%{passdb:foo}", "%{userdb:foo:a:b}",
    "%{userdb}", "%{passdb:foo:}",
    # conditionals
    "%{if;%u;eq;testuser;INVALID;%Uu}", "%{if;%{if;%u;eq;testuser;a;b};eq;a;INVALID;%Uu}",
    "%{if;1;==;1;yes;no}", "%{if;1;<;2;y;n}", "%{if;2;<=;2;y;n}", "%{if;3;>;2;y;n}",
    "%{if;3;>=;4;y;n}", "%{if;3;!=;4;y;n}", "%{if;a;<;2;y;n}", "%{if;1;<;b;y;n}",
    "%{if;+5;==;5;y;n}", "%{if;-5;<;0;y;n}", "%{if; 5;==;5;y;n}", "%{if;%n;*;F*;y;n}",
    "%{if;%n;!*;F?rst*;y;n}", "%{if;%u;*;*@*;has-domain;no-domain}", "%{if;%d;~;^Sub\\.;y;n}",
    "%{if;%u;!~;example;y;n}", "%{if;%u;~;[0-9]+;digits;other}", "%{if;%u;~;(;y;n}",
    "%{if;a;eq;a;y}", "%{if;a;eq;b;y}", "%{if;a;eq;a}", "%{if;a;eq;b;y;n;z}", "%{if;a;xx;b;y;n}",
    "%{if}", "%{if;a\\;b;eq;a\\;b;y;n}", "%{if;%u;eq;x;\\%u;\\%\\%}", "%{if;a:b;eq;a;y;n}",
    "%{if;a\\:b;eq;a\\:b;y;n}", "%{if;a;eq;a;%{md5:user};n}", "%{if;%{env:VXTEST};eq;hello_world;E;N}",
    "%{IF;a;eq;a;y;n}", "%U{if;a;eq;a;yes;no}", "%2{if;a;eq;a;yes;no}", "%{if;;eq;;empty;nonempty}",
    "%{if;a;lt;b;y;n}", "%{if;b;ge;a;y;n}", "%{if;a;le;a;y;n}", "%{if;a;gt;b;y;n}",
    "%{if;a;ne;b;y;n}", "%{if;%n;eq;user;nodomain;%d}", "%{if;%{foo};eq;x;y;n}", "%{if;%q;eq;x;y;n}",
    "%{if;%u;eq;x;y;%{if;%n;eq;user;inner-y;inner-n}}", "%{if;x;eq;x;a\\\\b;n}",
    "%{if;%Lu;eq;user;lower;other}", "%{if;%{md5:user};ne;x;%{sha1;truncate=8:user};n}",
    "%{if;a;eq;a;y y;n n}", "%{if;a;eq;a;%u{x;n}", "%{if;a;*;;y;n}",
    "%{if;9223372036854775808;>;1;y;n}", "%{if;-9223372036854775808;<;1;y;n}",
    # edge cases
    "abc%", "abc%L", "abc%2.3", "abc%-", "%{", "x%{user", "%{user}}", "%{a{b}c}", "%{a{b}",
    "%{}", "%{ user }", "%{us\\}er}", "%%u", "%%%u", "100%%", "%-u", "%-5u", "%{%u}", "%é",
    "ü%Uuü", "%{user}%{username}%{domain}", "%u%u%u", "no variables at all", "",
    "%{a\\{b}", "%{a\\}", "}{%{user}{}", "%{{user}}", "%0", "%.", "%5.", "%1.%u", "%U%u",
    "%X{hostname}", "%M{}", "%L{}", "%{:}", "%{:x}", "%{if:x}", "%{md5;truncate=8}",
    "x" * 1000 + "%u" + "y" * 1000,
    "%u" * 40,
    # unknown or failed variables are written without modifiers, substrings or padding
    "%3q", "%-3.2{foo}", "%M{md5:nosuch}", "%X{foo}", "%04q", "%M{SHA1:user}",
    "%M{if;%q;eq;x;y;n}", "%M{if;a;xx;b;y;n}", "%3{md5;rounds=x:user}", "%-2q",
    "%2.256N{if;a;xx;b;y;n}", "%4.256Nq", "%U{foo}x%Uu", "%M{env:NOPE}", "%M{userdb:x}",
    "%{md5:SHA1:user}", "%{md5:if;a;xx;b;y;n}", "%{md5:if;%q;eq;x;y;n}",
)

# Templates (without spaces: they go into a userdb static args line) whose error message Dovecot
# logs; recorded for one username into goldens/errors.json.
ERROR_TEMPLATES: tuple[str, ...] = (
    "%u", "%q", "%q%{foo}", "%{foo}%q", "%{foo}%{bar}", "%{if;a;xx;b;y;n}%q", "%q%{if;%u;eq;a;b;c}",
    "%{md5;rounds=0:user}", "%{md5;rounds=x:user}", "%{SHA1:user}", "%{if;a;eq}", "%{if}",
    "%{if;a;eq;b;c;d;e}", "%{if;a;<;2;y;n}", "%{if;1;<;b;y;n}", "%{md5;format=bogus:user}",
    "%{md5;truncate=x:user}", "%{md5:nosuch}", "%{if;%q;eq;x;y;n}",
    "%{if;a;xx;b;y;n}%{md5;rounds=0:user}", "%{foo}%{if;a;eq;a;y;n}", "%{if;a;eq;a;y;n}%q",
    "%{md5;salt=%q:user}", "%{md5;salt=%q,rounds=0:user}", "%{md5;rounds=0,salt=%q:user}",
    "%{ENV:x}", "%{a{b}", "%{", "%L{nope}", "%{userdb:x}", "%{if;%u;*;*@*;%q;%{foo}}",
)
