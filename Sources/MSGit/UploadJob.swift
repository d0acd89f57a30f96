import Foundation
import GitCore
import Logging

/// The git side of an upload, in a temporary bare repository.
struct UploadJob: Sendable {
    let url: RemoteURL
    let scratch: URL
    let options: UploadOptions
    let authenticator: Authenticator
    let reporter: ProgressReporter
    let logger: Logger

    struct Base: Sendable {
        var branch: String
        var parent: ObjectID?
        var attributes: String
    }

    private func open(_ operation: GitOperation) throws -> (Repository, Remote) {
        let repository = FileManager.default.fileExists(atPath: scratch.path)
            ? try Repository.open(at: scratch) : try Repository.create(at: scratch, bare: true)
        let remote = try repository.anonymousRemote(
            url: url.string, callbacks: RemoteCallbacks.operation(authenticator: authenticator, reporter: reporter, logger: logger),
            operation: operation)
        return (repository, remote)
    }

    /// Fetches the target branch (or the default branch a new one starts from).
    func fetchBase(operation: GitOperation) throws -> Base {
        let (repository, remote) = try open(operation)
        try remote.connect(.fetch)
        let heads = try remote.advertisedHeads()
        let branches = Set(heads.map(\.name).filter { $0.hasPrefix("refs/heads/") })
        let remoteHEAD = heads.first { $0.name == "HEAD" }?.symbolicTarget.flatMap { branches.contains($0) ? $0 : nil }
        let defaultBranch = remoteHEAD ?? (branches.contains("refs/heads/master") ? "refs/heads/master"
            : branches.contains("refs/heads/main") ? "refs/heads/main" : branches.sorted().first)
        let branch = options.branch.map { $0.hasPrefix("refs/heads/") ? String($0.dropFirst(11)) : $0 }
            ?? defaultBranch.map { String($0.dropFirst(11)) } ?? "master"
        guard Refspec("refs/heads/\(branch):refs/heads/\(branch)", fetch: false) != nil else {
            throw MSGitError(.invalidArgument, "invalid branch name '\(branch)'")
        }
        let from = branches.contains("refs/heads/\(branch)") ? "refs/heads/\(branch)" : defaultBranch
        guard let from else { return Base(branch: branch, parent: nil, attributes: "") }
        _ = try remote.fetch(refspecs: ["+\(from):refs/remotes/origin/base"], tags: .none)
        guard let parent = repository.resolve("refs/remotes/origin/base") else {
            throw MSGitError(.git, "the fetch of \(from) brought nothing")
        }
        let attributes = repository.fileContent(".gitattributes", in: parent).map { String(decoding: $0, as: UTF8.self) } ?? ""
        return Base(branch: branch, parent: parent, attributes: attributes)
    }

    func commit(_ files: [CommitFile], on base: Base, message: String) throws -> ObjectID {
        let repository = try Repository.open(at: scratch)
        let env = ProcessInfo.processInfo.environment
        let author = env["GIT_AUTHOR_NAME"].flatMap { name in env["GIT_AUTHOR_EMAIL"].map { (name, $0) } }
        return try repository.commit(files: files, parent: base.parent, message: message, author: author)
    }

    /// Pushes the commit to the branch, without forcing: a branch that moved since the fetch refuses it.
    func push(_ commit: ObjectID, branch: String, operation: GitOperation) throws {
        let (repository, remote) = try open(operation)
        try repository.createReference("refs/heads/\(branch)", target: commit, force: true, message: "msgit upload")
        let outcome = try remote.push(refspecs: ["refs/heads/\(branch):refs/heads/\(branch)"])
        if !outcome.rejections.isEmpty {
            var error = MSGitError(.pushRejected, "failed to push the upload to '\(url)' \(branch)",
                                   hint: "the branch moved while uploading; run the upload again")
            error.rejectedRefs = outcome.rejections.map(RejectedReference.init)
            throw error
        }
    }
}
