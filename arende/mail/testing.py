"""Real mail servers for the tests and the benchmark: Dovecot (IMAP) on loopback with a
configuration of its own in a temporary folder, and aiosmtpd as an SMTP receiver.

Dovecot accepts any user name with the password ``DOVECOT_PASSWORD`` (a static passdb), keeps
each user's mail as a maildir in the folder, and also accepts XOAUTH2 bearer tokens that are
JWTs signed (HS256) with ``jwt_key``: its oauth2 passdb validates them locally, the way
Microsoft 365 validates the tokens from Entra ID.
"""

from __future__ import annotations

import base64
import contextlib
import getpass
import grp
import hashlib
import hmac
import json
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

DOVECOT_PASSWORD = "dovecot-test-password"  # noqa: S105 - a throwaway test server's password


def dovecot_binary() -> str | None:
    return shutil.which("dovecot") or (
        "/usr/sbin/dovecot" if Path("/usr/sbin/dovecot").exists() else None
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class DovecotServer:
    """``with DovecotServer() as server:`` — IMAP on ``127.0.0.1:server.port``."""

    def __init__(self, root: Path | None = None) -> None:
        self._own_root = root is None
        self.root = Path(root or tempfile.mkdtemp(prefix="arende-dovecot-"))
        self.port = free_port()
        self.jwt_key = os.urandom(32)
        self.binary = dovecot_binary()
        self.process: subprocess.Popen | None = None

    def _config(self) -> str:
        root = self.root
        if os.getuid() == 0:
            mail_user, mail_group = "nobody", grp.getgrgid(pwd.getpwnam("nobody").pw_gid).gr_name
            login_user = "dovenull" if _user_exists("dovenull") else "nobody"
            internal_user = "dovecot" if _user_exists("dovecot") else "nobody"
        else:
            mail_user = login_user = internal_user = getpass.getuser()
            mail_group = grp.getgrgid(os.getgid()).gr_name
        return f"""
protocols = imap
listen = 127.0.0.1
base_dir = {root}/run
state_dir = {root}/state
instance_name = arende-test-{self.port}
log_path = {root}/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login xoauth2 oauthbearer
mail_location = maildir:{root}/mail/%u
mail_uid = {mail_user}
mail_gid = {mail_group}
first_valid_uid = 0
first_valid_gid = 0
default_login_user = {login_user}
default_internal_user = {internal_user}
default_internal_group = {mail_group}
mail_max_userip_connections = 100
mail_fsync = never
protocol imap {{
  mail_max_userip_connections = 100
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {self.port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
service stats {{
  unix_listener stats-reader {{
    mode = 0666
  }}
  unix_listener stats-writer {{
    mode = 0666
  }}
}}
passdb {{
  driver = static
  mechanisms = plain login
  args = password={DOVECOT_PASSWORD}
}}
passdb {{
  driver = oauth2
  mechanisms = xoauth2 oauthbearer
  args = {root}/oauth2.conf
}}
userdb {{
  driver = static
  args = uid={mail_user} gid={mail_group} home={root}/mail/%u
}}
"""

    def start(self) -> DovecotServer:
        if self.binary is None:
            raise RuntimeError("Dovecot is not installed (apt-get install dovecot-imapd).")
        for sub in ("run", "state", "mail", "keys/default/HS256"):
            (self.root / sub).mkdir(parents=True, exist_ok=True)
        key = base64.b64encode(self.jwt_key).decode()
        (self.root / "keys/default/HS256/default").write_text(key)
        (self.root / "oauth2.conf").write_text(
            "introspection_mode = local\n"
            f"local_validation_key_dict = fs:posix:prefix={self.root}/keys/\n"
            "username_attribute = upn\n"
        )
        (self.root / "dovecot.conf").write_text(self._config())
        if os.getuid() == 0:
            os.chmod(self.root, 0o755)  # noqa: S103 - a throwaway test folder
            os.chmod(self.root / "mail", 0o777)  # noqa: S103
            for path in (self.root / "keys").rglob("*"):
                os.chmod(path, 0o755 if path.is_dir() else 0o644)
        # In the foreground (-F), as our child: stopping it is terminating one process we own.
        self.process = subprocess.Popen(  # noqa: S603
            [self.binary, "-F", "-c", str(self.root / "dovecot.conf")],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                log = self.root / "dovecot.log"
                detail = log.read_text()[-2000:] if log.exists() else ""
                raise RuntimeError(f"Dovecot stopped at start-up: {detail}")
            with (
                contextlib.suppress(OSError),
                socket.create_connection(("127.0.0.1", self.port), timeout=1) as sock,
            ):
                if sock.recv(100).startswith(b"* OK"):
                    return self
            time.sleep(0.05)
        raise RuntimeError(f"Dovecot did not start; see {self.root}/dovecot.log")

    def stop(self) -> None:
        process = getattr(self, "process", None)
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)
        if self._own_root:
            shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> DovecotServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def token(self, username: str, *, lifetime: int = 600, key: bytes | None = None) -> str:
        """A bearer token Dovecot accepts for ``username`` (an HS256 JWT)."""
        now = int(time.time())
        header = _b64url(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
        payload = _b64url(
            json.dumps(
                {
                    "sub": username,
                    "upn": username,
                    "iat": now,
                    "nbf": now - 5,
                    "exp": now + lifetime,
                }
            ).encode()
        )
        signature = hmac.new(key or self.jwt_key, f"{header}.{payload}".encode(), hashlib.sha256)
        return f"{header}.{payload}.{_b64url(signature.digest())}"


def _user_exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


@dataclass
class SmtpSink:
    """aiosmtpd on loopback, keeping every message it receives in ``messages``."""

    host: str = "127.0.0.1"
    port: int = 0
    messages: list = field(default_factory=list)
    fail_next: int = 0

    def __post_init__(self) -> None:
        from aiosmtpd.controller import Controller

        sink = self

        class Handler:
            async def handle_DATA(self, server, session, envelope):
                if sink.fail_next:
                    sink.fail_next -= 1
                    return "451 Try again later"
                sink.messages.append(envelope)
                return "250 OK"

        self.port = self.port or free_port()
        self.controller = Controller(Handler(), hostname=self.host, port=self.port)
        self._lock = threading.Lock()

    def start(self) -> SmtpSink:
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()
