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

extension Fixtures {
    struct LFSRepo {
        var url: String
        var name: String
        var worktree: String
        /// LFS file path -> its content's size.
        var lfsFiles: [String: Int]
    }

    /// A model repository pushed with git + git-lfs, in three commits: ordinary files, LFS files in
    /// several directories (one executable, two with the same content), an empty file under
    /// filter=lfs, and a file that is a pointer but has no filter=lfs.
    static func lfsModel(_ label: String, name: String? = nil, bigSize: Int = 3 << 20) throws -> LFSRepo {
        let hub = Hub.shared
        let name = name ?? Fixtures.name(label)
        let work = Paths.scratch("lfsfixture")
        try Git.initRepo(work, lfs: true)
        try Files.write(work + "/.gitattributes", """
            *.bin filter=lfs diff=lfs merge=lfs -text
            *.safetensors filter=lfs diff=lfs merge=lfs -text
            *.onnx filter=lfs diff=lfs merge=lfs -text
            tokenizer.json filter=lfs diff=lfs merge=lfs -text

            """)
        try Files.write(work + "/README.md", "# \(label)\n")
        try Files.write(work + "/config.json", "{\"hidden_size\": 64}\n")
        try Git.commitAll(work, "Initial commit")
        var sizes: [String: Int] = [:]
        func add(_ path: String, _ size: Int, seed: UInt64, mode: Int? = nil) throws {
            try Files.writeRandom(work + "/" + path, size: size, seed: seed)
            if let mode { try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: work + "/" + path) }
            sizes[path] = size
        }
        try add("model.safetensors", bigSize, seed: 1)
        try add("tokenizer.json", 256 << 10, seed: 2)
        try add("weights/part-1.bin", 1 << 20, seed: 3)
        try add("weights/copy-of-part-1.bin", 1 << 20, seed: 3)
        try add("onnx/model.onnx", 512 << 10, seed: 4, mode: 0o755)
        try add("empty.bin", 0, seed: 5)
        try Git.commitAll(work, "Add weights")
        // A copy of tokenizer.json's pointer where no filter=lfs applies: git-lfs leaves it as it
        // is, so must we. (Its object exists, so git-lfs's push and fsck are content.)
        try Files.write(work + "/notes/pointer-like.txt", try Git.run(["show", "HEAD:tokenizer.json"], in: work) + "\n")
        try Git.commitAll(work, "A pointer-like note")
        let url = try hub.publish(work, as: name)
        sizes.removeValue(forKey: "empty.bin")  // git-lfs keeps empty files as ordinary empty blobs
        return LFSRepo(url: url, name: name, worktree: work, lfsFiles: sizes)
    }

    /// A second commit on an `lfsModel`: model.safetensors changed (`bigSize` bytes),
    /// weights/part-2.bin added (a third of that), onnx/model.onnx removed, README.md changed;
    /// pushed with git + git-lfs.
    static func pushSecondVersion(_ repo: LFSRepo, bigSize: Int = 3 << 20) throws {
        try Files.writeRandom(repo.worktree + "/model.safetensors", size: bigSize, seed: 101)
        try Files.writeRandom(repo.worktree + "/weights/part-2.bin", size: bigSize / 3, seed: 102)
        try FileManager.default.removeItem(atPath: repo.worktree + "/onnx/model.onnx")
        try Files.write(repo.worktree + "/README.md", "# version 2\n")
        try Git.commitAll(repo.worktree, "Version 2")
        try Git.run(["push", "-q", repo.url, "master"], in: repo.worktree, hub: Hub.shared)
    }

    /// A clone made by git with git-lfs (smudging), the reference for LFS clones.
    static func gitLFSClone(_ url: String) throws -> String {
        let dir = Paths.scratch("gitlfsclone") + "/repo"
        try Git.run(["clone", "-q", url, dir], hub: Hub.shared, env: ["GIT_LFS_SKIP_SMUDGE": "0"])
        return dir
    }

    /// Commits `text` at `path` as it is, bypassing git-lfs's filters (for malformed pointers).
    static func commitRaw(_ text: String, at path: String, in work: String) throws {
        try Files.write(work + "/" + path, text)
        try Git.run(["-c", "filter.lfs.process=", "-c", "filter.lfs.clean=cat", "-c", "filter.lfs.required=false",
                     "add", path], in: work)
        try Git.run(["commit", "-q", "-m", "Raw \(path)"], in: work)
    }

    /// The oid git-lfs gave a file of a work tree.
    static func oid(of path: String, in worktree: String) throws -> String {
        let pointer = try Git.run(["show", "HEAD:\(path)"], in: worktree)
        return String(pointer.split(separator: "\n").first { $0.hasPrefix("oid sha256:") }!.dropFirst(11))
    }

    /// Where the hub's storage keeps an object of repository `name`.
    static func storagePath(_ oid: String, repo name: String) -> String {
        "\(Hub.shared.lfs_storage)/objects/\(name)/\(oid.prefix(2))/\(oid.dropFirst(2).prefix(2))/\(oid)"
    }
}

extension Fixtures {
    /// A repository on the hub with one LFS file whose `.lfsconfig` names `endpoint` as its LFS
    /// server. Its object is uploaded nowhere (the push skips git-lfs's hook).
    /// A repository whose LFS endpoint is `endpoint`, with weights.bin and `small` more LFS files
    /// of 1 KiB.
    static func lfsWithEndpoint(_ endpoint: String, small: Int = 0) throws -> (url: String, name: String) {
        let hub = Hub.shared
        let name = Fixtures.name("lfsendpoint")
        let work = Paths.scratch("lfsfixture")
        try Git.initRepo(work, lfs: true)
        try Files.write(work + "/.gitattributes", "*.bin filter=lfs diff=lfs merge=lfs -text\n")
        try Files.write(work + "/.lfsconfig", "[lfs]\n\turl = \(endpoint)\n")
        try Files.writeRandom(work + "/weights.bin", size: 200_000, seed: 11)
        for i in 0..<small {
            try Files.writeRandom(work + "/small/\(i).bin", size: 1024, seed: UInt64(100 + i))
        }
        try Git.commitAll(work, "LFS elsewhere")
        try hub.createBare(name)
        try Git.run(["-c", "core.hooksPath=/dev/null", "push", "-q", hub.repoURL(name), "master"], in: work, hub: hub)
        return (hub.repoURL(name), name)
    }
}
