import Foundation
import GitCore
import HTTP
import LFS
import Logging

public struct MirrorOptions: Sendable {
    public enum LFSScope: String, Sendable, Codable, CaseIterable {
        /// Every LFS object reachable from every ref, history included (as `git lfs fetch --all`).
        case all
        /// The objects of the default branch's tip only.
        case head
        case none
    }

    public var lfs: LFSScope = .all
    /// LFS downloads at once, per repository.
    public var lfsJobs = 4
    /// Push each mirror (refs and LFS objects) to a URL made from this template, with `{host}`,
    /// `{ns}` and `{name}` replaced (e.g. `https://gitlab.internal/mirrors/{ns}/{name}.git`).
    public var pushTo: String?

    public init(lfs: LFSScope = .all, lfsJobs: Int = 4, pushTo: String? = nil) {
        self.lfs = lfs
        self.lfsJobs = lfsJobs
        self.pushTo = pushTo
    }
}

/// One line of a mirror report.
public struct MirrorResult: Sendable, Codable, Equatable {
    public enum Status: String, Sendable, Codable {
        case ok
        /// Git and LFS mirrored, but some LFS objects could not be fetched (see `error`).
        case lfsIncomplete = "lfs-incomplete"
        case failed
        /// Another run holds this repository's lock; that run mirrors it.
        case busy
    }

    /// The repository URL, without userinfo.
    public var url: String
    public var path: String?
    public var status: Status
    /// References created, moved or deleted in the mirror by this run.
    public var refsChanged = 0
    public var lfsObjects = 0
    public var lfsBytes: Int64 = 0
    public var lfsFailures: [LFSFailure]?
    public var pushedTo: String?
    public var durationSeconds = 0.0
    public var error: String?
    public var errorKind: String?

    enum CodingKeys: String, CodingKey {
        case url, path, status, refsChanged = "refs_changed", lfsObjects = "lfs_objects", lfsBytes = "lfs_bytes"
        case lfsFailures = "lfs_failures", pushedTo = "pushed_to", durationSeconds = "duration_seconds", error
        case errorKind = "error_kind"
    }
}

/// A list of repositories to mirror: one per line, `#` comments and blank lines allowed.
public struct Manifest: Sendable {
    public var entries: [String]

    /// Parses `text`. With `baseURL`, `ns/name` lines become `<baseURL>/ns/name.git`; without it,
    /// short names expand as everywhere else (MSGIT_ENDPOINT, ModelScope).
    public init(_ text: String, baseURL: String? = nil) {
        entries = text.split(whereSeparator: \.isNewline).compactMap { raw in
            let line = raw.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first
                .map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
            guard !line.isEmpty else { return nil }
            if let baseURL {
                return ShortNames.expand(line, environment: ["MSGIT_ENDPOINT": baseURL])
            }
            return ShortNames.expand(line)
        }
    }

    /// The entries of shard `index` of `count` (0-based), chosen by a stable hash of each URL
    /// (without userinfo), so every entry is in exactly one shard whatever the order of the lines.
    public func shard(_ index: Int, of count: Int) -> [String] {
        precondition(count > 0 && (0..<count).contains(index))
        return entries.filter { Int(Self.stableHash(Self.identity($0)) % UInt64(count)) == index }
    }

    static func identity(_ entry: String) -> String {
        (try? RemoteURL(entry).string) ?? entry
    }

    /// FNV-1a, 64 bits: the same on every machine and every run (unlike Swift's `Hasher`).
    static func stableHash(_ text: String) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01b3
        }
        return hash
    }
}

extension GitClient {
    /// Mirrors every entry, `jobs` repositories at a time; one failing never stops the others.
    /// `report` gets each result as it is done.
    public func mirror(_ entries: [String], into root: URL, jobs: Int = 4, options: MirrorOptions = MirrorOptions(),
                       report: (@Sendable (MirrorResult) -> Void)? = nil) async -> [MirrorResult] {
        await withTaskGroup(of: MirrorResult.self) { group in
            var pending = entries[...]
            func addNext() {
                guard let entry = pending.popFirst() else { return }
                group.addTask { await self.mirror(entry, into: root, options: options) }
            }
            for _ in 0..<max(1, jobs) { addNext() }
            var results: [MirrorResult] = []
            while let result = await group.next() {
                report?(result)
                results.append(result)
                addNext()
            }
            return results
        }
    }

