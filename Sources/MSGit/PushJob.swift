import Foundation
import GitCore
import LFS
import Logging

/// A push, in the order git-lfs's pre-push imposes: plan (refs and LFS objects), upload, send.
struct PushJob: Sendable {
    let directory: URL
    let remote: String
    let isAnonymous: Bool
    let url: RemoteURL
    let requested: [String]
    let authenticator: Authenticator
    let reporter: ProgressReporter
    let logger: Logger

    struct Plan: Sendable {
        var specs: [Refspec]
        var rejections: [RefRejection]
        var lfsItems: [UploadItem]
        var lfsEndpoint: URL?
    }

    private func open(_ operation: GitOperation) throws -> (Repository, Remote) {
        let repository = try RemoteSetup.openRepository(directory)
        let callbacks = RemoteCallbacks.operation(authenticator: authenticator, reporter: reporter, logger: logger)
        let gitRemote = isAnonymous
            ? try repository.anonymousRemote(url: url.string, callbacks: callbacks, operation: operation)
            : try repository.remote(named: remote, callbacks: callbacks, operation: operation)
        return (repository, gitRemote)
    }

    /// What to send: the refspecs git would send (after its client-side checks) and the LFS pointers
    /// of the commits the remote does not have.
    func plan(operation: GitOperation) throws -> Plan {
        let (repository, gitRemote) = try open(operation)
        let specs = try Self.normalize(requested, in: repository)
        try gitRemote.connect(.push)
        let heads = try gitRemote.advertisedHeads()
        gitRemote.disconnect()
        let advertised = Dictionary(heads.map { ($0.name, $0.target) }, uniquingKeysWith: { a, _ in a })

        // git's client-side checks, which libgit2 1.5.1 turns into one opaque error for the whole push.
        var rejections: [RefRejection] = []
        var accepted: [Refspec] = []
        for spec in specs {
            if let reason = Self.clientSideRejection(spec, repository: repository, advertised: advertised) {
                rejections.append(RefRejection(reference: spec.destination, reason: reason))
            } else {
                accepted.append(spec)
            }
        }

        let sources = accepted.filter { !$0.source.isEmpty }.compactMap { repository.commit(for: $0.source) }
        let store = ObjectStore(gitDirectory: repository.gitDirectory)
        let introduced = try repository.introducedBlobs(from: sources, hiding: heads.map(\.target),
                                                        maxSize: LFSBlob.readLimit)
        let items = introduced.compactMap { blob -> UploadItem? in
            guard let pointer = LFSBlob.object(blob.content) else { return nil }
            return UploadItem(pointer: pointer, source: store.contains(pointer) ? store.path(for: pointer.oid) : nil,
                              path: blob.path, commit: blob.commit.hex)
        }
        let endpoint = items.isEmpty ? nil : LFSPass.endpoint(repository: repository, remoteName: remote, remoteURL: url)
        return Plan(specs: accepted, rejections: rejections, lfsItems: items, lfsEndpoint: endpoint)
    }

    /// Sends the planned refs and checks each one's status.
    func send(_ plan: Plan, operation: GitOperation) throws -> PushResult {
        var rejections = plan.rejections
        var updates: [RefUpdate] = []
        if !plan.specs.isEmpty {
            let (_, gitRemote) = try open(operation)
            logger.info("pushing \(plan.specs.map(\.string).joined(separator: " ")) to \(url)")
            let outcome = try gitRemote.push(refspecs: plan.specs.map(\.string))
            rejections += outcome.rejections
            updates = outcome.updates
        }
        if !rejections.isEmpty {
            var error = MSGitError(.pushRejected, "failed to push some refs to '\(url)'",
                                   hint: rejections.contains { $0.reason.contains("fast-forward") || $0.reason == "fetch first" }
                                       ? "the remote has commits you do not have: fetch, integrate them, and push again"
                                       : nil)
            error.rejectedRefs = rejections.map(RejectedReference.init)
            throw error
        }
        let progress = reporter.current
        return PushResult(url: url.string, refspecs: plan.specs.map(\.string), updatedRefs: updates.map(ReferenceChange.init),
                          pushedObjects: progress.totalPushObjects, pushedBytes: progress.pushedBytes, duration: .zero)
    }

    /// Why git would refuse to send `spec` without asking the server, or nil.
    static func clientSideRejection(_ spec: Refspec, repository: Repository, advertised: [String: ObjectID]) -> String? {
        guard !spec.force, !spec.source.isEmpty, let theirs = advertised[spec.destination],
              let ours = repository.commit(for: spec.source), ours != theirs else { return nil }
        if spec.destination.hasPrefix("refs/tags/") { return "already exists" }
        guard repository.hasObject(theirs) else { return "fetch first" }
        return repository.isAncestor(theirs, of: ours) ? nil : "non-fast-forward"
    }

    /// Full refspecs for what the user typed: "main" -> "refs/heads/main:refs/heads/main",
    /// "v1" (a tag) -> "refs/tags/v1:refs/tags/v1", ":old" deletes, nothing -> the current branch.
    static func normalize(_ requested: [String], in repository: Repository) throws -> [Refspec] {
        if requested.isEmpty {
            guard let head = repository.headReferenceName else {
                throw MSGitError(.invalidArgument, "You are not currently on a branch.",
                                 hint: "name what to push, e.g. msgit push origin HEAD:refs/heads/<name>")
            }
            guard repository.resolve(head) != nil else {
                throw MSGitError(.invalidArgument, "src refspec \(head.dropFirst(11)) does not match any",
                                 hint: "the current branch has no commits yet")
            }
            return [Refspec("\(head):\(head)", fetch: false)!]
        }
        return try requested.map { text in
            var body = Substring(text)
            let force = body.hasPrefix("+")
            if force { body = body.dropFirst() }
            let parts = body.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
            let source = parts[0]
            var destination = parts.count > 1 ? parts[1] : parts[0]
            var fullSource = source
            if !source.isEmpty {
                guard let expanded = expandLocal(source, in: repository) else {
                    throw MSGitError(.invalidArgument, "src refspec \(source) does not match any",
                                     hint: "name a local branch, tag or commit")
                }
                fullSource = expanded
            }
            if parts.count == 1 && fullSource.hasPrefix("refs/") { destination = fullSource }
            if !destination.hasPrefix("refs/") {
                if destination.isEmpty || destination == "HEAD" {
                    throw MSGitError(.invalidArgument, "invalid refspec '\(text)': no destination")
                }
                let kind = fullSource.hasPrefix("refs/tags/") ? "refs/tags/" : "refs/heads/"
                destination = kind + destination
            }
            let full = (force ? "+" : "") + fullSource + ":" + destination
            guard let spec = Refspec(full, fetch: false) else {
                throw MSGitError(.invalidArgument, "invalid refspec '\(text)'")
            }
            return spec
        }
    }

    private static func expandLocal(_ name: String, in repository: Repository) -> String? {
        if name == "HEAD" { return repository.headReferenceName ?? (repository.commit(for: "HEAD") != nil ? "HEAD" : nil) }
        if name.hasPrefix("refs/") { return repository.resolve(name) != nil ? name : nil }
        for candidate in ["refs/heads/\(name)", "refs/tags/\(name)"] where repository.resolve(candidate) != nil {
            return candidate
        }
        if let commit = repository.commit(for: name) { return commit.hex }
        return nil
    }
}
