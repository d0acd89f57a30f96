import Crypto
import Foundation
import Testing

/// Issue 23, class 9: SIGKILL at seeded random moments during clone, pull, lfs pull, push, upload
/// and mirror, then the same command again. After the kill, nothing in the work tree or an object
/// store is partial or unverified, and no ref on the hub lacks an LFS object it needs; after the
/// rerun, the result is what git + git-lfs make.
///
/// `MSGIT_KILL_RUNS` kills per command (2 by default, as `.ci/run` runs them; `.ci/kill-test`
/// runs 20), at moments drawn from `MSGIT_KILL_SEED` across the length of an uninterrupted run.
@Suite(.serialized) struct KillTests {
    let hub = Hub.shared
    static let runs = Int(ProcessInfo.processInfo.environment["MSGIT_KILL_RUNS"] ?? "") ?? 2
    static let seed = UInt64(ProcessInfo.processInfo.environment["MSGIT_KILL_SEED"] ?? "") ?? 20_261_207

    /// splitmix64: the same moments for the same seed.
    struct Moments {
        var state: UInt64
        mutating func next(upTo limit: Duration) -> Duration {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            z ^= z >> 31
            let ms = max(1, Int64(limit.components.seconds * 1000 + limit.components.attoseconds / 1_000_000_000_000_000))
            return .milliseconds(Int64(z % UInt64(ms)))
        }
    }

    /// Runs msgit with `arguments` and kills it after `delay` unless it ended first; true when it
    /// was killed.
    func killed(_ arguments: [String], env: [String: String] = [:], after delay: Duration) throws -> Bool {
        var environment = hub.env.merging(env) { $1 }
        environment["HOME"] = environment["HOME"] ?? Shell.emptyHome
        environment["TMPDIR"] = Paths.scratchRoot + "/tmp"
        let pid = try Spawn.start([Paths.msgit] + arguments, env: environment)
        let deadline = ContinuousClock.now + delay
        var status: Int32 = 0
        while ContinuousClock.now < deadline {
            if waitpid(pid, &status, WNOHANG) == pid { return false }
            usleep(2_000)
        }
        kill(pid, SIGKILL)
        _ = Spawn.wait(pid)
        return true
    }

    /// How long an uninterrupted run takes.
    func duration(_ arguments: [String], env: [String: String] = [:]) -> Duration {
        let start = ContinuousClock.now
        let result = Shell.msgit(arguments, env: hub.env.merging(env) { $1 })
        #expect(result.status == 0, "\(arguments): \(result.output)")
        return ContinuousClock.now - start
    }

    // MARK: What must hold after a kill

    /// Every object of the LFS store at `lfs` has the SHA-256 of its name and is a whole file; no
    /// `.msgit-` temporary file is left in the work tree that would stay after a rerun.
    func expectNothingUnverified(_ lfs: String, _ label: String) {
        let objects = lfs + "/objects"
        let walker = FileManager.default.enumerator(atPath: objects)
        while let relative = walker?.nextObject() as? String {
            let path = objects + "/" + relative
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue else { continue }
            let name = (relative as NSString).lastPathComponent
            let digest = SHA256.hash(data: Files.data(path)).map { String(format: "%02x", $0) }.joined()
            #expect(digest == name, "\(label): \(relative) in the store does not verify")
        }
    }

    /// Every LFS file of `dir`'s HEAD holds its pointer or its whole content, nothing between.
    func expectNoPartialWorkTreeFile(_ dir: String, _ label: String) throws {
        for line in try Git.run(["lfs", "ls-files", "--long"], in: dir).split(separator: "\n") {
            let fields = line.split(separator: " ", maxSplits: 2)
            guard fields.count == 3 else { continue }
            let path = dir + "/" + fields[2]
            let data = Files.data(path)
            if String(decoding: data.prefix(40), as: UTF8.self).hasPrefix("version https://git-lfs") { continue }
            let digest = SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined()
            #expect(digest == String(fields[0]), "\(label): \(fields[2]) is neither its pointer nor its content")
        }
    }

    /// `dir` as git + git-lfs would have it: `reference`'s files, a clean `git status`, `git lfs fsck`.
    func expectLikeGit(_ dir: String, _ reference: String, _ label: String) throws {
        #expect(try Files.sameTree(dir, reference), "\(label): work tree")
        #expect(try Git.run(["status", "--porcelain"], in: dir) == "", "\(label): git status")
        #expect(try Git.run(["lfs", "fsck"], in: dir).contains("Git LFS fsck OK"), "\(label): git lfs fsck")
    }

