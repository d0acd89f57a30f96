import Foundation

extension Pointer {
    /// Whether `file` holds exactly this pointer's object: its size, then its SHA-256 (read once,
    /// only when the size matches).
    public func matchesContent(of file: URL) throws -> Bool {
        guard fileSize(file) == size else { return false }
        return try ObjectStore.digest(of: file) == (oid, size)
    }
}
