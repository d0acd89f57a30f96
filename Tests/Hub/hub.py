#!/usr/bin/env python3
"""msgit's local model hub: real parts on loopback, for tests, benchmarks and the demo.

    hub.py start --state DIR [--watch-pid PID] [--huggingface]
                                                 start, print the hub's JSON description
    hub.py stop --state DIR                      stop it
    hub.py sample --state DIR [--name ns/name]   push a sample model repository (git + git-lfs)

What runs (all on 127.0.0.0/8, on free ports):
- git smart HTTP: nginx + fcgiwrap + git http-backend with HTTP Basic auth (user `oauth2` and a
  token; a second, read-only token may fetch but gets GitLab's 403 on push) and GitLab's 401 body
  "HTTP Basic: Access denied". Repositories live under DIR/repos.
- Git LFS: giftless (PyPI) behind the same nginx at <repo>.git/info/lfs, authenticating the same
  tokens, with objects in DIR/lfs-storage served and accepted by nginx on a separate storage
  host, 127.0.0.2, through presigned URLs (?expires=&sig=), like object storage behind a real hub.
- A second git host, 127.0.0.3 (`other_url`), with a token of its own (`other_token`): the same
  repositories behind another front door, as an internal GitLab a mirror pushes to. It refuses the
  first host's tokens and keeps its own access log.
- Over TLS too, when .ci/setup made the test CA (~/.cache/msgit/test-ca, which the system store
  trusts): git
  and LFS at https://localhost:TLSPORT, storage at https://127.0.0.2:STORAGETLSPORT, with nothing
  to set on the client side, as for a hub whose certificate a public CA signed.
- With --huggingface, a hub with Hugging Face's ways instead, as a second hub beside the first (its
  own state directory, repositories and objects): git and LFS on 127.0.0.4, repository URLs with or
  without .git (git http-backend finds DIR/repos/org/name.git for /org/name), any username with
  the right token (tokens look like hf_...; nginx asks the LFS app through auth_request, as it
  cannot read a password), and LFS download links on a storage host of its own, 127.0.0.5, as
  Hugging Face's lead to cas-bridge.xethub.hf.co. No TLS and no second git host.
- Repositories whose names start with expiring-, expired-, expiresat- or gitlab- get download
  actions the way other hubs give them (see msgit_giftless.py).
- Access logs that record the Authorization header and the Range of each request, so tests can
  check which host saw which credentials and how many bytes were sent.

With --watch-pid the hub stops by itself when that process exits, so a test run never leaves it
behind. Only the Python standard library is used here; giftless runs in the venv made by
.ci/setup (MSGIT_HUB_VENV, default .build-hub/venv).
"""
import argparse
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.dirname(os.path.dirname(HERE))
STORAGE_HOST = "127.0.0.2"
OTHER_HOST = "127.0.0.3"
HF_HOST = "127.0.0.4"
HF_STORAGE_HOST = "127.0.0.5"


def venv_python():
    venv = os.environ.get("MSGIT_HUB_VENV") or os.path.join(REPO_ROOT, ".build-hub", "venv")
    python = os.path.join(venv, "bin", "python")
    if not os.path.exists(python):
        sys.exit(f"hub: no giftless venv at {venv}; run .ci/setup first")
    return python


def free_port(host="127.0.0.1"):
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def wait_for(url, timeout=20.0, auth=None):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            request = urllib.request.Request(url)
            if auth:
                request.add_header("Authorization", auth)
            urllib.request.urlopen(request, timeout=2)
            return True
        except urllib.error.HTTPError:
            return True  # it answered
        except Exception:
            time.sleep(0.05)
    return False


