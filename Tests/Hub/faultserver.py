#!/usr/bin/env python3
"""A small HTTP server of msgit's own, on real sockets, for the failures no real server produces on
demand. It listens on 127.0.0.1:PORT and 127.0.0.2:PORT (two "hosts") and behaves by path:

  /stall/...                    reads the request, never answers
  /html/...                     200 text/html (a login page), whatever was asked
  /garbage/...                  200 with the git content type and bytes that are not pkt-lines
  /redirect/...                 302 to http://127.0.0.2:PORT/record/... (another host)
  /auth-then-redirect/...       401 until it gets credentials, then 302 to the other host
  /auth-then-redirect-www/...   the same, with WWW-Authenticate: Basic on the 302 (libgit2 1.5.1 then
                                sends the credential it holds to the new host without asking)
  /auth-then-redirect-port/...  the same, to another port of this host (--other-port)
  /redirect-www/...             302 with WWW-Authenticate to the other host on the very first request
  /relay/<port>/<path>          GETs forwarded to http://127.0.0.1:<port>/<path> (the hub), with their
                                Authorization, and the hub's answer returned; POSTs answered with a
                                302 + WWW-Authenticate to the other host (a redirect after the
                                credential was accepted)
  /record/...                   401 with WWW-Authenticate; logs the Authorization it got
  /echo-auth/...                401 with WWW-Authenticate, whose body echoes the Authorization it got
  /www-on-200/...               info/refs answered 200 with a one-ref advertisement and WWW-Authenticate:
                                Basic (libgit2 1.5.1's next request without a credential then crashed
                                the process); POSTs answered 500
  /trickle-headers/...          a status line, then one header byte a second, forever
  /trickle-body/...             headers of an advertisement, then one body byte a second, forever
  /lfs/<scenario>/.../objects/batch   a Git LFS batch endpoint, by scenario:
        stall        never answers
        html         200 text/html
        garbage      200 with an LFS content type and a body that is not JSON
        redirect     307 to the other host's /record/ (the Authorization must not follow)
        badsize      download actions whose content is not the size the pointer says
        stallbody    download actions whose body stops halfway and stalls
        slowbatch    download actions (content that is not the object's), answered at once for a
                     request of 100 objects and after 1.5 s for a smaller one (the last batch)
        delayed-<tag>  download actions to the other host's /delayed/<tag>/... (content that is not
                     the object's)
        delayed<ms>-<tag>  the same, from a storage host <ms> ms away
        storage-redirect   download actions that 302 to the other host's /record/
        record       logs the Authorization of the batch request, answers 401
        echo         403 whose JSON message echoes the Authorization of the batch request
        huge-<MiB>   a batch answer of <MiB> MiB (a valid start, then blanks), with Content-Length
        hugechunked-<MiB>  the same in chunked encoding, with no length announced
        huge-error-<MiB>   download actions whose storage answers 500 with a body of <MiB> MiB
        trickle      download actions whose storage sends the headers, then one body byte a second
        slowbody     download actions whose storage sends 50 KB a second (content that is not the
                     object's): slower than a short idle limit per request, never idle
        http-href    (over https) download actions whose href is plain http
  /downgrade/...                (over https) 302 to the same path over plain http
  /upgrade/<path>               301 to https://localhost/<path> (port 443, served by this server when it
                                may listen there: an upgrade on the same host)
  /proxy/<port>/<path>          every request forwarded to http://127.0.0.1:<port>/<path> (the hub), its
                                Authorization included, and the answer returned
  /content/<oid>/<n>            n bytes of deterministic content for <oid>
  /flood/<MiB>                  <MiB> MiB of zeros, written as fast as the client takes them; when the
                                last byte is written, a second log entry (method "SENT", its time)
  /stallbody/<n>                headers for n bytes, n/2 bytes, then silence
  /delayed/<tag>/<oid>/<n>[?ms=M]  /content/<oid>/<n> after M ms (50 by default), as from a storage
                                host M ms away (a handshake, which a server cannot delay, is not
                                played: libcurl times the answer from the connection being ready
                                and leaves it out anyway); the log entry says how many requests of <tag>
                                were in flight (this one included) when it arrived, and the
                                connection (the client's port)

A third listener serves the same over TLS on https://localhost:TLSPORT with a self-signed
certificate (cert.pem in --state) that clients under test are told to trust.

Every request is logged (host, method, path, Authorization, arrival time) as JSON lines to --log. A second
listening socket, --blackhole, accepts no connection and has a full backlog, so connects to it
hang (for connect timeouts). Exits when --watch-pid exits.
"""
import argparse
import http.server
import json
import os
import socket
import socketserver
import ssl
import subprocess
import sys
import threading
import time

