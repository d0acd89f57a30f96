import Foundation
import GitCore

/// The clone's target directory, and how to undo what the clone did to it.
struct Destination {
    let url: URL
    let existed: Bool

    /// Checks that `url` is absent or an empty directory, and creates it if absent.
    static func prepare(_ url: URL) throws -> Destination {
        let fm = FileManager.default
        var isDirectory: ObjCBool = false
        if fm.fileExists(atPath: url.path, isDirectory: &isDirectory) {
            guard isDirectory.boolValue, (try fm.contentsOfDirectory(atPath: url.path)).isEmpty else {
                throw MSGitError(.invalidArgument,
                                 "destination path '\(url.path)' already exists and is not an empty directory")
            }
            return Destination(url: url, existed: true)
        }
        do {
            try fm.createDirectory(at: url, withIntermediateDirectories: true)
        } catch {
            throw MSGitError(.io, "cannot create '\(url.path)': \(error.localizedDescription)")
        }
        return Destination(url: url, existed: false)
    }

    /// Removes what the clone wrote: the directory if the clone made it, else its contents.
    func discard() {
        let fm = FileManager.default
        if existed {
            for name in (try? fm.contentsOfDirectory(atPath: url.path)) ?? [] {
                try? fm.removeItem(at: url.appendingPathComponent(name))
            }
        } else {
            try? fm.removeItem(at: url)
        }
    }
}
