"""Every setting Hubbub reads, in one place: environment variables prefixed ``HUBBUB_``."""

from __future__ import annotations

import ipaddress
import json
import re
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Literal, Self
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationInfo, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

ROOM_NAME_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,31}$"
ROOM_NAME_RE = re.compile(ROOM_NAME_PATTERN)
HOST_PATTERN_RE = re.compile(r"(\*\.)?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*", re.I)
JSON_EXAMPLES = {
    "allowed_origins": '["https://chat.example.com"]',
    "allowed_hosts": '["chat.example.com"]',
    "csp_extra": '{"img-src": ["https://images.example.com"]}',
    "oidc_allowed_email_domains": '["example.com"]',
}
DOMAIN_RE = re.compile(r"[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+")


# What HUBBUB_CSP_EXTRA may add to. Not the ones that guard the page's structure.
EXTENSIBLE = {
    "default-src",
    "script-src",
    "style-src",
    "img-src",
    "font-src",
    "connect-src",
    "media-src",
    "manifest-src",
    "frame-src",
}
# A host source, a scheme source, or a hash; never a keyword that turns the policy off.
SOURCE_RE = re.compile(
    r"(https?|wss?):|"  # a scheme
    r"(https?://|wss?://)?(\*\.)?[a-z0-9.-]+(:[0-9]+|:\*)?(/[\w./-]*)?|"  # a host, path optional
    r"'sha(256|384|512)-[A-Za-z0-9+/]+={0,2}'",  # a hash of one inline script or style
    re.IGNORECASE,
)
# Content that is not code may also come from data: and blob: URLs.
INERT = {"img-src", "media-src", "font-src"}


def check_csp_extra(extra: dict[str, list[str]]) -> None:
    """Raise ValueError naming what is wrong with an operator's additions."""
    for directive, sources in extra.items():
        if directive not in EXTENSIBLE:
            raise ValueError(f"{directive!r} cannot be extended; one of {sorted(EXTENSIBLE)}")
        for source in sources:
            if directive in INERT and source in ("data:", "blob:"):
                continue
            if not SOURCE_RE.fullmatch(source):
                raise ValueError(
                    f"{source!r} in {directive} is not a host, scheme or hash source "
                    "('unsafe-inline', 'unsafe-eval' and wildcards are refused)"
                )


