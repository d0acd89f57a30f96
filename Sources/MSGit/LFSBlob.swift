import Foundation
import GitCore
import LFS

/// Which blobs are LFS files: the one rule, asked in two strengths, because git-lfs itself asks
/// two questions.
///
/// - `file`: a file of a tree that git-lfs smudges on checkout. Its content parses as a pointer
///   (at most 1023 bytes, the spec's form) and its path has `filter=lfs`. Checkout, pull, clone,
///   `lfs pull`, `status`, `fsck` and `du` ask this: a pointer-shaped text committed without the
///   attribute is an ordinary file there, as git shows it.
/// - `object`: an object a blob names, whatever the attributes. Push (git-lfs's pre-push scans
///   every pointer blob it sends), prune (what is kept), a mirror (what it fetches) and `ls-files`
///   (git-lfs lists every pointer blob of the tree, marked `-` when not checked out) ask this:
///   such a blob still names an object that a server or a mirror must have.
///
/// A pointer of size 0 is the pointer of the empty file; it is an LFS file like any other.
enum LFSBlob {
    /// The bytes of a blob to read to tell: a longer blob is never a pointer.
    static let readLimit = Pointer.maximumFileSize - 1

    /// The pointer of `path` if it is an LFS file. `attributesFrom`: the commit whose
    /// `.gitattributes` decide (a tree not checked out yet, a bare repository); else the work
    /// tree's and the index's.
    static func file(_ path: String, content: Data?, in repository: Repository, attributesFrom commit: ObjectID? = nil)
        -> Pointer?
    {
        guard let pointer = object(content) else { return nil }
        return repository.attribute("filter", for: path, commit: commit) == "lfs" ? pointer : nil
    }

    /// The pointer `content` holds, if it is one.
    static func object(_ content: Data?) -> Pointer? {
        content.flatMap(Pointer.init)
    }
}
