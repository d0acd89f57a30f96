import Foundation
import GitCore
import LFS
import Logging
import PathSafety

/// One repository's mirror on disk.
struct MirrorJob: Sendable {
    let url: RemoteURL
    /// `--into`, and the mirror's place under it (`relativeLocation`).
    let root: URL
    let relative: String
    var path: URL { root.appendingPathComponent(relative, isDirectory: true) }
    let authenticator: Authenticator
    let logger: Logger

    /// `<root>/<host>[_<port>]/<path>.git`. Each part of the URL's path is checked after
    /// percent-decoding (`PathRules.problem(withNamePart:)`: one component, no dot segment, no
    /// separator or control character, at most 255 bytes), as is the host: a manifest entry
    /// `ns/..%2F..%2Fescaped` names no mirror at all.
    static func location(of url: RemoteURL, in root: URL) throws -> URL {
        root.appendingPathComponent(try relativeLocation(of: url), isDirectory: true)
    }

    /// `location` relative to the root: `<host>[_<port>]/<ns>/<name>.git`.
    static func relativeLocation(of url: RemoteURL) throws -> String {
        var parts = [url.port.map { "\(url.host)_\($0)" } ?? url.host]
        for segment in url.path.split(separator: "/", omittingEmptySubsequences: true) {
            guard let decoded = String(segment).removingPercentEncoding else {
                throw MSGitError(.unsafePath, "'\(url)' has a path segment that is not valid percent-encoding: '\(segment)'")
            }
            parts.append(decoded)
        }
        guard parts.count > 1 else { throw MSGitError(.invalidArgument, "'\(url)' names no repository") }
        for part in parts {
            if let problem = PathRules.problem(withNamePart: part) {
                throw MSGitError(.unsafePath, "refusing to mirror '\(url)': its path has \(problem) ('\(part.debugDescription.dropFirst().dropLast())')",
                                 hint: "each part of a repository's path must be one directory name after percent-decoding")
            }
        }
        if !parts[parts.count - 1].hasSuffix(".git") { parts[parts.count - 1] += ".git" }
        return parts.joined(separator: "/")
    }

    /// The template with `{host}`, `{ns}` (everything between the host and the name) and `{name}`
    /// (without .git) filled in, from the URL's own (percent-encoded) segments, which
    /// `relativeLocation` has checked: no dot segment reaches the target URL.
    static func expand(_ template: String, for url: RemoteURL) throws -> String {
        _ = try relativeLocation(of: url)
        var parts = url.path.split(separator: "/").map(String.init)
        var name = parts.popLast() ?? ""
        if name.hasSuffix(".git") { name.removeLast(4) }
        return template.replacingOccurrences(of: "{host}", with: url.host)
            .replacingOccurrences(of: "{ns}", with: parts.joined(separator: "/"))
            .replacingOccurrences(of: "{name}", with: name)
    }

    /// The directory that holds the mirror (`<root>/<host>/<ns>`), made if missing: each level is
    /// reached from `root` without following a symbolic link, so neither a link planted in `root`
    /// nor a name in the manifest can lead elsewhere.
    func parentDirectory() throws -> Directory {
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        var directory = try Directory.open(root.path)
        var walked: [String] = []
        for component in relative.split(separator: "/").dropLast().map(String.init) {
            walked.append(component)
            do {
                directory = try directory.child(component, create: true)
            } catch {
                throw MSGitError(.unsafePath, "refusing to mirror into \(root.path)/\(walked.joined(separator: "/")): \(error)",
                                 hint: "a mirror's directories must be real directories inside --into, not links")
            }
        }
        return directory
    }

    /// The mirror's own name in its parent directory (`<name>.git`).
    var name: String { String(relative.split(separator: "/").last ?? "") }

    /// Makes the mirror's directory in `parent` when it is missing. A directory there that is
    /// neither a mirror nor empty is refused, not written into. Returns whether this call made
    /// it, and whether a mirror is there already.
    func prepare(in parent: Directory) throws -> (made: Bool, isMirror: Bool) {
        let existed = parent.status(name) != nil
        let directory: Directory
        do {
            directory = try parent.child(name, create: true)
        } catch {
            throw MSGitError(.unsafePath, "refusing to mirror into \(parent.path)/\(name): \(error)",
                             hint: "a mirror's directories must be real directories inside --into, not links")
        }
        let entries = directory.entries()
        let isMirror = entries.contains { $0.name == "HEAD" }
        if !isMirror && !entries.isEmpty {
            throw MSGitError(.unsafePath, "\(directory.path) exists and is not a mirror; msgit writes nothing into it",
                             hint: "move it away, or mirror into another --into")
        }
        return (!existed, isMirror)
    }

    struct Fetched: Sendable {
        var changed: Int
        var receivedBytes: UInt64 = 0
    }

    /// Creates the bare mirror if needed (in `parent`, from `parentDirectory`) and brings every
    /// ref as the source has it.
    func fetch(in parent: Directory, operation: GitOperation) throws -> Fetched {
        let (made, isMirror) = try prepare(in: parent)
        let repository = isMirror ? try Repository.open(at: path) : try Repository.create(at: path, bare: true)
        do {
            return try fetch(into: repository, operation: operation)
        } catch {
            // A mirror whose very first fetch failed is not left behind: only what this job made
            // goes (the mirror's directory if it made it, else what it wrote into the empty one
            // it found), never a directory above it, where other jobs' mirrors may be by now.
            if !isMirror {
                if made {
                    try? FileManager.default.removeItem(at: path)
                } else {
                    for entry in (try? FileManager.default.contentsOfDirectory(atPath: path.path)) ?? [] {
                        try? FileManager.default.removeItem(at: path.appendingPathComponent(entry))
                    }
                }
            }
            throw error
        }
    }

    private func fetch(into repository: Repository, operation: GitOperation) throws -> Fetched {
        // As `git clone --mirror` configures it; the URL never holds userinfo.
        try repository.setConfig("remote.origin.url", url.string)
        try repository.setConfig("remote.origin.fetch", "+refs/*:refs/*")
        try repository.setConfig("remote.origin.mirror", "true")
        let remote = try repository.remote(named: "origin",
                                           callbacks: RemoteCallbacks.operation(authenticator: authenticator,
                                                                    reporter: ProgressReporter(nil), logger: logger),
                                           operation: operation)
        try remote.connect(.fetch)
        let heads = try remote.advertisedHeads()
        let outcome = try remote.fetch(tags: .none, prune: true, reflogMessage: "mirror: \(url)")
        if let head = heads.first(where: { $0.name == "HEAD" })?.symbolicTarget {
            try repository.setHead(head)
        }
        return Fetched(changed: outcome.updates.count, receivedBytes: outcome.progress.receivedBytes)
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
                try repository.walkFiles(ofCommit: head, contentLimit: LFSBlob.readLimit) { blob, content in
                    if let pointer = LFSBlob.object(content) { pointers.append((blob.path, pointer)) }
                }
            }
            var headTips = tips
            headTips["HEAD"] = repository.commit(for: "HEAD")?.hex
            return LFSPlan(pointers: pointers, endpoint: endpoint(repository), tips: headTips)
        case .all:
            guard tips != recorded else { return LFSPlan(pointers: [], endpoint: nil, tips: tips) }
            let sources = refs.compactMap { repository.commit(for: $0.name) }
            let hidden = recorded.values.compactMap(ObjectID.init(hex:))
            for blob in try repository.introducedBlobs(from: sources, hiding: hidden, maxSize: LFSBlob.readLimit) {
                if let pointer = LFSBlob.object(blob.content) { pointers.append((blob.path, pointer)) }
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