def is_loopback(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class AuthMode(StrEnum):
    NONE = "none"
    TOKEN = "token"
    JWT = "jwt"
    PASSWORD = "password"
    OIDC = "oidc"
    PROXY = "proxy"


class TokenGrant(BaseModel):
    """A static token's user, and whether they are an admin."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    user: str
    admin: bool = False


class Settings(BaseSettings):
    """Validated once at startup; an invalid combination fails with a message naming the variable."""

    model_config = SettingsConfigDict(env_prefix="HUBBUB_", extra="ignore", frozen=True)

    # --- where things live
    data_dir: Path = Path("./data")
    database_url: str | None = Field(
        default=None,
        description="sqlite:///path/to.db or postgresql://...; default: SQLite in data_dir",
    )
    broker_url: str | None = Field(default=None, description="memory://, redis://..., or postgresql://...")
    redis_url: str | None = Field(default=None, description="shorthand for a Redis broker URL")
    broker_channel: str = "hubbub"

    # --- auth
    auth: AuthMode = AuthMode.NONE
    secret_key: SecretStr | None = Field(
        default=None,
        description="signs session cookies; default: generated once and kept in data_dir",
    )
    tokens: dict[str, TokenGrant] = Field(
        default_factory=dict, description='{"token": "user"} or {"token": {"user": "ann", "admin": true}}'
    )
    tokens_file: Path | None = Field(default=None, description="lines of 'token user'")
    users_file: Path | None = Field(
        default=None, description="password users (name:argon2hash); default data_dir/users"
    )
    jwt_secret: SecretStr | None = None
    jwt_public_key: str | None = None
    jwt_jwks_url: str | None = None
    jwt_algorithms: list[str] = Field(default_factory=lambda: ["HS256"])
    jwt_audience: str | None = None
    jwt_issuer: str | None = None
    jwt_user_claim: str = "sub"
    jwt_admin_claim: str | None = Field(default=None, description="claim that makes a user an admin")
    jwt_admin_value: str = Field(default="admin", description="the admin claim's value (or list member)")
    # --- auth mode oidc (docs/sso.md)
    oidc_issuer: str | None = Field(
        default=None, description="the identity provider's issuer URL; its discovery document is read"
    )
    oidc_client_id: str | None = None
    oidc_client_secret: SecretStr | None = Field(
        default=None, description="none: a public client, PKCE alone"
    )
    oidc_scopes: str = "openid profile email"
    oidc_user_claim: str = Field(
        default="preferred_username", description="the claim that names the user; falls back to sub"
    )
    oidc_admin_claim: str | None = Field(
        default=None, description="claim that makes a user an admin (e.g. groups)"
    )
    oidc_admin_value: str = Field(default="admin", description="the admin claim's value (or list member)")
    oidc_allowed_email_domains: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="JSON list: only users with a verified email address in these domains; empty: anyone",
    )
    oidc_provider_name: str | None = Field(
        default=None,
        max_length=64,
        description='the button says "Sign in with <this>"; default: the issuer\'s host',
    )
    oidc_end_session: bool = Field(
        default=True, description="signing out of Hubbub signs out of the provider too, where it can"
    )
    public_url: str | None = Field(
        default=None,
        description="https://chat.example.com: where browsers reach Hubbub (the OIDC redirect URI, "
        "invitation links); "
        "default: the request's own scheme and host",
    )
    session_ttl_seconds: int = Field(default=7 * 24 * 3600, gt=0)
    cookie_secure: bool = Field(
        default=False,
        description="always mark the cookie Secure (it is anyway when the public scheme is https)",
    )
    trusted_proxies: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="addresses or CIDR networks of the reverse proxies whose X-Forwarded-For and "
        "X-Forwarded-Proto are believed (JSON list or comma-separated); empty: nobody's",
    )
    proxy_user_header: str = Field(
        default="Remote-User",
        description="auth mode proxy: the header the authenticating proxy names the user in",
    )
    logout_url: str | None = Field(
        default=None,
        description="where signing out sends the browser (auth mode proxy: the proxy's sign-out, "
        "e.g. /oauth2/sign_out); default: the sign-in form",
    )
    allowed_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="JSON list of exact origins allowed to open WebSockets; empty: same origin",
    )
    allowed_hosts: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="JSON list of host names the server answers to ('*.example.com' for "
        "subdomains, '*' for any); localhost, IP addresses and the allowed origins' hosts always",
    )
    password_min_length: int = Field(
        default=10, ge=8, le=128, description="shortest password a new account or a new password may have"
    )
    login_max_failures: int = Field(default=5, ge=1, description="failed logins before a lockout")
    login_lockout_max_seconds: float = Field(
        default=900.0, gt=0, description="the longest a name or address is locked out"
    )
    credential_check_seconds: float = Field(
        default=5.0, gt=0, description="how often open sockets are checked against revoked credentials"
    )
    metrics_token: SecretStr | None = Field(default=None, description="bearer token /metrics asks for")

    # --- files
    file_storage_url: str | None = Field(
        default=None,
        description="where uploads are kept: default data_dir/files; file:///path, or s3://bucket/prefix "
        "(credentials, endpoint and region from AWS_* variables)",
    )
    max_upload_bytes: int = Field(
        default=25 * 1024 * 1024, ge=1, description="largest file one upload may be"
    )
    upload_quota_bytes: int = Field(
        default=1024 * 1024 * 1024, ge=0, description="what one user's files may take together"
    )
    max_image_pixels: int = Field(
        default=32_000_000, ge=1, description="the most pixels an image may decode to, all frames together"
    )
    avatar_changes_per_minute: float = Field(
        default=6.0, gt=0, description="avatar uploads per user (each one decodes an image)"
    )
    unattached_upload_seconds: float = Field(
        default=24 * 3600, gt=0, description="an upload never attached to a message is deleted after this"
    )

    # --- chat
    default_room: str = "general"
    history_page_size: int = Field(default=50, gt=0, le=500)
    resume_max_messages: int = Field(default=10_000, gt=0)

    # --- limits
    max_message_bytes: int = Field(default=16 * 1024, ge=256)
    max_request_bytes: int = Field(default=64 * 1024, ge=1024, description="largest HTTP request body")
    max_connections_per_address: int = Field(default=1000, gt=0)
    handshake_timeout_seconds: float = Field(
        default=10.0, gt=0, description="time a client has to send its request head (HTTP or WebSocket)"
    )
    max_rooms_per_user: int = Field(default=50, gt=0, description="rooms one user may create")
    max_members_per_room: int = Field(default=10_000, gt=1, description="checked on adding and on joining")
    new_members_per_minute_per_address: float = Field(
        default=300.0,
        gt=0,
        description="auth mode none: people joining a room for the first time, per room and address "
        "(a name costs nothing there, and members stay)",
    )
    room_mention_max_members: int = Field(
        default=50, ge=0, description="@room by any member up to this size; beyond, owners and admins only"
    )
    room_creations_per_minute: float = Field(
        default=10.0, gt=0, description="new rooms and direct messages per user (anonymous: per address)"
    )
    room_creations_per_minute_per_address: float = Field(
        default=60.0,
        gt=0,
        description="new rooms and direct messages from one address, whoever signs in there (in auth mode "
        "none a name costs nothing); a proxy without --proxy-headers puts everyone on one address",
    )
    searches_per_minute: float = Field(
        default=60.0, gt=0, description="GET /api/search per user (per address when anonymous)"
    )
    send_queue_size: int = Field(default=256, ge=8)
    # A connection's queued frames together, in characters of text (about bytes): bounds what a
    # stalled client holds however large the messages, and cuts it off sooner when they are large.
    send_queue_bytes: int = Field(default=1024 * 1024, ge=64 * 1024)
    rate_limit_per_second: float = Field(
        default=10.0,
        gt=0,
        description="messages, edits and reactions per user (all their sockets), per worker",
    )
    rate_limit_burst: int = Field(default=20, gt=0)
    join_rate_per_second: float = Field(
        default=5.0, gt=0, description="joins per user (all their sockets), per worker"
    )
    join_burst: int = Field(
        default=50, gt=0, description="joins at once: a reconnect rejoins every open room"
    )
    max_connections_per_user: int = Field(default=20, gt=0)
    ping_interval_seconds: float = Field(default=20.0, gt=0)
    ping_timeout_seconds: float = Field(default=20.0, gt=0)
    shutdown_timeout_seconds: float = Field(default=10.0, gt=0)
    presence_heartbeat_seconds: float = Field(default=10.0, gt=0)

    # --- serving
    static_dir: Path | None = Field(
        default=None, description="built UI; default: the copy bundled in the package"
    )
    log_level: str = "info"
    direct_writes: bool = Field(
        default=True,
        description="fan-out writes each frame's bytes straight to the socket when it has room, "
        "and after the handshake a socket's frames come straight from the protocol, with no ASGI "
        "call held open per connection (Hubbub's uvicorn protocol); off: every frame through "
        "ASGI receive and send",
    )
    sqlite_synchronous: Literal["normal", "full"] = Field(
        default="full", description="full: an ack survives power loss; normal: a crash of the process"
    )
    csp_extra: Annotated[dict[str, list[str]], NoDecode] = Field(
        default_factory=dict,
        description='JSON {"directive": ["source", ...]} added to the Content-Security-Policy',
    )
    hsts_max_age_seconds: int = Field(default=31_536_000, ge=0, description="HSTS over https; 0: none")

    @field_validator("tokens", mode="before")
    @classmethod
    def _parse_grants(cls, value: object) -> object:
        if isinstance(value, dict):
            return {
                token: {"user": grant} if isinstance(grant, str) else grant for token, grant in value.items()
            }
        return value

    @field_validator(
        "allowed_origins", "allowed_hosts", "csp_extra", "oidc_allowed_email_domains", mode="before"
    )
    @classmethod
    def _parse_json(cls, value: object, info: ValidationInfo) -> object:
        if isinstance(value, str):
            text = value.strip()
            if not text:
                return {} if info.field_name == "csp_extra" else []
            try:
                return json.loads(text)
            except json.JSONDecodeError as exc:
                kind = "object" if info.field_name == "csp_extra" else "list"
                raise ValueError(
                    f"must be a JSON {kind}, e.g. {JSON_EXAMPLES[str(info.field_name)]}"
                ) from exc
        return value

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _parse_proxies(cls, value: object) -> object:
        # A JSON list like the other lists, or uvicorn's and gunicorn's FORWARDED_ALLOW_IPS form.
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("["):
                try:
                    return json.loads(text)
                except json.JSONDecodeError as exc:
                    raise ValueError('must be a JSON list or comma-separated, e.g. ["10.0.0.0/8"]') from exc
            return [item.strip() for item in text.split(",") if item.strip()]
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _check_proxies(cls, value: list[str]) -> list[str]:
        networks: list[str] = []
        for entry in value:
            if entry == "*":
                networks += ["0.0.0.0/0", "::/0"]
                continue
            try:
                networks.append(str(ipaddress.ip_network(entry, strict=False)))
            except ValueError as exc:
                raise ValueError(f"{entry!r} is not an IP address or a network like 10.0.0.0/8") from exc
        return networks

    @field_validator("proxy_user_header")
    @classmethod
    def _check_header(cls, value: str) -> str:
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9-]{0,63}", value):
            raise ValueError("must be a header name of letters, digits and '-', e.g. Remote-User")
        return value

    @field_validator("logout_url")
    @classmethod
    def _check_logout_url(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"(https?://[^/\s]+)?/(?!/)[^\s]*", value):
            raise ValueError("must be a path like /oauth2/sign_out or an http(s) URL")
        return value

    @field_validator("allowed_hosts")
    @classmethod
    def _check_hosts(cls, value: list[str]) -> list[str]:
        for host in value:
            if host != "*" and not HOST_PATTERN_RE.fullmatch(host):
                raise ValueError(f"host {host!r} must be a name like chat.example.com or *.example.com")
        return [host.lower() for host in value]

    @field_validator("oidc_allowed_email_domains")
    @classmethod
    def _check_domains(cls, value: list[str]) -> list[str]:
        for domain in value:
            if not DOMAIN_RE.fullmatch(domain.lower()):
                raise ValueError(f"{domain!r} must be a domain name like example.com")
        return [domain.lower() for domain in value]

    @field_validator("oidc_issuer", "public_url")
    @classmethod
    def _check_base_url(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None:
            return None
        url = urlsplit(value)
        if url.scheme not in ("http", "https") or not url.hostname or url.query or url.fragment:
            raise ValueError(f"{value!r} must be an http(s) URL with no query or fragment")
        # Tokens and codes travel to and from the provider: in the clear only on this machine.
        if info.field_name == "oidc_issuer" and url.scheme == "http" and not is_loopback(url.hostname):
            raise ValueError("the issuer must be https (plain http only on a loopback address)")
        if info.field_name == "public_url" and url.path not in ("", "/"):
            raise ValueError("Hubbub is served at the root of its host: no path")
        return value.rstrip("/") if info.field_name == "public_url" else value

    @field_validator("oidc_scopes")
    @classmethod
    def _check_scopes(cls, value: str) -> str:
        if "openid" not in value.split():
            raise ValueError("the scopes must include openid")
        return " ".join(value.split())

    @field_validator("csp_extra")
    @classmethod
    def _check_csp_extra(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        check_csp_extra(value)
        return value

    @field_validator("jwt_algorithms")
    @classmethod
    def _check_algorithms(cls, value: list[str]) -> list[str]:
        import jwt

        known = set(jwt.algorithms.get_default_algorithms()) - {"none"}
        for algorithm in value:
            if algorithm not in known:
                raise ValueError(
                    f"{algorithm!r} is not an algorithm tokens may be signed with: {sorted(known)}"
                )
        if not value:
            raise ValueError("at least one algorithm is needed")
        return value

    @field_validator("allowed_origins")
    @classmethod
    def _check_origins(cls, value: list[str]) -> list[str]:
        for origin in value:
            if not re.fullmatch(r"https?://[^/\s]+", origin):
                raise ValueError(f"origin {origin!r} must look like scheme://host[:port]")
        return value

    @field_validator("default_room")
    @classmethod
    def _check_room(cls, value: str) -> str:
        if not ROOM_NAME_RE.fullmatch(value):
            raise ValueError(f"room name must match {ROOM_NAME_PATTERN}")
        return value

    @field_validator("log_level")
    @classmethod
    def _check_log_level(cls, value: str) -> str:
        if value.lower() not in {"critical", "error", "warning", "info", "debug"}:
            raise ValueError("log level must be one of critical, error, warning, info, debug")
        return value.lower()

    @model_validator(mode="after")
    def _check_auth(self) -> Self:
        if self.auth is AuthMode.TOKEN and not (self.tokens or self.tokens_file):
            raise ValueError("HUBBUB_AUTH=token needs HUBBUB_TOKENS or HUBBUB_TOKENS_FILE")
        if self.auth is AuthMode.JWT:
            keys = [self.jwt_secret, self.jwt_public_key, self.jwt_jwks_url]
            if sum(k is not None for k in keys) != 1:
                raise ValueError(
                    "HUBBUB_AUTH=jwt needs exactly one of HUBBUB_JWT_SECRET, "
                    "HUBBUB_JWT_PUBLIC_KEY, HUBBUB_JWT_JWKS_URL"
                )
            symmetric = {a for a in self.jwt_algorithms if a.startswith("HS")}
            if self.jwt_secret is not None and symmetric != set(self.jwt_algorithms):
                raise ValueError("HUBBUB_JWT_SECRET goes with HS* algorithms only")
            if self.jwt_secret is None and symmetric:
                raise ValueError("a public key or JWKS URL goes with RS*/ES*/PS*/EdDSA only")
        if self.file_storage_url is not None and not self.file_storage_url.startswith(("file:///", "s3://")):
            raise ValueError(
                "HUBBUB_FILE_STORAGE_URL must be file:///path or s3://bucket/prefix, "
                f"got {self.file_storage_url!r}"
            )
        if self.auth is AuthMode.OIDC and not (self.oidc_issuer and self.oidc_client_id):
            raise ValueError("HUBBUB_AUTH=oidc needs HUBBUB_OIDC_ISSUER and HUBBUB_OIDC_CLIENT_ID")
        if self.auth is AuthMode.PROXY:
            if not self.trusted_proxies:
                raise ValueError(
                    "HUBBUB_AUTH=proxy needs HUBBUB_TRUSTED_PROXIES: the addresses of the "
                    "authenticating proxy, the only peers whose user header is believed"
                )
            if any(ipaddress.ip_network(n).prefixlen == 0 for n in self.trusted_proxies):
                raise ValueError(
                    "HUBBUB_AUTH=proxy needs the proxy's own addresses in HUBBUB_TRUSTED_PROXIES, "
                    "not every address: anyone could name themselves"
                )
        for url_name in ("database_url", "broker_url", "redis_url"):
            url = getattr(self, url_name)
            if url is not None and "://" not in url:
                raise ValueError(f"HUBBUB_{url_name.upper()} must be a URL, got {url!r}")
        return self

    # --- derived values, so no module needs to repeat these rules
    @property
    def effective_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'hubbub.db'}"

    @property
    def effective_broker_url(self) -> str:
        return self.broker_url or self.redis_url or "memory://"

    @property
    def effective_users_file(self) -> Path:
        return self.users_file or self.data_dir / "users"

    @property
    def oidc_name(self) -> str:
        """What the sign-in button calls the identity provider."""
        return (
            self.oidc_provider_name or urlsplit(self.oidc_issuer or "").hostname or "your identity provider"
        )

    @property
    def broker_is_in_process(self) -> bool:
        return self.effective_broker_url.startswith("memory:")
