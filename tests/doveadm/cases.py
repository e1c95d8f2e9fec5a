"""The doveadm command lines we compare with real doveadm, and how to run one.

``compare`` says what must match: "exact" (stdout, stderr, exit code), "usage" (the
overview: header identical and every line we print present in real's, in order),
"hash" (random salt: same exit code and stderr, stdout a hash our schemes verify),
"man" (only the exit code and the start of stdout; needs man(1) and the man pages).
"""

from __future__ import annotations

import subprocess
from dataclasses import asdict, dataclass
from pathlib import Path


@dataclass(frozen=True)
class Case:
    args: tuple[str, ...]
    stdin: str = ""
    compare: str = "exact"
    own_config: bool = False  # the args choose the configuration themselves

    def as_json(self) -> dict:
        return asdict(self)


def _exact(*args: str, stdin: str = "") -> Case:
    return Case(tuple(args), stdin)


CASES: list[Case] = [
    # no command, unknown command, help
    Case((), compare="usage"), Case(("help",), compare="usage"), Case(("nosuch",), compare="usage"),
    Case(("-fjson",), compare="usage"), Case(("nosuch", "-l"), compare="usage"),
    _exact("help", "pw", "x"),
    Case(("help", "pw"), compare="man"), Case(("help", "nosuch"), compare="man"),
    # global options
    _exact("-Z"), _exact("-f"), _exact("-o"), _exact("-c"), _exact("-i"), _exact("-f", "bogus", "pw", "-l"),
    _exact("-f", "bogus", "-Z"), _exact("-Z", "-f", "bogus"), _exact("-i", "foo", "pw"),
    _exact("-o", "foo", "pw", "-l"), _exact("-o", "a=b", "pw", "-l"), _exact("-O", "pw", "-p", "x", "-s", "plain"),
    _exact("-v", "pw", "-p", "x", "-s", "plain"), _exact("-k", "pw", "-p", "x", "-s", "plain"),
    _exact("--", "pw", "-p", "x", "-s", "plain"), _exact("-h", "pw", "-l"),
    Case(("-c", "/nonexistent", "pw", "-l"), own_config=True), Case(("-c", "/nonexistent"), own_config=True),
    Case(("-c", "/nonexistent", "-o", "foo", "pw"), own_config=True),
    # formatters around plain output
    *[_exact("-f", fmt, "pw", "-p", "x", "-s", "sha") for fmt in ("flow", "tab", "table", "pager", "json", "formatted")],
    _exact("-f", "json", "pw", "-l"), _exact("-f", "json", "-f", "bogus", "pw", "-l"),
    _exact("-h", "-f", "tab", "pw", "-p", "x", "-s", "sha"), _exact("-f", "json", "pw", "-s", "NOSUCH", "-p", "x"),
    _exact("-f", "json", "pw", "-t", "{PLAIN}x", "-p", "x"),
    # pw: listing and generation
    _exact("pw", "-l"), _exact("pw", "--list"), _exact("pw", "-lsSHA"), _exact("pw", "-l", "--"),
    _exact("pw", "-l", "-p", "x"), _exact("pw", "-s", "sha", "-p", "x"), _exact("pw", "-s", "SHA256.HEX", "-p", "pässwörd"),
    _exact("pw", "--scheme=SHA", "--plaintext", "x"), _exact("pw", "--sch", "SHA", "-p", "x"),
    _exact("pw", "--p", "x", "-s", "ssha.b64", "-t", "{SSHA}3rcheA06svmVDtJSA/Af7xzu80wbdu7A"),
    _exact("pw", "-pfoo", "-s", "plain"), _exact("pw", "-p", "x", "-p", "y", "-s", "plain"),
    _exact("pw", "-p", "x", "-s", "sha", "-s", "cram-md5"), _exact("pw", "-s", "sha", "-p", "x", "-V"),
    _exact("pw", "-s", "PLAIN-TRUNC", "-p", "xyz", "-V"), _exact("pw", "-s", "NOSUCH", "-p", "x"),
    _exact("pw", "-s", "PLAIN.bogus", "-p", "x"), _exact("pw", "-s", "digest-md5", "-p", "x"),
    _exact("pw", "-s", "digest-md5", "-p", "x", "-u", "a@b@c"), _exact("pw", "-s", "digest-md5.b64", "-p", "x", "-u", ""),
    _exact("pw", "-s", "CRAM-MD5", "-p", "x", "-V"), _exact("pw", "-s", "ARGON2I", "-r", "2", "-p", "x"),
    # pw: testing hashes
    _exact("pw", "-t", "{PLAIN}x", "-p", "x"), _exact("pw", "-t", "{PLAIN}x", "-p", "y"), _exact("pw", "-t", "x", "-p", "x"),
    _exact("pw", "-t", "{NOSUCH}x", "-p", "x"), _exact("pw", "-t", "{SHA}EfatjsUqKYSrqv18O1FlA3hcIHI", "-p", "x"),
    _exact("pw", "-t", "{DIGEST-MD5}a224c940ed3253e58e75b5abd3a3c0a1", "-p", "x"),
    _exact("pw", "-t", "{DIGEST-MD5}a224c940ed3253e58e75b5abd3a3c0a1", "-p", "x", "-u", "a@b@c"),
    _exact("pw", "--test-hash", "{PLAIN}x", "-p", "x"), _exact("pw", "-t", "$1$Lg9l7ZPk$ivzH1IwTA1pdgzKInTMJA.$x", "-p", "x"),
    _exact("pw", "-t", "{SSHA}aGVsbG8=", "-p", "x"), _exact("pw", "-t", "{PLAIN}x", "-p", "x", "-s", "NOSUCH"),
    _exact("pw", "-V", "-s", "sha", "-t", "{PLAIN}x", "-p", "x"),
    # pw: option errors
    _exact("pw", "-Z"), _exact("pw", "--help"), _exact("pw", "-t"), _exact("pw", "-p"), _exact("pw", "-u"),
    _exact("pw", "-lp"), _exact("pw", "--list=3"), _exact("pw", "--plaintext"), _exact("pw", "--zzz"),
    _exact("pw", "--=x"), _exact("pw", "x"), _exact("pw", "x", "y"), _exact("pw", "x", "-l"), _exact("pw", "--", "-l"),
    _exact("pw", "-"), _exact("pw", "-p", "x", "-s", "plain", "-u"),
    # pw: rounds parsing
    _exact("pw", "-r", "99999999999", "-p", "x", "-s", "sha"), _exact("pw", "-r", "4294967296", "-p", "x", "-s", "sha"),
    _exact("pw", "-r", "4294967295", "-p", "x", "-s", "sha"), _exact("pw", "-r", "abc", "-p", "x", "-s", "sha"),
    _exact("pw", "-r", "9223372036854775807", "-p", "x", "-s", "sha"),
    _exact("pw", "-r", "9223372036854775808", "-p", "x", "-s", "sha"), _exact("pw", "-l", "-r", "99999999999"),
    _exact("pw", "-r", "", "-p", "x", "-s", "sha"),
    # pw: reading the password when -p is missing (stdin is not a terminal here)
    _exact("pw", "-s", "sha", stdin="a\na\n"), _exact("pw", "-s", "sha", stdin="a\nb\n"),
    _exact("pw", "-s", "sha", stdin="a\nb\nc\nd\ne\nf\n"), _exact("pw", "-s", "plain", stdin="abc"),
    _exact("pw", "-s", "plain", stdin="a\r\na\n"), _exact("pw", "-s", "plain", stdin="pässwörd\npässwörd\n"),
    _exact("pw", "-s", "plain"), _exact("pw", "-t", "{PLAIN}x", stdin="x\n"), _exact("pw", "-t", "{PLAIN}x"),
    _exact("pw", "-t", "{PLAIN}x", stdin="y\nx\n"),
    # pw: random salts
    Case(("pw", "-p", "x"), compare="hash"), Case(("pw", "-p", "x", "-r", "4"), compare="hash"),
    Case(("pw", "-p", "x", "-s", "ssha512", "-V"), compare="hash"), Case(("pw", "-s", "sha512-crypt", "-r", "1200",
                                                                           "-p", "pässwörd"), compare="hash"),
    Case(("pw", "-s", "md5", "-p", "x"), compare="hash"), Case(("pw", "-s", "crypt", "-p", "x", "-V"), compare="hash"),
]


def run_case(command: list[str], case: Case, workdir: Path, executable: str | None = None) -> dict:
    """Run ``command`` (real or ours) for ``case``; returns stdout, stderr and exit code.

    Real doveadm runs with argv[0] "doveadm" (as from $PATH), since getopt's messages
    name the program by argv[0]."""
    config = workdir / "dovecot.conf"
    if not config.exists():
        # A private base_dir keeps doveadm away from any running dovecot's sockets.
        config.write_text(f"base_dir = {workdir}/run\n")
    argv = [*command, *(() if case.own_config else ("-c", str(config))), *case.args]
    done = subprocess.run(argv, input=case.stdin.encode(), capture_output=True, timeout=120, cwd=workdir,
                          executable=executable)
    return {"stdout": done.stdout.decode("utf-8", "replace").replace(str(config), "<CONFIG>"),
            "stderr": done.stderr.decode("utf-8", "replace").replace(str(config), "<CONFIG>"),
            "exit": done.returncode}
