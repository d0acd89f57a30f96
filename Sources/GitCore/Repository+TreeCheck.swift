internal import CLibgit2
import Foundation
import PathSafety

/// A tree entry that may not be checked out (`Repository.checkTree`): nothing was written.
public struct UnsafeTreeEntry: Error, Sendable, Equatable, CustomStringConvertible {
    /// The entry's path from the root of the tree, with bytes that are not printable escaped.
    public var path: String
    /// Why, in words: "a name that stands for .git", "duplicate entries", ...
    public var reason: String

    public var description: String { "'\(path)': \(reason)" }
}

extension Repository {
    /// Checks every entry of `commit`'s tree, at every depth, as git's `fsck` and `verify_path`
    /// check trees (`PathRules`), before a checkout writes any of it: names that stand for `.git`
    /// (in any case, or as NTFS and HFS+ read them), `.` and `..`, empty names and names with a
    /// slash, entries that occur twice in one tree (a symbolic link `up` beside a directory `up/`:
    /// libgit2 1.5.1 checks out both and writes the directory's files through the link), entries
    /// whose names fold together on a case-insensitive file system when one of them is a directory
    /// or a link, `.gitmodules`, `.gitattributes` and `.lfsconfig` as symbolic links, and paths
    /// too long for the file system. Throws the first `UnsafeTreeEntry` found.
    ///
    /// Each distinct tree is read once, so a tree repeated in many places costs nothing more, and
    /// the walk keeps its own stack: a tree nested a million levels deep cannot exhaust the
    /// thread's.
    public func checkTree(ofCommit commit: ObjectID) throws {
        try withTree(ofCommit: commit) { root in
            var checked: Set<ObjectID> = []
            // (tree, its path with a trailing "/", or "" for the root); the root is borrowed.
            var stack: [(tree: OpaquePointer, path: [UInt8], owned: Bool)] = [(root!, [], false)]
            defer { for item in stack where item.owned { git_tree_free(item.tree) } }
            while let (tree, path, owned) = stack.popLast() {
                defer { if owned { git_tree_free(tree) } }
                for subtree in try checkEntries(of: tree, at: path) where checked.insert(subtree.id).inserted {
                    var oid = subtree.id.oid
                    var child: OpaquePointer?
                    try check(git_tree_lookup(&child, pointer, &oid), "git_tree_lookup")
                    stack.append((child!, subtree.path, true))
                }
            }
        }
    }

    /// The entries of one tree, checked; returns its subtrees, to be checked in turn.
    private func checkEntries(of tree: OpaquePointer, at prefix: [UInt8]) throws -> [(id: ObjectID, path: [UInt8])] {
        struct Seen {
            var name: [UInt8]
            var isDirectoryOrLink: Bool
        }
        var names: Set<[UInt8]> = []
        var folded: [String: Seen] = [:]
        var subtrees: [(ObjectID, [UInt8])] = []
        for index in 0..<git_tree_entrycount(tree) {
            guard let entry = git_tree_entry_byindex(tree, index) else { continue }
            let name = Array(UnsafeBufferPointer(start: git_tree_entry_name(entry), count: strlen(git_tree_entry_name(entry)))
                .map { UInt8(bitPattern: $0) })
            let mode = git_tree_entry_filemode(entry)
            let isTree = mode == GIT_FILEMODE_TREE
            let isLink = mode == GIT_FILEMODE_LINK
            let path = prefix + name
            func unsafe(_ reason: String) -> UnsafeTreeEntry {
                UnsafeTreeEntry(path: Self.printable(path), reason: reason)
            }
            if let problem = PathRules.problem(withName: name, isSymlink: isLink) { throw unsafe(problem) }
            if path.count > PathRules.maximumPathBytes {
                throw unsafe("a path longer than \(PathRules.maximumPathBytes) bytes")
            }
            guard names.insert(name).inserted else {
                throw unsafe("the tree has two entries of this name (git fsck: duplicateEntries)")
            }
            let key = PathRules.folded(name)
            if let other = folded[key], other.isDirectoryOrLink || isTree || isLink {
                throw unsafe("it and '\(Self.printable(prefix + other.name))' are one name on a case-insensitive "
                    + "file system, and one of them is a directory or a symbolic link")
            }
            if folded[key] == nil { folded[key] = Seen(name: name, isDirectoryOrLink: isTree || isLink) }
            if isTree, let id = git_tree_entry_id(entry) {
                subtrees.append((ObjectID(id.pointee), path + [UInt8(ascii: "/")]))
            }
        }
        return subtrees
    }

    /// `path` as text, with bytes that are not printable UTF-8 shown as `\xNN`, so a message can
    /// name an entry whose name is meant to confuse.
    static func printable(_ path: [UInt8]) -> String {
        let text = String(decoding: path, as: UTF8.self)
        if Array(text.utf8) == path, text.unicodeScalars.allSatisfy({ $0.value >= 0x20 && $0.value != 0x7f
            && !PathRules.hfsIgnorable.contains($0.value) && !(0x202A...0x202E).contains($0.value) }) {
            return text
        }
        var out = ""
        for scalar in text.unicodeScalars {
            if scalar.value < 0x20 || scalar.value == 0x7f || scalar.value == 0xFFFD || PathRules.hfsIgnorable.contains(scalar.value) {
                out += scalar.value == 0xFFFD ? "\\x??" : String(format: "\\u{%04X}", scalar.value)
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }
}

extension Repository {
    /// Writes a tree object exactly as given, unchecked, and a commit of it (for tests of
    /// `checkTree`: no libgit2 API would build a hostile tree). `entries`: (octal mode, name, id).
    func writeUncheckedCommit(_ entries: [(mode: String, name: [UInt8], id: ObjectID)]) throws -> ObjectID {
        let tree = try writeUncheckedTree(entries)
        let text = "tree \(tree.hex)\nauthor T <t@example.com> 0 +0000\ncommitter T <t@example.com> 0 +0000\n\nhostile\n"
        return try writeObject(Array(text.utf8), type: GIT_OBJECT_COMMIT)
    }

    func writeUncheckedTree(_ entries: [(mode: String, name: [UInt8], id: ObjectID)]) throws -> ObjectID {
        var data: [UInt8] = []
        for entry in entries {
            data += Array(entry.mode.utf8) + [UInt8(ascii: " ")] + entry.name + [0]
            withUnsafeBytes(of: entry.id.oid.id) { data += $0 }
        }
        return try writeObject(data, type: GIT_OBJECT_TREE)
    }

    func writeBlob(_ content: [UInt8]) throws -> ObjectID {
        try writeObject(content, type: GIT_OBJECT_BLOB)
    }

    private func writeObject(_ data: [UInt8], type: git_object_t) throws -> ObjectID {
        var odb: OpaquePointer?
        try check(git_repository_odb(&odb, pointer), "git_repository_odb")
        defer { git_odb_free(odb) }
        var oid = git_oid()
        try check(git_odb_write(&oid, odb, data, data.count, type), "git_odb_write")
        return ObjectID(oid)
    }
}
