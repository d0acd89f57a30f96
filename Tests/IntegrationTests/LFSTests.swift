import Foundation
import MSGit
import Testing

/// The LFS resolver against the local hub (giftless + presigned storage), with git + git-lfs as
/// the reference.
@Suite struct LFSTests {
    let hub = Hub.shared

    @Test func cloneEqualsGitLFSCloneByteForByte() throws {
        let repo = try Fixtures.lfsModel("lfsclone")
        let reference = try Fixtures.gitLFSClone(repo.url)
        let dir = Paths.scratch("lfs") + "/repo"
        let storageMark = hub.logSize(hub.storage_access_log)

        let result = Shell.msgit(["clone", repo.url, dir], env: hub.env)
        #expect(result.status == 0, "\(result.output)")
        // The work-tree copies written during the downloads were all moved into place. (Looked at
        // before git-lfs runs here: it leaves files of its own in lfs/tmp.)
        let left = (try? FileManager.default.contentsOfDirectory(atPath: dir + "/.git/lfs/tmp")) ?? []
        #expect(left.isEmpty, "\(left)")
        #expect(try Files.sameTree(dir, reference), "same files, bytes and modes as git + git-lfs")
        #expect(try Git.run(["status", "--porcelain"], in: dir) == "")
        #expect(try Git.run(["lfs", "fsck"], in: dir).contains("Git LFS fsck OK"))
        // The pointer without filter=lfs is left as it is, as git-lfs leaves it.
        #expect(Files.read(dir + "/notes/pointer-like.txt").hasPrefix("version https://git-lfs.github.com/spec/v1"))
        // Executable bit kept; objects in git-lfs's layout; nothing left half-done.
        #expect(FileManager.default.isExecutableFile(atPath: dir + "/onnx/model.onnx"))
        let oid = try Fixtures.oid(of: "model.safetensors", in: repo.worktree)
        #expect(FileManager.default.fileExists(atPath: "\(dir)/.git/lfs/objects/\(oid.prefix(2))/\(oid.dropFirst(2).prefix(2))/\(oid)"))
        #expect(((try? FileManager.default.contentsOfDirectory(atPath: dir + "/.git/lfs/incomplete")) ?? []).isEmpty)
        // The work tree's file and the stored object are two files: editing one never changes the other.
        var stored = stat(), checkedOut = stat()
        stat("\(dir)/.git/lfs/objects/\(oid.prefix(2))/\(oid.dropFirst(2).prefix(2))/\(oid)", &stored)
        stat(dir + "/model.safetensors", &checkedOut)
        #expect(stored.st_ino != checkedOut.st_ino && stored.st_nlink == 1 && checkedOut.st_nlink == 1)
        #expect(result.stderr.contains("LFS: 5 files, 4 objects downloaded"), "\(result.stderr)")

        // The hub token never reached the storage host; the storage host got presigned URLs only.
        let storage = hub.logLines(hub.storage_access_log, since: storageMark).filter { $0.contains(repo.name) }
        #expect(!storage.isEmpty)
        #expect(storage.allSatisfy { $0.contains("auth=\"-\"") }, "\(storage)")
    }

