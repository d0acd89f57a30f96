import Foundation
import Synchronization
import Testing

/// The local hub the integration tests run against (Tests/Hub/hub.py): started once per test
/// process, stopped by its own watchdog when the process exits.
struct Hub: Sendable, Decodable {
    let url: String
    let storage_url: String
    let token: String
    let read_only_token: String
    let username: String
    let repos: String
    let lfs_storage: String
    let git_access_log: String
    let storage_access_log: String
    let state: String
    /// The second git host (127.0.0.3): the same repositories, its own token and access log.
    let other_url: String
    let other_token: String
    let other_access_log: String
    /// https://localhost:PORT and the storage host over TLS, signed by the test CA the system
    /// store trusts; nil where .ci/setup could not install it.
    let tls_url: String?
    let storage_tls_url: String?

    static let shared: Hub = {
        let state = Paths.scratchRoot + "/hub"
        let result = Shell.run(["python3", Paths.hubScript, "start", "--state", state, "--watch-pid", "\(getpid())"])
        guard result.status == 0, let hub = try? JSONDecoder().decode(Hub.self, from: Data(result.stdout.utf8)) else {
            fatalError("could not start the local hub (run .ci/setup first): \(result.stderr)")
        }
        return hub
    }()

    /// The repository's URL on the hub ("ns/name" -> http://127.0.0.1:PORT/ns/name.git).
    func repoURL(_ name: String) -> String { "\(url)/\(name).git" }

    func bareRepoPath(_ name: String) -> String { "\(repos)/\(name).git" }

    /// An empty repository on the hub, as creating a model on the website makes one.
    @discardableResult
    func createBare(_ name: String, head: String = "master") throws -> String {
        let path = bareRepoPath(name)
        try? FileManager.default.removeItem(atPath: path)
        try Git.run(["init", "--bare", "-q", "--initial-branch=\(head)", path])
        try Git.run(["config", "http.receivepack", "true"], in: path)
        return path
    }

    /// Pushes `worktree` (all branches and tags) to a fresh repository `name` on the hub, with
    /// real git and git-lfs.
    @discardableResult
    func publish(_ worktree: String, as name: String, head: String = "master") throws -> String {
        try createBare(name, head: head)
        try Git.run(["push", repoURL(name), "--all"], in: worktree, hub: self)
        try Git.run(["push", repoURL(name), "--tags"], in: worktree, hub: self)
        return repoURL(name)
    }

    /// Lines of an access log written since `mark` (a byte offset from `logSize`).
    func logLines(_ path: String, since mark: UInt64 = 0) -> [String] {
        guard let handle = FileHandle(forReadingAtPath: path) else { return [] }
        defer { try? handle.close() }
        try? handle.seek(toOffset: mark)
        let data = (try? handle.readToEnd()) ?? Data()
        return String(decoding: data, as: UTF8.self).split(separator: "\n").map(String.init)
    }

    /// `logLines` once the log has stopped growing for a moment: nginx writes a request's line
    /// after it sent the answer, so a client can be done before its last line is.
    func settledLogLines(_ path: String, since mark: UInt64 = 0) -> [String] {
        _ = settledLogSize(path)
        return logLines(path, since: mark)
    }

    /// `logSize` once the log has stopped growing for a moment: a mark taken right after a client
    /// (a fixture's `git push`) finished could come before that client's last line.
    func settledLogSize(_ path: String) -> UInt64 {
        var size = logSize(path)
        for _ in 0..<25 {
            usleep(200_000)
            let now = logSize(path)
            if now == size { break }
            size = now
        }
        return size
    }

    func logSize(_ path: String) -> UInt64 {
        ((try? FileManager.default.attributesOfItem(atPath: path)[.size]) as? NSNumber)?.uint64Value ?? 0
    }

    /// The environment for msgit with the hub's token.
    var env: [String: String] { ["MSGIT_TOKEN": token] }
}