NGINX_CONF = """
{user}
worker_processes 2;
daemon off;
master_process on;
pid {state}/run/nginx.pid;
error_log {state}/logs/nginx-error.log warn;
events {{ worker_connections 1024; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 10000;
    map_hash_bucket_size 256;
    client_body_temp_path {state}/tmp/body;
    proxy_temp_path {state}/tmp/proxy;
    fastcgi_temp_path {state}/tmp/fastcgi;
    uwsgi_temp_path {state}/tmp/uwsgi;
    scgi_temp_path {state}/tmp/scgi;
    log_format hub '$remote_addr "$request" $status $body_bytes_sent '
                   'auth="$http_authorization" range="$http_range" ua="$http_user_agent" tls="$https" conn=$connection';

    # HTTP Basic with user oauth2: the read-write token may push, the read-only one only fetch
    # (nginx's auth_basic cannot give one user two passwords).
    map $http_authorization $hub_access {{
        "Basic {rw_basic}" rw;
        "Basic {ro_basic}" ro;
        default none;
    }}
    map "$hub_access $uri $arg_service" $hub_decision {{
        ~^none deny;
        "~^ro .*git-receive-pack" forbid;
        default allow;
    }}
    # The other host takes its own token only.
    map $http_authorization $other_decision {{
        "Basic {other_basic}" allow;
        default deny;
    }}

    server {{
        listen {git_host}:{git_port};
        access_log {state}/logs/git-access.log hub;
        client_max_body_size 0;
        set $decision $hub_decision;
        include {state}/git-locations.conf;
    }}
{other_server}
    # The storage host: presigned URLs only, GET with Range, PUT to upload.
    server {{
        listen {storage_host}:{storage_port};
        access_log {state}/logs/storage-access.log hub;
        client_max_body_size 0;
        root {state}/lfs-storage;
        include {state}/storage-locations.conf;
    }}
{tls_servers}
}}
"""

OTHER_SERVER = """
    server {{
        listen {other_host}:{other_port};
        access_log {state}/logs/other-access.log hub;
        client_max_body_size 0;
        set $decision $other_decision;
        include {state}/git-locations.conf;
    }}
"""

# The LFS API of either flavour: giftless behind nginx, streamed both ways.
LFS_PROXY = """
    proxy_pass http://127.0.0.1:{lfs_port};
    proxy_set_header Host $http_host;
    proxy_set_header X-Forwarded-Proto $scheme;
    proxy_http_version 1.1;
    proxy_request_buffering off;
    proxy_buffering off;
"""

# What each git host serves: LFS (and GitLab-style object links) from giftless, the rest from git
# http-backend behind HTTP Basic, as $decision says.
GIT_LOCATIONS = """
location ~ \\.git/(info/lfs|gitlab-lfs)/ {{""" + LFS_PROXY + """}}

location / {{
    error_page 401 @denied;
    error_page 403 @forbidden;
    if ($decision = deny) {{ return 401; }}
    if ($decision = forbid) {{ return 403; }}
    include /etc/nginx/fastcgi_params;
    fastcgi_pass unix:{state}/run/fcgiwrap.sock;
    fastcgi_param SCRIPT_FILENAME /usr/lib/git-core/git-http-backend;
    fastcgi_param GIT_PROJECT_ROOT {state}/repos;
    fastcgi_param GIT_HTTP_EXPORT_ALL "";
    fastcgi_param GIT_CONFIG_GLOBAL {state}/gitconfig;
    fastcgi_param PATH_INFO $uri;
    fastcgi_param REMOTE_USER oauth2;
    fastcgi_buffering off;
    fastcgi_request_buffering off;
}}

location @denied {{
    default_type text/plain;
    add_header WWW-Authenticate 'Basic realm="msgit hub"' always;
    return 401 "HTTP Basic: Access denied\\n";
}}

location @forbidden {{
    default_type text/plain;
    return 403 "You are not allowed to push code to this project.\\n";
}}
"""

