import Foundation

/// Repositories made with real git and published on the hub.
enum Fixtures {
    /// A unique repository name on the hub for one test.
    static func name(_ label: String) -> String { "test/\(label)-\(UUID().uuidString.prefix(8).lowercased())" }

    /// History on two branches, an annotated and a lightweight tag, an executable, a symlink, nested
    /// directories and a file name with spaces. Returns the hub URL and the local work tree.
    static func standard(_ label: String, head: String = "master") throws -> (url: String, worktree: String, name: String) {
        let hub = Hub.shared
        let name = name(label)
        let work = Paths.scratch("fixture")
        try Git.initRepo(work, branch: head)
        try Files.write(work + "/README.md", "# \(label)\n")
        try Files.write(work + "/config.json", "{\"hidden_size\": 64}\n")
        try Git.commitAll(work, "Initial commit")
        try Files.write(work + "/scripts/run.sh", "#!/bin/sh\necho run\n", mode: 0o755)
        try Files.write(work + "/docs/nested/deep/notes with spaces.txt", "notes\n")
        try FileManager.default.createSymbolicLink(atPath: work + "/latest", withDestinationPath: "config.json")
        try Git.commitAll(work, "Add scripts and docs")
        try Git.run(["tag", "-a", "v1.0", "-m", "release 1.0"], in: work)
        try Git.run(["checkout", "-q", "-b", "dev"], in: work)
        try Files.write(work + "/dev.txt", "dev only\n")
        try Git.commitAll(work, "Dev work")
        try Git.run(["tag", "dev-snapshot"], in: work)
        try Git.run(["checkout", "-q", head], in: work)
        try Files.write(work + "/README.md", "# \(label)\n\nMore.\n")
        try Git.commitAll(work, "Update README")
        let url = try hub.publish(work, as: name, head: head)
        return (url, work, name)
    }

    /// A reference clone made by git itself.
    static func gitClone(_ url: String, _ arguments: [String] = []) throws -> String {
        let dir = Paths.scratch("gitclone") + "/repo"
        try Git.run(["clone", "-q"] + arguments + [url, dir], hub: Hub.shared)
        return dir
    }
}
