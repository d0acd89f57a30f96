import Foundation
import MSGit
import Testing

/// Push with LFS objects, and `msgit upload`, checked with real git + git-lfs and the hub's storage.
@Suite struct PushLFSTests {
    let hub = Hub.shared

    func storageRequests(since mark: UInt64, repo name: String) -> [String] {
        hub.logLines(hub.storage_access_log, since: mark).filter { $0.contains("/objects/\(name)/") }
    }

    @Test func pushUploadsNewLFSObjectsFirstAndOnlyOnce() throws {
        let repo = try Fixtures.lfsModel("pushlfs")
        let dir = Paths.scratch("pushlfs") + "/repo"
        #expect(Shell.msgit(["clone", "-q", repo.url, dir], env: hub.env).status == 0)
        try Git.configureIdentity(dir)
        // New LFS content, committed with git + git-lfs (the clean filter fills .git/lfs/objects).
        try Files.writeRandom(dir + "/weights/part-2.bin", size: 2 << 20, seed: 21)
        try Git.commitAll(dir, "Part 2")
        let oid = try Fixtures.oid(of: "weights/part-2.bin", in: dir)
        #expect(!FileManager.default.fileExists(atPath: Fixtures.storagePath(oid, repo: repo.name)))

        let mark = hub.logSize(hub.storage_access_log)
        let push = Shell.msgit(["-C", dir, "push", "--json"], env: hub.env)
        #expect(push.status == 0, "\(push.output)")
        #expect(push.stdout.contains("\"lfs_uploaded_objects\":1"), "\(push.stdout)")
        #expect(FileManager.default.fileExists(atPath: Fixtures.storagePath(oid, repo: repo.name)))
        let puts = storageRequests(since: mark, repo: repo.name).filter { $0.contains("\"PUT ") }
        #expect(puts.count == 1 && puts.allSatisfy { $0.contains("auth=\"-\"") }, "the storage host never sees the hub token: \(puts)")
        // A fresh git + git-lfs clone has the real content.
        let reference = try Fixtures.gitLFSClone(repo.url)
        #expect(Files.same(reference + "/weights/part-2.bin", dir + "/weights/part-2.bin"))
        #expect(try Git.run(["lfs", "fsck"], in: reference).contains("OK"))

        // The same object again (a copy under another name): nothing is uploaded.
        try FileManager.default.copyItem(atPath: dir + "/weights/part-2.bin", toPath: dir + "/weights/part-2-copy.bin")
        try Git.commitAll(dir, "Copy of part 2")
        let again = hub.logSize(hub.storage_access_log)
        let second = Shell.msgit(["-C", dir, "push", "--json"], env: hub.env)
        #expect(second.status == 0, "\(second.output)")
        #expect(second.stdout.contains("\"lfs_uploaded_objects\":0"), "\(second.stdout)")
        #expect(storageRequests(since: again, repo: repo.name).isEmpty)
        #expect(try Git.run(["--git-dir", hub.bareRepoPath(repo.name), "rev-parse", "master"]) == Git.run(["rev-parse", "HEAD"], in: dir))
    }

    @Test func anObjectMissingHereAndOnTheServerStopsThePushBeforeAnyRef() throws {
        let repo = try Fixtures.lfsModel("pushmissing")
        let dir = Paths.scratch("pushmissing") + "/repo"
        #expect(Shell.msgit(["clone", "-q", repo.url, dir], env: hub.env).status == 0)
        try Git.configureIdentity(dir)
        let ghost = String(repeating: "5e", count: 32)
        try Fixtures.commitRaw("version https://git-lfs.github.com/spec/v1\noid sha256:\(ghost)\nsize 999\n",
                               at: "weights/ghost.bin", in: dir)
        let commit = try Git.run(["rev-parse", "HEAD"], in: dir)
        let before = try Git.refs(hub.bareRepoPath(repo.name))
        let push = Shell.msgit(["-C", dir, "push"], env: hub.env)
        #expect(push.status == 1, "\(push.output)")
        #expect(push.stderr.contains("weights/ghost.bin (commit \(commit.prefix(12)))"), "\(push.stderr)")
        #expect(push.stderr.contains("neither here nor on the server"))
        #expect(try Git.refs(hub.bareRepoPath(repo.name)) == before, "no ref was sent")
    }