enum Paths {
    /// The package root, found from this file's path.
    static let root: String = {
        var url = URL(fileURLWithPath: #filePath)
        while url.path != "/" {
            url.deleteLastPathComponent()
            if FileManager.default.fileExists(atPath: url.appendingPathComponent("Package.swift").path) { return url.path }
        }
        fatalError("package root not found")
    }()

    static var hubScript: String { root + "/Tests/Hub/hub.py" }

    /// The msgit executable built beside the test bundle.
    static let msgit: String = {
        let exe = URL(fileURLWithPath: ProcessInfo.processInfo.arguments[0]).resolvingSymlinksInPath()
        var dir = exe.deletingLastPathComponent()
        for _ in 0..<4 {
            let candidate = dir.appendingPathComponent("msgit").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            dir.deleteLastPathComponent()
        }
        return root + "/.build/debug/msgit"
    }()

    /// Everything this test process writes (scratch directories, the hub's state, the temporary
    /// files of the programs it runs), removed when the process exits unless MSGIT_KEEP_TEST_SCRATCH
    /// is set. Roots left by test processes that were killed are removed by the next one.
    static let scratchRoot: String = {
        let temporary = FileManager.default.temporaryDirectory.path
        for name in (try? FileManager.default.contentsOfDirectory(atPath: temporary)) ?? [] where name.hasPrefix("msgit-tests-") {
            if let pid = Int32(name.dropFirst("msgit-tests-".count)), kill(pid, 0) != 0, errno == ESRCH {
                try? FileManager.default.removeItem(atPath: temporary + "/" + name)
            }
        }
        let root = temporary + "/msgit-tests-\(getpid())"
        try? FileManager.default.createDirectory(atPath: root + "/tmp", withIntermediateDirectories: true)
        if ProcessInfo.processInfo.environment["MSGIT_KEEP_TEST_SCRATCH"] == nil {
            atexit { try? FileManager.default.removeItem(atPath: Paths.scratchRoot) }
        }
        return root
    }()

    /// A new empty directory for one test.
    static func scratch(_ label: String = "t") -> String {
        let path = scratchRoot + "/\(label)-\(UUID().uuidString.prefix(8))"
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }
}

/// Runs programs and captures their output (through files, so large outputs cannot deadlock).
enum Shell {
    struct Result: Sendable {
        var status: Int32
        var stdout: String
        var stderr: String
        /// The program's peak resident memory, in KiB, when `run` was asked to measure it.
        var maxResidentKiB = 0
        var output: String { stdout + stderr }
    }

    /// Runs `arguments` (looked up in PATH) with posix_spawn and waits for it. Foundation's
    /// `Process.waitUntilExit` can hang forever when called from a Swift concurrency thread on
    /// Linux, which is where tests run.
    /// `limit`: the program is killed (SIGKILL, status 137) if it runs longer, so that a test of
    /// a hang fails instead of hanging.
    /// `measuringMemory`: GNU time forks the program and reports its peak resident memory. The
    /// `ru_maxrss` of a program spawned from here is useless: posix_spawn shares this process's
    /// memory until exec, and Linux keeps that high-water mark (the test runner's) as the child's.
    static func run(_ arguments: [String], in directory: String? = nil, env: [String: String] = [:],
                    stdin: String? = nil, limit: Duration? = nil, measuringMemory: Bool = false) -> Result {
        var environment = ProcessInfo.processInfo.environment
        environment["GIT_TERMINAL_PROMPT"] = "0"
        environment["GIT_CONFIG_NOSYSTEM"] = "1"
        environment["TMPDIR"] = Paths.scratchRoot + "/tmp"
        for key in ["MSGIT_TOKEN", "MSGIT_PUSH_TOKEN", "MSGIT_ENDPOINT", "MODELSCOPE_DOMAIN", "MSGIT_LFS_STORAGE"] {
            environment.removeValue(forKey: key)
        }
        for (k, v) in env { environment[k] = v }

        let tmp = URL(fileURLWithPath: Paths.scratchRoot + "/tmp")
        let out = tmp.appendingPathComponent("out-\(UUID().uuidString)").path
        let err = tmp.appendingPathComponent("err-\(UUID().uuidString)").path
        let input = tmp.appendingPathComponent("in-\(UUID().uuidString)").path
        let peak = tmp.appendingPathComponent("peak-\(UUID().uuidString)").path
        _ = FileManager.default.createFile(atPath: input, contents: Data((stdin ?? "").utf8))
        defer { for path in [out, err, input, peak] { try? FileManager.default.removeItem(atPath: path) } }
        let arguments = measuringMemory ? ["/usr/bin/time", "-f", "%M", "-o", peak] + arguments : arguments

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, input, O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, out, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_addopen(&actions, 2, err, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        // coreutils' `env -C` changes directory (posix_spawn_file_actions_addchdir_np is not
        // exported to Swift by Glibc's module).
        let argv = (["/usr/bin/env"] + (directory.map { ["-C", $0] } ?? []) + arguments).map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, "/usr/bin/env", &actions, nil, argv, envp)
        guard rc == 0 else {
            return Result(status: -1, stdout: "", stderr: "cannot run \(arguments): \(String(cString: strerror(rc)))")
        }
        let exited = Mutex(false)
        if let limit {
            let child = pid
            Thread.detachNewThread {
                let deadline = ContinuousClock.now + limit
                while ContinuousClock.now < deadline {
                    if exited.withLock({ $0 }) { return }
                    usleep(100_000)
                }
                exited.withLock { done in if !done { kill(child, SIGKILL) } }
            }
        }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        exited.withLock { $0 = true }
        let normally = status & 0x7f == 0
        return Result(status: normally ? (status >> 8) & 0xff : 128 + (status & 0x7f),
                      stdout: Files.read(out), stderr: Files.read(err),
                      // GNU time writes "Command exited with non-zero status N" before the number.
                      maxResidentKiB: Files.read(peak).split(separator: "\n").last.flatMap { Int($0) } ?? 0)
    }

