"""giftless extensions for msgit's local test hub, and the WSGI app the hub runs (`app`).

- token_auth: HTTP Basic with fixed tokens, like a GitLab-based hub's personal access tokens
  (giftless has no fixed-token authenticator of its own).
- SignedFileStorage: objects on disk, served and accepted by nginx on a separate "storage host"
  through presigned URLs (nginx secure_link: ?expires=...&sig=...). This is how real hubs work
  (object storage behind presigned URLs) and lets tests check what the storage host was sent.
  Repositories whose names start with one of these words get download actions the way some hubs
  give them:
    expiring-   the first link to each object has already expired (the storage host refuses it
                with 403), though the answer says it is good for 900 s: a link that expires in flight
    expired-    every link has
    expiresat-  the expiry is an RFC 3339 `expires_at` with nanoseconds and a +08:00 offset (a Go
                server in China), no `expires_in`; the first link to each object is past it
    gitlab-     the link is on the hub's own host, carries an Authorization header of its own, and
                answers with a 302 to a presigned storage URL, as GitLab with object storage does
- app: giftless's app with the route for those GitLab-style links, and the check nginx asks
  (auth_request) on the Hugging Face-like hub's git host (`git_auth`).
"""
import base64
import datetime
import hashlib
import hmac
import os
import time

from flask import abort, redirect, request
from werkzeug.exceptions import Unauthorized

from giftless.app import init_app
from giftless.auth.identity import DefaultIdentity, Permission
from giftless.storage import ExternalStorage
from giftless.storage.exc import ObjectNotFoundError


def token_permissions(auth, username, token, read_only_token=None, other_token=None, any_username=False):
    """What a Basic authorization may do: "rw", "ro", or None. With `any_username`, as on Hugging
    Face, the username is not looked at, only the token."""
    if auth is None or auth.type != "basic":
        return None
    if not any_username and auth.username != username:
        return None
    if auth.password in (token, other_token):
        return "rw"
    if read_only_token and auth.password == read_only_token:
        return "ro"
    return None


def token_auth(username, token, read_only_token=None, other_token=None, any_username=False):
    """An authenticator accepting Basic `username:token` and `username:other_token` (the hub's
    second host) with all permissions and, if given, `username:read_only_token` read only; any
    username with `any_username`."""

    def authenticate(req):
        auth = req.authorization
        if auth is None or auth.type != "basic":
            return None
        access = token_permissions(auth, username, token, read_only_token, other_token, any_username)
        if access == "rw":
            permissions = Permission.all()
        elif access == "ro":
            permissions = {Permission.READ, Permission.READ_META}
        else:
            raise Unauthorized("HTTP Basic: Access denied")
        identity = DefaultIdentity(name=auth.username, id=auth.username)
        identity.allow(permissions=permissions)
        return identity

    return authenticate


def _over_tls():
    try:
        return request.headers.get("X-Forwarded-Proto") == "https"
    except RuntimeError:  # outside a request
        return False


