import Foundation
import GitCore
import LFS

/// An LFS file of a tree, as `git lfs ls-files` lists it.
public struct LFSFileEntry: Sendable, Equatable, Codable {
    /// The path in the tree.
    public var name: String
    /// The object's size in bytes, from the pointer.
    public var size: Int64
    /// The work tree holds the file with its object's size (git-lfs's `*`; a pointer is `-`).
    public var checkout: Bool
    /// The object is in the LFS store.
    public var downloaded: Bool
    /// The hash of `oid`; always "sha256", the one git-lfs knows (its `oid_type` in JSON).
    public var oidType = "sha256"
    /// The object's SHA-256, 64 lowercase hex digits.
    public var oid: String

    /// An entry with every field given; `oidType` and `version` are git-lfs's only values.
    public init(name: String, size: Int64, checkout: Bool, downloaded: Bool, oid: String) {
        self.name = name
        self.size = size
        self.checkout = checkout
        self.downloaded = downloaded
        self.oid = oid
    }
    /// The pointer's spec URL, as `git lfs ls-files --json` reports it.
    public var version = Pointer.version

    enum CodingKeys: String, CodingKey {
        case name, size, checkout, downloaded, oidType = "oid_type", oid, version
    }

    /// The line of `git lfs ls-files`: the oid (its first 10 digits unless `long`), `*` or `-`, the path.
    public func line(long: Bool = false) -> String {
        "\(long ? oid : String(oid.prefix(10))) \(checkout ? "*" : "-") \(name)"
    }
}

extension GitClient {
    /// The LFS files of `revision`'s tree (default HEAD), in tree order, as `git lfs ls-files`
    /// lists them: every blob that is an LFS pointer of a non-empty object, whatever
    /// `.gitattributes` says (git-lfs finds pointers by their content). Nothing leaves the machine.
    public func lfsFiles(in directory: URL, revision: String = "HEAD") async throws(MSGitError) -> [LFSFileEntry] {
        do {
            return try await GitOperation().run {
                let repository = try RemoteSetup.openRepository(directory)
                guard repository.commit(for: "HEAD") != nil || revision != "HEAD" else { return [] }
                guard let commit = repository.commit(for: revision) else {
                    throw MSGitError(.invalidArgument, "'\(revision)' is not a commit of this repository")
                }
                let store = ObjectStore(gitDirectory: repository.gitDirectory)
                let root = repository.workingDirectory
                var entries: [LFSFileEntry] = []
                var seen: Set<String> = []
                try repository.walkFiles(ofCommit: commit, contentLimit: LFSBlob.readLimit) { blob, content in
                    guard let pointer = LFSBlob.object(content), seen.insert(blob.path).inserted else { return }
                    var isFile: ObjCBool = false
                    let checkedOut = root.map { root -> Bool in
                        let path = root.appendingPathComponent(blob.path).path
                        guard FileManager.default.fileExists(atPath: path, isDirectory: &isFile), !isFile.boolValue,
                              let size = (try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? NSNumber
                        else { return false }
                        return size.int64Value == pointer.size
                    } ?? false
                    entries.append(LFSFileEntry(name: blob.path, size: pointer.size, checkout: checkedOut,
                                                downloaded: store.contains(pointer), oid: pointer.oid))
                }
                return entries
            }
        } catch {
            throw MSGitError.from(error)
        }
    }
}