    /// A model whose storage serves 4 MB/s per connection (`slow-`), so a run lasts seconds.
    func slowModel(_ label: String) throws -> Fixtures.LFSRepo {
        try Fixtures.lfsModel(label, name: "test/slow-\(label)-\(UUID().uuidString.prefix(8).lowercased())", bigSize: 8 << 20)
    }

    // MARK: The commands

    @Test func clone() throws {
        let repo = try slowModel("kill-clone")
        let reference = try Fixtures.gitLFSClone(repo.url)
        let length = duration(["clone", "-q", repo.url, Paths.scratch("kill-clone") + "/repo"])
        var moments = Moments(state: Self.seed)
        for run in 0..<Self.runs {
            let dir = Paths.scratch("kill-clone") + "/repo"
            let label = "clone #\(run)"
            if try killed(["clone", "-q", repo.url, dir], after: moments.next(upTo: length)) {
                if FileManager.default.fileExists(atPath: dir + "/.git/lfs") { expectNothingUnverified(dir + "/.git/lfs", label) }
                let rerun = Shell.msgit(["clone", "-q", repo.url, dir], env: hub.env)
                #expect(rerun.status == 0, "\(label): \(rerun.output)")
            }
            try expectLikeGit(dir, reference, label)
            #expect(!FileManager.default.fileExists(atPath: dir + "/.git/msgit-clone-in-progress"), "\(label)")
        }
    }

    @Test func pull() throws {
        let repo = try slowModel("kill-pull")
        let first = try Git.run(["rev-parse", "HEAD"], in: repo.worktree)
        try Fixtures.pushSecondVersion(repo, bigSize: 8 << 20)
        let reference = try Fixtures.gitLFSClone(repo.url)
        /// A clone at the first version, with the second fetched but not merged.
        func cloneAtFirst() throws -> String {
            let dir = Paths.scratch("kill-pull") + "/repo"
            #expect(Shell.msgit(["clone", "-q", "--revision", first, repo.url, dir], env: hub.env).status == 0)
            try Git.run(["checkout", "-q", "-B", "master", first], in: dir)
            try Git.run(["branch", "-q", "--set-upstream-to=origin/master", "master"], in: dir)
            return dir
        }
        let measured = try cloneAtFirst()
        let length = duration(["-C", measured, "pull", "-q"])
        var moments = Moments(state: Self.seed &+ 1)
        for run in 0..<Self.runs {
            let dir = try cloneAtFirst()
            let label = "pull #\(run)"
            if try killed(["-C", dir, "pull", "-q"], after: moments.next(upTo: length)) {
                expectNothingUnverified(dir + "/.git/lfs", label)
                let rerun = Shell.msgit(["-C", dir, "pull", "-q"], env: hub.env)
                #expect(rerun.status == 0, "\(label): \(rerun.output)")
            }
            try expectLikeGit(dir, reference, label)
        }
    }

    @Test func lfsPull() throws {
        let repo = try slowModel("kill-lfspull")
        let reference = try Fixtures.gitLFSClone(repo.url)
        func pointers() throws -> String {
            let dir = Paths.scratch("kill-lfspull") + "/repo"
            #expect(Shell.msgit(["clone", "-q", "--no-lfs", repo.url, dir], env: hub.env).status == 0)
            return dir
        }
        let length = duration(["-C", try pointers(), "lfs", "pull", "-q"])
        var moments = Moments(state: Self.seed &+ 2)
        for run in 0..<Self.runs {
            let dir = try pointers()
            let label = "lfs pull #\(run)"
            if try killed(["-C", dir, "lfs", "pull", "-q"], after: moments.next(upTo: length)) {
                expectNothingUnverified(dir + "/.git/lfs", label)
                try expectNoPartialWorkTreeFile(dir, label)
                let rerun = Shell.msgit(["-C", dir, "lfs", "pull", "-q"], env: hub.env)
                #expect(rerun.status == 0, "\(label): \(rerun.output)")
            }
            try expectLikeGit(dir, reference, label)
        }
    }

    /// Whether every LFS object the hub repository `name`'s refs need is in its storage.
    func hubHasEveryObject(_ name: String) throws -> Bool {
        let oids = try MirrorTests.lfsOIDs(inBare: hub.bareRepoPath(name))
        return oids.allSatisfy { FileManager.default.fileExists(atPath: Fixtures.storagePath($0, repo: name)) }
    }