# Hugging Face's git host: any username with the right token, which nginx cannot check itself
# (it reads no password), so it asks the LFS app (msgit_giftless.git_auth), as a gateway asks an
# auth service. A read-only token may fetch, not push. The refusals' words are Hugging Face's
# as far as we know them; msgit must not depend on them.
HF_GIT_LOCATIONS = """
location ~ \\.git/info/lfs/ {{""" + LFS_PROXY + """}}

location / {{
    auth_request /_msgit/git-auth;
    error_page 401 @denied;
    error_page 403 @forbidden;
    include /etc/nginx/fastcgi_params;
    fastcgi_pass unix:{state}/run/fcgiwrap.sock;
    fastcgi_param SCRIPT_FILENAME /usr/lib/git-core/git-http-backend;
    fastcgi_param GIT_PROJECT_ROOT {state}/repos;
    fastcgi_param GIT_HTTP_EXPORT_ALL "";
    fastcgi_param GIT_CONFIG_GLOBAL {state}/gitconfig;
    fastcgi_param PATH_INFO $uri;
    fastcgi_param REMOTE_USER $remote_user;
    fastcgi_buffering off;
    fastcgi_request_buffering off;
}}

location = /_msgit/git-auth {{
    internal;
    proxy_pass http://127.0.0.1:{lfs_port}/_msgit/git-auth;
    proxy_pass_request_body off;
    proxy_set_header Content-Length "";
    proxy_set_header X-Original-URI $request_uri;
}}

location @denied {{
    default_type text/plain;
    add_header WWW-Authenticate 'Basic realm="Authentication required", charset="UTF-8"' always;
    return 401 "Invalid credentials in Authorization header\\n";
}}

location @forbidden {{
    default_type text/plain;
    return 403 "You are not authorized to push to this repo.\\n";
}}
"""

STORAGE_LOCATIONS = """
# Objects of repositories named slow-* trickle out, so tests can stop a download halfway.
location ~ ^/objects/[^/]+/slow- {{
    limit_rate 4m;
    include {state}/presigned.conf;
}}

# Objects of repositories named norange-* come whole whatever Range asks (as from a server
# without range support).
location ~ ^/objects/[^/]+/norange- {{
    max_ranges 0;
    include {state}/presigned.conf;
}}

location /objects/ {{
    {storage_rate}
    include {state}/presigned.conf;
}}
"""

# With the test CA (.ci/setup): the hub and the storage host over TLS, on other ports.
TLS_SERVERS = """
    server {{
        listen 127.0.0.1:{tls_port} ssl;
        server_name localhost;
        ssl_certificate {state}/tls/hub.pem;
        ssl_certificate_key {state}/tls/hub.key;
        access_log {state}/logs/git-access.log hub;
        client_max_body_size 0;
        set $decision $hub_decision;
        include {state}/git-locations.conf;
    }}

    server {{
        listen {storage_host}:{storage_tls_port} ssl;
        ssl_certificate {state}/tls/hub.pem;
        ssl_certificate_key {state}/tls/hub.key;
        access_log {state}/logs/storage-access.log hub;
        client_max_body_size 0;
        root {state}/lfs-storage;
        include {state}/storage-locations.conf;
    }}
"""

# Presigned URLs only (nginx secure_link: ?expires=&sig=). A link past its time is refused with
# 403, as S3 and OSS refuse an expired presigned URL. GET with Range, PUT to upload.
PRESIGNED_CONF = """
secure_link $arg_sig,$arg_expires;
secure_link_md5 "$secure_link_expires$uri {secret}";
if ($secure_link = "") {{ return 403; }}
if ($secure_link = "0") {{ return 403; }}
dav_methods PUT;
create_full_put_path on;
dav_access user:rw group:r all:r;
"""


GIFTLESS_CONF = """
LEGACY_ENDPOINTS: false
AUTH_PROVIDERS:
  - factory: msgit_giftless:token_auth
    options:
      username: oauth2
      token: "{token}"
      read_only_token: "{read_only_token}"
      other_token: "{other_token}"
      any_username: {any_username}
TRANSFER_ADAPTERS:
  basic:
    factory: giftless.transfer.basic_external:factory
    options:
      storage_class: msgit_giftless:SignedFileStorage
      storage_options:
        path: {state}/lfs-storage
        base_url: http://{storage_host}:{storage_port}
        routes: {storage_routes}
        tls_base_url: "{storage_tls_url}"
        secret: "{secret}"
        markers: {state}/markers
      action_lifetime: 900
PRE_AUTHORIZED_ACTION_PROVIDER:
  factory: giftless.auth.jwt:factory
  options:
    algorithm: HS256
    private_key: "{jwt_key}"
    default_lifetime: 900
"""


