internal import CLibgit2
import Foundation

/// A git object name (SHA-1), held as its 40 lowercase hex digits.
public struct ObjectID: Hashable, Sendable, CustomStringConvertible, Comparable {
    public let hex: String

    init(_ oid: git_oid) {
        var oid = oid
        var buffer = [UInt8](repeating: 0, count: 40)
        buffer.withUnsafeMutableBufferPointer { _ = git_oid_fmt(UnsafeMutableRawPointer($0.baseAddress!).assumingMemoryBound(to: CChar.self), &oid) }
        hex = String(decoding: buffer, as: UTF8.self)
    }

    /// Nil unless `hex` is 40 hex digits. Checked here, not by libgit2: its parser reports a bad
    /// string through its per-thread error state, which exists only once libgit2 is initialized.
    public init?(hex: String) {
        guard hex.utf8.count == 40,
              hex.utf8.allSatisfy({ (48...57).contains($0) || (97...102).contains($0) || (65...70).contains($0) })
        else { return nil }
        self.hex = hex.lowercased()
    }

    var oid: git_oid {
        _ = Libgit2.initialized
        var oid = git_oid()
        git_oid_fromstr(&oid, hex)
        return oid
    }

    public var isZero: Bool { hex.allSatisfy { $0 == "0" } }
    public var description: String { hex }
    public static func < (a: ObjectID, b: ObjectID) -> Bool { a.hex < b.hex }
}

/// Calls `body` with a `git_strarray` view of `strings`, valid only inside `body`.
func withStrArray<R>(_ strings: [String], _ body: (UnsafePointer<git_strarray>) throws -> R) rethrows -> R {
    var cStrings = strings.map { strdup($0) }
    defer { cStrings.forEach { free($0) } }
    return try cStrings.withUnsafeMutableBufferPointer { buffer in
        var array = git_strarray(strings: buffer.baseAddress, count: buffer.count)
        return try body(&array)
    }
}
