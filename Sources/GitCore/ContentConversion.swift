internal import CLibgit2
import Foundation

/// Whether checking out a tree can write anything but the blobs' own bytes.
///
/// libgit2's checkout converts content only through its filters. The built-in ones are `crlf`
/// (attributes `text`, `eol`, `crlf`, and `core.autocrlf`) and `ident` (attribute `ident`); msgit
/// registers none of its own, so a `filter=lfs` driver is not one libgit2 runs. With filters on,
/// libgit2 loads every file's attributes before writing it, and that resolves the file's directory
/// with `realpath(3)`: ten failing `readlink` calls per file, 0.1-0.2 s of a 19,000-file clone.
/// When no attribute source and no setting can ask for a conversion, checkout can leave the
/// filters off and write exactly the same bytes.
///
/// The rules are deliberately coarse: any attribute line that sets (rather than unsets) one of
/// the converting attributes, in any attribute file in scope, keeps the filters on, whether or not
/// its pattern matches a file.
public enum ContentConversion {
    /// Attributes that make libgit2 (or git) convert content on checkout when set or given a value.
    static let convertingAttributes: Set<Substring> = ["text", "eol", "crlf", "ident", "working-tree-encoding"]

    /// True when the attribute file `text` sets a converting attribute on some pattern or in a macro
    /// (`[attr]name ...`). Unsetting (`-text`, `binary`) or unspecifying (`!text`) one does not
    /// convert while `core.autocrlf` is off.
    public static func attributesMayConvert(_ text: String) -> Bool {
        // isNewline: in a Swift String "\r\n" is one Character, equal to neither "\r" nor "\n".
        for rawLine in text.split(whereSeparator: \.isNewline) {
            var line = rawLine.drop(while: { $0 == " " || $0 == "\t" })
            if line.isEmpty || line.first == "#" { continue }
            // The pattern: up to the first blank, or a C-style quoted string.
            if line.first == "\"" {
                guard let close = line.dropFirst().firstIndex(of: "\"") else { return true }
                line = line[line.index(after: close)...]
            } else {
                line = line.drop(while: { $0 != " " && $0 != "\t" })
            }
            for token in line.split(whereSeparator: { $0 == " " || $0 == "\t" }) {
                if token.first == "-" || token.first == "!" { continue }
                let name = token.split(separator: "=", maxSplits: 1).first ?? token
                if convertingAttributes.contains(name) { return true }
            }
        }
        return false
    }

    /// True unless `core.autocrlf` is unset or false: `true` and `input` convert files that no
    /// attribute marks, by content. Values git does not know are treated as converting.
    public static func autocrlfMayConvert(_ value: String?) -> Bool {
        guard let value else { return false }
        return !["false", "no", "off", "0", ""].contains(value.lowercased())
    }
}

extension Repository {
    /// Whether checking out `commit` into this repository's work tree could convert content: see
    /// `ContentConversion`. Reads `core.autocrlf`, every `.gitattributes` in the commit's tree,
    /// `info/attributes`, the global attributes file (`core.attributesFile`, or git's XDG
    /// default) and the system one (`/etc/gitattributes`, libgit2's system directory on Linux).
    /// Errs on the side of true: an attribute file it cannot read counts as converting.
    public func checkoutMayConvertContent(commit: ObjectID) -> Bool {
        if ContentConversion.autocrlfMayConvert(config("core.autocrlf")) { return true }
        var files = [URL(fileURLWithPath: "/etc/gitattributes"), gitDirectory.appendingPathComponent("info/attributes")]
        if let configured = config("core.attributesFile") {
            files.append(URL(fileURLWithPath: NSString(string: configured).expandingTildeInPath))
        } else {
            let env = ProcessInfo.processInfo.environment
            if let xdg = env["XDG_CONFIG_HOME"], !xdg.isEmpty {
                files.append(URL(fileURLWithPath: xdg).appendingPathComponent("git/attributes"))
            } else if let home = env["HOME"], !home.isEmpty {
                files.append(URL(fileURLWithPath: home).appendingPathComponent(".config/git/attributes"))
            }
        }
        for file in files {
            guard FileManager.default.fileExists(atPath: file.path) else { continue }
            guard let data = try? Data(contentsOf: file) else { return true }
            if ContentConversion.attributesMayConvert(String(decoding: data, as: UTF8.self)) { return true }
        }
        guard let attributeFiles = try? blobs(named: ".gitattributes", inCommit: commit) else { return true }
        return attributeFiles.contains { ContentConversion.attributesMayConvert(String(decoding: $0, as: UTF8.self)) }
    }

    /// The contents of every blob called `name` anywhere in `commit`'s tree. Reads tree objects
    /// and only the matching blobs.
    func blobs(named name: String, inCommit commit: ObjectID) throws -> [Data] {
        try withTree(ofCommit: commit) { tree in try blobs(named: name, in: tree) }
    }

    private func blobs(named name: String, in tree: OpaquePointer?) throws -> [Data] {
        final class Walk {
            let name: String
            let repository: OpaquePointer
            var found: [Data] = []
            init(name: String, repository: OpaquePointer) { self.name = name; self.repository = repository }
        }
        let walk = Walk(name: name, repository: pointer)
        let rc = withExtendedLifetime(walk) {
            git_tree_walk(tree, GIT_TREEWALK_PRE, { _, entry, payload in
                let walk = Unmanaged<Walk>.fromOpaque(payload!).takeUnretainedValue()
                guard let entry, git_tree_entry_type(entry) == GIT_OBJECT_BLOB,
                      String(cString: git_tree_entry_name(entry)) == walk.name else { return 0 }
                var blob: OpaquePointer?
                guard git_blob_lookup(&blob, walk.repository, git_tree_entry_id(entry)) == 0 else { return -1 }
                defer { git_blob_free(blob) }
                walk.found.append(Data(bytes: git_blob_rawcontent(blob), count: Int(git_blob_rawsize(blob))))
                return 0
            }, Unmanaged.passUnretained(walk).toOpaque())
        }
        try check(rc, "git_tree_walk")
        return walk.found
    }
}
