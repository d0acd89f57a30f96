import Foundation
import HTTP
import LFS
import MSGit
import Testing

/// The README's promises, tried as a user would: where each token goes (read and write tokens, a
/// mirror's push target on another host), what reports say, and LFS against hubs that behave like
/// the real ones (links that expire, GitLab's redirecting object links, TLS with the system's CAs,
/// a host whose first address does not answer).
@Suite struct TrustTests {
    let hub = Hub.shared

    static func basic(_ token: String) -> String { Data("oauth2:\(token)".utf8).base64EncodedString() }

    // MARK: Tokens go to their own host; read and write tokens are separate

    @Test func mirrorPushTargetOnAnotherHostNeverGetsTheSourceToken() throws {
        let source = try Fixtures.lfsModel("trust-mirror")
        let last = source.name.split(separator: "/").last!
        let targetName = "trustmirror/\(last)"
        let template = "\(hub.other_url)/trustmirror/{name}.git"
        let list = Paths.scratch("manifest") + "/repos.txt"
        try Files.write(list, source.url + "\n")
        let sourceToken = Self.basic(hub.token)
        func mirror(_ env: [String: String]) -> (Shell.Result, [String]) {
            _ = try? hub.createBare(targetName)
            let mark = hub.logSize(hub.other_access_log)
            let result = Shell.msgit(["mirror", "--manifest", list, "--into", Paths.scratch("mirrors"), "--push-to", template,
                                      "--report", Paths.scratch("report") + "/r.jsonl"], env: env)
            return (result, hub.settledLogLines(hub.other_access_log, since: mark).filter { $0.contains(targetName) })
        }

        // The source's token only: the target is asked, but never sees it, and the push fails.
        let (refused, refusedLines) = mirror(["MSGIT_TOKEN": hub.token])
        #expect(refused.status == 1, "\(refused.output)")
        #expect(!refusedLines.isEmpty, "the target was asked")
        #expect(refusedLines.allSatisfy { !$0.contains(sourceToken) }, "\(refusedLines)")

        // A write token for the target: refs and LFS objects arrive; the target saw only its token.
        let (pushed, pushedLines) = mirror(["MSGIT_TOKEN": hub.token, "MSGIT_PUSH_TOKEN": hub.other_token])
        #expect(pushed.status == 0, "\(pushed.output)")
        #expect(try Git.refs(hub.bareRepoPath(targetName)) == Git.refs(hub.bareRepoPath(source.name)))
        #expect(pushedLines.contains { $0.contains("/info/lfs/objects/batch") }, "LFS went to the target too")
        #expect(pushedLines.allSatisfy { !$0.contains(sourceToken) }, "\(pushedLines)")

        // No write token, but one stored for the target's own host in git's credential store.
        let home = Paths.scratch("home")
        try Files.write(home + "/.git-credentials",
                        hub.other_url.replacingOccurrences(of: "http://", with: "http://oauth2:\(hub.other_token)@") + "\n",
                        mode: 0o600)
        let (stored, storedLines) = mirror(["HOME": home, "MSGIT_TOKEN": hub.token])
        #expect(stored.status == 0, "\(stored.output)")
        #expect(storedLines.allSatisfy { !$0.contains(sourceToken) }, "\(storedLines)")
        for result in [refused, pushed, stored] {
            #expect(!result.output.contains(hub.token) && !result.output.contains(hub.other_token))
        }
    }