def test_ca():
    """The test CA made by .ci/setup (cert, key), one per user, or None. .ci/setup also adds it to
    the system trust store, which is what the TLS tests rely on."""
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    directory = os.environ.get("MSGIT_HUB_CA") or os.path.join(cache, "msgit", "test-ca")
    cert, key = os.path.join(directory, "ca.pem"), os.path.join(directory, "ca.key")
    return (cert, key) if os.path.exists(cert) and os.path.exists(key) else None


def make_tls_certificate(state):
    """A certificate for localhost, 127.0.0.1 and 127.0.0.2 signed by the test CA, in state/tls;
    False when there is no test CA."""
    ca = test_ca()
    if not ca:
        return False
    directory = os.path.join(state, "tls")
    os.makedirs(directory, exist_ok=True)
    key, csr, pem = (os.path.join(directory, n) for n in ("hub.key", "hub.csr", "hub.pem"))
    ext = os.path.join(directory, "ext.cnf")
    with open(ext, "w") as f:
        f.write("subjectAltName=DNS:localhost,IP:127.0.0.1,IP:127.0.0.2\nextendedKeyUsage=serverAuth\n")
    run = lambda *args: subprocess.run(args, check=True, capture_output=True)
    run("openssl", "req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", csr, "-subj", "/CN=localhost")
    run("openssl", "x509", "-req", "-in", csr, "-CA", ca[0], "-CAkey", ca[1], "-set_serial", str(secrets.randbits(63)), "-out", pem,
        "-days", "2", "-extfile", ext)
    return True


