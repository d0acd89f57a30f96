internal import CLibgit2

/// A refspec as libgit2 parses it ("+refs/heads/main:refs/heads/main").
public struct Refspec: Sendable, Equatable {
    public var source: String
    public var destination: String
    public var force: Bool

    /// Parses `text`; nil if libgit2 does not accept it as a refspec for that direction.
    public init?(_ text: String, fetch: Bool) {
        _ = Libgit2.initialized
        var spec: OpaquePointer?
        guard git_refspec_parse(&spec, text, fetch ? 1 : 0) == 0, let spec else { return nil }
        defer { git_refspec_free(spec) }
        source = git_refspec_src(spec).map { String(cString: $0) } ?? ""
        destination = git_refspec_dst(spec).map { String(cString: $0) } ?? ""
        force = git_refspec_force(spec) == 1
    }

    public var string: String { (force ? "+" : "") + source + ":" + destination }
}
