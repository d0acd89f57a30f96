import Foundation
import GitCore

/// What a mirror knows about its own completeness, in `<mirror>/msgit-mirror.json`.
struct MirrorState: Codable {
    /// LFS scope -> ref -> tip whose LFS objects are all in the store.
    var complete: [String: [String: String]] = [:]

    static func file(_ path: URL) -> URL { path.appendingPathComponent("msgit-mirror.json") }

    static func load(_ path: URL) throws -> MirrorState {
        try JSONDecoder().decode(MirrorState.self, from: Data(contentsOf: file(path)))
    }

    /// Written under a temporary name and renamed: a killed run leaves the old state or the new one.
    func save(_ path: URL) throws {
        let data = try JSONEncoder().encode(self)
        let temporary = path.appendingPathComponent("msgit-mirror.json.tmp-\(getpid())")
        try data.write(to: temporary)
        guard rename(temporary.path, Self.file(path).path) == 0 else {
            throw MSGitError(.io, "cannot write \(Self.file(path).path): \(String(cString: strerror(errno)))")
        }
    }
}