    @Test func uploadAFolderIntoAnExistingRepository() throws {
        let repo = try Fixtures.lfsModel("upload")
        let parent = try Git.run(["--git-dir", hub.bareRepoPath(repo.name), "rev-parse", "master"])
        let folder = Paths.scratch("folder")
        try Files.writeRandom(folder + "/checkpoint.bin", size: 300 << 10, seed: 31)          // LFS by pattern (*.bin)
        try Files.writeRandom(folder + "/tiny.safetensors", size: 1000, seed: 32)              // LFS by pattern, though tiny
        try Files.writeRandom(folder + "/data/train.dat", size: 3 << 20, seed: 33)             // LFS by size, pattern added
        try Files.write(folder + "/data/notes with spaces.txt", "small text\n")
        try Files.write(folder + "/run.sh", "#!/bin/sh\necho hi\n", mode: 0o755)
        let mark = hub.logSize(hub.storage_access_log)

        let result = Shell.msgit(["upload", "--json", "--path-in-repo", "v2", "-m", "Add v2 checkpoint", repo.url, folder],
                                 env: hub.env)
        #expect(result.status == 0, "\(result.output)")
        #expect(result.stdout.contains("\"lfs_files\":3") && result.stdout.contains("\"attributes_changed\":true"), "\(result.stdout)")
        #expect(storageRequests(since: mark, repo: repo.name).allSatisfy { $0.contains("auth=\"-\"") })

        let clone = try Fixtures.gitLFSClone(repo.url)
        #expect(try Git.run(["log", "-1", "--format=%s"], in: clone) == "Add v2 checkpoint")
        #expect(try Git.run(["rev-parse", "HEAD^"], in: clone) == parent, "one commit on top of the branch")
        for path in ["checkpoint.bin", "tiny.safetensors", "data/train.dat", "data/notes with spaces.txt", "run.sh"] {
            #expect(Files.same(clone + "/v2/" + path, folder + "/" + path), "\(path)")
        }
        #expect(FileManager.default.isExecutableFile(atPath: clone + "/v2/run.sh"))
        let lfs = try Git.run(["lfs", "ls-files", "-n"], in: clone).split(separator: "\n").map(String.init)
        #expect(Set(lfs).isSuperset(of: ["v2/checkpoint.bin", "v2/tiny.safetensors", "v2/data/train.dat"]), "\(lfs)")
        #expect(!lfs.contains("v2/run.sh") && !lfs.contains("v2/data/notes with spaces.txt"))
        #expect(Files.read(clone + "/.gitattributes").contains("/v2/data/train.dat filter=lfs diff=lfs merge=lfs -text"))
        #expect(try Git.run(["status", "--porcelain"], in: clone) == "")
        #expect(try Git.run(["lfs", "fsck"], in: clone).contains("OK"))
        // The files already there are untouched.
        #expect(Files.same(clone + "/model.safetensors", repo.worktree + "/model.safetensors"))

        // Uploading the same folder again sends no object the server already has.
        let again = Shell.msgit(["upload", "--json", "--path-in-repo", "v2", repo.url, folder], env: hub.env)
        #expect(again.status == 0 && again.stdout.contains("\"lfs_uploaded_objects\":0"), "\(again.output)")
    }

