#!/usr/bin/env python3
"""msgit against git + git-lfs (and curl), measured side by side in one run on the local hub.

    python3 Benchmarks/bench.py [--runs 3] [--tiny] [--only 1,3] [--out benchmark-results] [--record]
                                [--rtt MS [--conn-rate MB/S]]

--rtt puts a latency proxy of our own (latency_proxy.py: real TCP on loopback, each direction delayed
by half the round trip) in front of the hub and of the storage host, for both tools; --conn-rate caps
each storage connection as object stores do (nginx limit_rate). The fixtures are pushed around the
proxies. At a round trip, `--only 1,4,7,5,8 --conn-rate 40` runs the scenarios users meet.

Scenarios (the fixtures are made with real git + git-lfs and pushed to the hub first):
  1. model clone: two commits; README and config.json as ordinary files; LFS weights of 256 MiB and
     128 MiB, a 2 MiB tokenizer, 200 files of 64 KiB.
       msgit clone  vs  git clone (git-lfs smudging)  vs  GIT_LFS_SKIP_SMUDGE=1 git clone + git lfs pull
     With --rtt, also against its floor: msgit's clone with no proxy (the storage cap kept) plus the
     7 round trips no client avoids (three handshakes, info/refs, the pack, one batch, one GET).
  2. git-only clone of a ~100 MB pack with ~20,000 objects: msgit clone vs git clone.
  3. one 1 GiB LFS object: msgit lfs pull vs git lfs pull vs curl to a file.
  4. 1,000 LFS files of 16 KiB: msgit lfs pull vs git lfs pull.
  5. no-op: lfs pull on a complete clone (msgit vs git lfs pull), and a mirror rerun with nothing new.
  6. one copy of each weight: disk used by the model clone of scenario 1 (msgit's default: copies on
     ext4, reflinks on an XFS loop image where root may mount one; --link; git + git-lfs), the clone
     time with --link, and a second clone whose objects are already in a shared store (--lfs-storage),
     with and without --link.
  7. 10,000 LFS files of 4 KiB: msgit lfs pull vs git lfs pull.
  8. a mirror of 20 small model repositories from nothing: msgit mirror vs git clone --mirror + git lfs
     fetch --all, four at a time each.
  Publishing (each timed push goes into a new empty repository, so every object is uploaded):
  9. the model of scenario 1: msgit push vs git push (git-lfs's pre-push); msgit upload of the same
     folder vs git init + add + commit + push (git-lfs cleaning and pushing).
 10. 1,000 LFS files of 16 KiB: msgit push vs git push; msgit upload of the folder vs git init + add +
     commit + push.
 11. one 1 GiB LFS object: msgit push vs git push, and vs curl -T of the object to the href a batch
     upload request hands out (the PUT alone).
 12. an update: a commit that adds one 128 MiB file to a repository that has the rest: msgit push vs
     git push.
  Service (msgit-service-bench: one process, one GitClient, every clone at once, against git clone
  with git-lfs 8 at a time):
 13. 100 clones of one repository of 20 LFS files of 64 KiB.
 14. 100 distinct repositories of that shape.

Each command runs --runs times (after one warm-up), each after `sync` so that no run pays for the
writeback of an earlier one, and with earlier runs' trees out of the way in a way that does not slow
it down (see Bench.discard); the table shows the median wall time, the peak RSS (/usr/bin/time's
maximum resident set size), the median CPU time (user + system), the connections and requests the hub
and the storage host saw in the last run, and msgit's ratio to the peer. --tiny shrinks every
fixture so CI can check that the script still works; its numbers mean nothing.
"""
import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "Tests", "Hub"))
import hub as hubmod  # noqa: E402

MIB = 1 << 20
# ext4 without a journal skips (and scans past) inodes freed less than 60 s ago, or 360 s while
# their inode table block is dirty (RECENTCY_MIN and RECENTCY_DIRTY in fs/ext4/ialloc.c): see
# Bench.discard and filesystem_of.
INODE_SETTLE_S = 61


def filesystem_of(path):
    """The file system `path` is on: {"type", "device", "journal"}, where "journal" is whether an
    ext4 has one (/proc/fs/jbd2/<device>-* exists) and None for other types.

    It matters for every scenario that replaces many files. On ext4 without a journal the kernel
    will not hand out an inode freed less than 60 s ago, or 360 s ago while its inode table block is
    dirty, which creating files in the same block makes it (`recently_deleted` in
    fs/ext4/ialloc.c), and it finds a free inode by reading past every such one. Each timed run
    of a small-file pull replaces 1,000 pointer files, and the next run, of either tool, starts
    within that window: on this machine's root file system a 1,000-file pull at 30 ms took
    1.5-2.9 s from run to run (up to 45% of its samples in that scan), and 1.3-1.5 s on a
    journaled ext4 image of the same disk. No wait between runs short of six minutes avoids it;
    a work directory on a journaled file system does (--workdir)."""
    real = os.path.realpath(path)
    best = ("", "", "")
    with open("/proc/self/mountinfo") as f:
        for line in f:
            fields = line.split()
            mount_point = fields[4].replace("\\040", " ")
            separator = fields.index("-")
            fs_type, source = fields[separator + 1], fields[separator + 2]
            inside = real == mount_point or real.startswith(mount_point.rstrip("/") + "/")
            if inside and len(mount_point) > len(best[0]):
                best = (mount_point, fs_type, source)
    _, fs_type, source = best
    device = os.path.basename(source)
    journal = None
    if fs_type == "ext4":
        journal = os.path.isdir("/proc/fs/jbd2") and any(
            name.rsplit("-", 1)[0] == device for name in os.listdir("/proc/fs/jbd2"))
    return {"type": fs_type, "device": device, "journal": journal}


def sh(cmd, cwd=None, env=None, check=True):
    full = dict(os.environ)
    full.update(env or {})
    done = subprocess.run(cmd, cwd=cwd, env=full, capture_output=True, text=True)
    if check and done.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} exited with {done.returncode}: {(done.stderr or done.stdout)[-3000:]}")
    return done