    /// Mirrors one repository into `<root>/<host>/<path>.git`: all refs exactly as the source has
    /// them (deleted ones pruned), then its LFS objects, then, if asked, a push elsewhere. Never
    /// throws: the result says what happened.
    public func mirror(_ entry: String, into root: URL, options: MirrorOptions = MirrorOptions()) async -> MirrorResult {
        let start = ContinuousClock.now
        let secrets = SecretScope()
        defer { secrets.end() }
        var result = MirrorResult(url: Manifest.identity(entry).redacted, status: .failed)
        var credential: Credential?
        var remote: RemoteURL?
        do {
            let url = try RemoteURL(entry)
            remote = url
            result.url = url.string
            credential = try CredentialResolution(url: url, client: self, secrets: secrets).credential
            let path = MirrorJob.location(of: url, in: root)
            result.path = path.path
            let job = MirrorJob(url: url, path: path, authenticator: Authenticator(remote: url, credential: credential),
                                logger: logger)
            guard let lock = try MirrorLock.acquire(path) else {
                result.status = .busy
                result.error = "another run is mirroring this repository"
                result.durationSeconds = (ContinuousClock.now - start).reportSeconds
                return result
            }
            defer { lock.release() }

            let fetching = makeOperation()
            let fetched = try await fetching.run { try job.fetch(operation: fetching) }
            result.refsChanged = fetched.changed

            if options.lfs != .none {
                let planning = GitOperation()
                let plan = try await planning.run { try job.lfsPlan(options.lfs) }
                if !plan.pointers.isEmpty, let endpoint = plan.endpoint {
                    var fetchOptions = Fetcher.Options()
                    fetchOptions.jobs = options.lfsJobs
                    let fetcher = Fetcher(endpoint: endpoint,
                                          scope: lfsScope(for: endpoint, remoteURL: url, credential: credential,
                                                          secrets: secrets),
                                          store: ObjectStore(gitDirectory: path),
                                          http: HTTPClient(idleTimeout: timeouts.idle, maximumConnectionsPerHost: options.lfsJobs),
                                          options: fetchOptions, logger: logger)
                    let fetchReport = try await fetcher.fetch(plan.pointers.map(\.pointer))
                    result.lfsObjects = fetchReport.downloaded
                    result.lfsBytes = fetchReport.downloadedBytes
                    let failures = plan.pointers.compactMap { item in
                        fetchReport.failures[item.pointer.oid].map { LFSFailure(path: item.path, oid: item.pointer.oid, reason: $0) }
                    }
                    if !failures.isEmpty {
                        result.lfsFailures = failures
                        result.status = .lfsIncomplete
                        result.error = "\(failures.count) LFS objects could not be fetched"
                    }
                }
                if result.status != .lfsIncomplete {
                    try job.recordLFSComplete(plan.tips, scope: options.lfs)
                }
            }

            if let template = options.pushTo, result.status != .lfsIncomplete {
                let target = MirrorJob.expand(template, for: url)
                try await pushMirror(path, to: target)
                result.pushedTo = (try? RemoteURL(target).string) ?? target.redacted
            }
            if result.status == .failed { result.status = .ok }
        } catch {
            let failure = await explain(error, url: remote, credential: credential)
            result.status = .failed
            result.error = failure.description
            result.errorKind = failure.kind.rawValue
        }
        result.durationSeconds = (ContinuousClock.now - start).reportSeconds
        logger.info("mirror \(result.url): \(result.status.rawValue), \(result.refsChanged) refs, \(result.lfsObjects) LFS objects")
        return result
    }