    @Test func uploadIntoAnEmptyRepositoryWithABranchAndThreshold() throws {
        let name = Fixtures.name("uploadempty")
        try hub.createBare(name)
        let folder = Paths.scratch("folder")
        try Files.write(folder + "/README.md", "# model\n")
        try Files.write(folder + "/config.json", "{\"hidden_size\": 8}\n")
        try Files.writeRandom(folder + "/model.safetensors", size: 200 << 10, seed: 41)
        let result = Shell.msgit(["upload", "--branch", "main", "--lfs-threshold", "100KB", hub.repoURL(name), folder],
                                 env: hub.env)
        #expect(result.status == 0, "\(result.output)")
        #expect(result.stderr.contains("Uploaded 3 files (1 in LFS"), "\(result.stderr)")
        let clone = Paths.scratch("gitlfsclone") + "/repo"
        try Git.run(["clone", "-q", "-b", "main", hub.repoURL(name), clone], hub: hub)
        #expect(Files.read(clone + "/.gitattributes") == "/model.safetensors filter=lfs diff=lfs merge=lfs -text\n")
        for path in ["README.md", "config.json", "model.safetensors"] {
            #expect(Files.same(clone + "/" + path, folder + "/" + path), "\(path)")
        }
        #expect(try Git.run(["lfs", "ls-files", "-n"], in: clone) == "model.safetensors")
        #expect(try Git.run(["rev-list", "--count", "HEAD"], in: clone) == "1")
        #expect(try Git.run(["lfs", "fsck"], in: clone).contains("OK"))
    }

    @Test func uploadRefusesWhatItCannotPublish() throws {
        let name = Fixtures.name("uploadbad")
        try hub.createBare(name)
        let missing = Shell.msgit(["upload", hub.repoURL(name), "/nonexistent/folder"], env: hub.env)
        #expect(missing.status == 2 && missing.stderr.contains("is not a directory"), "\(missing.output)")
        let empty = Shell.msgit(["upload", hub.repoURL(name), Paths.scratch("empty")], env: hub.env)
        #expect(empty.status == 2 && empty.stderr.contains("has no files to upload"), "\(empty.output)")
        let badSize = Shell.msgit(["upload", "--lfs-threshold", "lots", hub.repoURL(name), Paths.scratch("x")], env: hub.env)
        #expect(badSize.status == 2, "\(badSize.output)")
        let folder = Paths.scratch("folder")
        try Files.write(folder + "/a.txt", "a\n")
        let wrong = Shell.msgit(["upload", hub.repoURL(name), folder], env: ["MSGIT_TOKEN": "wrong-token-9"])
        #expect(wrong.status == 3, "\(wrong.output)")
    }
}

/// Issue 26: uploads as downloads have them: batch requests of git-lfs's size, halved on 413.
@Suite struct UploadBatchTests {
    let hub = Hub.shared
    let fault = FaultServer.shared

    @Test func aServerThatTakesFewerObjectsABatchGetsHalvesUntilItTakesThem() throws {
        // 60 objects against a server that takes at most 25 a request: 60 and 30 are refused with
        // 413, then 15 a request for the rest of the push.
        let repo = try Fixtures.lfsWithEndpoint("\(fault.url)/lfs/limit25/x.git/info/lfs", small: 59)
        let work = Paths.scratch("limit") + "/repo"
        #expect(Shell.msgit(["clone", "-q", "--no-lfs", repo.url, work], env: hub.env).status == 0)
        // The objects, as a fresh commit of this clone's own (the hub has none of them).
        for i in 0..<60 { try Files.writeRandom(work + "/new/\(i).bin", size: 2048, seed: UInt64(500 + i)) }
        try Git.run(["lfs", "install", "--local"], in: work)
        try Git.configureIdentity(work)
        try Git.commitAll(work, "Sixty objects")
        let mark = fault.logSize
        let pushed = Shell.msgit(["-C", work, "push", "--json"], env: hub.env)
        #expect(pushed.status == 0, "\(pushed.output)")
        let requests = fault.requests(since: mark)
        let batches = requests.compactMap(\.objects)
        #expect(batches.first == 60 && batches.dropFirst().first == 30, "\(batches)")
        #expect(batches.dropFirst(2).allSatisfy { $0 == 15 }, "after two 413s, 15 a request: \(batches)")
        #expect(batches.dropFirst(2).reduce(0, +) == 60, "\(batches)")
        #expect(requests.filter { $0.method == "PUT" && $0.path.hasPrefix("/put/") }.count == 60)
        #expect(pushed.stdout.contains("\"lfs_uploaded_objects\":60"), "\(pushed.stdout)")
    }
}