    @Test func includeExcludeNoLFSAndLFSPullFillsInTheRest() throws {
        let repo = try Fixtures.lfsModel("lfsfilter")
        let reference = try Fixtures.gitLFSClone(repo.url)

        // Only weights/ (minus the copy): the other LFS files stay pointers.
        let dir = Paths.scratch("lfs") + "/repo"
        let partial = Shell.msgit(["clone", "-I", "weights/,*.onnx", "-X", "copy-*", repo.url, dir], env: hub.env)
        #expect(partial.status == 0, "\(partial.output)")
        #expect(Files.same(dir + "/weights/part-1.bin", reference + "/weights/part-1.bin"))
        #expect(FileManager.default.isExecutableFile(atPath: dir + "/onnx/model.onnx"))
        #expect(Files.same(dir + "/onnx/model.onnx", reference + "/onnx/model.onnx"))
        for pointer in ["weights/copy-of-part-1.bin", "model.safetensors", "tokenizer.json"] {
            #expect(Files.read(dir + "/" + pointer).hasPrefix("version https://git-lfs.github.com/spec/v1"), "\(pointer)")
        }
        #expect(try Git.run(["status", "--porcelain"], in: dir) == "")

        // lfs pull fills in the rest; the object already present is not downloaded again.
        let pull = Shell.msgit(["-C", dir, "lfs", "pull"], env: hub.env)
        #expect(pull.status == 0, "\(pull.output)")
        #expect(try Files.sameTree(dir, reference))
        #expect(try Git.run(["status", "--porcelain"], in: dir) == "")
        #expect(try Git.run(["lfs", "fsck"], in: dir).contains("OK"))
        #expect(pull.stderr.contains("LFS: 3 files, 2 objects downloaded"), "\(pull.stderr)")

        // --no-lfs leaves every pointer; a second lfs pull with nothing missing does nothing.
        let bare = Paths.scratch("lfs") + "/repo"
        #expect(Shell.msgit(["clone", "--no-lfs", "-q", repo.url, bare], env: hub.env).status == 0)
        #expect(Files.read(bare + "/model.safetensors").hasPrefix("version https://git-lfs.github.com/spec/v1"))
        #expect(!FileManager.default.fileExists(atPath: bare + "/.git/lfs/objects"))
        let mark = hub.logSize(hub.storage_access_log)
        let noop = Shell.msgit(["-C", dir, "lfs", "pull"], env: hub.env)
        let requests = hub.logLines(hub.storage_access_log, since: mark).filter { $0.contains(repo.name) }
        #expect(noop.status == 0 && requests.isEmpty, "\(noop.output) \(requests)")
    }

    @Test func interruptedDownloadFinishesOnRerunWithoutRefetchingWhatItHad() throws {
        // A repository named slow-* is served at 4 MB/s by the hub's storage host.
        let size = 24 << 20
        let repo = try Fixtures.lfsModel("slow", name: "test/slow-\(UUID().uuidString.prefix(8).lowercased())", bigSize: size)
        let dir = Paths.scratch("lfs") + "/repo"
        #expect(Shell.msgit(["clone", "-q", "--no-lfs", repo.url, dir], env: hub.env).status == 0)
        let oid = try Fixtures.oid(of: "model.safetensors", in: repo.worktree)
        let partial = "\(dir)/.git/lfs/incomplete/\(oid).part"

        // Start lfs pull, kill it once a third of the object is on disk. (Polled with usleep, not
        // Task.sleep: other tests keep the concurrency pool busy and a sleeping task may wake late.)
        let pid = try Spawn.start([Paths.msgit, "-C", dir, "lfs", "pull", "-I", "model.safetensors", "-q"], env: hub.env)
        var had: Int64 = 0
        for _ in 0..<3000 {
            had = Spawn.partialPrefix(partial)
            if had >= Int64(size / 3) { break }
            usleep(10_000)
        }
        kill(pid, SIGKILL)
        _ = Spawn.wait(pid)
        had = Spawn.partialPrefix(partial)
        #expect(had >= Int64(size / 3) && had < Int64(size), "partial: \(had)")
        #expect(Files.read(dir + "/model.safetensors").hasPrefix("version "), "the work tree never holds a partial file")

        // nginx logs the killed run's aborted requests when it notices the closed connections:
        // wait for the log to settle, or those bytes would count against the rerun.
        var mark = hub.logSize(hub.storage_access_log)
        for _ in 0..<50 {
            usleep(200_000)
            let size = hub.logSize(hub.storage_access_log)
            if size == mark { break }
            mark = size
        }
        let rerun = Shell.msgit(["-C", dir, "lfs", "pull", "-I", "model.safetensors"], env: hub.env)
        #expect(rerun.status == 0, "\(rerun.output)")
        #expect(Files.same(dir + "/model.safetensors", repo.worktree + "/model.safetensors"))
        #expect(!FileManager.default.fileExists(atPath: partial))
        // The rerun asked for ranges from where the partial file ended, never below, and was sent
        // exactly the object minus what it had.
        let lines = hub.logLines(hub.storage_access_log, since: mark).filter { $0.contains(repo.name) && $0.contains(oid) }
        let sent = lines.compactMap { Int64($0.split(separator: " ")[5]) }.reduce(0, +)
        let starts = lines.compactMap { line -> Int64? in
            guard let range = line.range(of: "range=\"bytes=") else { return nil }
            return Int64(line[range.upperBound...].prefix { $0.isNumber })
        }
        #expect(starts.count == lines.count && starts.min() == had, "\(lines)")
        #expect(sent == Int64(size) - had, "sent \(sent), had \(had)")
        #expect(try Git.run(["status", "--porcelain"], in: dir) == "")
    }

