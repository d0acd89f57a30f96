/// The one place that decides whether a name or path that came from outside (a tree entry of a
/// fetched commit, a path an LFS pass will write, a name in a mirror manifest) may become a file
/// on disk.
///
/// The rules for tree entries are git's: `verify_path` and `verify_dotfile` in `read-cache.c`
/// with `core.protectNTFS` (git's default everywhere) and `core.protectHFS` (git's default on
/// macOS) both on, since a repository cloned here may be copied to either, and `fsck_tree` in
/// `fsck.c`. msgit adds two of its own: `.gitattributes` and `.lfsconfig` may not be symbolic
/// links (msgit reads both to decide what to download and from where), and entries of one tree
/// whose names fold to the same name on a case-insensitive file system may not include a
/// directory or a symbolic link (on such a file system one would become a leading component of
/// the other's files). Two regular files whose names differ only in case are accepted, as git
/// accepts them.
public enum PathRules {
    /// Why one tree entry's name may not be checked out, or nil when it may. `isSymlink`: the
    /// entry is a symbolic link (mode 120000).
    public static func problem(withName name: some Collection<UInt8>, isSymlink: Bool = false) -> String? {
        let bytes = Array(name)
        if bytes.isEmpty { return "an empty name" }
        if bytes.contains(slash) { return "a name with '/' in it" }
        if bytes.contains(0) { return "a name with a NUL byte in it" }
        if bytes == [dot] || bytes == [dot, dot] { return "a '\(bytes.count == 1 ? "." : "..")' entry" }
        if bytes.count > maximumNameBytes { return "a name longer than \(maximumNameBytes) bytes" }
        // git also looks for `.git` after every backslash, on every platform (NTFS reads a
        // backslash as a separator).
        var start = 0
        while true {
            let part = bytes[start...]
            if isDotGit(part) { return "a name that stands for .git" }
            if isSymlink, let file = specialFiles.first(where: { matches(part, $0) }) {
                return "\(file.name) as a symbolic link"
            }
            guard let backslash = bytes[start...].firstIndex(of: UInt8(ascii: "\\")) else { break }
            start = backslash + 1
        }
        return nil
    }

    /// Why a slash-separated path from a tree (as an LFS pass gets it) may not be written under a
    /// work tree, or nil. Each component must pass `problem(withName:)`.
    public static func problem(withPath path: String) -> String? {
        let utf8 = Array(path.utf8)
        if utf8.isEmpty { return "an empty path" }
        if utf8.count > maximumPathBytes { return "a path longer than \(maximumPathBytes) bytes" }
        for component in utf8.split(separator: slash, omittingEmptySubsequences: false) {
            if let problem = problem(withName: component) { return problem }
        }
        return nil
    }

    /// The name a case-insensitive file system (HFS+, APFS, NTFS) sees: characters HFS+ ignores
    /// removed, letters lowercased, and trailing dots and spaces (which NTFS drops) removed. Two
    /// names of one tree with the same folded name are one file there.
    public static func folded(_ name: some Collection<UInt8>) -> String {
        var scalars = String.UnicodeScalarView()
        for scalar in String(decoding: Array(name), as: UTF8.self).unicodeScalars where !hfsIgnorable.contains(scalar.value) {
            scalars.append(scalar)
        }
        var folded = String(scalars).lowercased()
        while let last = folded.last, last == "." || last == " " { folded.removeLast() }
        return folded
    }

    /// A name that a server or a manifest gives for one directory level (a namespace, a
    /// repository name), checked after percent-decoding: nil when it may be used as one path
    /// component under a root, else why not. Stricter than a tree entry: no backslash or control
    /// character either, and no leading dot-only name.
    public static func problem(withNamePart part: String) -> String? {
        let bytes = Array(part.utf8)
        if bytes.isEmpty { return "an empty name" }
        if bytes.allSatisfy({ $0 == dot }) { return "a name made of dots" }
        if bytes.contains(slash) || bytes.contains(UInt8(ascii: "\\")) { return "a name with a path separator in it" }
        if bytes.contains(where: { $0 < 0x20 || $0 == 0x7f }) { return "a name with a control character in it" }
        if bytes.count > maximumNameBytes { return "a name longer than \(maximumNameBytes) bytes" }
        if isDotGit(bytes[...]) { return "a name that stands for .git" }
        return nil
    }

    /// Linux's NAME_MAX and PATH_MAX: what no file system here would create anyway.
    public static let maximumNameBytes = 255
    public static let maximumPathBytes = 4096

    // MARK: git's rules

    private static let slash = UInt8(ascii: "/")
    private static let dot = UInt8(ascii: ".")

    struct SpecialFile {
        /// Without the leading dot, lowercase.
        var name: String
        /// The first six characters of the name's NTFS 8.3 fallback short name (git's table).
        var shortPrefix: String?
    }

    /// Files that configure git, git-lfs or msgit and so may not be symbolic links.
    static let specialFiles: [SpecialFile] = [
        SpecialFile(name: ".gitmodules", shortPrefix: "gi7eba"),
        SpecialFile(name: ".gitattributes", shortPrefix: "gi7d29"),
        SpecialFile(name: ".lfsconfig", shortPrefix: nil),
    ]