    /// Pushes every ref of the mirror at `path` to `target` and deletes the target's refs the mirror
    /// does not have (`git push --mirror`), LFS objects first.
    ///
    /// The target is usually another host than the source, so it gets the write credentials' token
    /// or a credential stored for its own host, never the token the source was read with.
    func pushMirror(_ path: URL, to target: String) async throws {
        let targetURL = try RemoteURL(target)
        let secrets = SecretScope()
        defer { secrets.end() }
        let targetCredential = try CredentialResolution(url: targetURL, client: self, purpose: .mirrorTarget,
                                                        secrets: secrets).credential
        let planning = GitOperation()
        let refspecs = try await planning.run { () -> [String] in
            let repository = try Repository.open(at: path)
            let remote = try repository.anonymousRemote(
                url: targetURL.string,
                callbacks: makeCallbacks(authenticator: Authenticator(remote: targetURL, credential: targetCredential),
                                         reporter: ProgressReporter(nil), logger: logger),
                operation: planning)
            try remote.connect(.push)
            let theirs = Set(try remote.advertisedHeads().map(\.name).filter { $0.hasPrefix("refs/") && !$0.hasSuffix("^{}") })
            remote.disconnect()
            let ours = try repository.references(matching: "refs/*").map(\.name)
            return ours.map { "+\($0):\($0)" } + theirs.subtracting(ours).sorted().map { ":\($0)" }
        }
        let client = GitClient(credentials: StaticTargetCredentials(credential: targetCredential), writeCredentials: nil,
                               username: username, timeouts: timeouts, logger: logger)
        _ = try await client.push(in: path, remote: targetURL.string, refspecs: refspecs)
    }
}

/// The target's credential, found once, handed to the push as its own.
private struct StaticTargetCredentials: CredentialProvider {
    let credential: Credential?
    func credential(for url: RemoteURL) -> Credential? { credential }
}

/// One repository's mirror on disk.
struct MirrorJob: Sendable {
    let url: RemoteURL
    let path: URL
    let authenticator: Authenticator
    let logger: Logger

    /// `<root>/<host>[_<port>]/<path>.git`, with nothing that could leave `root`.
    static func location(of url: RemoteURL, in root: URL) -> URL {
        var directory = root.appendingPathComponent(url.port.map { "\(url.host)_\($0)" } ?? url.host, isDirectory: true)
        let parts = url.path.split(separator: "/").map { $0.removingPercentEncoding ?? String($0) }
            .filter { !$0.isEmpty && $0 != "." && $0 != ".." }
        for (i, part) in parts.enumerated() {
            let name = i == parts.count - 1 && !part.hasSuffix(".git") ? part + ".git" : part
            directory.appendPathComponent(name, isDirectory: true)
        }
        return directory
    }

    /// The template with `{host}`, `{ns}` (everything between the host and the name) and `{name}`
    /// (without .git) filled in.
    static func expand(_ template: String, for url: RemoteURL) -> String {
        var parts = url.path.split(separator: "/").map(String.init)
        var name = parts.popLast() ?? ""
        if name.hasSuffix(".git") { name.removeLast(4) }
        return template.replacingOccurrences(of: "{host}", with: url.host)
            .replacingOccurrences(of: "{ns}", with: parts.joined(separator: "/"))
            .replacingOccurrences(of: "{name}", with: name)
    }

    struct Fetched: Sendable {
        var changed: Int
    }

    /// Creates the bare mirror if needed and brings every ref as the source has it.
    func fetch(operation: GitOperation) throws -> Fetched {
        let repository: Repository
        let existed = FileManager.default.fileExists(atPath: path.appendingPathComponent("HEAD").path)
        if existed {
            repository = try Repository.open(at: path)
        } else {
            repository = try Repository.create(at: path, bare: true)
        }
        do {
            return try fetch(into: repository, operation: operation)
        } catch {
            // A mirror whose very first fetch failed is not left behind empty.
            if !existed { try? FileManager.default.removeItem(at: path) }
            throw error
        }
    }

    private func fetch(into repository: Repository, operation: GitOperation) throws -> Fetched {
        // As `git clone --mirror` configures it; the URL never holds userinfo.
        try repository.setConfig("remote.origin.url", url.string)
        try repository.setConfig("remote.origin.fetch", "+refs/*:refs/*")
        try repository.setConfig("remote.origin.mirror", "true")
        let remote = try repository.remote(named: "origin",
                                           callbacks: makeCallbacks(authenticator: authenticator,
                                                                    reporter: ProgressReporter(nil), logger: logger),
                                           operation: operation)
        try remote.connect(.fetch)
        let heads = try remote.advertisedHeads()
        let outcome = try remote.fetch(tags: .none, prune: true, reflogMessage: "mirror: \(url)")
        if let head = heads.first(where: { $0.name == "HEAD" })?.symbolicTarget {
            try repository.setHead(head)
        }
        return Fetched(changed: outcome.updates.count)
    }