    @Test func aStorageServerThatIgnoresRangeStillGivesEveryObject() throws {
        // norange-* objects are served whole (200) whatever Range asks.
        let repo = try Fixtures.lfsModel("norange", name: "test/norange-\(UUID().uuidString.prefix(8).lowercased())",
                                         bigSize: 12 << 20)
        let oid = try Fixtures.oid(of: "model.safetensors", in: repo.worktree)
        let dir = Paths.scratch("lfs") + "/repo"
        let mark = hub.logSize(hub.storage_access_log)
        let result = Shell.msgit(["clone", repo.url, dir], env: hub.env)
        #expect(result.status == 0, "\(result.output)")
        #expect(Files.same(dir + "/model.safetensors", repo.worktree + "/model.safetensors"))
        // The segment requests were answered 200 and given up; one GET without Range brought it.
        let lines = hub.logLines(hub.storage_access_log, since: mark).filter { $0.contains(oid) }
        #expect(lines.contains { $0.contains("range=\"bytes=") } && lines.contains { $0.contains("range=\"-\"") }, "\(lines)")
        #expect(lines.allSatisfy { $0.contains("\" 200 ") }, "\(lines)")
        #expect(!FileManager.default.fileExists(atPath: "\(dir)/.git/lfs/incomplete/\(oid).part"))
        #expect(try Git.run(["lfs", "fsck"], in: dir).contains("OK"))
    }

