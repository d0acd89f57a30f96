import Foundation
import GitCore
import LFS
import Logging

/// The synchronous part of a clone, run on the operation's thread.
struct CloneJob: Sendable {
    let url: RemoteURL
    let directory: URL
    let options: CloneOptions
    let lfs: LFSOptions
    let authenticator: Authenticator
    let reporter: ProgressReporter
    let operation: GitOperation
    let logger: Logger
    /// Given the LFS plan of HEAD (read from the commit) just before the checkout starts, when LFS
    /// is on and there is a tree to check out: the LFS pass can then start while the checkout
    /// writes the pointer files.
    let beforeCheckout: @Sendable (LFSPass.Plan) -> Void
    /// A dry run: everything up to the checkout (the history fetched, HEAD set, the tree checked,
    /// the LFS plan handed over), then nothing more.
    var stopsBeforeCheckout = false

    /// Clones; when LFS is on, hands the plan of the LFS pass to `beforeCheckout` as the checkout
    /// starts.
    func run() throws -> CloneResult {
        let repository = try Repository.create(at: directory, bare: options.bare)
        let remote = try repository.createRemote(
            named: "origin", url: url.string,
            fetchRefspec: options.bare ? nil : "+refs/heads/*:refs/remotes/origin/*",
            callbacks: RemoteCallbacks.operation(authenticator: authenticator, reporter: reporter, logger: logger),
            operation: operation)

        try remote.connect(.fetch)
        let heads = try remote.advertisedHeads()
        let remoteHEAD = heads.first { $0.name == "HEAD" }?.symbolicTarget
        let branches = Set(heads.map(\.name).filter { $0.hasPrefix("refs/heads/") })
        let tags = Set(heads.map(\.name).filter { $0.hasPrefix("refs/tags/") && !$0.hasSuffix("^{}") })
        let target = try Self.chooseCheckout(requested: options.revision ?? options.branch, remoteHEAD: remoteHEAD,
                                             branches: branches, tags: tags, commitAllowed: options.revision != nil)
        logger.debug("remote HEAD: \(remoteHEAD ?? "(none)"), checking out: \(String(describing: target))")

        reporter.update { $0.phase = .receivingObjects }
        let fetched = try remote.fetch(refspecs: options.bare ? ["+refs/heads/*:refs/heads/*"] : nil, tags: .all,
                                       reflogMessage: "clone: from \(url)")

        var warnings: [String] = []
        var checkedOutBranch: String?
        switch target {
        case .empty:
            warnings.append("You appear to have cloned an empty repository.")
            try repository.setHead(remoteHEAD ?? "refs/heads/master")
        case .branch(let name):
            let short = String(name.dropFirst("refs/heads/".count))
            checkedOutBranch = short
            if options.bare {
                try repository.setHead(name)
            } else {
                guard let commit = repository.resolve("refs/remotes/origin/\(short)") else {
                    throw MSGitError(.git, "the fetch did not bring refs/remotes/origin/\(short)")
                }
                try repository.createReference(name, target: commit, force: true, message: "clone: from \(url)")
                try repository.setConfig("branch.\(short).remote", "origin")
                try repository.setConfig("branch.\(short).merge", name)
                try repository.setHead(name)
            }
        case .tag(let name):
            guard let commit = repository.commit(for: name) else {
                throw MSGitError(.git, "the fetch did not bring \(name)")
            }
            try repository.setHeadDetached(commit)
        case .commit(let revision):
            // A commit of the history the fetch brought (every branch and tag), by its id or a prefix.
            guard let commit = repository.commit(for: revision) else {
                throw MSGitError(.invalidArgument, "revision \(revision) is not a branch, tag or commit of '\(url)'",
                                 hint: "give a branch, a tag, or a commit id (at least 4 hex digits) that the repository has")
            }
            try repository.setHeadDetached(commit)
        }

        if !options.bare {
            if let remoteHEAD, branches.contains(remoteHEAD) {
                let short = remoteHEAD.dropFirst("refs/heads/".count)
                try repository.createSymbolicReference("refs/remotes/origin/HEAD", target: "refs/remotes/origin/\(short)",
                                                       force: true, message: "clone: from \(url)")
            }
            if target != .empty {
                // Before anything of the tree reaches the disk: libgit2 checks out trees git's
                // fsck refuses, and writes through links such trees hold.
                if let head = repository.commit(for: "HEAD") { try repository.checkTree(ofCommit: head) }
                if lfs.enabled {
                    beforeCheckout(try LFSPass.plan(repository: repository, remoteName: "origin", remoteURL: url,
                                                    options: lfs, beforeCheckout: true))
                }
                if stopsBeforeCheckout {
                    return CloneResult(url: url.string, directory: directory, branch: checkedOutBranch,
                                       head: repository.commit(for: "HEAD")?.hex, isEmptyRepository: false,
                                       receivedObjects: fetched.progress.receivedObjects,
                                       receivedBytes: fetched.progress.receivedBytes, duration: .zero, warnings: warnings)
                }
                reporter.update { $0.phase = .checkingOut }
                try repository.checkoutHead(force: true, newWorkTree: true) { completed, total in
                    reporter.update {
                        $0.checkedOutFiles = completed
                        $0.totalFiles = total
                    }
                }
            }
        }

        return CloneResult(
            url: url.string, directory: directory, branch: checkedOutBranch, head: repository.commit(for: "HEAD")?.hex,
            isEmptyRepository: target == .empty, receivedObjects: fetched.progress.receivedObjects,
            receivedBytes: fetched.progress.receivedBytes, duration: .zero, warnings: warnings)
    }

    enum StartPoint: Equatable {
        case branch(String)
        case tag(String)
        /// A commit by id (or a prefix of one), found once the fetch has brought the history.
        case commit(String)
        case empty
    }

    /// `--branch`/`--revision` if given (a branch, else a tag, else, for a revision, a commit id),
    /// else the remote's HEAD, else master, main or the first branch: libgit2 1.5.1 fails outright
    /// when the remote HEAD names a missing branch, which model hubs do have.
    static func chooseCheckout(requested: String?, remoteHEAD: String?, branches: Set<String>, tags: Set<String>,
                               commitAllowed: Bool = false) throws -> StartPoint
    {
        if let requested {
            let short = requested.hasPrefix("refs/heads/") ? String(requested.dropFirst(11)) : requested
            if branches.contains("refs/heads/\(short)") { return .branch("refs/heads/\(short)") }
            if tags.contains("refs/tags/\(short)") { return .tag("refs/tags/\(short)") }
            let hex = requested.utf8.allSatisfy { (48...57).contains($0) || (97...102).contains($0) || (65...70).contains($0) }
            if commitAllowed, hex, (4...40).contains(requested.count) { return .commit(requested.lowercased()) }
            throw MSGitError(.invalidArgument, "Remote branch \(requested) not found in upstream origin",
                             hint: branches.isEmpty ? "the repository has no branches"
                                 : "branches: " + branches.sorted().map { String($0.dropFirst(11)) }.joined(separator: ", "))
        }
        if let remoteHEAD, branches.contains(remoteHEAD) { return .branch(remoteHEAD) }
        for name in ["refs/heads/master", "refs/heads/main"] where branches.contains(name) { return .branch(name) }
        if let first = branches.sorted().first { return .branch(first) }
        return .empty
    }
}