def start(state, watch_pid=None, token=None, storage_routes=None, storage_rate=None, huggingface=False):
    """Starts the hub in `state`. `storage_routes` maps the host:port a batch request was sent to
    (its Host header) to the base URL of the storage hrefs it gets (default: the storage host
    itself): the benchmark's clients reach the hub and the storage host through latency proxies,
    while its fixtures are pushed straight. `storage_rate` is an nginx `limit_rate` for every
    storage download (bytes per second of each connection, as storage hosts cap them).
    `huggingface`: a hub with Hugging Face's ways (see the top of this file)."""
    state = os.path.abspath(state)
    description_path = os.path.join(state, "hub.json")
    if os.path.exists(description_path):
        stop(state, quiet=True)
    for sub in ["repos", "lfs-storage/objects", "logs", "run", "tmp", "markers"]:
        os.makedirs(os.path.join(state, sub), exist_ok=True)
    python = venv_python()
    git_host, storage_host = (HF_HOST, HF_STORAGE_HOST) if huggingface else ("127.0.0.1", STORAGE_HOST)
    token_prefix = ("hf_", "hf_", "hf_") if huggingface else ("hubtok-", "hubro-", "othertok-")

    hub = {
        "state": state,
        "flavor": "huggingface" if huggingface else "gitlab",
        # With --huggingface any username will do; fixtures push with this one.
        "username": "hf_user" if huggingface else "oauth2",
        "any_username": huggingface,
        "token": token or token_prefix[0] + secrets.token_hex(16),
        "read_only_token": token_prefix[1] + secrets.token_hex(16),
        "other_token": token_prefix[2] + secrets.token_hex(16),
        "git_port": free_port(git_host),
        "other_port": free_port(OTHER_HOST),
        "lfs_port": free_port(),
        "storage_port": free_port(storage_host),
        "secret": secrets.token_hex(16),
        "jwt_key": secrets.token_hex(16),
    }
    hub["url"] = f"http://{git_host}:{hub['git_port']}"
    hub["other_url"] = None if huggingface else f"http://{OTHER_HOST}:{hub['other_port']}"
    hub["other_access_log"] = None if huggingface else os.path.join(state, "logs", "other-access.log")
    hub["storage_url"] = f"http://{storage_host}:{hub['storage_port']}"
    hub["storage_routes"] = json.dumps(storage_routes or {})
    hub["storage_rate"] = f"limit_rate {storage_rate};" if storage_rate else ""
    # TLS only with the test CA, which the system store trusts (.ci/setup).
    tls = make_tls_certificate(state) if not huggingface else False
    hub["tls_port"] = free_port() if tls else None
    hub["storage_tls_port"] = free_port(STORAGE_HOST) if tls else None
    hub["tls_url"] = f"https://localhost:{hub['tls_port']}" if tls else None
    hub["storage_tls_url"] = f"https://{STORAGE_HOST}:{hub['storage_tls_port']}" if tls else None
    hub["repos"] = os.path.join(state, "repos")
    hub["lfs_storage"] = os.path.join(state, "lfs-storage")
    hub["git_access_log"] = os.path.join(state, "logs", "git-access.log")
    hub["storage_access_log"] = os.path.join(state, "logs", "storage-access.log")
    hub["lfs_log"] = os.path.join(state, "logs", "giftless.log")

    import base64
    basic = lambda token: base64.b64encode(f"oauth2:{token}".encode()).decode()
    with open(os.path.join(state, "gitconfig"), "w") as f:
        f.write("[safe]\n\tdirectory = *\n[uploadpack]\n\tallowAnySHA1InWant = true\n")
    user = "user root root;" if os.geteuid() == 0 else ""
    tls_servers = TLS_SERVERS.format(storage_host=STORAGE_HOST, **hub) if tls else ""
    other_server = "" if huggingface else OTHER_SERVER.format(other_host=OTHER_HOST, **hub)
    with open(os.path.join(state, "nginx.conf"), "w") as f:
        f.write(NGINX_CONF.format(user=user, git_host=git_host, storage_host=storage_host, rw_basic=basic(hub["token"]),
                                  ro_basic=basic(hub["read_only_token"]), other_basic=basic(hub["other_token"]),
                                  tls_servers=tls_servers, other_server=other_server, **hub))
    with open(os.path.join(state, "git-locations.conf"), "w") as f:
        f.write((HF_GIT_LOCATIONS if huggingface else GIT_LOCATIONS).format(**hub))
    with open(os.path.join(state, "storage-locations.conf"), "w") as f:
        f.write(STORAGE_LOCATIONS.format(**hub))
    with open(os.path.join(state, "presigned.conf"), "w") as f:
        f.write(PRESIGNED_CONF.format(**hub))
    with open(os.path.join(state, "giftless.yaml"), "w") as f:
        f.write(GIFTLESS_CONF.format(storage_host=storage_host, **{**hub, "storage_tls_url": hub["storage_tls_url"] or "",
                                                                    "any_username": "true" if huggingface else "false"}))

    # The supervisor: a session of its own holding nginx, fcgiwrap and gunicorn as children.
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read_end)
        os.setsid()
        # Detach from the caller's terminal and pipes, or `hub.py start | cmd` never sees EOF.
        null = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(null, fd)
        try:
            supervise(hub, python, watch_pid, write_end)
        finally:
            os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end) as pipe:
        answer = pipe.read()
    if not answer.startswith("ready"):
        sys.exit(f"hub: failed to start: {answer.strip()} (logs in {state}/logs)")
    return json.load(open(description_path))