    @Test func aPushTokenWritesWhileTheReadTokenReads() throws {
        let fixture = try Fixtures.standard("pushtoken")
        let dir = Paths.scratch("pushtoken") + "/repo"
        let readOnly = ["MSGIT_TOKEN": hub.read_only_token]
        #expect(Shell.msgit(["clone", "-q", fixture.url, dir], env: readOnly).status == 0)
        try Git.configureIdentity(dir)
        try Files.write(dir + "/new.txt", "new\n")
        try Git.commitAll(dir, "New")

        // The read-only token alone may not push (GitLab's 403).
        let refused = Shell.msgit(["-C", dir, "push"], env: readOnly)
        #expect(refused.status == 3, "\(refused.output)")
        // MSGIT_PUSH_TOKEN writes; the fetch that follows still reads with the read token.
        let mark = hub.logSize(hub.git_access_log)
        let pushed = Shell.msgit(["-C", dir, "push"], env: readOnly.merging(["MSGIT_PUSH_TOKEN": hub.token]) { $1 })
        #expect(pushed.status == 0, "\(pushed.output)")
        #expect(Shell.msgit(["-C", dir, "fetch"], env: readOnly.merging(["MSGIT_PUSH_TOKEN": hub.token]) { $1 }).status == 0)
        let lines = hub.settledLogLines(hub.git_access_log, since: mark).filter { $0.contains(fixture.name) }
        #expect(lines.filter { $0.contains("git-receive-pack") && $0.contains("auth=\"Basic") }
            .allSatisfy { $0.contains(Self.basic(hub.token)) }, "\(lines)")
        #expect(lines.filter { $0.contains("git-upload-pack") && $0.contains("auth=\"Basic") }
            .allSatisfy { $0.contains(Self.basic(hub.read_only_token)) }, "\(lines)")

        // --push-token-file, for upload too.
        let tokenFile = Paths.scratch("tokens") + "/push-token"
        try Files.write(tokenFile, hub.token + "\n", mode: 0o600)
        let folder = Paths.scratch("upload")
        try Files.write(folder + "/notes.txt", "notes\n")
        let upload = Shell.msgit(["upload", fixture.url, folder, "--push-token-file", tokenFile], env: readOnly)
        #expect(upload.status == 0, "\(upload.output)")
        #expect(Shell.msgit(["upload", fixture.url, folder], env: readOnly).status == 3)

        // auth check names both, and asks the hub about each.
        let check = Shell.msgit(["auth", "check", fixture.url], env: readOnly.merging(["MSGIT_PUSH_TOKEN": hub.token]) { $1 })
        #expect(check.status == 0)
        #expect(check.stdout.contains("read token:  from MSGIT_TOKEN") && check.stdout.contains("write token: from MSGIT_PUSH_TOKEN")
            && check.stdout.contains("write:       accepted"), "\(check.stdout)")
        let json = Shell.msgit(["auth", "check", "--json", fixture.url], env: readOnly)
        let access = (try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])?["access"] as? [String: Any]
        #expect(access?["source"] as? String == "MSGIT_TOKEN" && access?["write_source"] as? String == "MSGIT_TOKEN"
            && access?["write"] as? String == "refused", "\(json.stdout)")
        for result in [refused, pushed, upload, check, json] {
            #expect(!result.output.contains(hub.token) && !result.output.contains(hub.read_only_token))
        }
    }

    // MARK: Reports are right

    @Test func jsonDurationIsTheRunsWallClockTime() throws {
        let fault = FaultServer.shared
        let start = ContinuousClock.now
        let result = Shell.msgit(["clone", "--json", "--timeout", "2", "\(fault.url)/stall/ns/duration.git",
                                  Paths.scratch("duration") + "/repo"], env: hub.env)
        let wall = (ContinuousClock.now - start).timeInterval
        let report = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
        let duration = report?["duration_seconds"] as? Double ?? -1
        #expect(duration >= 2.0 && duration <= wall, "reported \(duration) s of a \(wall) s run")
    }

    @Test func pushCountsObjectsAndBytesWithOrWithoutAProgressHandler() async throws {
        let fixture = try Fixtures.standard("pushcounts")
        let client = GitClient(credentials: .token(hub.token))
        for withHandler in [false, true] {
            let dir = URL(fileURLWithPath: Paths.scratch("pushcounts") + "/repo")
            _ = try await client.clone(fixture.url, into: dir)
            try Git.configureIdentity(dir.path)
            try Files.writeRandom(dir.path + "/data-\(withHandler).bin", size: 64 << 10, seed: withHandler ? 1 : 2)
            try Git.commitAll(dir.path, "Data")
            var handler: ProgressHandler?
            if withHandler { handler = { _ in } }
            let result = try await client.push(in: dir, progress: handler)
            #expect(result.pushedObjects > 0 && result.pushedBytes > 64 << 10,
                    "handler: \(withHandler), \(result.pushedObjects) objects, \(result.pushedBytes) bytes")
        }
        // And on the command line, where -q and --json run without one.
        let dir = Paths.scratch("pushcounts") + "/cli"
        #expect(Shell.msgit(["clone", "-q", fixture.url, dir], env: hub.env).status == 0)
        try Git.configureIdentity(dir)
        try Files.writeRandom(dir + "/cli.bin", size: 64 << 10, seed: 3)
        try Git.commitAll(dir, "CLI")
        let json = Shell.msgit(["-C", dir, "push", "--json"], env: hub.env)
        let report = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any]
        #expect((report?["pushed_objects"] as? Int ?? 0) > 0 && (report?["pushed_bytes"] as? Int ?? 0) > 64 << 10, "\(json.stdout)")
    }

    @Test func theAuthProbeIsTheSameClientAsLibgit2() throws {
        let fixture = try Fixtures.standard("useragent")
        // Every line of this repository after the mark must be msgit's: not the fixture's push.
        let mark = hub.settledLogSize(hub.git_access_log)
        let result = Shell.msgit(["clone", fixture.url, Paths.scratch("ua") + "/repo"], env: ["MSGIT_TOKEN": "wrong-token-ua"])
        #expect(result.status == 3)
        let lines = hub.settledLogLines(hub.git_access_log, since: mark).filter { $0.contains(fixture.name) }
        let wrong = lines.filter { $0.contains(Self.basic("wrong-token-ua")) }
        #expect(wrong.count == 2, "libgit2's request and the probe: \(lines)")
        let agent = "ua=\"git/2.0 (msgit/\(MSGitVersion.string) (libgit2 "
        #expect(lines.allSatisfy { $0.contains(agent) }, "\(lines)")
    }

    // MARK: LFS against hubs that behave like the real ones

    func storageLines(since mark: UInt64, _ name: String) -> [String] {
        hub.settledLogLines(hub.storage_access_log, since: mark).filter { $0.contains("/objects/\(name)/") }
    }

    func expectSameLFSFiles(_ dir: String, _ repo: Fixtures.LFSRepo) {
        for path in repo.lfsFiles.keys {
            #expect(Files.same(dir + "/" + path, repo.worktree + "/" + path), "\(path)")
        }
    }

    @Test func aLinkThatExpiredInFlightIsAskedForAgainOnce() throws {
        let repo = try Fixtures.lfsModel("expiring", name: "test/expiring-\(UUID().uuidString.prefix(8).lowercased())")
        let mark = hub.logSize(hub.storage_access_log)
        let dir = Paths.scratch("expiring") + "/repo"
        let result = Shell.msgit(["clone", repo.url, dir], env: hub.env)
        #expect(result.status == 0, "\(result.output)")
        expectSameLFSFiles(dir, repo)
        let gets = storageLines(since: mark, repo.name).filter { $0.contains("\"GET ") }
        let oids = Set(try repo.lfsFiles.keys.map { try Fixtures.oid(of: $0, in: repo.worktree) })
        for oid in oids {
            let mine = gets.filter { $0.contains(oid) }
            #expect(mine.filter { $0.contains("\" 403 ") }.count == 1 && mine.last?.contains("\" 200 ") == true, "\(mine)")
        }
    }

    @Test func aLinkRefusedAgainAfterANewOneFailsThatFile() throws {
        let repo = try Fixtures.lfsModel("expired", name: "test/expired-\(UUID().uuidString.prefix(8).lowercased())")
        let mark = hub.logSize(hub.storage_access_log)
        let dir = Paths.scratch("expired") + "/repo"
        let result = Shell.msgit(["clone", repo.url, dir], env: hub.env)
        #expect(result.status == 5, "\(result.output)")
        #expect(result.stderr.contains("refused the download (HTTP 403)"), "\(result.stderr)")
        let gets = storageLines(since: mark, repo.name).filter { $0.contains("\"GET ") }
        for oid in Set(try repo.lfsFiles.keys.map { try Fixtures.oid(of: $0, in: repo.worktree) }) {
            #expect(gets.filter { $0.contains(oid) }.count == 2, "one new link, no more")
        }
    }

    @Test func expiresAtWithNanosecondsAndAnOffsetIsRead() throws {
        // The first link to each object is past its expires_at ("...123456789+08:00"): a client
        // that reads the date asks for a new one before using it; one that cannot read it uses the
        // dead link and the storage host refuses it.
        let repo = try Fixtures.lfsModel("expiresat", name: "test/expiresat-\(UUID().uuidString.prefix(8).lowercased())")
        let mark = hub.logSize(hub.storage_access_log)
        let dir = Paths.scratch("expiresat") + "/repo"
        let result = Shell.msgit(["clone", repo.url, dir], env: hub.env)
        #expect(result.status == 0, "\(result.output)")
        expectSameLFSFiles(dir, repo)
        let lines = storageLines(since: mark, repo.name)
        #expect(!lines.isEmpty && lines.allSatisfy { $0.contains("\" 200 ") }, "\(lines)")
    }

    @Test func gitLabObjectLinksCarryTheirOwnHeaderAndStorageGetsNoCredential() throws {
        let repo = try Fixtures.lfsModel("gitlab", name: "test/gitlab-\(UUID().uuidString.prefix(8).lowercased())")
        let gitMark = hub.logSize(hub.git_access_log)
        let storageMark = hub.logSize(hub.storage_access_log)
        let dir = Paths.scratch("gitlab") + "/repo"
        let result = Shell.msgit(["clone", repo.url, dir], env: hub.env)
        #expect(result.status == 0, "\(result.output)")
        expectSameLFSFiles(dir, repo)
        let links = hub.settledLogLines(hub.git_access_log, since: gitMark).filter { $0.contains("/gitlab-lfs/objects/") }
        #expect(!links.isEmpty)
        #expect(links.allSatisfy { $0.contains("\" 302 ") && $0.contains("auth=\"Basic ") && !$0.contains(Self.basic(hub.token)) },
                "the action's own header, not the hub token: \(links)")
        let storage = storageLines(since: storageMark, repo.name)
        #expect(!storage.isEmpty && storage.allSatisfy { $0.contains("auth=\"-\"") }, "\(storage)")
    }

    @Test(.enabled(if: Hub.shared.tls_url != nil, "needs the test CA in the system store (.ci/setup, as root)"))
    func lfsOverHTTPSWithTheHubsCAOnlyInTheSystemStore() throws {
        let repo = try Fixtures.lfsModel("tls")
        let url = repo.url.replacingOccurrences(of: hub.url, with: hub.tls_url!)
        let mark = hub.logSize(hub.storage_access_log)
        let dir = Paths.scratch("tls") + "/repo"
        // Nothing about certificates in the environment: the system store alone.
        let result = Shell.msgit(["clone", url, dir], env: hub.env)
        #expect(result.status == 0, "\(result.output)")
        expectSameLFSFiles(dir, repo)
        #expect(try Git.run(["config", "remote.origin.url"], in: dir) == url)
        let storage = storageLines(since: mark, repo.name)
        #expect(!storage.isEmpty && storage.allSatisfy { $0.contains("tls=\"on\"") }, "\(storage)")
    }

    @Test(.enabled(if: DualStack.available, "needs /etc/hosts to give msgit-dualstack.test ::1, then 127.0.0.1 (.ci/setup)"))
    func aHostWhoseFirstAddressDoesNotAnswerIsReachedOnTheNext() throws {
        let repo = try Fixtures.lfsModel("dualstack")
        let port = URL(string: hub.url)!.port!
        // ::1 on the hub's port never answers a connect: a black-holed IPv6 route.
        let hole = try BlackHole(ipv6Port: port)
        defer { hole.close() }
        let url = repo.url.replacingOccurrences(of: "127.0.0.1", with: "msgit-dualstack.test")
        let dir = Paths.scratch("dualstack") + "/repo"
        let result = Shell.msgit(["clone", "--connect-timeout", "20", url, dir], env: hub.env)
        #expect(result.status == 0, "\(result.output)")
        expectSameLFSFiles(dir, repo)
    }

    @Test func aCancelledWaitForAnotherProcesssLockLeavesNoDescriptorOpen() async throws {
        let repo = try Fixtures.lfsModel("lockwait", bigSize: 12 << 20)
        let dir = Paths.scratch("lockwait") + "/repo"
        #expect(Shell.msgit(["clone", "-q", "--no-lfs", repo.url, dir], env: hub.env).status == 0)
        let oid = try Fixtures.oid(of: "model.safetensors", in: repo.worktree)
        let partial = dir + "/.git/lfs/incomplete/\(oid).part"
        try FileManager.default.createDirectory(atPath: dir + "/.git/lfs/incomplete", withIntermediateDirectories: true)
        // Another process's download of the object: its lock on the partial file.
        let holder = open(partial, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        #expect(flock(holder, LOCK_EX) == 0)
        defer { close(holder) }

        let client = GitClient(credentials: .token(hub.token))
        let pull = Task {
            try await client.lfsPull(in: URL(fileURLWithPath: dir), lfs: LFSOptions(include: ["model.safetensors"]))
        }
        var waiting = false
        for _ in 0..<200 where !waiting {
            try await Task.sleep(for: .milliseconds(50))
            waiting = Descriptors.open(to: partial) == 2
        }
        #expect(waiting, "the pull waits for the lock")
        pull.cancel()
        _ = try? await pull.value
        #expect(Descriptors.open(to: partial) == 1, "only the holder's own descriptor is left")
    }
}

