"""The reverse proxies of docker/ (Caddyfile, nginx.conf), run from Debian's packages on free
loopback ports in front of test servers, over https: Caddy with its internal CA (`local_certs`,
what `tls internal` does for one site), nginx with a certificate made here. The configuration
files are the checked-in ones; only what names this machine (ports, certificate paths, the
upstreams) is changed, and each change must match exactly once, so a config that drifts from
what the tests expect fails here rather than being tested half.
"""

from __future__ import annotations

import datetime
import ipaddress
import os
import re
import shutil
import ssl
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from tests.services import free_port, wait_for

DOCKER = Path(__file__).resolve().parents[2] / "docker"


def binary(name: str) -> str:
    found = shutil.which(name) or shutil.which(name, path="/usr/sbin:/usr/bin")
    if found is None:
        raise RuntimeError(f"{name} is not installed: apt-get install {name} (scripts/test does)")
    return found


@dataclass
class Proxy:
    """One proxy process in front of `upstreams` (host:port each)."""

    upstreams: list[str]
    base: Path
    https_port: int = field(default_factory=free_port)
    http_port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"https://localhost:{self.https_port}"

    @property
    def ws_url(self) -> str:
        return f"wss://localhost:{self.https_port}"

    @property
    def ca_file(self) -> Path:
        raise NotImplementedError

    def ssl_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.ca_file))

    def command(self) -> tuple[list[str], dict[str, str]]:
        raise NotImplementedError

    def log(self) -> str:
        path = self.base / "proxy.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def start(self) -> Proxy:
        self.base.mkdir(parents=True, exist_ok=True)
        command, env = self.command()
        with open(self.base / "proxy.log", "ab") as log:
            self.proc = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
        wait_for(self._answers, 60, f"{type(self).__name__} at {self.url} (log: {self.base / 'proxy.log'})")
        return self

    def _answers(self) -> bool:
        if self.proc is not None and self.proc.poll() is not None:
            raise RuntimeError(f"{type(self).__name__} exited with {self.proc.returncode}:\n{self.log()}")
        if not self.ca_file.exists():
            return False
        try:
            httpx.get(f"{self.url}/healthz", verify=self.ssl_context(), timeout=2)
        except (httpx.HTTPError, ssl.SSLError):
            return False
        return True

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def substitute(text: str, pattern: str, replacement: str) -> str:
    changed, count = re.subn(pattern, replacement, text, flags=re.MULTILINE)
    if count == 0:
        raise AssertionError(f"the checked-in config no longer has {pattern!r}")
    return changed


class Caddy(Proxy):
    """docker/Caddyfile as it is, imported after the global options a test needs: its own
    ports and storage, no admin endpoint, and certificates from Caddy's internal CA. A test
    may give a site block of its own instead (`site`)."""

    site: str | None = None

    @property
    def ca_file(self) -> Path:
        return self.base / "data" / "caddy" / "pki" / "authorities" / "local" / "root.crt"

    def command(self) -> tuple[list[str], dict[str, str]]:
        wrapper = self.base / "Caddyfile"
        wrapper.write_text(
            "{\n"
            "\tadmin off\n"
            "\tlocal_certs\n"
            "\tskip_install_trust\n"
            f"\thttp_port {self.http_port}\n"
            f"\thttps_port {self.https_port}\n"
            "}\n" + (self.site if self.site is not None else f"import {DOCKER / 'Caddyfile'}\n")
        )
        env = {
            **os.environ,
            "HUBBUB_DOMAIN": "localhost",
            "HUBBUB_UPSTREAMS": " ".join(self.upstreams),
            "XDG_DATA_HOME": str(self.base / "data"),
            "XDG_CONFIG_HOME": str(self.base / "config"),
            "HOME": str(self.base),
        }
        return [binary("caddy"), "run", "--config", str(wrapper), "--adapter", "caddyfile"], env


class Nginx(Proxy):
    """docker/nginx.conf with this machine's ports, upstreams and a certificate made here,
    inside a main configuration of the test's own (paths, no daemon)."""

    @property
    def ca_file(self) -> Path:
        return self.base / "ca.pem"

    def command(self) -> tuple[list[str], dict[str, str]]:
        make_certificate(self.base)
        site = (DOCKER / "nginx.conf").read_text()
        site = substitute(site, r"^\s*listen \[::\]:(80|443)[^;]*;\n", "")
        site = substitute(site, r"listen 80;", f"listen 127.0.0.1:{self.http_port};")
        site = substitute(site, r"listen 443 ssl http2;", f"listen 127.0.0.1:{self.https_port} ssl http2;")
        site = substitute(site, r"server_name chat\.example\.com;", "server_name localhost;")
        site = substitute(site, r"ssl_certificate .*;", f"ssl_certificate {self.base / 'cert.pem'};")
        site = substitute(site, r"ssl_certificate_key .*;", f"ssl_certificate_key {self.base / 'key.pem'};")
        servers = "".join(f"server {upstream};\n    " for upstream in self.upstreams)
        site = substitute(site, r"server 127\.0\.0\.1:8000;\n    ", servers)
        (self.base / "site.conf").write_text(site)
        temp = self.base / "temp"
        temp.mkdir(exist_ok=True)
        main = self.base / "nginx.conf"
        main.write_text(
            ("user root;\n" if os.geteuid() == 0 else "") + "daemon off;\nworker_processes 1;\n"
            f"pid {self.base / 'nginx.pid'};\n"
            f"error_log {self.base / 'error.log'} info;\n"
            "events { worker_connections 1024; }\n"
            "http {\n"
            f"  access_log {self.base / 'access.log'};\n"
            + "".join(
                f"  {kind}_temp_path {temp / kind};\n"
                for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
            )
            + f"  include {self.base / 'site.conf'};\n"
            "}\n"
        )
        return [
            binary("nginx"),
            "-c",
            str(main),
            "-p",
            str(self.base),
            "-e",
            str(self.base / "error.log"),
        ], dict(os.environ)


def make_certificate(base: Path) -> None:
    """A CA (ca.pem) and a certificate for localhost signed by it (cert.pem, key.pem)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.UTC)
    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Hubbub test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=2))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True
        )
        .sign(ca_key, hashes.SHA256())
    )
    leaf = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=2))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    (base / "ca.pem").write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    (base / "cert.pem").write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    (base / "key.pem").write_bytes(key_pem)
    os.chmod(base / "key.pem", 0o600)


def started(kind: str, upstreams: list[str], base: Path) -> Proxy:
    proxy: Proxy = Caddy(upstreams, base) if kind == "caddy" else Nginx(upstreams, base)
    return proxy.start()
