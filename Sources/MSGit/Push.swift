import Foundation
import GitCore
import HTTP
import LFS

/// What a push sent: the refspecs, the remote-tracking references it moved, and the git and LFS objects
/// it uploaded.
public struct PushResult: Sendable {
    /// The remote's URL, without userinfo.
    public var url: String
    /// The refspecs that were pushed, in full form.
    public var refspecs: [String]
    /// Remote-tracking references updated after the push.
    public var updatedRefs: [ReferenceChange]
    /// Git objects sent in the pack; 0 when the server had them all.
    public var pushedObjects: Int
    /// Bytes of the pack sent.
    public var pushedBytes: UInt64
    /// The whole operation: LFS uploads, then the references.
    public var duration: Duration
    /// LFS objects uploaded before the refs were sent (objects the server had are not counted).
    public var lfsUploadedObjects: Int = 0
    /// Bytes of those LFS objects.
    public var lfsUploadedBytes: Int64 = 0

    /// A result with every field given; the LFS counts 0 as for a push without LFS objects.
    public init(url: String, refspecs: [String], updatedRefs: [ReferenceChange], pushedObjects: Int,
                pushedBytes: UInt64, duration: Duration, lfsUploadedObjects: Int = 0, lfsUploadedBytes: Int64 = 0) {
        self.url = url
        self.refspecs = refspecs
        self.updatedRefs = updatedRefs
        self.pushedObjects = pushedObjects
        self.pushedBytes = pushedBytes
        self.duration = duration
        self.lfsUploadedObjects = lfsUploadedObjects
        self.lfsUploadedBytes = lfsUploadedBytes
    }
}

extension GitClient {
    /// Pushes `refspecs` (default: the current branch to the branch of the same name) to `remote`,
    /// which is a remote name or a URL.
    ///
    /// LFS objects first, as git-lfs's pre-push hook does: the pointers in the commits the remote
    /// does not have yet are uploaded over the Batch API (objects the server has are skipped). An
    /// object missing both here and on the server stops the push, naming the file and commit,
    /// before any reference is sent.
    ///
    /// Every reference is checked: the server may refuse one (a hook, a non-fast-forward) while
    /// libgit2 reports success. References that can be pushed are; if any was refused the call
    /// throws `.pushRejected` listing each with its reason.
    /// `remote`: a configured remote's name or a URL; nil: the one git pushes to
    /// (`branch.<name>.pushRemote`, `remote.pushDefault`, `branch.<name>.remote`, else origin).
    public func push(in directory: URL, remote: String? = nil, refspecs: [String] = [],
                     progress: ProgressHandler? = nil,
        events handler: LFSEventHandler? = nil) async throws(MSGitError) -> PushResult {
        try await operation("push", events: handler) { events throws(MSGitError) in
            try await performPush(in: directory, remote: remote, refspecs: refspecs, progress: progress, events: events)
        }
    }

    private func performPush(in directory: URL, remote: String?, refspecs: [String],
                             progress: ProgressHandler?, events: LFSEvents?) async throws(MSGitError) -> PushResult {
        let start = ContinuousClock.now
        let secrets = SecretScope()
        defer { secrets.end() }
        var setup: RemoteSetup?
        do {
            let remote = try await RemoteSetup.remoteName(remote, directory: directory, forPush: true)
            let loaded = try await RemoteSetup.load(directory: directory, remote: remote, client: self, purpose: .write,
                                                    secrets: secrets)
            setup = loaded
            let reporter = ProgressReporter(progress)
            let authenticator = Authenticator(remote: loaded.url, credential: loaded.resolution.credential)
            let job = PushJob(directory: directory, remote: remote, isAnonymous: loaded.isAnonymous, url: loaded.url,
                              requested: refspecs, authenticator: authenticator, reporter: reporter, logger: logger)
            let planning = try makeOperation()
            let plan = try await planning.run { try job.plan(operation: planning) }
            let lfs = try await uploadLFS(plan.lfsItems, endpoint: plan.lfsEndpoint, remoteURL: loaded.url,
                                          credential: loaded.resolution.credential, ref: plan.specs.first?.destination,
                                          secrets: secrets, reporter: reporter, events: events)
            let sending = try makeOperation()
            var result = try await sending.run { try job.send(plan, operation: sending) }
            await tell(loaded.resolution.credential, for: loaded.url, accepted: true)
            result.lfsUploadedObjects = lfs.uploaded
            result.lfsUploadedBytes = lfs.uploadedBytes
            result.duration = ContinuousClock.now - start
            reporter.finish { $0.phase = .done }
            return result
        } catch {
            throw await explain(error, url: setup?.url, credential: setup?.resolution.credential)
        }
    }

    /// Uploads what `items` name to the LFS endpoint (the hub token only on the hub's origin).
    func uploadLFS(_ items: [UploadItem], endpoint: URL?, remoteURL: RemoteURL, credential: Credential?, ref: String?,
                   secrets: SecretScope, reporter: ProgressReporter, events: LFSEvents?) async throws -> UploadReport {
        guard !items.isEmpty else { return UploadReport() }
        guard let endpoint else { throw MSGitError(.invalidArgument, "no LFS endpoint for '\(remoteURL)'") }
        let http = try transferPool().http
        let uploader = Uploader(endpoint: endpoint, scope: lfsScope(for: endpoint, remoteURL: remoteURL,
                                                                   credential: credential, secrets: secrets),
                                http: http, logger: logger)
        reporter.update { $0.phase = .lfs }
        return try await uploader.upload(items, ref: ref, progress: reporter.updateLFS, events: events)
    }
}