    /// `.git` in any case, as NTFS reads it (`.git.`, `.git `, `git~1`, `.git::$INDEX_ALLOCATION`),
    /// or as HFS+ reads it (with ignorable characters anywhere).
    static func isDotGit(_ name: ArraySlice<UInt8>) -> Bool {
        isNTFSDotGit(name) || isHFSDot(name, "git")
    }

    /// git's `is_ntfs_dotgit`: `.git` or `git~1` (any case), then only dots and spaces up to the
    /// end, a separator or a colon.
    static func isNTFSDotGit(_ name: ArraySlice<UInt8>) -> Bool {
        var i = name.startIndex
        func next() -> UInt8 {
            guard i < name.endIndex else { return 0 }
            defer { i += 1 }
            return name[i]
        }
        let first = next()
        if first == dot {
            guard lower(next()) == UInt8(ascii: "g"), lower(next()) == UInt8(ascii: "i"),
                  lower(next()) == UInt8(ascii: "t") else { return false }
        } else if lower(first) == UInt8(ascii: "g") {
            guard lower(next()) == UInt8(ascii: "i"), lower(next()) == UInt8(ascii: "t"), next() == UInt8(ascii: "~"),
                  next() == UInt8(ascii: "1") else { return false }
        } else {
            return false
        }
        while true {
            let c = next()
            if c == 0 || c == slash || c == UInt8(ascii: "\\") || c == UInt8(ascii: ":") { return true }
            if c != dot && c != UInt8(ascii: " ") { return false }
        }
    }

    /// Whether `name` is the special file as any of NTFS (git's `is_ntfs_dot_generic`), HFS+
    /// (`is_hfs_dot_generic`) or a plain case-insensitive comparison reads it.
    static func matches(_ name: ArraySlice<UInt8>, _ file: SpecialFile) -> Bool {
        let needle = Array(file.name.utf8.dropFirst())
        return isNTFSDot(name, needle, shortPrefix: file.shortPrefix.map { Array($0.utf8) })
            || isHFSDot(name, String(file.name.dropFirst()))
    }

    private static func isNTFSDot(_ name: ArraySlice<UInt8>, _ needle: [UInt8], shortPrefix: [UInt8]?) -> Bool {
        let bytes = Array(name)
        func at(_ i: Int) -> UInt8 { i < bytes.count ? bytes[i] : 0 }
        func onlySpacesAndDots(from i: Int) -> Bool {
            var i = i
            while true {
                let c = at(i)
                if c == 0 || c == UInt8(ascii: ":") { return true }
                if c != UInt8(ascii: " ") && c != dot { return false }
                i += 1
            }
        }
        // ".gitmodules" in any case.
        if at(0) == dot, bytes.count > needle.count,
           zip(bytes[1...needle.count], needle).allSatisfy({ lower($0) == $1 }) {
            return onlySpacesAndDots(from: needle.count + 1)
        }
        // "gitmod~1" .. "gitmod~4": the regular 8.3 name.
        if bytes.count >= 8, zip(bytes[0..<6], needle[0..<6]).allSatisfy({ lower($0) == $1 }), bytes[6] == UInt8(ascii: "~"),
           (UInt8(ascii: "1")...UInt8(ascii: "4")).contains(bytes[7]) {
            return onlySpacesAndDots(from: 8)
        }
        // The fall-back short name: up to six characters of the hashed prefix, "~", digits.
        guard let prefix = shortPrefix else { return false }
        var i = 0
        var sawTilde = false
        while i < 8 {
            let c = at(i)
            if c == 0 { return false }
            if sawTilde {
                if !(UInt8(ascii: "0")...UInt8(ascii: "9")).contains(c) { return false }
            } else if c == UInt8(ascii: "~") {
                i += 1
                guard (UInt8(ascii: "1")...UInt8(ascii: "9")).contains(at(i)) else { return false }
                sawTilde = true
            } else if i >= 6 || c & 0x80 != 0 || lower(c) != prefix[i] {
                return false
            }
            i += 1
        }
        return onlySpacesAndDots(from: 8)
    }

    /// git's `is_hfs_dot_generic`: "." then `needle` (ASCII, any case), then the end, with the
    /// characters HFS+ ignores skipped anywhere. Malformed UTF-8 ends the name, as in git.
    static func isHFSDot(_ name: ArraySlice<UInt8>, _ needle: String) -> Bool {
        var iterator = name.makeIterator()
        var decoder = Unicode.UTF8()
        func next() -> UInt32 {
            while true {
                switch decoder.decode(&iterator) {
                case .scalarValue(let scalar):
                    if hfsIgnorable.contains(scalar.value) { continue }
                    return scalar.value
                case .emptyInput, .error:
                    return 0
                }
            }
        }
        guard next() == UInt32(dot) else { return false }
        for expected in needle.utf8 {
            let c = next()
            guard c < 128, UInt32(lower(UInt8(c))) == UInt32(expected) else { return false }
        }
        let after = next()
        return after == 0 || after == UInt32(slash)
    }

    /// The code points HFS+ ignores in names (git's `next_hfs_char`).
    public static let hfsIgnorable: Set<UInt32> = [
        0x200C, 0x200D, 0x200E, 0x200F, 0x202A, 0x202B, 0x202C, 0x202D, 0x202E,
        0x206A, 0x206B, 0x206C, 0x206D, 0x206E, 0x206F, 0xFEFF,
    ]

    private static func lower(_ c: UInt8) -> UInt8 {
        (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(c) ? c + 32 : c
    }
}