    /// An empty home directory, so msgit finds no credential files of whoever runs the tests.
    static let emptyHome = Paths.scratch("home")

    /// Runs the msgit executable (with an empty HOME unless `env` gives one).
    static func msgit(_ arguments: [String], in directory: String? = nil, env: [String: String] = [:],
                      stdin: String? = nil, limit: Duration? = nil, measuringMemory: Bool = false) -> Result {
        var env = env
        if env["HOME"] == nil { env["HOME"] = emptyHome }
        env["XDG_CONFIG_HOME"] = env["XDG_CONFIG_HOME"] ?? env["HOME"]! + "/.config"
        return run([Paths.msgit] + arguments, in: directory, env: env, stdin: stdin, limit: limit,
                   measuringMemory: measuringMemory)
    }
}

/// Real git, the reference peer.
enum Git {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    /// git-lfs's filters, as `git lfs install` registers them. Given on every git command line: the
    /// harness ignores the system configuration (GIT_CONFIG_NOSYSTEM), where Debian registers them.
    static let lfsFilters = ["-c", "filter.lfs.clean=git-lfs clean -- %f", "-c", "filter.lfs.smudge=git-lfs smudge -- %f",
                             "-c", "filter.lfs.process=git-lfs filter-process", "-c", "filter.lfs.required=true"]

    /// Runs git with git-lfs's filters; with `hub`, git authenticates to it with the hub's token (a
    /// credential helper, so the token is in no URL).
    @discardableResult
    static func run(_ arguments: [String], in directory: String? = nil, hub: Hub? = nil,
                    env: [String: String] = [:], stdin: String? = nil) throws -> String {
        var args = ["git"] + lfsFilters
        if let hub {
            args += ["-c", "credential.helper=!f() { echo username=\(hub.username); echo password=\(hub.token); }; f"]
        }
        let result = Shell.run(args + arguments, in: directory, env: env, stdin: stdin)
        guard result.status == 0 else {
            throw Failure(description: "git \(arguments.joined(separator: " ")) failed (\(result.status)): \(result.stderr)")
        }
        return result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// A new repository with an identity, ready for commits.
    static func initRepo(_ path: String, branch: String = "master", lfs: Bool = false) throws {
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        try run(["init", "-q", "--initial-branch=\(branch)"], in: path)
        try configureIdentity(path)
        if lfs { try run(["lfs", "install", "--local"], in: path) }
    }

    static func configureIdentity(_ path: String) throws {
        try run(["config", "user.email", "test@example.com"], in: path)
        try run(["config", "user.name", "msgit test"], in: path)
    }

    static func commitAll(_ path: String, _ message: String) throws {
        try run(["add", "-A"], in: path)
        try run(["commit", "-q", "-m", message], in: path)
    }

    /// "refname objectname" for every reference, sorted.
    static func refs(_ path: String) throws -> [String] {
        try run(["for-each-ref", "--format=%(refname) %(objectname)"], in: path)
            .split(separator: "\n").map(String.init).sorted()
    }
}

enum Files {
    static func write(_ path: String, _ text: String, mode: Int? = nil) throws {
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent,
                                                withIntermediateDirectories: true)
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        if let mode { try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: path) }
    }