    @Test func push() throws {
        var moments = Moments(state: Self.seed &+ 3)
        var length: Duration?
        for run in -1..<Self.runs {
            // A new commit of new LFS objects, pushed to a repository that has none of them.
            let name = Fixtures.name("kill-push")
            let work = Paths.scratch("kill-push") + "/work"
            try Git.initRepo(work, lfs: true)
            try Files.write(work + "/.gitattributes", "*.bin filter=lfs diff=lfs merge=lfs -text\n")
            for i in 0..<4 { try Files.writeRandom(work + "/w\(i).bin", size: 3 << 20, seed: UInt64(600 + 10 * run + i)) }
            try Git.commitAll(work, "Weights")
            try hub.createBare(name)
            try Git.run(["remote", "add", "origin", hub.repoURL(name)], in: work)
            let label = "push #\(run)"
            guard let total = length else {
                length = duration(["-C", work, "push", "-q", "origin", "master"])  // run -1 measures
                continue
            }
            if try killed(["-C", work, "push", "-q", "origin", "master"], after: moments.next(upTo: total)) {
                #expect(try hubHasEveryObject(name), "\(label): a ref on the hub lacks LFS objects")
                let rerun = Shell.msgit(["-C", work, "push", "-q", "origin", "master"], env: hub.env)
                #expect(rerun.status == 0, "\(label): \(rerun.output)")
            }
            #expect(try Git.refs(hub.bareRepoPath(name)) == Git.refs(work).filter { $0.hasPrefix("refs/heads/") }, "\(label)")
            #expect(try hubHasEveryObject(name), "\(label)")
        }
    }

    @Test func upload() throws {
        let folder = Paths.scratch("kill-upload") + "/checkpoint"
        for i in 0..<4 { try Files.writeRandom(folder + "/shard-\(i).safetensors", size: 3 << 20, seed: UInt64(700 + i)) }
        try Files.write(folder + "/config.json", "{}\n")
        var moments = Moments(state: Self.seed &+ 4)
        var length: Duration?
        for run in -1..<Self.runs {
            let name = Fixtures.name("kill-upload")
            try hub.createBare(name)
            let arguments = ["upload", "-q", "--lfs-threshold", "1MiB", hub.repoURL(name), folder]
            let label = "upload #\(run)"
            guard let total = length else {
                length = duration(arguments)
                continue
            }
            if try killed(arguments, after: moments.next(upTo: total)) {
                #expect(try hubHasEveryObject(name), "\(label): a ref on the hub lacks LFS objects")
                let rerun = Shell.msgit(arguments, env: hub.env)
                #expect(rerun.status == 0, "\(label): \(rerun.output)")
            }
            let clone = try Fixtures.gitLFSClone(hub.repoURL(name))
            for i in 0..<4 {
                #expect(Files.same(clone + "/shard-\(i).safetensors", folder + "/shard-\(i).safetensors"), "\(label): shard-\(i)")
            }
            #expect(try hubHasEveryObject(name), "\(label)")
        }
    }

    @Test func mirror() throws {
        let repos = [try slowModel("kill-mirror-a"), try slowModel("kill-mirror-b")]
        let list = Paths.scratch("kill-mirror") + "/repos.txt"
        try Files.write(list, repos.map(\.url).joined(separator: "\n") + "\n")
        let length = duration(["mirror", "--manifest", list, "--into", Paths.scratch("kill-mirror") + "/m"])
        var moments = Moments(state: Self.seed &+ 5)
        for run in 0..<Self.runs {
            let root = Paths.scratch("kill-mirror") + "/m"
            let arguments = ["mirror", "--manifest", list, "--into", root]
            let label = "mirror #\(run)"
            if try killed(arguments, after: moments.next(upTo: length)) {
                expectNothingUnverified(root + "/.lfs-storage", label)
                let rerun = Shell.msgit(arguments, env: hub.env)
                #expect(rerun.status == 0, "\(label): \(rerun.output)")
            }
            for repo in repos {
                let mirror = MirrorTests.mirrorPath(repo.name, in: root)
                #expect(try Git.refs(mirror) == Git.refs(hub.bareRepoPath(repo.name)), "\(label): \(repo.name)")
                #expect(MirrorTests.verifiedObjects(try MirrorTests.lfsOIDs(inBare: hub.bareRepoPath(repo.name)), in: mirror),
                        "\(label): \(repo.name)")
            }
        }
    }
}
