"""giftless extensions for msgit's local test hub.

- token_auth: HTTP Basic with one fixed user and token, like a GitLab-based hub's personal access
  tokens (giftless has no fixed-token authenticator of its own).
- SignedFileStorage: objects on disk, served and accepted by nginx on a separate "storage host"
  through presigned URLs (nginx secure_link: ?expires=...&sig=...). This is how real hubs work
  (object storage behind presigned URLs) and lets tests check what the storage host was sent.
"""
import base64
import hashlib
import os
import time

from werkzeug.exceptions import Unauthorized

from giftless.auth.identity import DefaultIdentity, Permission
from giftless.storage import ExternalStorage
from giftless.storage.exc import ObjectNotFoundError


def token_auth(username, token, read_only_token=None):
    """An authenticator accepting Basic `username:token` (all permissions) and, if given,
    `username:read_only_token` (read only)."""

    def authenticate(request):
        auth = request.authorization
        if auth is None or auth.type != "basic":
            return None
        if auth.username == username and auth.password == token:
            permissions = Permission.all()
        elif read_only_token and auth.username == username and auth.password == read_only_token:
            permissions = {Permission.READ, Permission.READ_META}
        else:
            raise Unauthorized("HTTP Basic: Access denied")
        identity = DefaultIdentity(name=auth.username, id=auth.username)
        identity.allow(permissions=permissions)
        return identity

    return authenticate


class SignedFileStorage(ExternalStorage):
    def __init__(self, path, base_url, secret, **_):
        self.path = path
        self.base_url = base_url.rstrip("/")
        self.secret = secret

    def _relative(self, prefix, oid):
        return f"objects/{prefix}/{oid[0:2]}/{oid[2:4]}/{oid}"

    def _file(self, prefix, oid):
        return os.path.join(self.path, self._relative(prefix, oid))

    def _href(self, prefix, oid, expires_in):
        relative = self._relative(prefix, oid)
        expires = int(time.time()) + int(expires_in)
        digest = hashlib.md5(f"{expires}/{relative} {self.secret}".encode()).digest()
        sig = base64.urlsafe_b64encode(digest).decode().rstrip("=")
        return f"{self.base_url}/{relative}?expires={expires}&sig={sig}"

    def get_download_action(self, prefix, oid, size, expires_in, extra=None):
        return {"actions": {"download": {"href": self._href(prefix, oid, expires_in), "header": {},
                                         "expires_in": int(expires_in)}}}

    def get_upload_action(self, prefix, oid, size, expires_in, extra=None):
        return {"actions": {"upload": {"href": self._href(prefix, oid, expires_in),
                                       "header": {"Content-Type": "application/octet-stream"},
                                       "expires_in": int(expires_in)}}}

    def exists(self, prefix, oid):
        return os.path.isfile(self._file(prefix, oid))

    def get_size(self, prefix, oid):
        try:
            return os.path.getsize(self._file(prefix, oid))
        except FileNotFoundError:
            raise ObjectNotFoundError("Object does not exist")