ARGS = None
LOG_LOCK = threading.Lock()
# /delayed/<tag>/... requests being answered, per tag.
IN_FLIGHT = {}
IN_FLIGHT_LOCK = threading.Lock()


def log(entry):
    with LOG_LOCK, open(ARGS.log, "a") as f:
        f.write(json.dumps(entry) + "\n")


def content(oid, n):
    import hashlib
    out = bytearray()
    counter = 0
    while len(out) < n:
        out += hashlib.sha256(f"{oid}:{counter}".encode()).digest()
        counter += 1
    return bytes(out[:n])


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def other_host(self):
        return f"http://127.0.0.2:{ARGS.port}"

    def send(self, status, body=b"", headers=None, content_type="text/plain"):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if body:
            self.wfile.write(body)

    def stall(self):
        # Keep the connection open and silent until the client gives up.
        try:
            while self.rfile.read(1):
                pass
        except Exception:
            pass
        time.sleep(3600)

    def handle_any(self):
        if (self.headers.get("Transfer-Encoding") or "").lower() == "chunked":
            body = b""
            while True:
                size = int(self.rfile.readline().strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    break
                body += self.rfile.read(size)
                self.rfile.readline()
        else:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
        host = self.server.server_address[0]
        parts = self.path.split("?")[0].strip("/").split("/")
        kind = parts[0] if parts else ""
        entry = {"host": host, "port": self.server.server_address[1],
                 "tls": isinstance(self.connection, ssl.SSLSocket), "method": self.command,
                 "path": self.path, "authorization": self.headers.get("Authorization"), "time": time.time()}
        if kind == "lfs":
            try:
                entry["objects"] = len(json.loads(body or b"{}").get("objects", []))
            except ValueError:
                pass
        if kind == "delayed" and len(parts) >= 4:
            query = self.path.split("?", 1)[1] if "?" in self.path else ""
            ms = int(query[3:]) if query.startswith("ms=") else 50
            return self.delayed(parts[1], parts[2], int(parts[3]), entry, ms)
        log(entry)
        if kind == "stall":
            return self.stall()
        if kind == "html":
            return self.send(200, b"<!DOCTYPE html><html><body>Sign in</body></html>", content_type="text/html")
        if kind == "garbage":
            return self.send(200, b"\x00\x01garbage that is not a pkt-line\xff" * 4,
                             content_type="application/x-git-upload-pack-advertisement")
        if kind == "redirect":
            return self.send(302, headers={"Location": self.other_host() + "/record/" + "/".join(parts[1:]) +
                                           ("?" + self.path.split("?", 1)[1] if "?" in self.path else "")})
        if kind == "auth-then-redirect":
            if not self.headers.get("Authorization"):
                return self.send(401, b"HTTP Basic: Access denied\n", {"WWW-Authenticate": 'Basic realm="x"'})
            return self.send(302, headers={"Location": self.other_host() + "/record/" + "/".join(parts[1:]) +
                                           ("?" + self.path.split("?", 1)[1] if "?" in self.path else "")})
        if kind in ("auth-then-redirect-www", "auth-then-redirect-port", "redirect-www"):
            if kind != "redirect-www" and not self.headers.get("Authorization"):
                return self.send(401, b"HTTP Basic: Access denied\n", {"WWW-Authenticate": 'Basic realm="x"'})
            target = f"http://127.0.0.1:{ARGS.other_port}" if kind == "auth-then-redirect-port" else self.other_host()
            return self.send(302, headers={"Location": target + "/record/" + "/".join(parts[1:]) +
                                           ("?" + self.path.split("?", 1)[1] if "?" in self.path else ""),
                                           "WWW-Authenticate": 'Basic realm="x"'})
        if kind == "www-on-200":
            if self.command == "POST":
                return self.send(500, b"no\n")
            oid = "1" * 40
            lines = [b"# service=git-upload-pack\n", None,
                     f"{oid} HEAD\0multi_ack side-band-64k ofs-delta\n".encode(),
                     f"{oid} refs/heads/master\n".encode(), None]
            body = b"".join(b"0000" if line is None else f"{len(line) + 4:04x}".encode() + line for line in lines)
            return self.send(200, body, {"WWW-Authenticate": 'Basic realm="x"'},
                             content_type="application/x-git-upload-pack-advertisement")
        if kind in ("trickle-headers", "trickle-body"):
            return self.trickle(kind)
        if kind == "upgrade":
            return self.send(301, headers={"Location": "https://localhost/" + "/".join(parts[1:]) +
                                           ("?" + self.path.split("?", 1)[1] if "?" in self.path else "")})
        if kind == "proxy" and len(parts) >= 3:
            return self.proxy(parts[1], "/".join(parts[2:]), body)
        if kind == "relay" and len(parts) >= 3:
            return self.relay(parts[1], "/".join(parts[2:]), body)
        if kind == "downgrade":
            return self.send(302, headers={"Location": f"http://127.0.0.1:{ARGS.port}/record/" + "/".join(parts[1:]) +
                                           ("?" + self.path.split("?", 1)[1] if "?" in self.path else "")})
        if kind == "echo-auth":
            auth = self.headers.get("Authorization")
            text = f"HTTP Basic: Access denied for {auth}\n" if auth else "HTTP Basic: Access denied\n"
            return self.send(401, text.encode(), {"WWW-Authenticate": 'Basic realm="x"'})
        if kind == "record":
            return self.send(401, b"HTTP Basic: Access denied\n", {"WWW-Authenticate": 'Basic realm="other"'})
        if kind == "put" and len(parts) >= 3:
            # An upload href: the body must be the object.
            import hashlib
            good = hashlib.sha256(body).hexdigest() == parts[1] and len(body) == int(parts[2])
            return self.send(200 if good else 400, b"" if good else b"not the object\n")
        if kind == "flood" and len(parts) >= 2:
            return self.flood(int(parts[1]), entry)
        if kind == "content" and len(parts) >= 3:
            return self.send(200, content(parts[1], int(parts[2])), content_type="application/octet-stream")
        if kind == "stallbody" and len(parts) >= 2:
            n = int(parts[1])
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(n))
            self.end_headers()
            self.wfile.write(content("stall", n // 2))
            self.wfile.flush()
            return self.stall()
        if kind == "slow" and len(parts) >= 3:
            body = content(parts[1], int(parts[2]))
            try:
                self.send_response(200)
                self.send_header("Content-Type", "application/octet-stream")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                for i in range(0, len(body), 5000):
                    self.wfile.write(body[i:i + 5000])
                    self.wfile.flush()
                    time.sleep(0.1)
            except Exception:
                pass
            return
        if kind == "huge-error" and len(parts) >= 2:
            return self.huge(int(parts[1]), chunked=False, status=500)
        if kind == "trickle-download" and len(parts) >= 2:
            try:
                self.send_response(200)
                self.send_header("Content-Type", "application/octet-stream")
                self.send_header("Content-Length", parts[1])
                self.end_headers()
                while True:
                    self.wfile.write(b"x")
                    self.wfile.flush()
                    time.sleep(1)
            except Exception:
                return
        if kind == "lfs" and len(parts) >= 2:
            return self.lfs(parts[1], body)
        return self.send(404, b"not found\n")

    def huge(self, mib, chunked, status=200):
        """A body of `mib` MiB, sent as fast as the client takes it."""
        start = b'{"transfer":"basic","objects":['
        block = b" " * (1 << 20)
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/vnd.git-lfs+json")
            if chunked:
                self.send_header("Transfer-Encoding", "chunked")
            else:
                self.send_header("Content-Length", str(len(start) + mib * len(block)))
            self.end_headers()
            for piece in [start] + [block] * mib:
                if chunked:
                    self.wfile.write(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
                else:
                    self.wfile.write(piece)
            if chunked:
                self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()
        except Exception:
            pass

    def flood(self, mib, entry):
        """`mib` MiB as fast as the client reads, and when the writes are done, a log entry saying so:
        a client that reads no faster than it stores holds the server back, one that queues what it
        reads lets the server finish at once."""
        block = bytes(1 << 20)
        try:
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(mib << 20))
            self.end_headers()
            for _ in range(mib):
                self.wfile.write(block)
            self.wfile.flush()
            log(dict(entry, method="SENT", time=time.time()))
        except Exception:
            pass

    def trickle(self, kind):
        try:
            self.wfile.write(b"HTTP/1.1 200 OK\r\n")
            if kind == "trickle-body":
                self.wfile.write(b"Content-Type: application/x-git-upload-pack-advertisement\r\n"
                                 b"Content-Length: 100000\r\n\r\n")
            self.wfile.flush()
            while True:
                self.wfile.write(b"0" if kind == "trickle-body" else b"X")
                self.wfile.flush()
                time.sleep(1)
        except Exception:
            pass

    def proxy(self, port, rest, body):
        import urllib.request
        import urllib.error
        query = "?" + self.path.split("?", 1)[1] if "?" in self.path else ""
        request = urllib.request.Request(f"http://127.0.0.1:{port}/{rest}{query}", data=body if body else None,
                                         method=self.command)
        for name in ("Authorization", "Content-Type", "Accept", "User-Agent", "Git-Protocol"):
            if self.headers.get(name):
                request.add_header(name, self.headers.get(name))
        try:
            with urllib.request.urlopen(request) as answer:
                status, headers, data = answer.status, answer.headers, answer.read()
        except urllib.error.HTTPError as error:
            status, headers, data = error.code, error.headers, error.read()
        extra = {k: v for k, v in headers.items() if k.lower() in ("www-authenticate", "cache-control")}
        return self.send(status, data, extra, content_type=headers.get("Content-Type", "text/plain"))

    def relay(self, port, rest, body):
        if self.command == "POST":
            return self.send(302, headers={"Location": self.other_host() + "/record/" + rest,
                                           "WWW-Authenticate": 'Basic realm="x"'})
        return self.proxy(port, rest, body)

    def delayed(self, tag, oid, n, entry, ms):
        with IN_FLIGHT_LOCK:
            IN_FLIGHT[tag] = IN_FLIGHT.get(tag, 0) + 1
            entry["inflight"] = IN_FLIGHT[tag]
        entry["connection"] = self.client_address[1]
        log(entry)
        try:
            time.sleep(ms / 1000)
            self.send(200, content(oid, n), content_type="application/octet-stream")
        finally:
            with IN_FLIGHT_LOCK:
                IN_FLIGHT[tag] -= 1

    def lfs(self, scenario, body):
        if scenario == "stall":
            return self.stall()
        if scenario == "html":
            return self.send(200, b"<html><body>Please log in</body></html>", content_type="text/html")
        if scenario == "garbage":
            return self.send(200, b"{not json at all", content_type="application/vnd.git-lfs+json")
        if scenario == "redirect":
            return self.send(307, headers={"Location": self.other_host() + "/record/lfs/objects/batch"})
        if scenario.startswith("huge-error-"):
            pass
        elif scenario.startswith("huge-") or scenario.startswith("hugechunked-"):
            return self.huge(int(scenario.split("-", 1)[1]), chunked=scenario.startswith("hugechunked-"))
        if scenario == "echo":
            message = json.dumps({"message": f"credentials {self.headers.get('Authorization')} may not read this"})
            return self.send(403, message.encode(), content_type="application/vnd.git-lfs+json")
        if scenario == "record":
            return self.send(401, b'{"message":"Credentials needed"}', {"LFS-Authenticate": 'Basic realm="x"'},
                             content_type="application/vnd.git-lfs+json")
        try:
            request = json.loads(body or b"{}")
        except ValueError:
            return self.send(422, b'{"message":"bad json"}')
        if scenario.startswith("limit"):
            # A server that takes at most N objects a batch request (413 beyond), for uploads and
            # downloads; uploads go to /put/, which checks the body.
            asked = request.get("objects", [])
            if len(asked) > int(scenario[5:]):
                return self.send(413, b'{"message":"too many objects in one request"}',
                                 content_type="application/vnd.git-lfs+json")
            upload = request.get("operation") == "upload"
            answer = [{"oid": o["oid"], "size": o["size"], "authenticated": True,
                       "actions": {("upload" if upload else "download"): {
                           "href": f"http://127.0.0.1:{ARGS.port}/{'put' if upload else 'content'}/{o['oid']}/{o['size']}",
                           "expires_in": 3600}}} for o in asked]
            return self.send(200, json.dumps({"transfer": "basic", "objects": answer}).encode(),
                             content_type="application/vnd.git-lfs+json")
        objects = []
        for obj in request.get("objects", []):
            oid, size = obj["oid"], obj["size"]
            if scenario == "badsize":
                href = f"http://127.0.0.1:{ARGS.port}/content/{oid}/{max(size - 7, 1)}"
            elif scenario == "stallbody":
                href = f"http://127.0.0.1:{ARGS.port}/stallbody/{size}"
            elif scenario == "slowbatch":
                href = f"http://127.0.0.1:{ARGS.port}/content/{oid}/{size}"
            elif scenario.startswith("delayed"):
                ms, tag = scenario[7:].split("-", 1)
                href = f"http://127.0.0.2:{ARGS.port}/delayed/{tag}/{oid}/{size}?ms={ms or 50}"
            elif scenario == "storage-redirect":
                href = f"http://127.0.0.1:{ARGS.port}/redirect/storage/{oid}"
            elif scenario.startswith("huge-error-"):
                href = f"http://127.0.0.1:{ARGS.port}/huge-error/{scenario.rsplit('-', 1)[1]}"
            elif scenario == "slowbody":
                href = f"http://127.0.0.1:{ARGS.port}/slow/{oid}/{size}"
            elif scenario == "trickle":
                href = f"http://127.0.0.1:{ARGS.port}/trickle-download/{size}"
            elif scenario == "http-href":
                href = f"http://127.0.0.1:{ARGS.port}/content/{oid}/{size}"
            elif scenario == "downgrade-href":
                href = f"https://localhost:{ARGS.tls_port}/downgrade/content/{oid}/{size}"
            else:
                return self.send(404, b'{"message":"unknown scenario"}')
            objects.append({"oid": oid, "size": size, "authenticated": True,
                            "actions": {"download": {"href": href, "header": {"Authorization": "Bearer action-secret"},
                                                     "expires_in": 3600}}})
        if scenario == "slowbatch" and len(objects) < 100:
            time.sleep(1.5)
        payload = json.dumps({"transfer": "basic", "objects": objects}).encode()
        return self.send(200, payload, content_type="application/vnd.git-lfs+json")

    do_GET = handle_any
    do_POST = handle_any
    do_PUT = handle_any


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128  # many connections at once (/delayed/)

    def handle_error(self, request, client_address):
        pass  # clients that give up (the point of most scenarios) reset their connections


def main():
    global ARGS
    parser = argparse.ArgumentParser()
    parser.add_argument("--state", required=True)
    parser.add_argument("--watch-pid", type=int)
    ARGS = parser.parse_args()
    os.makedirs(ARGS.state, exist_ok=True)
    ARGS.log = os.path.join(ARGS.state, "requests.jsonl")
    open(ARGS.log, "w").close()

    first = Server(("127.0.0.1", 0), Handler)
    ARGS.port = first.server_address[1]
    second = Server(("127.0.0.2", ARGS.port), Handler)
    # TLS on localhost (mbedTLS, under libgit2, ignores IP SANs: name the host).
    cert, key = os.path.join(ARGS.state, "cert.pem"), os.path.join(ARGS.state, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert,
                    "-days", "2", "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost"],
                   check=True, capture_output=True)
    other_port = Server(("127.0.0.1", 0), Handler)
    ARGS.other_port = other_port.server_address[1]
    tls = Server(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    tls.socket = context.wrap_socket(tls.socket, server_side=True)
    ARGS.tls_port = tls.server_address[1]
    servers = [first, second, other_port, tls]
    # https on 443 of localhost, where an upgrade from http on the same host leads (root only).
    https443 = None
    try:
        standard = Server(("127.0.0.1", 443), Handler)
        standard.socket = context.wrap_socket(standard.socket, server_side=True)
        servers.append(standard)
        https443 = "https://localhost"
    except OSError:
        pass
    for server in servers:
        threading.Thread(target=server.serve_forever, daemon=True).start()

    # The black hole: a listener whose backlog is full, so further SYNs go unanswered.
    blackhole = socket.socket()
    blackhole.bind(("127.0.0.1", 0))
    blackhole.listen(0)
    fillers = []
    for _ in range(4):
        s = socket.socket()
        s.setblocking(False)
        try:
            s.connect(blackhole.getsockname())
        except BlockingIOError:
            pass
        fillers.append(s)

    info = {"port": ARGS.port, "url": f"http://127.0.0.1:{ARGS.port}", "other_url": f"http://127.0.0.2:{ARGS.port}",
            "other_port": ARGS.other_port,
            "blackhole_port": blackhole.getsockname()[1], "log": ARGS.log,
            "tls_url": f"https://localhost:{ARGS.tls_port}", "cert": cert, "https443": https443}
    tmp = os.path.join(ARGS.state, "fault.json.tmp")
    with open(tmp, "w") as f:
        json.dump(info, f)
    os.rename(tmp, os.path.join(ARGS.state, "fault.json"))
    while True:
        time.sleep(0.5)
        if ARGS.watch_pid:
            try:
                os.kill(ARGS.watch_pid, 0)
            except ProcessLookupError:
                os._exit(0)


if __name__ == "__main__":
    main()