    /// Deterministic, incompressible bytes.
    static func writeRandom(_ path: String, size: Int, seed: UInt64) throws {
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent,
                                                withIntermediateDirectories: true)
        var state = seed &+ 0x9E37_79B9_7F4A_7C15
        var data = Data(count: size)
        data.withUnsafeMutableBytes { (buffer: UnsafeMutableRawBufferPointer) in
            var i = 0
            while i < size {
                // splitmix64
                state &+= 0x9E37_79B9_7F4A_7C15
                var z = state
                z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
                z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
                z ^= z >> 31
                withUnsafeBytes(of: z) { word in
                    for b in word where i < size {
                        buffer[i] = b
                        i += 1
                    }
                }
            }
        }
        try data.write(to: URL(fileURLWithPath: path))
    }

    /// Every file under `root` except `.git`, with its mode and content, for tree comparisons.
    static func snapshot(_ root: String) throws -> [String: (mode: Int, data: Data)] {
        var result: [String: (Int, Data)] = [:]
        let fm = FileManager.default
        guard let walker = fm.enumerator(atPath: root) else { return [:] }
        while let relative = walker.nextObject() as? String {
            if relative == ".git" || relative.hasPrefix(".git/") {
                walker.skipDescendants()
                continue
            }
            let path = root + "/" + relative
            let attributes = try fm.attributesOfItem(atPath: path)
            let type = attributes[.type] as? FileAttributeType
            if type == .typeDirectory { continue }
            let mode = (attributes[.posixPermissions] as? NSNumber)?.intValue ?? 0
            if type == .typeSymbolicLink {
                result[relative] = (0o120000, Data(try fm.destinationOfSymbolicLink(atPath: path).utf8))
            } else {
                result[relative] = (mode & 0o111 != 0 ? 0o755 : 0o644, try Data(contentsOf: URL(fileURLWithPath: path)))
            }
        }
        return result
    }

    static func sameTree(_ a: String, _ b: String) throws -> Bool {
        let x = try snapshot(a), y = try snapshot(b)
        guard Set(x.keys) == Set(y.keys) else { return false }
        return x.allSatisfy { key, value in y[key]!.mode == value.mode && y[key]!.data == value.data }
    }

    /// A short text that changes when any file under `root` (but `.git`) changes: path, mode, size
    /// and a hash of the content, per file. For "the work tree is as it was" within one test.
    static func treeDigest(_ root: String) throws -> String {
        try snapshot(root).sorted { $0.key < $1.key }
            .map { "\($0.key) \(String($0.value.mode, radix: 8)) \($0.value.data.count) \($0.value.data.hashValue)" }
            .joined(separator: "\n")
    }

    static func read(_ path: String) -> String {
        (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
    }

    /// The bytes of a file (empty if it cannot be read).
    static func data(_ path: String) -> Data {
        (try? Data(contentsOf: URL(fileURLWithPath: path))) ?? Data()
    }

    /// Whether two files hold the same bytes (both present). Use this in expectations, not
    /// `data(a) == data(b)`: on a mismatch swift-testing diffs the two values, which for files of
    /// megabytes runs for hours.
    static func same(_ a: String, _ b: String) -> Bool {
        guard let x = try? Data(contentsOf: URL(fileURLWithPath: a)),
              let y = try? Data(contentsOf: URL(fileURLWithPath: b)) else { return false }
        return x == y
    }
}

/// The fault-injecting server (Tests/Hub/faultserver.py), one per test process.
struct FaultServer: Sendable, Decodable {
    let port: Int
    let url: String
    let other_url: String
    /// Another port of 127.0.0.1, served by the same handler.
    let other_port: Int
    let blackhole_port: Int
    let log: String
    /// https://localhost:PORT, with a self-signed certificate.
    let tls_url: String
    let cert: String
    /// https://localhost on port 443 (the same listener), where the server could listen there
    /// (root); nil elsewhere.
    let https443: String?

    /// The environment that makes msgit trust the TLS listener's certificate: libgit2 reads
    /// GIT_SSL_CAINFO (before SSL_CERT_FILE, as git does), FoundationNetworking's curl reads
    /// URLSessionCertificateAuthorityInfoFile.
    var trust: [String: String] { ["GIT_SSL_CAINFO": cert, "URLSessionCertificateAuthorityInfoFile": cert] }

    static let shared: FaultServer = {
        let state = Paths.scratchRoot + "/fault"
        try? FileManager.default.removeItem(atPath: state)
        _ = try? Spawn.start(["/usr/bin/env", "python3", Paths.root + "/Tests/Hub/faultserver.py", "--state", state,
                              "--watch-pid", "\(getpid())"])
        for _ in 0..<500 {
            if let data = FileManager.default.contents(atPath: state + "/fault.json"),
               let server = try? JSONDecoder().decode(FaultServer.self, from: data) {
                return server
            }
            usleep(10_000)
        }
        fatalError("the fault server did not start")
    }()

    struct Request: Decodable {
        let host: String
        let port: Int?
        let tls: Bool?
        let method: String
        let path: String
        let authorization: String?
        /// When it arrived (seconds since 1970).
        let time: Double?
        /// /delayed/<tag>/... requests of its tag being answered when it arrived, itself included.
        let inflight: Int?
        /// For /delayed/ requests: the connection it came on (the client's port).
        let connection: Int?
        /// For LFS batch requests: the objects asked for.
        let objects: Int?
    }

    /// Requests logged since `mark` (a byte offset from `logSize`).
    func requests(since mark: UInt64) -> [Request] {
        Hub.shared.logLines(log, since: mark).compactMap { try? JSONDecoder().decode(Request.self, from: Data($0.utf8)) }
    }

    var logSize: UInt64 { Hub.shared.logSize(log) }
}