/// Whether /etc/hosts gives msgit-dualstack.test ::1 first and 127.0.0.1 second.
enum DualStack {
    static let available: Bool = {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var info: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo("msgit-dualstack.test", "80", &hints, &info) == 0, let first = info else { return false }
        defer { freeaddrinfo(info) }
        return first.pointee.ai_family == AF_INET6 && first.pointee.ai_next?.pointee.ai_family == AF_INET
    }()
}

/// A listener on [::1]:port whose backlog is full, so connects to it are never answered.
struct BlackHole {
    let sockets: [Int32]

    init(ipv6Port port: Int) throws {
        let listener = socket(AF_INET6, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in6()
        address.sin6_family = sa_family_t(AF_INET6)
        address.sin6_port = in_port_t(UInt16(port).bigEndian)
        address.sin6_addr = in6addr_loopback
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, socklen_t(MemoryLayout<sockaddr_in6>.size)) }
        }
        guard bound == 0, listen(listener, 0) == 0 else {
            Glibc.close(listener)
            throw Git.Failure(description: "cannot listen on [::1]:\(port): \(String(cString: strerror(errno)))")
        }
        var sockets = [listener]
        for _ in 0..<4 {
            let filler = socket(AF_INET6, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
            _ = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(filler, $0, socklen_t(MemoryLayout<sockaddr_in6>.size)) }
            }
            sockets.append(filler)
        }
        self.sockets = sockets
    }

    func close() { for fd in sockets { Glibc.close(fd) } }
}

/// This process's open file descriptors.
enum Descriptors {
    /// How many of them refer to `path`.
    static func open(to path: String) -> Int {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
        return entries.filter { (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/" + $0)) == path }.count
    }
}
