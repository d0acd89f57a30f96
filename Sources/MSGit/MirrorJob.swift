import Foundation
import GitCore
import LFS
import Logging

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
                                           callbacks: RemoteCallbacks.operation(authenticator: authenticator,
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