def supervise(hub, python, watch_pid, ready_fd):
    state = hub["state"]
    devnull = open(os.devnull, "rb")
    logs = os.path.join(state, "logs")
    children = []

    def spawn(args, log, env=None):
        out = open(os.path.join(logs, log), "ab")
        children.append(subprocess.Popen(args, stdin=devnull, stdout=out, stderr=subprocess.STDOUT,
                                         env=env, cwd=state))

    def shutdown(*_):
        for child in children:
            try:
                child.terminate()
            except ProcessLookupError:
                pass
        deadline = time.time() + 5
        for child in children:
            try:
                child.wait(max(0.1, deadline - time.time()))
            except subprocess.TimeoutExpired:
                child.kill()
        try:
            os.remove(os.path.join(state, "hub.json"))
        except FileNotFoundError:
            pass
        # fcgiwrap's and gunicorn's own children share our process group. fcgiwrap's prefork
        # workers outlive their parent and survive SIGTERM (each test run left eight behind), so
        # the group gets SIGKILL after a moment, this process included.
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        try:
            os.killpg(0, signal.SIGTERM)
            time.sleep(0.2)
            os.killpg(0, signal.SIGKILL)
        except ProcessLookupError:
            pass
        os._exit(0)

    signal.signal(signal.SIGTERM, shutdown)
    signal.signal(signal.SIGINT, shutdown)
    try:
        sock = os.path.join(state, "run", "fcgiwrap.sock")
        if os.path.exists(sock):
            os.remove(sock)
        spawn(["fcgiwrap", "-c", "8", "-s", f"unix:{sock}"], "fcgiwrap.log")
        env = dict(os.environ)
        env["GIFTLESS_CONFIG_FILE"] = os.path.join(state, "giftless.yaml")
        env["PYTHONPATH"] = HERE + os.pathsep + env.get("PYTHONPATH", "")
        env["PYTHONWARNINGS"] = "ignore"
        # One thread per worker: giftless builds its authenticator list lazily and without a lock,
        # so concurrent first requests in one process can miss the JWT authenticator (401 on verify).
        workers = "3" if hub.get("any_username") else "6"
        spawn([python, "-m", "gunicorn", "--bind", f"127.0.0.1:{hub['lfs_port']}", "--workers", workers,
               "--threads", "1", "--no-control-socket", "--access-logfile", hub["lfs_log"],
               "msgit_giftless:app"], "gunicorn.log", env=env)
        deadline = time.time() + 10
        while not os.path.exists(sock) and time.time() < deadline:
            time.sleep(0.02)
        spawn(["nginx", "-p", state, "-c", os.path.join(state, "nginx.conf"), "-e",
               os.path.join(logs, "nginx-error.log")], "nginx.log")
        ok = wait_for(hub["url"] + "/") and wait_for(hub["storage_url"] + "/") \
            and wait_for(f"http://127.0.0.1:{hub['lfs_port']}/x/y.git/info/lfs/objects/batch", timeout=30)
        if not ok:
            os.write(ready_fd, b"a server did not answer in time")
            shutdown()
        hub["supervisor_pid"] = os.getpid()
        with open(os.path.join(state, "hub.json.tmp"), "w") as f:
            json.dump(hub, f, indent=2)
        os.rename(os.path.join(state, "hub.json.tmp"), os.path.join(state, "hub.json"))
        os.write(ready_fd, b"ready")
        os.close(ready_fd)
    except Exception as e:  # report, then clean up
        os.write(ready_fd, f"{type(e).__name__}: {e}".encode())
        shutdown()

    while True:
        time.sleep(0.5)
        if watch_pid is not None:
            try:
                os.kill(watch_pid, 0)
            except ProcessLookupError:
                shutdown()
        for child in children:
            if child.poll() is not None:
                shutdown()


def stop(state, quiet=False):
    path = os.path.join(os.path.abspath(state), "hub.json")
    try:
        hub = json.load(open(path))
    except (FileNotFoundError, json.JSONDecodeError):
        if not quiet:
            print("hub: not running", file=sys.stderr)
        return
    pid = hub.get("supervisor_pid")
    try:
        os.kill(pid, signal.SIGTERM)
        deadline = time.time() + 10
        while time.time() < deadline:
            os.kill(pid, 0)
            time.sleep(0.05)
    except (ProcessLookupError, TypeError):
        pass
    try:
        os.remove(path)
    except FileNotFoundError:
        pass


# Fixtures --------------------------------------------------------------------------------------

def git(*args, cwd=None, env=None, check=True):
    base = dict(os.environ)
    base.update({"GIT_TERMINAL_PROMPT": "0", "GIT_CONFIG_NOSYSTEM": "1"})
    if env:
        base.update(env)
    return subprocess.run(["git", *args], cwd=cwd, env=base, check=check, capture_output=True, text=True)


def credential_helper(hub):
    return f"!f() {{ echo username={hub['username']}; echo password={hub['token']}; }}; f"


def create_bare(hub, name, head="master"):
    """An empty repository on the hub (what creating a model on the website does)."""
    path = os.path.join(hub["repos"], name + ".git")
    if os.path.exists(path):
        shutil.rmtree(path)
    git("init", "--bare", "-q", f"--initial-branch={head}", path)
    git("config", "http.receivepack", "true", cwd=path)
    return path


