import Foundation
import GitCore
import HTTP
import LFS

/// Which LFS objects a mirror keeps, where they are stored, and where the mirror is pushed.
public struct MirrorOptions: Sendable {
    /// Which LFS objects a mirror downloads.
    public enum LFSScope: String, Sendable, Codable, CaseIterable {
        /// Every LFS object reachable from every ref, history included (as `git lfs fetch --all`).
        case all
        /// The objects of the default branch's tip only.
        case head
        /// No LFS objects: the git history only.
        case none
    }

    /// Which LFS objects to download; every one of every ref by default.
    public var lfs: LFSScope = .all
    /// LFS downloads at once, per repository; nil: sized to the round trip (`InFlight.transfers`).
    public var lfsJobs: Int?
    /// Push each mirror (refs and LFS objects) to a URL made from this template, with `{host}`,
    /// `{ns}` and `{name}` replaced (e.g. `https://gitlab.internal/mirrors/{ns}/{name}.git`).
    public var pushTo: String?
    /// Where the mirrors' LFS objects live once for all of them (`LFSOptions.storage`), each
    /// mirror's `lfs/objects` holding hard links: forks and fine-tunes that share weights store
    /// them once. Default (nil): `<into>/.lfs-storage`. `sharedLFSStorage` false keeps every
    /// mirror's objects its own.
    public var lfsStorage: URL?
    /// Whether the mirrors share one LFS store (`lfsStorage`); true by default.
    public var sharedLFSStorage = true

    /// The defaults download every LFS object of every ref into a store shared by the mirrors under the
    /// root, sized to the round trip, and push nowhere.
    public init(lfs: LFSScope = .all, lfsJobs: Int? = nil, pushTo: String? = nil, lfsStorage: URL? = nil,
                sharedLFSStorage: Bool = true) {
        self.lfs = lfs
        self.lfsJobs = lfsJobs
        self.pushTo = pushTo
        self.lfsStorage = lfsStorage
        self.sharedLFSStorage = sharedLFSStorage
    }
}

extension GitClient {
    /// Mirrors every entry, `jobs` repositories at a time; one failing never stops the others.
    /// `report` gets each result as it is done. The LFS transfers of all of them share one HTTP
    /// client, so connections to a hub and its storage host are reused from one repository to
    /// the next, and its per-host limit holds for them all. `events` gets the LFS events of each
    /// repository with its entry as given (paths alone would not say which repository).
    public func mirror(_ entries: [String], into root: URL, jobs: Int = 4, options: MirrorOptions = MirrorOptions(),
                       report: (@Sendable (MirrorResult) -> Void)? = nil,
                       events: (@Sendable (_ entry: String, LFSEvent) async -> Void)? = nil) async -> [MirrorResult] {
        return await withTaskGroup(of: MirrorResult.self) { group in
            var pending = entries[...]
            func addNext() {
                guard let entry = pending.popFirst() else { return }
                var handler: LFSEventHandler?
                if let events {
                    handler = { @Sendable event in await events(entry, event) }
                }
                group.addTask { await self.mirror(entry, into: root, options: options, events: handler) }
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
    public func mirror(_ entry: String, into root: URL, options: MirrorOptions = MirrorOptions(),
                       events handler: LFSEventHandler? = nil) async -> MirrorResult {
        let events = Self.maskedEvents(handler)
        let result = await performMirror(entry, into: root, options: options, events: events)
        await events?.finish()
        OperationMetrics.record("mirror", duration: result.duration, error: result.status == .mirrored ? nil : result.error)
        return result
    }

    private func performMirror(_ entry: String, into root: URL, options: MirrorOptions, events: LFSEvents?) async
        -> MirrorResult
    {
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
            let relative = try MirrorJob.relativeLocation(of: url)
            let job = MirrorJob(url: url, root: root, relative: relative,
                                authenticator: Authenticator(remote: url, credential: credential), logger: logger)
            let path = job.path
            result.path = path
            let parent = try job.parentDirectory()
            guard let lock = try MirrorLock.acquire(job.name, in: parent) else {
                result.status = .busy
                result.error = MSGitError(.io, "another run is mirroring this repository")
                result.duration = ContinuousClock.now - start
                return result
            }
            defer { lock.release() }

            let fetching = try makeOperation()
            let fetched = try await fetching.run { try job.fetch(in: parent, operation: fetching) }
            await tell(credential, for: url, accepted: true)
            result.refsChanged = fetched.changed

            if options.lfs != .none {
                let planning = GitOperation()
                let plan = try await planning.run { try job.lfsPlan(options.lfs) }
                if !plan.pointers.isEmpty, let endpoint = plan.endpoint {
                    var fetchOptions = Fetcher.Options()
                    fetchOptions.jobs = options.lfsJobs
                    if options.sharedLFSStorage {
                        fetchOptions.sharedStore = ObjectStore(root: options.lfsStorage ?? root.appendingPathComponent(".lfs-storage"))
                    }
                    let fetcher = Fetcher(endpoint: endpoint,
                                          scope: lfsScope(for: endpoint, remoteURL: url, credential: credential,
                                                          secrets: secrets),
                                          store: ObjectStore(gitDirectory: path),
                                          pool: try transferPool(),
                                          options: fetchOptions, logger: logger)
                    // Each object's events name every path of the mirrored refs that holds it.
                    var paths: [String: [String]] = [:]
                    for item in plan.pointers where !(paths[item.pointer.oid]?.contains(item.path) ?? false) {
                        paths[item.pointer.oid, default: []].append(item.path)
                    }
                    let meter = TransferMeter(.download, paths: paths, events: events)
                    let fetchReport = try await fetcher.fetch(plan.pointers.map(\.pointer), meter: meter)
                    result.lfsObjects = fetchReport.downloaded
                    result.lfsBytes = fetchReport.downloadedBytes
                    let failures = plan.pointers.compactMap { item in
                        fetchReport.failures[item.pointer.oid].map { LFSFailure(path: item.path, oid: item.pointer.oid, reason: $0) }
                    }
                    if !failures.isEmpty {
                        result.lfsFailures = failures
                        result.status = .lfsIncomplete
                        result.error = MSGitError(.lfsIncomplete, "\(failures.count) LFS objects could not be fetched")
                    }
                }
                if result.status != .lfsIncomplete {
                    try job.recordLFSComplete(plan.tips, scope: options.lfs)
                }
            }

            if let template = options.pushTo, result.status != .lfsIncomplete {
                let target = try MirrorJob.expand(template, for: url)
                try await pushMirror(path, to: target)
                result.pushedTo = (try? RemoteURL(target).string) ?? target.redacted
            }
            if result.status == .failed { result.status = .mirrored }
        } catch {
            result.status = .failed
            result.error = await explain(error, url: remote, credential: credential)
        }
        result.duration = ContinuousClock.now - start
        logger.info("mirror \(result.url): \(result.status), \(result.refsChanged) refs, \(result.lfsObjects) LFS objects")
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
                callbacks: RemoteCallbacks.operation(authenticator: Authenticator(remote: targetURL, credential: targetCredential),
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
