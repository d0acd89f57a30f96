import Foundation

/// A file of the work tree that holds (or should hold) an LFS object.
public struct LFSFile: Sendable, Equatable {
    /// Relative to the work tree root, with "/" separators, as in git trees.
    public var path: String
    /// The pointer its blob holds in the tree.
    public var pointer: Pointer
    /// A file at `path` (relative, "/" separators, not checked here: `WorkTree` refuses unsafe paths).
    public init(path: String, pointer: Pointer) {
        self.path = path
        self.pointer = pointer
    }
}