def push_worktree(hub, worktree, name, refspecs=("--all",), lfs=True):
    """Pushes a local repository to the hub with real git and git-lfs."""
    url = f"{hub['url']}/{name}.git"
    env = {"GIT_LFS_SKIP_SMUDGE": "0"}
    args = ["-c", f"credential.helper={credential_helper(hub)}", "-c", "lfs.locksverify=false", "push", "-q", url, *refspecs]
    git(*args, cwd=worktree, env=env)
    if "--all" in refspecs:
        git(*args[:-1], "--tags", cwd=worktree, env=env)
    return url


def write_random(path, size, seed):
    """Deterministic pseudo-random bytes (incompressible, so packs and transfers are honest)."""
    import hashlib
    os.makedirs(os.path.dirname(path), exist_ok=True)
    block = hashlib.sha256(seed.encode()).digest()
    with open(path, "wb") as f:
        remaining = size
        counter = 0
        chunk = bytearray()
        while remaining > 0:
            # SHAKE gives fast, seeded, incompressible bytes.
            piece = hashlib.shake_256(block + counter.to_bytes(8, "little")).digest(min(remaining, 1 << 20))
            f.write(piece)
            remaining -= len(piece)
            counter += 1


def model_worktree(work, readme, env=None):
    """A new local repository with git-lfs, the usual model .gitattributes, README.md and
    config.json, and a first commit."""
    if os.path.exists(work):
        shutil.rmtree(work)
    os.makedirs(work)
    git("init", "-q", "--initial-branch=master", cwd=work, env=env)
    git("config", "user.email", "hub@example.com", cwd=work, env=env)
    git("config", "user.name", "Hub Fixture", cwd=work, env=env)
    git("lfs", "install", "--local", cwd=work, env=env)
    with open(os.path.join(work, ".gitattributes"), "w") as f:
        f.write("*.bin filter=lfs diff=lfs merge=lfs -text\n*.safetensors filter=lfs diff=lfs merge=lfs -text\n"
                "tokenizer.json filter=lfs diff=lfs merge=lfs -text\n")
    with open(os.path.join(work, "README.md"), "w") as f:
        f.write(readme)
    with open(os.path.join(work, "config.json"), "w") as f:
        json.dump({"architectures": ["SampleModel"], "hidden_size": 64}, f)
    git("add", ".", cwd=work, env=env)
    git("commit", "-q", "-m", "Initial commit", cwd=work, env=env)


def make_sample(hub, name="demo/sample-model", weights_mib=8):
    """A small model repository: README and config as git blobs, weights and tokenizer in LFS, two
    commits, a tag and a second branch."""
    create_bare(hub, name)
    work = os.path.join(hub["state"], "work", name)
    model_worktree(work, "# sample-model\n\nA model repository for msgit's local hub.\n")
    write_random(os.path.join(work, "model.safetensors"), weights_mib << 20, name + "weights")
    write_random(os.path.join(work, "tokenizer.json"), 256 << 10, name + "tokenizer")
    os.chmod(os.path.join(work, "config.json"), 0o755)
    git("add", ".", cwd=work)
    git("commit", "-q", "-m", "Add weights", cwd=work)
    git("tag", "v1.0", cwd=work)
    git("branch", "dev", cwd=work)
    push_worktree(hub, work, name)
    return f"{hub['url']}/{name}.git"


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("start")
    p.add_argument("--state", required=True)
    p.add_argument("--watch-pid", type=int)
    p.add_argument("--token")
    p.add_argument("--huggingface", action="store_true", help="a hub with Hugging Face's ways")
    p = sub.add_parser("stop")
    p.add_argument("--state", required=True)
    p = sub.add_parser("sample")
    p.add_argument("--state", required=True)
    p.add_argument("--name", default="demo/sample-model")
    p.add_argument("--weights-mib", type=int, default=8)
    args = parser.parse_args()
    if args.command == "start":
        print(json.dumps(start(args.state, args.watch_pid, args.token, huggingface=args.huggingface), indent=2))
    elif args.command == "stop":
        stop(args.state)
    elif args.command == "sample":
        hub = json.load(open(os.path.join(os.path.abspath(args.state), "hub.json")))
        print(make_sample(hub, args.name, args.weights_mib))


if __name__ == "__main__":
    main()