    @Test func corruptObjectOnTheServerIsNamedAndNothingUnverifiedIsKept() throws {
        let repo = try Fixtures.lfsModel("corrupt", bigSize: 10 << 20)
        let oid = try Fixtures.oid(of: "model.safetensors", in: repo.worktree)
        let small = try Fixtures.oid(of: "tokenizer.json", in: repo.worktree)
        // Same size, different bytes, for one segmented and one whole object.
        for (object, offset) in [(oid, 5 << 20), (small, 100)] {
            let handle = FileHandle(forWritingAtPath: Fixtures.storagePath(object, repo: repo.name))!
            try handle.seek(toOffset: UInt64(offset))
            handle.write(Data("corrupted!".utf8))
            try handle.close()
        }
        let dir = Paths.scratch("lfs") + "/repo"
        let result = Shell.msgit(["clone", repo.url, dir], env: hub.env)
        #expect(result.status == 5, "\(result.output)")
        #expect(result.stderr.contains("model.safetensors: the content received for \(oid) does not match its pointer"),
                "\(result.stderr)")
        #expect(result.stderr.contains("tokenizer.json: the content received for \(small) does not match"))
        for object in [oid, small] {
            #expect(!FileManager.default.fileExists(atPath: "\(dir)/.git/lfs/objects/\(object.prefix(2))/\(object.dropFirst(2).prefix(2))/\(object)"))
        }
        #expect(((try? FileManager.default.contentsOfDirectory(atPath: dir + "/.git/lfs/incomplete")) ?? [])
            .allSatisfy { !$0.hasSuffix(".part") || Spawn.size("\(dir)/.git/lfs/incomplete/\($0)") == 0 })
        // Nor the work-tree copies of the bad objects, written while they downloaded.
        #expect(((try? FileManager.default.contentsOfDirectory(atPath: dir + "/.git/lfs/tmp")) ?? []).isEmpty)
        #expect(Files.read(dir + "/model.safetensors").hasPrefix("version https://git-lfs.github.com/spec/v1"))
        #expect(Files.same(dir + "/weights/part-1.bin", repo.worktree + "/weights/part-1.bin"), "the good objects are resolved")
    }

    @Test func missingObjectOnTheServerFailsOnlyThatFileWithExit5() throws {
        let name = Fixtures.name("lfsmissing")
        let work = Paths.scratch("lfsfixture")
        try Git.initRepo(work, lfs: true)
        try Files.write(work + "/.gitattributes", "*.bin filter=lfs diff=lfs merge=lfs -text\n")
        try Files.writeRandom(work + "/present.bin", size: 100_000, seed: 7)
        // A pointer to an object nobody uploaded (git-lfs's clean keeps a pointer as it is).
        let ghost = String(repeating: "1234abcd", count: 8)
        try Files.write(work + "/ghost.bin", "version https://git-lfs.github.com/spec/v1\noid sha256:\(ghost)\nsize 4242\n")
        try Git.commitAll(work, "Present and missing")
        try hub.createBare(name)
        try Git.run(["-c", "lfs.allowincompletepush=true", "push", "-q", hub.repoURL(name), "master"], in: work, hub: hub)
        #expect(FileManager.default.fileExists(atPath: Fixtures.storagePath(try Fixtures.oid(of: "present.bin", in: work), repo: name)))

        let dir = Paths.scratch("lfs") + "/repo"
        let result = Shell.msgit(["clone", hub.repoURL(name), dir], env: hub.env)
        #expect(result.status == 5, "\(result.output)")
        #expect(result.stderr.contains("ghost.bin: the object is not on the LFS server"), "\(result.stderr)")
        #expect(Files.same(dir + "/present.bin", work + "/present.bin"))
        #expect(Files.read(dir + "/ghost.bin").contains(ghost))
    }

    @Test(arguments: [
        "version https://git-lfs.github.com/spec/v1\noid sha256:XYZ\nsize 12\n",
        "version https://git-lfs.github.com/spec/v1\noid sha256:\(String(repeating: "A", count: 64))\nsize 12\n",
        "version https://git-lfs.github.com/spec/v1\nsize 12\noid sha256:\(String(repeating: "a", count: 64))\n",
        "version https://example.com/spec/v9\noid sha256:\(String(repeating: "a", count: 64))\nsize 12\n",
        "version https://git-lfs.github.com/spec/v1\noid sha256:\(String(repeating: "a", count: 64))\nsize -1\n",
    ])
    func malformedPointersAreLeftExactlyAsTheyAre(content: String) throws {
        let name = Fixtures.name("malformed")
        let work = Paths.scratch("lfsfixture")
        try Git.initRepo(work, lfs: true)
        try Files.write(work + "/.gitattributes", "*.bin filter=lfs diff=lfs merge=lfs -text\n")
        try Files.writeRandom(work + "/good.bin", size: 50_000, seed: 9)
        try Git.commitAll(work, "Good")
        try Fixtures.commitRaw(content, at: "broken.bin", in: work)
        try hub.createBare(name)
        try Git.run(["push", "-q", hub.repoURL(name), "master"], in: work, hub: hub)
        let reference = try Fixtures.gitLFSClone(hub.repoURL(name))

        let dir = Paths.scratch("lfs") + "/repo"
        let result = Shell.msgit(["clone", hub.repoURL(name), dir], env: hub.env)
        #expect(result.status == 0, "\(result.output)")
        #expect(Files.read(dir + "/broken.bin") == content)
        #expect(try Files.sameTree(dir, reference))
        #expect(!result.output.contains("broken.bin"), "a file that is not a pointer is no error: \(result.output)")
    }

    @Test func libraryReportsLFSSummaryAndProgress() async throws {
        let repo = try Fixtures.lfsModel("lfslib")
        let dir = URL(fileURLWithPath: Paths.scratch("lfs") + "/repo")
        let phases = PhaseRecorder()
        let result = try await GitClient(credentials: .token(hub.token)).clone(repo.url, into: dir) { phases.record($0) }
        #expect(result.lfs.files == 5)
        #expect(result.lfs.filesResolved == 5)
        #expect(result.lfs.objectsDownloaded == 4)
        let expectedBytes: Int64 = (3 << 20) + (256 << 10) + (1 << 20) + (512 << 10)
        #expect(result.lfs.bytesDownloaded == expectedBytes)
        #expect(result.lfs.failures.isEmpty)
        #expect(phases.phases.contains(.lfs))
        #expect(phases.last?.lfsBytesDone == phases.last?.lfsBytesTotal)
        #expect(phases.last?.lfsObjectsDone == 4)
    }

    /// The first downloads of a clone's LFS pass do not wait for the checkout. Progress handlers
    /// run on the thread that reports, so the handler that sees the checkout begin holds the
    /// checkout there until the storage host has served one of the repository's objects, or four
    /// minutes have passed, which only a pass that waits for the checkout lets happen. (The pass
    /// runs on the concurrency pool, which the other suites' synchronous tests can keep busy for
    /// tens of seconds: a 30 s limit failed once in a run of seven suites.)
    @Test func aClonesLFSDownloadsStartBeforeItsCheckoutEnds() async throws {
        let repo = try Fixtures.lfsModel("lfsearly")
        let dir = Paths.scratch("lfs") + "/repo"
        let storageMark = hub.logSize(hub.storage_access_log)
        let hub = self.hub
        let seen = DuringCheckout()
        let result = try await GitClient(credentials: .token(hub.token)).clone(repo.url, into: URL(fileURLWithPath: dir)) {
            guard $0.phase == .checkingOut, seen.first() else { return }
            seen.checkoutFound(files: FileManager.default.fileExists(atPath: dir + "/model.safetensors"))
            for _ in 0..<1200 {
                if hub.logLines(hub.storage_access_log, since: storageMark).contains(where: { $0.contains("/objects/\(repo.name)/") }) {
                    seen.downloaded()
                    return
                }
                usleep(200_000)
            }
        }
        #expect(seen.state.downloadedDuringCheckout, "no object was downloaded while the checkout waited")
        #expect(!seen.state.workTreeHadFiles, "the handler ran before the checkout wrote the files")
        #expect(result.lfs.filesResolved == 5 && result.lfs.failures.isEmpty, "\(result.lfs)")
        #expect(try Files.sameTree(dir, try Fixtures.gitLFSClone(repo.url)))
    }
}

