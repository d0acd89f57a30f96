import Foundation
import GitCore

/// The clone's target directory, how to undo what the clone did to it, and the marker that lets a
/// rerun finish a clone that was killed.
///
/// While a clone runs, its git directory holds `msgit-clone-in-progress` with the repository's
/// URL; the clone removes it as its last step. A clone killed before then (SIGKILL, a power cut:
/// no code of ours runs) leaves the marker, and the same clone run again into the same directory
/// finds it and starts over there, keeping the LFS objects and partial downloads the killed run
/// had verified or begun: the expensive part is not paid twice. A directory without the marker is
/// never touched, as git refuses a non-empty destination.
struct Destination {
    let url: URL
    let existed: Bool
    let bare: Bool
    /// This clone continues one that was killed (its LFS store kept).
    let resumed: Bool

    static let markerName = "msgit-clone-in-progress"

    /// The git directory of the clone: `<dir>/.git`, or the directory itself for a bare clone.
    var gitDirectory: URL { bare ? url : url.appendingPathComponent(".git", isDirectory: true) }
    var marker: URL { gitDirectory.appendingPathComponent(Self.markerName) }

    /// Checks that `url` is absent, an empty directory, or the directory of an interrupted clone of
    /// `remote`; creates it if absent; and marks the clone as in progress.
    static func prepare(_ url: URL, for remote: RemoteURL, bare: Bool) throws -> Destination {
        let fm = FileManager.default
        var isDirectory: ObjCBool = false
        var existed = false
        var resumed = false
        if fm.fileExists(atPath: url.path, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else {
                throw MSGitError(.invalidArgument, "destination path '\(url.path)' already exists and is not an empty directory")
            }
            existed = true
            let entries = try fm.contentsOfDirectory(atPath: url.path)
            if !entries.isEmpty {
                let probe = Destination(url: url, existed: true, bare: bare, resumed: true)
                guard let text = try? String(contentsOf: probe.marker, encoding: .utf8),
                      text.trimmingCharacters(in: .whitespacesAndNewlines) == remote.string else {
                    throw MSGitError(.invalidArgument,
                                     "destination path '\(url.path)' already exists and is not an empty directory")
                }
                probe.clearForRerun(entries)
                resumed = true
            }
        } else {
            do {
                try fm.createDirectory(at: url, withIntermediateDirectories: true)
            } catch {
                throw MSGitError(.io, "cannot create '\(url.path)': \(error.localizedDescription)")
            }
        }
        let destination = Destination(url: url, existed: existed, bare: bare, resumed: resumed)
        do {
            try fm.createDirectory(at: destination.gitDirectory, withIntermediateDirectories: true)
            try Data((remote.string + "\n").utf8).write(to: destination.marker)
        } catch {
            destination.discard()
            throw MSGitError(.io, "cannot write in '\(url.path)': \(error.localizedDescription)")
        }
        return destination
    }

    /// Removes what a killed clone left, but its LFS store (`lfs/` of the git directory) and the
    /// marker.
    private func clearForRerun(_ entries: [String]) {
        let fm = FileManager.default
        let gitEntries = bare ? entries : ((try? fm.contentsOfDirectory(atPath: gitDirectory.path)) ?? [])
        for name in gitEntries where name != "lfs" && name != Self.markerName {
            try? fm.removeItem(at: gitDirectory.appendingPathComponent(name))
        }
        if !bare {
            for name in entries where name != ".git" { try? fm.removeItem(at: url.appendingPathComponent(name)) }
        }
    }

    /// The clone succeeded: a later clone into this directory is refused again.
    func finish() {
        unlink(marker.path)
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