    struct LFSPlan: Sendable {
        var pointers: [(path: String, pointer: Pointer)]
        var endpoint: URL?
        var tips: [String: String]
    }

    /// The LFS pointers to have: for `all`, those introduced by commits of any ref since the tips
    /// recorded as complete (the whole history the first time); for `head`, those of HEAD's tree.
    func lfsPlan(_ scope: MirrorOptions.LFSScope) throws -> LFSPlan {
        let repository = try Repository.open(at: path)
        let refs = try repository.references(matching: "refs/*")
        let tips = Dictionary(refs.map { ($0.name, $0.target.hex) }, uniquingKeysWith: { a, _ in a })
        let recorded = (try? MirrorState.load(path))?.complete[scope.rawValue] ?? [:]
        var pointers: [(String, Pointer)] = []
        switch scope {
        case .none:
            break
        case .head:
            if let head = repository.commit(for: "HEAD"), recorded["HEAD"] != head.hex {
                try repository.walkFiles(ofCommit: head, contentLimit: Pointer.maximumFileSize - 1) { blob, content in
                    if let content, let pointer = Pointer(content) { pointers.append((blob.path, pointer)) }
                }
            }
            var headTips = tips
            headTips["HEAD"] = repository.commit(for: "HEAD")?.hex
            return LFSPlan(pointers: pointers, endpoint: endpoint(repository), tips: headTips)
        case .all:
            guard tips != recorded else { return LFSPlan(pointers: [], endpoint: nil, tips: tips) }
            let sources = refs.compactMap { repository.commit(for: $0.name) }
            let hidden = recorded.values.compactMap(ObjectID.init(hex:))
            for blob in try repository.introducedBlobs(from: sources, hiding: hidden, maxSize: Pointer.maximumFileSize - 1) {
                if let pointer = Pointer(blob.content) { pointers.append((blob.path, pointer)) }
            }
        }
        return LFSPlan(pointers: pointers, endpoint: endpoint(repository), tips: tips)
    }

    private func endpoint(_ repository: Repository) -> URL? {
        LFSPass.endpoint(repository: repository, remoteName: "origin", remoteURL: url)
    }

    func recordLFSComplete(_ tips: [String: String], scope: MirrorOptions.LFSScope) throws {
        var state = (try? MirrorState.load(path)) ?? MirrorState()
        state.complete[scope.rawValue] = tips
        try state.save(path)
    }
}

/// What a mirror knows about its own completeness, in `<mirror>/msgit-mirror.json`.
struct MirrorState: Codable {
    /// LFS scope -> ref -> tip whose LFS objects are all in the store.
    var complete: [String: [String: String]] = [:]

    static func file(_ path: URL) -> URL { path.appendingPathComponent("msgit-mirror.json") }

    static func load(_ path: URL) throws -> MirrorState {
        try JSONDecoder().decode(MirrorState.self, from: Data(contentsOf: file(path)))
    }

    /// Written under a temporary name and renamed: a killed run leaves the old state or the new one.
    func save(_ path: URL) throws {
        let data = try JSONEncoder().encode(self)
        let temporary = path.appendingPathComponent("msgit-mirror.json.tmp-\(getpid())")
        try data.write(to: temporary)
        guard rename(temporary.path, Self.file(path).path) == 0 else {
            throw MSGitError(.io, "cannot write \(Self.file(path).path): \(String(cString: strerror(errno)))")
        }
    }
}

/// An exclusive `flock` on `<mirror>.msgit-lock`, so two runs never work on one mirror at once.
struct MirrorLock {
    let fd: Int32

    /// The lock, or nil when another process holds it.
    static func acquire(_ path: URL) throws -> MirrorLock? {
        let lockPath = path.deletingLastPathComponent().appendingPathComponent(path.lastPathComponent + ".msgit-lock")
        try FileManager.default.createDirectory(at: lockPath.deletingLastPathComponent(), withIntermediateDirectories: true)
        let fd = open(lockPath.path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw MSGitError(.io, "cannot open \(lockPath.path): \(String(cString: strerror(errno)))") }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            close(fd)
            return nil
        }
        return MirrorLock(fd: fd)
    }

    func release() {
        flock(fd, LOCK_UN)
        close(fd)
    }
}