/// What the progress handler of `aClonesLFSDownloadsStartBeforeItsCheckoutEnds` saw.
final class DuringCheckout: @unchecked Sendable {
    // @unchecked Sendable: every access goes through `lock`.
    struct State {
        var called = false
        var workTreeHadFiles = false
        var downloadedDuringCheckout = false
    }
    private let lock = NSLock()
    private var current = State()

    var state: State { lock.withLock { current } }

    /// True for the first call only.
    func first() -> Bool {
        lock.withLock {
            defer { current.called = true }
            return !current.called
        }
    }

    func checkoutFound(files: Bool) { lock.withLock { current.workTreeHadFiles = files } }
    func downloaded() { lock.withLock { current.downloadedDuringCheckout = true } }
}

/// Background processes for tests that must interrupt one.
enum Spawn {
    static func start(_ arguments: [String], env: [String: String] = [:]) throws -> pid_t {
        var environment = ProcessInfo.processInfo.environment
        for (k, v) in env { environment[k] = v }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        // A clean signal mask and default dispositions, whatever the test runner's thread has.
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var empty = sigset_t(), defaults = sigset_t()
        sigemptyset(&empty)
        sigemptyset(&defaults)
        sigaddset(&defaults, SIGINT)
        sigaddset(&defaults, SIGTERM)
        posix_spawnattr_setsigmask(&attributes, &empty)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        let argv = arguments.map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var pid: pid_t = 0
        guard posix_spawn(&pid, arguments[0], &actions, &attributes, argv, envp) == 0 else {
            throw Git.Failure(description: "cannot start \(arguments[0])")
        }
        return pid
    }

    static func wait(_ pid: pid_t) -> Int32 {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        return status
    }

    static func size(_ path: String) -> Int64 {
        ((try? FileManager.default.attributesOfItem(atPath: path)[.size]) as? NSNumber)?.int64Value ?? 0
    }

    /// The verified prefix of a partial LFS download: the length recorded beside it while segments
    /// are written beyond it, else the file's size.
    static func partialPrefix(_ path: String) -> Int64 {
        if let text = try? String(contentsOfFile: path + ".length", encoding: .utf8) {
            return Int64(text.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
        }
        return size(path)
    }
}