class SignedFileStorage(ExternalStorage):
    def __init__(self, path, base_url, secret, tls_base_url="", markers=None, routes=None, **_):
        self.path = path
        self.base_url = base_url.rstrip("/")
        # Host header of the batch request -> storage base URL (the benchmark's latency proxies).
        self.routes = {host: url.rstrip("/") for host, url in (routes or {}).items()}
        self.tls_base_url = (tls_base_url or "").rstrip("/")
        self.secret = secret
        self.markers = markers

    def _relative(self, prefix, oid):
        return f"objects/{prefix}/{oid[0:2]}/{oid[2:4]}/{oid}"

    def _file(self, prefix, oid):
        return os.path.join(self.path, self._relative(prefix, oid))

    def presigned(self, prefix, oid, expires):
        relative = self._relative(prefix, oid)
        digest = hashlib.md5(f"{expires}/{relative} {self.secret}".encode()).digest()
        sig = base64.urlsafe_b64encode(digest).decode().rstrip("=")
        base = self.tls_base_url if _over_tls() and self.tls_base_url else self.base_url
        try:
            base = self.routes.get(request.host, base)
        except RuntimeError:  # outside a request
            pass
        return f"{base}/{relative}?expires={expires}&sig={sig}"

    def _first_time(self, kind, prefix, oid):
        """True the first time this is asked for (prefix, oid): a marker file, shared by the
        gunicorn workers."""
        name = hashlib.sha256(f"{kind}:{prefix}:{oid}".encode()).hexdigest()
        try:
            fd = os.open(os.path.join(self.markers, name), os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        except FileExistsError:
            return False
        os.close(fd)
        return True

    def action_token(self, prefix, oid):
        """The Authorization a GitLab-style link carries, bound to its object."""
        mac = hmac.new(self.secret.encode(), f"{prefix}/{oid}".encode(), hashlib.sha256).hexdigest()[:32]
        return "Basic " + base64.b64encode(f"oauth2:lfs-action-{mac}".encode()).decode()

    def get_download_action(self, prefix, oid, size, expires_in, extra=None):
        name = prefix.rsplit("/", 1)[-1]
        now = int(time.time())
        if name.startswith("gitlab-"):
            scheme = "https" if _over_tls() else "http"
            href = f"{scheme}://{request.host}/{prefix}.git/gitlab-lfs/objects/{oid}"
            return {"actions": {"download": {"href": href, "header": {"Authorization": self.action_token(prefix, oid)},
                                             "expires_in": int(expires_in)}}}
        if name.startswith("expiresat-"):
            expired = self._first_time("expiresat", prefix, oid)
            expires = now - 120 if expired else now + int(expires_in)
            east = datetime.timezone(datetime.timedelta(hours=8))
            stamp = datetime.datetime.fromtimestamp(expires, east).strftime("%Y-%m-%dT%H:%M:%S") + ".123456789+08:00"
            return {"actions": {"download": {"href": self.presigned(prefix, oid, expires), "header": {},
                                             "expires_at": stamp}}}
        expired = name.startswith("expired-") or (name.startswith("expiring-") and self._first_time("expiring", prefix, oid))
        expires = now - 120 if expired else now + int(expires_in)
        return {"actions": {"download": {"href": self.presigned(prefix, oid, expires), "header": {},
                                         "expires_in": int(expires_in)}}}

    def get_upload_action(self, prefix, oid, size, expires_in, extra=None):
        return {"actions": {"upload": {"href": self.presigned(prefix, oid, int(time.time()) + int(expires_in)),
                                       "header": {"Content-Type": "application/octet-stream"},
                                       "expires_in": int(expires_in)}}}

    def exists(self, prefix, oid):
        return os.path.isfile(self._file(prefix, oid))

    def get_size(self, prefix, oid):
        try:
            return os.path.getsize(self._file(prefix, oid))
        except FileNotFoundError:
            raise ObjectNotFoundError("Object does not exist")


app = init_app()


def _storage():
    options = app.config["TRANSFER_ADAPTERS"]["basic"]["options"]["storage_options"]
    return SignedFileStorage(**options)


@app.route("/<path:prefix>.git/gitlab-lfs/objects/<oid>")
def gitlab_object(prefix, oid):
    """GitLab's object link: checks the action's own Authorization, then sends the client to the
    object storage with a presigned URL (which must reach it with no credential at all)."""
    storage = _storage()
    if request.headers.get("Authorization") != storage.action_token(prefix, oid):
        abort(401)
    if not storage.exists(prefix, oid):
        abort(404)
    return redirect(storage.presigned(prefix, oid, int(time.time()) + 900), code=302)


@app.route("/_msgit/git-auth")
def git_auth():
    """nginx's auth_request on the Hugging Face-like git host: 204 lets the request through, 401
    asks for (other) credentials, 403 refuses a push with a read-only token. The options are the
    token authenticator's."""
    options = app.config["AUTH_PROVIDERS"][0]["options"]
    access = token_permissions(request.authorization, **options)
    if access is None:
        abort(401)
    if access == "ro" and "git-receive-pack" in request.headers.get("X-Original-URI", ""):
        abort(403)
    return "", 204