class Measured:
    """One command's median wall and CPU seconds, peak RSS (KiB), and the hub's and the storage
    host's requests and connections in its last run."""

    def __init__(self, wall, rss, cpu=0.0, traffic=None):
        self.wall, self.rss, self.cpu, self.traffic = wall, rss, cpu, traffic or {}

    @staticmethod
    def of(value):
        return value if isinstance(value, Measured) else Measured(*value)

    def connections(self):
        """"hub 2/14 storage 8/1000": connections/requests."""
        return " ".join(f"{name} {t['connections']}/{t['requests']}" for name, t in self.traffic.items()
                        if t["requests"]) or "-"


class Bench:
    def __init__(self, args):
        self.args = args
        self.work = tempfile.mkdtemp(prefix="msgit-bench-", dir=args.workdir)
        self.filesystem = filesystem_of(self.work)
        # See filesystem_of: only there do runs pay for the inodes earlier ones freed.
        self.inode_rule = self.filesystem["type"] == "ext4" and self.filesystem["journal"] is False
        if self.inode_rule:
            print(f"warning: {self.work} is on ext4 without a journal; runs that replace many files "
                  "pay for the inodes earlier runs freed (see filesystem_of in bench.py): give --workdir "
                  "on a journaled file system for small-file figures", file=sys.stderr, flush=True)
        self.rows = []
        self.disk_rows = []
        self.msgit = args.msgit
        self.service_bench = args.service_bench

    # Environment ---------------------------------------------------------------------------------
    def start(self):
        rtt, rate = self.args.rtt, self.args.conn_rate
        routes, limit = None, None
        if rtt:
            # The clients reach the hub and the storage host through latency proxies; the
            # fixtures are pushed straight (the hub routes each batch request's storage hrefs by
            # the host it was sent to).
            git_port, storage_port = hubmod.free_port(), hubmod.free_port(hubmod.STORAGE_HOST)
            routes = {f"127.0.0.1:{git_port}": f"http://{hubmod.STORAGE_HOST}:{storage_port}"}
        if rate:
            limit = str(int(rate * 1_000_000))
        self.hub = hubmod.start(os.path.join(self.work, "hub"), os.getpid(), storage_routes=routes,
                                storage_rate=limit)
        self.base = self.hub["url"]
        self.proxies = []
        if rtt:
            self.proxy(("127.0.0.1", git_port), ("127.0.0.1", self.hub["git_port"]), "hub")
            self.proxy((hubmod.STORAGE_HOST, storage_port), (hubmod.STORAGE_HOST, self.hub["storage_port"]), "storage")
            self.base = f"http://127.0.0.1:{git_port}"
        self.token = self.hub["token"]
        home = os.path.join(self.work, "home")
        os.makedirs(home)
        # git and git-lfs authenticate through a credential helper; msgit through MSGIT_TOKEN.
        with open(os.path.join(home, ".gitconfig"), "w") as f:
            f.write("[user]\n\tname = bench\n\temail = bench@example.com\n"
                    f"[credential]\n\thelper = \"!f() {{ echo username=oauth2; echo password={self.token}; }}; f\"\n"
                    "[filter \"lfs\"]\n\tclean = git-lfs clean -- %f\n\tsmudge = git-lfs smudge -- %f\n"
                    "\tprocess = git-lfs filter-process\n\trequired = true\n")
        # A TMPDIR of its own: FoundationNetworking's download tasks (which msgit uses only for a
        # storage server that ignores Range) make two entries per download there, and a /tmp grown
        # large elsewhere (ext4 directories never shrink) slows them by half. git-lfs and curl do
        # not use TMPDIR, so this is neutral between the tools.
        tmp = os.path.join(self.work, "tmp")
        os.makedirs(tmp)
        self.env = {"HOME": home, "GIT_CONFIG_NOSYSTEM": "1", "GIT_TERMINAL_PROMPT": "0", "MSGIT_TOKEN": self.token,
                    "XDG_CONFIG_HOME": os.path.join(home, ".config"), "TMPDIR": tmp}

    def proxy(self, listen, to, name):
        """A latency proxy (latency_proxy.py) in front of `to`, adding --rtt ms per round trip."""
        process = subprocess.Popen([sys.executable, os.path.join(HERE, "latency_proxy.py"),
                                    "--listen", f"{listen[0]}:{listen[1]}", "--to", f"{to[0]}:{to[1]}",
                                    "--rtt-ms", str(self.args.rtt), "--parent-pid", str(os.getpid()),
                                    "--stats", os.path.join(self.work, f"proxy-{name}.json")],
                                   stdout=subprocess.PIPE, text=True)
        line = process.stdout.readline()
        if not line.startswith("ready"):
            raise RuntimeError(f"the {name} latency proxy did not start: {line!r}")
        self.proxies.append(process)

    def stop(self):
        for process in getattr(self, "proxies", []):
            process.terminate()
            process.wait()
        self.unmount_xfs()
        hubmod.stop(os.path.join(self.work, "hub"))
        if not self.args.keep:
            shutil.rmtree(self.work, ignore_errors=True)

    # Measuring -----------------------------------------------------------------------------------
    def measure(self, command, prepare=None, cwd=None, env=None, settle=False):
        """Median wall seconds and peak RSS (KiB) of `command` over --runs runs after a warm-up;
        `prepare` runs untimed before each. `settle`, for commands that replace many files, waits
        INODE_SETTLE_S before each timed run on an ext4 without a journal (see filesystem_of): the
        inodes the run before freed stop counting after that only where their inode table blocks
        stay clean, so this narrows the noise there rather than removing it."""
        samples = []
        traffic = {}
        for i in range(self.args.runs + 1):
            if prepare:
                prepare()
            if settle and i > 0 and self.inode_rule and not self.args.tiny:
                time.sleep(INODE_SETTLE_S)
            # Every tool starts with no writeback of an earlier run's files pending.
            subprocess.run(["sync"])
            stats = os.path.join(self.work, "time.txt")
            full = dict(os.environ)
            full.update(self.env)
            full.update(env or {})
            marks = self.log_marks()
            start = time.monotonic()
            result = subprocess.run(["/usr/bin/time", "-f", "%e %M %U %S", "-o", stats] + command, cwd=cwd, env=full,
                                    capture_output=True, text=True)
            wall = time.monotonic() - start
            if result.returncode != 0:
                raise RuntimeError(f"{' '.join(command)} failed ({result.returncode}): {result.stderr[-2000:]}")
            fields = open(stats).read().split()[-4:]
            rss, cpu = int(fields[1]), float(fields[2]) + float(fields[3])
            if i > 0:  # the first run warms caches
                samples.append((wall, rss, cpu))
                traffic = self.traffic_since(marks)
        return Measured(statistics.median(s[0] for s in samples), max(s[1] for s in samples),
                        statistics.median(s[2] for s in samples), traffic)

    def log_marks(self):
        return {name: os.path.getsize(self.hub[f"{name}_access_log"]) for name in ("git", "storage")}

    def traffic_since(self, marks):
        """Requests and connections (nginx's $connection) the hub and the storage host saw since
        `marks`; through the proxies, one connection of the tool is one connection here."""
        traffic = {}
        for name, mark in marks.items():
            with open(self.hub[f"{name}_access_log"]) as f:
                f.seek(mark)
                lines = f.read().splitlines()
            connections = {l.rsplit("conn=", 1)[-1] for l in lines if "conn=" in l}
            traffic[name] = {"requests": len(lines), "connections": len(connections)}
        return traffic

    def publish_target(self, loopback, at30=None, at200=None):
        """Issue 26's targets for publishing: `loopback`, and at 30 and 200 ms those given (none
        where the issue sets none)."""
        if not self.args.rtt:
            return loopback
        return (at200 if self.args.rtt >= 200 else at30) or ""

    def latency_target(self, loopback):
        """The target at this run's round trip: issue 16's at 30 ms (<= 0.3, the model clone with
        a capped storage host <= 0.35) and at 200 ms (<= 0.25); `loopback` without the proxy."""
        if not self.args.rtt:
            return loopback
        if self.args.rtt >= 200:
            return "<= 0.25"
        return "<= 0.35" if loopback.startswith("<= 0.5, RSS") else "<= 0.3"

    def row(self, scenario, what, msgit, peer, peer_name, target=None):
        msgit, peer = Measured.of(msgit), Measured.of(peer)
        ratio = msgit.wall / peer.wall if peer.wall > 0 else float("nan")
        self.rows.append({"scenario": scenario, "what": what, "peer": peer_name, "msgit_s": msgit.wall,
                          "msgit_rss_mib": msgit.rss / 1024, "msgit_cpu_s": msgit.cpu, "msgit_traffic": msgit.traffic,
                          "peer_s": peer.wall, "peer_rss_mib": peer.rss / 1024, "peer_cpu_s": peer.cpu,
                          "peer_traffic": peer.traffic, "ratio": ratio, "target": target})
        print(f"  {what:<44} msgit {msgit.wall:7.3f} s {msgit.rss / 1024:7.1f} MiB cpu {msgit.cpu:6.2f} s "
              f"{msgit.connections()} | {peer_name:<28} {peer.wall:7.3f} s {peer.rss / 1024:7.1f} MiB "
              f"cpu {peer.cpu:6.2f} s {peer.connections()} | ratio {ratio:5.2f}", flush=True)

    # Fixtures ------------------------------------------------------------------------------------
    def size(self, full, tiny):
        return tiny if self.args.tiny else full

    def lfs_repo(self, name, files, extra_commit=True):
        """A repository pushed with git + git-lfs: files = [(path, size)]; LFS for *.bin/*.safetensors/
        tokenizer.json."""
        hub = self.hub
        hubmod.create_bare(hub, name)
        work = os.path.join(self.work, "fixtures", name)
        hubmod.model_worktree(work, "# benchmark model\n", env=self.env)
        git = lambda *a: sh(["git", *a], cwd=work, env=self.env)
        # Thousands of loose objects start `git gc --auto` in the background after a commit; it
        # packs and deletes them while git-lfs's pre-push hook reads them ("missing object").
        git("config", "gc.auto", "0")
        for path, size in files:
            hubmod.write_random(os.path.join(work, path), size, name + path)
        git("add", ".")
        git("commit", "-q", "-m", "Add weights")
        git("push", "-q", f"{hub['url']}/{name}.git", "master")
        return f"{self.base}/{name}.git"

    def git_repo(self, name, blobs, blob_size, commits):
        hubmod.create_bare(self.hub, name)
        work = os.path.join(self.work, "fixtures", name)
        os.makedirs(work)
        git = lambda *a: sh(["git", *a], cwd=work, env=self.env)
        git("init", "-q", "--initial-branch=master")
        git("config", "gc.auto", "0")  # see lfs_repo
        per_commit = max(1, blobs // commits)
        n = 0
        for c in range(commits):
            for i in range(per_commit):
                hubmod.write_random(os.path.join(work, f"d{c % 50}", f"f{n}.dat"), blob_size, f"{name}{n}")
                n += 1
            git("add", ".")
            git("commit", "-q", "-m", f"commit {c}")
        git("push", "-q", f"{self.hub['url']}/{name}.git", "master")
        count = sh(["git", "count-objects", "-v"], cwd=work).stdout
        return f"{self.base}/{name}.git", count

    # Helpers -------------------------------------------------------------------------------------
    def fresh(self, label):
        path = os.path.join(self.work, "runs", label)
        self.discard(path)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        return path

    def discard(self, path):
        """Gets an earlier run's tree out of the way without slowing the next run.

        Trees of many files are moved aside and deleted between scenarios (`empty_trash`): on an
        ext4 without a journal, creating files right after deleting thousands gets slower with each
        file deleted (see filesystem_of). Trees of a few large files are deleted at once: kept,
        their gigabytes of page cache would leave the next run to reclaim memory for every page it
        writes (a 1 GiB pull took 6-8 s instead of 3.2 s with the page cache full)."""
        if not os.path.lexists(path):
            return
        files = sum(len(names) for _, _, names in os.walk(path)) if os.path.isdir(path) else 1
        if files < 1000:
            shutil.rmtree(path, ignore_errors=True) if os.path.isdir(path) else os.remove(path)
            return
        trash = os.path.join(self.work, "trash")
        os.makedirs(trash, exist_ok=True)
        os.rename(path, os.path.join(trash, f"{len(os.listdir(trash))}"))

    def empty_trash(self):
        trash = os.path.join(self.work, "trash")
        if os.path.isdir(trash):
            shutil.rmtree(trash, ignore_errors=True)
            if self.inode_rule and not self.args.tiny:
                time.sleep(INODE_SETTLE_S)  # see discard()

    def clone_without_lfs(self, url, path):
        self.discard(path)
        sh([self.msgit, "clone", "-q", "--no-lfs", url, path], env=self.env)

    def git_clone_without_lfs(self, url, path):
        self.discard(path)
        sh(["git", "clone", "-q", url, path], env={**self.env, "GIT_LFS_SKIP_SMUDGE": "1"})

    # Scenarios -----------------------------------------------------------------------------------
    def scenario1(self):
        print("1. model repository clone", flush=True)
        url = self.lfs_repo("bench/model", self.model_files())
        target = self.fresh("s1")
        rm = lambda: self.discard(target)
        # Each run deletes the tree of the one before (206 files, deleted at once: see discard).
        msgit = self.measure([self.msgit, "clone", "-q", url, target], prepare=rm, settle=True)
        git = self.measure(["git", "clone", "-q", url, target], prepare=rm, settle=True)
        skip = self.measure(["sh", "-c", f"GIT_LFS_SKIP_SMUDGE=1 git clone -q {url} {target} && git -C {target} lfs pull"],
                            prepare=rm, settle=True)
        self.row(1, "model clone", msgit, git, "git clone (git-lfs)", self.latency_target("<= 0.5, RSS <= 100 MiB"))
        self.row(1, "model clone", msgit, skip, "skip-smudge clone + lfs pull")
        if self.args.rtt:
            # The floor (issue 26): the same clone without the proxies (the storage host keeps its
            # rate cap), plus the round trips no client can avoid: the hub's TCP handshake,
            # info/refs, the pack's POST; the LFS server's handshake and one batch request; the
            # storage host's handshake and the first GET. The rest of the distance is the client's.
            direct = url.replace(self.base, self.hub["url"])
            near = Measured.of(self.measure([self.msgit, "clone", "-q", direct, target], prepare=rm, settle=True))
            trips = 7
            floor = Measured(near.wall + trips * self.args.rtt / 1000, near.rss, near.cpu, near.traffic)
            self.row(1, "model clone vs its floor", msgit, floor,
                     f"floor: clone on loopback + {trips} x {self.args.rtt:g} ms", "<= 1.2")

    def scenario2(self):
        print("2. git-only clone", flush=True)
        url, counts = self.git_repo("bench/code", self.size(19_000, 500), self.size(5 << 10, 2 << 10), self.size(40, 4))
        print("   fixture:", " ".join(counts.split()), flush=True)
        target = self.fresh("s2")
        rm = lambda: self.discard(target)
        msgit = self.measure([self.msgit, "clone", "-q", url, target], prepare=rm)
        git = self.measure(["git", "clone", "-q", url, target], prepare=rm)
        self.row(2, "git-only clone", msgit, git, "git clone", "<= 1.0")

    def scenario3(self):
        print("3. one 1 GiB LFS object", flush=True)
        size = self.size(1 << 30, 16 * MIB)
        url = self.lfs_repo("bench/big", [("weights.bin", size)])
        target = self.fresh("s3")
        msgit = self.measure([self.msgit, "-C", target, "lfs", "pull", "-q"],
                             prepare=lambda: self.clone_without_lfs(url, target))
        git = self.measure(["git", "-C", target, "lfs", "pull"], prepare=lambda: self.git_clone_without_lfs(url, target))
        # curl: the presigned href the hub hands out, straight to a file.
        oid = sh(["git", "lfs", "ls-files", "-l"], cwd=os.path.join(self.work, "fixtures", "bench/big")).stdout.split()[0]
        batch = json.dumps({"operation": "download", "transfers": ["basic"], "objects": [{"oid": oid, "size": size}]})
        answer = sh(["curl", "-s", "-u", f"oauth2:{self.token}", "-H", "Accept: application/vnd.git-lfs+json",
                     "-H", "Content-Type: application/vnd.git-lfs+json", "-d", batch,
                     f"{url}/info/lfs/objects/batch"]).stdout
        href = json.loads(answer)["objects"][0]["actions"]["download"]["href"]
        out = os.path.join(target + "-curl", "weights.bin")
        os.makedirs(os.path.dirname(out), exist_ok=True)
        curl = self.measure(["curl", "-s", "-o", out, href], prepare=lambda: self.discard(out))
        self.row(3, "1 GiB object (lfs pull)", msgit, git, "git lfs pull")
        self.row(3, "1 GiB object (lfs pull)", msgit, curl, "curl to a file", ">= 0.5 of curl's throughput (ratio <= 2.0), RSS <= 100 MiB")

    def scenario4(self):
        print("4. 1,000 LFS files of 16 KiB", flush=True)
        self.small_files_pull(4, "bench/many", [(f"files/f{i:04}.bin", 16 << 10) for i in range(self.size(1000, 50))],
                              "1,000 x 16 KiB (lfs pull)", "<= 0.5")

    def small_files_pull(self, scenario, name, files, what, loopback_target):
        """`lfs pull` of many small files after a clone without LFS, msgit against git-lfs. Both
        tools replace every pointer file, freeing as many inodes per run: each run settles first."""
        url = self.lfs_repo(name, files)
        target = self.fresh(f"s{scenario}")
        msgit = self.measure([self.msgit, "-C", target, "lfs", "pull", "-q"],
                             prepare=lambda: self.clone_without_lfs(url, target), settle=True)
        git = self.measure(["git", "-C", target, "lfs", "pull"], prepare=lambda: self.git_clone_without_lfs(url, target),
                           settle=True)
        self.row(scenario, what, msgit, git, "git lfs pull", self.latency_target(loopback_target))

    def scenario5(self):
        print("5. no-op", flush=True)
        url = f"{self.base}/bench/many.git" if "bench/many" in self.done else self.lfs_repo(
            "bench/noop", [(f"f{i}.bin", 16 << 10) for i in range(20)])
        target = self.fresh("s5")
        sh([self.msgit, "clone", "-q", url, target], env=self.env)
        msgit = self.measure([self.msgit, "-C", target, "lfs", "pull", "-q"])
        git_target = self.fresh("s5-git")
        sh(["git", "clone", "-q", url, git_target], env=self.env)
        git = self.measure(["git", "-C", git_target, "lfs", "pull"])
        self.row(5, "lfs pull, nothing missing", msgit, git, "git lfs pull", "<= 0.2 s")
        # A mirror rerun with nothing new, per repository.
        urls = [f"{self.base}/{name}.git" for name in self.done_repos()] or [url]
        manifest = os.path.join(self.work, "manifest.txt")
        with open(manifest, "w") as f:
            f.write("\n".join(urls) + "\n")
        mirrors = self.fresh("s5-mirror")
        sh([self.msgit, "mirror", "-q", "--manifest", manifest, "--into", mirrors], env=self.env)
        rerun = self.measure([self.msgit, "mirror", "-q", "--manifest", manifest, "--into", mirrors])
        per_repo = Measured(rerun.wall / len(urls), rerun.rss, rerun.cpu / len(urls), rerun.traffic)
        # git's equivalent: git fetch --prune + git lfs fetch --all in each mirror, one after another.
        git_mirrors = self.fresh("s5-gitmirror")
        for u in urls:
            d = os.path.join(git_mirrors, u.rsplit("/", 1)[-1])
            sh(["git", "clone", "-q", "--mirror", u, d], env=self.env)
            sh(["git", "lfs", "fetch", "--all"], cwd=d, env=self.env)
        script = " && ".join(f"git -C {os.path.join(git_mirrors, u.rsplit('/', 1)[-1])} fetch --prune -q && "
                             f"git -C {os.path.join(git_mirrors, u.rsplit('/', 1)[-1])} lfs fetch --all >/dev/null"
                             for u in urls)
        git_rerun = self.measure(["sh", "-c", script])
        self.row(5, f"mirror rerun, per repository ({len(urls)})", per_repo,
                 Measured(git_rerun.wall / len(urls), git_rerun.rss, git_rerun.cpu / len(urls), git_rerun.traffic),
                 "git fetch + lfs fetch --all", "<= 0.2 s")

    def scenario6(self):
        print("6. one copy of each weight: disk used and clone time", flush=True)
        url = f"{self.base}/bench/model.git"
        if "bench/model" not in self.done:
            url = self.lfs_repo("bench/model", self.model_files())
        model = sum(size for _, size in self.model_files())
        target = self.fresh("s6")
        rm = lambda: self.discard(target)
        # Disk: the file system's free space before and after one clone (after sync), so that hard
        # links and shared extents count once, as they take space; `du` would count a reflink twice.
        disk = [("msgit clone (copies: ext4)", [self.msgit, "clone", "-q", url, target], target),
                ("msgit clone --link", [self.msgit, "clone", "-q", "--link", url, target], target),
                ("git clone (git-lfs)", ["git", "clone", "-q", url, target], target)]
        xfs = self.mount_xfs()
        if xfs:
            on_xfs = os.path.join(xfs, "s6")
            disk.insert(1, ("msgit clone (reflinks: XFS)", [self.msgit, "clone", "-q", url, on_xfs], on_xfs))
        else:
            print("   (no XFS loop image: needs root, mkfs.xfs and loop mounts; the reflink row is left out)")
        for what, command, path in disk:
            self.discard(path)
            used = self.disk_used(command, path)
            self.disk_rows.append({"what": what, "bytes": used, "model_bytes": model, "ratio": used / model})
            print(f"  disk: {what:<36} {used / MIB:8.1f} MiB = {used / model:5.2f} x the model's {model / MIB:.1f} MiB",
                  flush=True)
            self.discard(path)
        self.unmount_xfs()
        linked = self.measure([self.msgit, "clone", "-q", "--link", url, target], prepare=rm, settle=True)
        git = self.measure(["git", "clone", "-q", url, target], prepare=rm, settle=True)
        # A second clone of a model whose objects are already in the machine's store.
        store = os.path.join(self.work, "runs", "s6-store")
        self.discard(store)
        first = self.fresh("s6-first")
        sh([self.msgit, "clone", "-q", "--lfs-storage", store, url, first], env=self.env)
        shared = self.measure([self.msgit, "clone", "-q", "--lfs-storage", store, url, target], prepare=rm,
                              settle=True)
        # The same with --link: no byte of the weights written (on ext4 the default must copy them
        # into the work tree, as no file system without reflinks can share them otherwise).
        shared_linked = self.measure([self.msgit, "clone", "-q", "--link", "--lfs-storage", store, url, target],
                                     prepare=rm, settle=True)
        self.row(6, "model clone --link", linked, git, "git clone (git-lfs)", "<= 0.35, disk <= 1.05 x model")
        self.row(6, "second clone, shared store", shared, git, "git clone (git-lfs)", "<= 0.1")
        self.row(6, "second clone, shared store, --link", shared_linked, git, "git clone (git-lfs)", "<= 0.1")

    def scenario7(self):
        print("7. 10,000 LFS files of 4 KiB", flush=True)
        self.small_files_pull(7, "bench/tiny",
                              [(f"files/{i // 1000}/f{i:05}.bin", 4 << 10) for i in range(self.size(10_000, 100))],
                              "10,000 x 4 KiB (lfs pull)", "<= 1.0")

    def scenario8(self):
        count = self.size(20, 3)
        print(f"8. mirror of {count} repositories", flush=True)
        urls = [self.lfs_repo(f"bench/mirror-{i:02}", [(f"weights-{j}.bin", 64 << 10) for j in range(10)])
                for i in range(count)]
        manifest = os.path.join(self.work, "manifest-8.txt")
        with open(manifest, "w") as f:
            f.write("\n".join(urls) + "\n")
        mirrors = self.fresh("s8")
        rm = lambda: self.discard(mirrors)
        msgit = self.measure([self.msgit, "mirror", "-q", "--manifest", manifest, "--into", mirrors], prepare=rm)
        # git's equivalent, four repositories at a time as msgit mirror's default --jobs.
        script = (f"xargs -P 4 -I URL sh -c 'd={mirrors}/$(basename URL) && git clone -q --mirror URL $d && "
                  f"git -C $d lfs fetch --all >/dev/null' < {manifest}")
        git = self.measure(["sh", "-c", script], prepare=lambda: (rm(), os.makedirs(mirrors)))
        self.row(8, f"mirror of {count} repositories", msgit, git, "clone --mirror + lfs fetch --all (4 at a time)")

    # Publishing ------------------------------------------------------------------------------------
    def publish_worktree(self, name, files):
        """A local repository with git-lfs holding `files` (committed, its LFS objects in
        .git/lfs/objects), never pushed: each timed push goes to a repository of its own."""
        work = os.path.join(self.work, "fixtures", name)
        hubmod.model_worktree(work, "# benchmark model\n", env=self.env)
        git = lambda *a: sh(["git", *a], cwd=work, env=self.env)
        git("config", "gc.auto", "0")  # see lfs_repo
        for path, size in files:
            hubmod.write_random(os.path.join(work, path), size, name + path)
        git("add", ".")
        git("commit", "-q", "-m", "Add weights")
        return work

    def new_target(self, label):
        """Makes a new empty repository on the hub and writes its URL (through the proxy, if any) to
        a file the timed command reads: every run publishes into a repository that has nothing."""
        self.targets = getattr(self, "targets", 0) + 1
        name = f"bench/{label}-{self.targets:03}"
        hubmod.create_bare(self.hub, name)
        path = os.path.join(self.work, f"target-{label}")
        with open(path, "w") as f:
            f.write(f"{self.base}/{name}.git")
        return path

    def push_pair(self, scenario, label, work, what, target):
        """`msgit push` and `git push` (git-lfs's pre-push) of `work`'s master into new repositories."""
        url_file = os.path.join(self.work, f"target-{label}")
        prepare = lambda: self.new_target(label)
        msgit = self.measure(["sh", "-c", f'{self.msgit} -C {work} push -q "$(cat {url_file})" master'], prepare=prepare)
        git = self.measure(["sh", "-c", f'git -C {work} push -q "$(cat {url_file})" master'], prepare=prepare)
        self.row(scenario, what, msgit, git, "git push (git-lfs)", target)
        return msgit, git

    def scenario9(self):
        print("9. publishing a model: push into a new repository, and upload of the same folder", flush=True)
        work = self.publish_worktree("bench/pub-model", self.model_files())
        self.push_pair(9, "pub-model", work, "model push (new repository)",
                       self.publish_target("<= 0.9, RSS <= 100 MiB", at30="<= 0.6, RSS <= 100 MiB", at200="RSS <= 100 MiB"))
        self.upload_pair(9, "pub-model", work, "model upload (folder, new repository)",
                         self.publish_target("<= 1.0, RSS <= 100 MiB", at30="RSS <= 100 MiB", at200="RSS <= 100 MiB"))

    def upload_pair(self, scenario, label, work, what, target):
        """msgit upload of `work`'s files as a folder (no .git) into a new repository, against git
        init + add + commit + push (git-lfs cleaning and pushing) of a fresh copy of it."""
        folder = os.path.join(self.work, "fixtures", f"{label}-folder")
        shutil.rmtree(folder, ignore_errors=True)
        shutil.copytree(work, folder, ignore=shutil.ignore_patterns(".git"))
        url_file = os.path.join(self.work, f"target-{label}-upload")
        prepare = lambda: self.new_target(f"{label}-upload")
        msgit = self.measure(["sh", "-c", f'{self.msgit} upload -q "$(cat {url_file})" {folder}'], prepare=prepare)
        copy = os.path.join(self.work, "runs", f"s{scenario}-git-folder")

        def fresh_copy():
            self.discard(copy)
            shutil.copytree(folder, copy)
            self.new_target(f"{label}-upload")
        script = (f'cd {copy} && git init -q --initial-branch=master && git lfs install --local >/dev/null && git add -A && git commit -q -m upload && '
                  f'git push -q "$(cat {url_file})" master')
        git = self.measure(["sh", "-c", script], prepare=fresh_copy)
        self.row(scenario, what, msgit, git, "git add + commit + push (git-lfs)", target)

    def scenario10(self):
        print("10. publishing 1,000 LFS files of 16 KiB", flush=True)
        work = self.publish_worktree("bench/pub-many", [(f"files/f{i:04}.bin", 16 << 10) for i in range(self.size(1000, 50))])
        self.push_pair(10, "pub-many", work, "1,000 x 16 KiB push (new repository)",
                       self.publish_target("<= 0.9", at30="<= 0.4", at200="<= 0.3"))
        self.upload_pair(10, "pub-many", work, "1,000 x 16 KiB upload (folder, new repository)", self.publish_target("<= 1.0"))

    def scenario11(self):
        print("11. publishing one 1 GiB LFS object", flush=True)
        size = self.size(1 << 30, 16 * MIB)
        work = self.publish_worktree("bench/pub-big", [("weights.bin", size)])
        msgit, _ = self.push_pair(11, "pub-big", work, "1 GiB object push (new repository)", "RSS <= 100 MiB")
        # curl -T: the object PUT to the href a batch upload request hands out, straight from the file.
        oid = sh(["git", "lfs", "ls-files", "-l"], cwd=work).stdout.split()[0]
        source = os.path.join(work, ".git", "lfs", "objects", oid[:2], oid[2:4], oid)
        put = os.path.join(self.work, "curl-put.sh")

        def href():
            url = open(self.new_target("pub-curl")).read().strip()
            batch = json.dumps({"operation": "upload", "transfers": ["basic"], "objects": [{"oid": oid, "size": size}]})
            answer = sh(["curl", "-s", "-u", f"oauth2:{self.token}", "-H", "Accept: application/vnd.git-lfs+json",
                         "-H", "Content-Type: application/vnd.git-lfs+json", "-d", batch,
                         f"{url}/info/lfs/objects/batch"]).stdout
            action = json.loads(answer)["objects"][0]["actions"]["upload"]
            headers = " ".join(f"-H '{k}: {v}'" for k, v in action.get("header", {}).items())
            with open(put, "w") as f:
                f.write(f"curl -s -f -o /dev/null -T {source} {headers} '{action['href']}'\n")
        curl = self.measure(["sh", put], prepare=href)
        self.row(11, "1 GiB object push (new repository)", msgit, curl, "curl -T (the PUT alone)", "<= 1.2 of curl")

    def scenario12(self):
        print("12. an update that adds one large file to an existing repository", flush=True)
        size = self.size(128 * MIB, 4 * MIB)
        runs = []
        for tool in ("msgit", "git"):
            work = self.publish_worktree(f"bench/pub-update-{tool}", self.model_files()[:3])
            hubmod.create_bare(self.hub, f"bench/pub-update-{tool}")
            sh(["git", "push", "-q", f"{self.hub['url']}/bench/pub-update-{tool}.git", "master"], cwd=work, env=self.env)
            state = {"n": 0}

            def new_commit(work=work, state=state, tool=tool):
                state["n"] += 1
                path = os.path.join(work, f"added-{state['n']}.safetensors")
                hubmod.write_random(path, size, f"{tool}-update-{state['n']}")
                sh(["git", "add", path], cwd=work, env=self.env)
                sh(["git", "commit", "-q", "-m", f"Add {os.path.basename(path)}"], cwd=work, env=self.env)
            url = f"{self.base}/bench/pub-update-{tool}.git"
            command = ([self.msgit, "-C", work, "push", "-q", url, "master"] if tool == "msgit"
                       else ["git", "-C", work, "push", "-q", url, "master"])
            runs.append(self.measure(command, prepare=new_commit))
        self.row(12, "update: push one new 128 MiB file", runs[0], runs[1], "git push (git-lfs)", self.publish_target("<= 0.9"))

    # Service -------------------------------------------------------------------------------------
    def service_clones(self, scenario, what, urls):
        """Every clone at once in one process with one GitClient (msgit-service-bench), against git
        clone with git-lfs, 8 at a time (xargs -P 8); clone i goes to <dir>/<i>."""
        target = self.fresh(f"s{scenario}")
        rm = lambda: self.discard(target)
        msgit = self.measure([self.service_bench, target] + urls, prepare=rm, settle=True)
        listing = os.path.join(self.work, f"urls-{scenario}.txt")
        with open(listing, "w") as f:
            f.write("".join(f"{i} {u}\n" for i, u in enumerate(urls)))
        script = f"mkdir -p {target} && xargs -P 8 -L 1 sh -c 'git clone -q \"$1\" {target}/$0' < {listing}"
        git = self.measure(["sh", "-c", script], prepare=rm, settle=True)
        self.row(scenario, what, msgit, git, "git clone (git-lfs), 8 at a time",
                 self.latency_target("RSS <= 300 MiB") if not self.args.rtt else "<= 0.5, RSS <= 300 MiB")

    def scenario13(self):
        count = self.size(100, 10)
        print(f"13. a service: {count} clones of one small LFS repository at once, one GitClient", flush=True)
        url = self.lfs_repo("bench/svc-one", [(f"w/f{i:02}.bin", 64 << 10) for i in range(20)])
        self.service_clones(13, f"{count} clones of one repository at once", [url] * count)

    def scenario14(self):
        count = self.size(100, 10)
        print(f"14. a service: {count} distinct repositories cloned at once, one GitClient", flush=True)
        urls = [self.lfs_repo(f"bench/svc-{i:03}", [(f"w/f{j:02}.bin", 64 << 10) for j in range(20)])
                for i in range(count)]
        self.service_clones(14, f"{count} repositories at once", urls)

    def model_files(self):
        files = [("model-00001.safetensors", self.size(256 * MIB, 4 * MIB)),
                 ("model-00002.safetensors", self.size(128 * MIB, 2 * MIB)),
                 ("tokenizer.json", self.size(2 * MIB, 64 << 10))]
        return files + [(f"shards/part-{i:03}.bin", 64 << 10) for i in range(self.size(200, 10))]

    def disk_used(self, command, path):
        """Bytes the file system holding `path` lost to one run of `command` (after sync)."""
        parent = os.path.dirname(path)
        os.makedirs(parent, exist_ok=True)
        free = lambda: (subprocess.run(["sync"]), os.statvfs(parent))[1]
        before = free()
        full = dict(os.environ)
        full.update(self.env)
        subprocess.run(command, env=full, check=True, capture_output=True)
        after = free()
        return (before.f_bfree - after.f_bfree) * before.f_frsize

    def mount_xfs(self):
        """An XFS file system on a loop device (XFS shares extents), or None where this machine
        does not allow one."""
        if os.getuid() != 0 or shutil.which("mkfs.xfs") is None:
            return None
        image, mount = os.path.join(self.work, "xfs.img"), os.path.join(self.work, "xfs")
        os.makedirs(mount, exist_ok=True)
        with open(image, "wb") as f:
            f.truncate(max(1 << 30, 3 * sum(size for _, size in self.model_files())))
        if subprocess.run(["mkfs.xfs", "-q", "-f", image], capture_output=True).returncode != 0 or \
                subprocess.run(["mount", "-o", "loop", image, mount], capture_output=True).returncode != 0:
            os.remove(image)
            return None
        self.xfs = (image, mount)
        return mount

    def unmount_xfs(self):
        if getattr(self, "xfs", None):
            image, mount = self.xfs
            subprocess.run(["umount", mount], capture_output=True)
            os.remove(image)
            self.xfs = None

    def done_repos(self):
        return [name for name in ["bench/model", "bench/code", "bench/big", "bench/many"] if name in self.done]

    # Report --------------------------------------------------------------------------------------
    def machine(self):
        cpu = "unknown"
        try:
            cpu = next(l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name"))
        except StopIteration:
            pass
        mem = next((int(l.split()[1]) // 1024 for l in open("/proc/meminfo") if l.startswith("MemTotal")), 0)
        versions = {
            "msgit": sh([self.msgit, "--version"]).stdout.strip(),
            "git": sh(["git", "--version"]).stdout.strip(),
            "git-lfs": sh(["git", "lfs", "version"]).stdout.strip().split(" (")[0],
            "curl": sh(["curl", "--version"]).stdout.split("\n")[0].split(" (")[0],
        }
        fs = self.filesystem
        return {"cpu": cpu, "cores": os.cpu_count(), "memory_mib": mem, "kernel": platform.release(),
                "workdir_fs": fs["type"] + {True: " with a journal", False: " without a journal"}.get(fs["journal"], ""),
                **versions}

    def write(self, failure=None):
        os.makedirs(self.args.out, exist_ok=True)
        machine = self.machine()
        lines = ["| # | measurement | msgit | RSS | CPU | connections/requests | peer | peer time | peer RSS | peer CPU | "
                 "peer connections/requests | ratio | target |",
                 "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
        for r in self.rows:
            traffic = lambda t: Measured(0, 0, 0, t).connections()
            lines.append(f"| {r['scenario']} | {r['what']} | {r['msgit_s']:.3f} s | {r['msgit_rss_mib']:.0f} MiB | "
                         f"{r['msgit_cpu_s']:.2f} s | {traffic(r['msgit_traffic'])} | "
                         f"{r['peer']} | {r['peer_s']:.3f} s | {r['peer_rss_mib']:.0f} MiB | {r['peer_cpu_s']:.2f} s | "
                         f"{traffic(r['peer_traffic'])} | {r['ratio']:.2f} | {r['target'] or ''} |")
        if self.disk_rows:
            lines += ["", "| # | disk used by one model clone | bytes | x the model's size | target |",
                      "| --- | --- | --- | --- | --- |"]
            for r in self.disk_rows:
                target = "<= 1.05" if "--link" in r["what"] else ""
                lines.append(f"| 6 | {r['what']} | {r['bytes'] / MIB:.1f} MiB | {r['ratio']:.2f} | {target} |")
        header = (f"Run {time.strftime('%Y-%m-%d %H:%M')} UTC on {machine['cpu']}, {machine['cores']} cores, "
                  f"{machine['memory_mib']} MiB, Linux {machine['kernel']}, work directory on {machine['workdir_fs']}; "
                  f"{machine['msgit']}, {machine['git']}, "
                  f"{machine['git-lfs']}, {machine['curl']}; median of {self.args.runs} runs after a warm-up"
                  f"{f'; {self.args.rtt:g} ms round trip (latency proxy)' if self.args.rtt else ''}"
                  f"{f'; storage capped at {self.args.conn_rate:g} MB/s per connection' if self.args.conn_rate else ''}"
                  f"{'; TINY fixtures (numbers mean nothing)' if self.args.tiny else ''}."
                  f"{f' INCOMPLETE: {failure}' if failure else ''}")
        text = header + "\n\n" + "\n".join(lines) + "\n"
        with open(os.path.join(self.args.out, "results.md"), "w") as f:
            f.write(text)
        record = {"utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "machine": machine,
                  "settings": {"runs": self.args.runs, "tiny": self.args.tiny, "only": self.args.only,
                               "rtt_ms": self.args.rtt, "conn_rate_mb_s": self.args.conn_rate},
                  "rows": self.rows, "disk": self.disk_rows, "failure": failure}
        with open(os.path.join(self.args.out, "results.json"), "w") as f:
            json.dump(record, f, indent=2)
        if self.args.record:
            # The machine-readable record that BENCHMARKS.md's prose for this run refers to.
            path = os.path.join(ROOT, "Benchmarks", "results", time.strftime("%Y-%m-%dT%H%MZ", time.gmtime()) + ".json")
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w") as f:
                json.dump(record, f, indent=2)
                f.write("\n")
            print(f"recorded {os.path.relpath(path, ROOT)}")
        print("\n" + text)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--tiny", action="store_true")
    parser.add_argument("--only", default="1,2,3,4,5,6")
    parser.add_argument("--rtt", type=float, default=0, metavar="MS",
                        help="put a latency proxy adding this round trip in front of the hub and the storage host")
    parser.add_argument("--conn-rate", type=float, default=0, metavar="MB/S",
                        help="cap each storage connection at this rate (nginx limit_rate)")
    parser.add_argument("--out", default=os.path.join(ROOT, "benchmark-results"))
    parser.add_argument("--msgit", default=None, help="the msgit binary (default: a release build)")
    parser.add_argument("--service-bench", default=None,
                        help="the msgit-service-bench binary, for scenarios 13-14 (default: a release build)")
    parser.add_argument("--workdir", default=None)
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--record", action="store_true",
                        help="also keep the results in Benchmarks/results/<UTC time>.json, for BENCHMARKS.md")
    args = parser.parse_args()
    if args.msgit is None:
        subprocess.run(["swift", "build", "-c", "release", "--product", "msgit"], cwd=ROOT, check=True)
        args.msgit = os.path.join(subprocess.run(["swift", "build", "-c", "release", "--show-bin-path"], cwd=ROOT,
                                                 check=True, capture_output=True, text=True).stdout.strip(), "msgit")
    if args.service_bench is None and any(n in ("13", "14") for n in args.only.split(",")):
        subprocess.run(["swift", "build", "-c", "release", "--product", "msgit-service-bench"], cwd=ROOT, check=True)
        args.service_bench = os.path.join(subprocess.run(["swift", "build", "-c", "release", "--show-bin-path"], cwd=ROOT,
                                                         check=True, capture_output=True, text=True).stdout.strip(),
                                          "msgit-service-bench")
    bench = Bench(args)
    bench.start()
    bench.done = set()
    failure = None
    try:
        for n in [int(x) for x in args.only.split(",")]:
            try:
                getattr(bench, f"scenario{n}")()
            except Exception as error:
                # Keep what the scenarios before it measured.
                failure = f"scenario {n} failed: {error}"
                print(failure, file=sys.stderr, flush=True)
                break
            bench.empty_trash()
            bench.done.add({1: "bench/model", 2: "bench/code", 3: "bench/big", 4: "bench/many", 5: "-", 6: "bench/model", 7: "bench/tiny",
                            8: "-"}.get(n, "-"))
        bench.write(failure)
    finally:
        bench.stop()
    if failure:
        sys.exit(1)


if __name__ == "__main__":
    main()
