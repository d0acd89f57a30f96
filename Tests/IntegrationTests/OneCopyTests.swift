import Foundation
import LFS
import MSGit
import Testing

/// One copy of each weight: copy-on-write clones, protected hard links, a store shared by many
/// repositories, and the upkeep that goes with them. git and git-lfs read every result.
@Suite struct OneCopyTests {
    let hub = Hub.shared

    func storageGets(since mark: UInt64, _ name: String) -> [String] {
        hub.settledLogLines(hub.storage_access_log, since: mark).filter { $0.contains("/objects/\(name)/") && $0.contains("\"GET ") }
    }

    /// The bytes of the repository's distinct LFS objects.
    func objectBytes(_ repo: Fixtures.LFSRepo) throws -> Int64 {
        var sizes: [String: Int] = [:]
        for (path, size) in repo.lfsFiles { sizes[try Fixtures.oid(of: path, in: repo.worktree)] = size }
        return Int64(sizes.values.reduce(0, +))
    }

    func sha256(_ path: String) -> String {
        Shell.run(["sha256sum", path]).stdout.split(separator: " ").first.map(String.init) ?? ""
    }

    func inode(_ path: String) -> UInt64 {
        var st = stat()
        return stat(path, &st) == 0 ? UInt64(st.st_ino) : 0
    }

    func objectPath(_ dir: String, _ oid: String) -> String {
        "\(dir)/.git/lfs/objects/\(oid.prefix(2))/\(oid.dropFirst(2).prefix(2))/\(oid)"
    }

    func expectGitHappy(_ dir: String, _ label: String) throws {
        #expect(try Git.run(["-c", "safe.directory=*", "status", "--porcelain"], in: dir) == "", "\(label): git status")
        #expect(try Git.run(["-c", "safe.directory=*", "lfs", "fsck"], in: dir).contains("Git LFS fsck OK"), "\(label): git lfs fsck")
    }

    @Test(.enabled(if: XFSImage.available, "needs root, xfsprogs and loop mounts (.ci/setup installs xfsprogs)"))
    func aCloneOnAFileSystemThatClonesIsOnDiskOnce() throws {
        let repo = try Fixtures.lfsModel("reflink", bigSize: 48 << 20)
        let image = try XFSImage(size: 400 << 20)
        defer { image.remove() }
        let before = image.usedBytes()
        let dir = image.mountPoint + "/repo"
        #expect(Shell.msgit(["clone", "-q", repo.url, dir], env: hub.env).status == 0)
        sync()
        let used = image.usedBytes() - before
        let model = try objectBytes(repo)
        // The objects once (the work-tree files are clones), the git objects, and XFS's own.
        #expect(used > model * 9 / 10 && used < model * 12 / 10, "\(used) bytes on disk for \(model) of objects")
        let du = try JSONSerialization.jsonObject(with: Data(Shell.msgit(["-C", dir, "lfs", "du", "--json"]).stdout.utf8))
            as? [String: Any]
        #expect((du?["shared_bytes"] as? Int) == (du?["work_tree_bytes"] as? Int) && (du?["work_tree_bytes"] as? Int ?? 0) > 0, "\(String(describing: du))")
        try expectGitHappy(dir, "cloned")

        // Two files, still: writing to the work tree's leaves the stored object as it was.
        let oid = try Fixtures.oid(of: "model.safetensors", in: repo.worktree)
        #expect(inode(dir + "/model.safetensors") != inode(objectPath(dir, oid)))
        let handle = try #require(FileHandle(forWritingAtPath: dir + "/model.safetensors"))
        try handle.seek(toOffset: 1000)
        try handle.write(contentsOf: Data("changed".utf8))
        try handle.close()
        #expect(sha256(objectPath(dir, oid)) == oid, "the stored object is unchanged")
        #expect(Files.same(dir + "/tokenizer.json", repo.worktree + "/tokenizer.json"))
        #expect(try Git.run(["lfs", "fsck"], in: dir).contains("Git LFS fsck OK"))
        #expect(try Git.run(["status", "--porcelain"], in: dir) == "M model.safetensors")
    }

    @Test(.enabled(if: Unprivileged.available, "needs root and setpriv to act as an unprivileged user"))
    func linkedFilesAreProtectedAndAChangedOneIsNeverPublished() throws {
        let repo = try Fixtures.lfsModel("link")
        let home = Paths.scratch("nobody")
        try Unprivileged.own(home)
        let dir = home + "/repo"
        let env = hub.env.merging(["HOME": home, "TMPDIR": home]) { $1 }
        let cloned = Unprivileged.run([Paths.msgit, "clone", "-q", "--link", repo.url, dir], env: env)
        #expect(cloned.status == 0, "\(cloned.output)")
        let oid = try Fixtures.oid(of: "model.safetensors", in: repo.worktree)
        #expect(inode(dir + "/model.safetensors") == inode(objectPath(dir, oid)), "one inode")
        #expect(Files.same(dir + "/model.safetensors", repo.worktree + "/model.safetensors"))
        try expectGitHappy(dir, "linked clone")
        let usage = try JSONSerialization.jsonObject(
            with: Data(Unprivileged.run([Paths.msgit, "-C", dir, "lfs", "du", "--json"], env: env).stdout.utf8)) as? [String: Any]
        #expect((usage?["shared_bytes"] as? Int) == (usage?["work_tree_bytes"] as? Int))

        // Its owner cannot write to it; replacing it by rename leaves the store alone.
        let write = Unprivileged.run(["sh", "-c", "printf x >> '\(dir)/model.safetensors'"], env: env)
        #expect(write.status != 0, "a protected file refuses writes: \(write.output)")
        #expect(sha256(objectPath(dir, oid)) == oid)
        let replaced = Unprivileged.run(["sh", "-c", "cp '\(dir)/model.safetensors' '\(dir)/m.tmp' && chmod u+w '\(dir)/m.tmp' "
            + "&& printf x >> '\(dir)/m.tmp' && mv -f '\(dir)/m.tmp' '\(dir)/model.safetensors'"], env: env)
        #expect(replaced.status == 0, "\(replaced.output)")
        #expect(sha256(objectPath(dir, oid)) == oid, "the stored object is unchanged")

        // unprotect: a file of its own, writable; the object stays as it was. (As the clone's owner:
        // libgit2, like git, refuses to open a repository another user owns.)
        #expect(Unprivileged.run(["git", "-C", dir, "checkout", "--", "model.safetensors"], env: env).status == 0)
        let unlinked = Unprivileged.run([Paths.msgit, "-C", dir, "lfs", "pull", "--link"], env: env)
        #expect(unlinked.status == 0, "\(unlinked.output)")
        let unprotected = Unprivileged.run([Paths.msgit, "-C", dir, "lfs", "unprotect", "tokenizer.json"], env: env)
        #expect(unprotected.status == 0 && unprotected.stdout.contains("unprotected tokenizer.json"), "\(unprotected.output)")
        let tokenizerOID = try Fixtures.oid(of: "tokenizer.json", in: repo.worktree)
        #expect(inode(dir + "/tokenizer.json") != inode(objectPath(dir, tokenizerOID)))
        try expectGitHappy(dir, "unprotected")
        #expect(Unprivileged.run(["sh", "-c", "printf x >> '\(dir)/tokenizer.json'"], env: env).status == 0)
        #expect(sha256(objectPath(dir, tokenizerOID)) == tokenizerOID)
        #expect(try Git.run(["-c", "safe.directory=*", "lfs", "fsck"], in: dir).contains("Git LFS fsck OK"))

        // A linked object damaged anyway (root ignores the permission bits) is not published.
        let damaged = Paths.scratch("damaged") + "/repo"
        #expect(Shell.msgit(["clone", "-q", "--link", repo.url, damaged], env: hub.env).status == 0)
        let partOID = try Fixtures.oid(of: "weights/part-1.bin", in: repo.worktree)
        let handle = try #require(FileHandle(forWritingAtPath: damaged + "/weights/part-1.bin"))
        try handle.write(contentsOf: Data("damage".utf8))
        try handle.close()
        let target = Fixtures.name("link-target")
        try hub.createBare(target)
        let pushed = Shell.msgit(["-C", damaged, "push", hub.repoURL(target), "master"], env: hub.env)
        #expect(pushed.status != 0 && pushed.stderr.contains("no longer matches its oid"), "\(pushed.output)")
        #expect(pushed.stderr.contains(String(partOID.prefix(12))))
        #expect(try Git.refs(hub.bareRepoPath(target)).isEmpty, "no ref was pushed")
    }

    @Test func aSharedStoreServesEveryCloneAfterTheFirstWithoutADownload() throws {
        let repo = try Fixtures.lfsModel("shared", bigSize: 12 << 20)
        let store = Paths.scratch("store")
        let first = Paths.scratch("shared") + "/first"
        #expect(Shell.msgit(["clone", "-q", "--lfs-storage", store, repo.url, first], env: hub.env).status == 0)
        let mark = hub.logSize(hub.storage_access_log)
        let second = Paths.scratch("shared") + "/second"
        let cloned = Shell.msgit(["clone", "-q", "--link", repo.url, second], env: hub.env.merging(["MSGIT_LFS_STORAGE": store]) { $1 })
        #expect(cloned.status == 0, "\(cloned.output)")
        #expect(storageGets(since: mark, repo.name).isEmpty, "nothing downloaded")
        for (path, _) in repo.lfsFiles {
            #expect(Files.same(second + "/" + path, repo.worktree + "/" + path), "\(path)")
        }
        // Its objects and files are the shared store's: almost no new disk.
        var newBytes: Int64 = 0
        for path in (FileManager.default.enumerator(atPath: second)?.allObjects as? [String]) ?? [] {
            var st = stat()
            if lstat(second + "/" + path, &st) == 0, st.st_mode & S_IFMT == S_IFREG, st.st_nlink == 1 {
                newBytes += Int64(st.st_blocks) * 512
            }
        }
        #expect(newBytes < (try objectBytes(repo)) / 20, "\(newBytes) bytes of files of its own")
        try expectGitHappy(second, "second clone")

        // git-lfs's own setting names the store too.
        let third = Paths.scratch("shared") + "/third"
        #expect(Shell.msgit(["clone", "-q", "--no-lfs", repo.url, third], env: hub.env).status == 0)
        try Git.run(["config", "lfs.storage", store], in: third)
        let again = hub.logSize(hub.storage_access_log)
        #expect(Shell.msgit(["-C", third, "lfs", "pull"], env: hub.env).status == 0)
        #expect(storageGets(since: again, repo.name).isEmpty)
        #expect(Files.same(third + "/model.safetensors", repo.worktree + "/model.safetensors"))
    }

    @Test func twoClonesFillingOneStoreAtOnceDownloadEachObjectOnce() throws {
        let name = Fixtures.name("race")
        let work = Paths.scratch("race")
        try Git.initRepo(work, lfs: true)
        try Files.write(work + "/.gitattributes", "*.bin filter=lfs diff=lfs merge=lfs -text\n")
        for i in 0..<24 { try Files.writeRandom(work + "/w/\(i).bin", size: 300_000, seed: UInt64(700 + i)) }
        try Files.writeRandom(work + "/big.bin", size: 20 << 20, seed: 799)
        try Git.commitAll(work, "Objects")
        let url = try hub.publish(work, as: name)
        let store = Paths.scratch("race-store")
        let mark = hub.logSize(hub.storage_access_log)
        let dirs = [Paths.scratch("race-a") + "/repo", Paths.scratch("race-b") + "/repo"]
        let pids = try dirs.map { try Spawn.start([Paths.msgit, "clone", "-q", "--lfs-storage", store, url, $0], env: hub.env) }
        #expect(pids.map { Spawn.wait($0) } == [0, 0])
        for dir in dirs {
            #expect(Files.same(dir + "/big.bin", work + "/big.bin") && Files.same(dir + "/w/7.bin", work + "/w/7.bin"))
        }
        // Each byte of each object once: ranges of the big object never repeat, small objects come once.
        let gets = storageGets(since: mark, name)
        let requests = gets.map { line -> String in
            let path = line.split(separator: "\"")[1].split(separator: " ")[1].split(separator: "?")[0]
            let range = line.range(of: "range=\"").map { String(line[$0.upperBound...].prefix { $0 != "\"" }) } ?? ""
            return "\(path) \(range)"
        }
        #expect(Set(requests).count == requests.count, "\(requests.sorted())")
        #expect(Set(requests.map { $0.split(separator: " ")[0] }).count == 25)
    }

    @Test func mirrorsOfAModelAndItsForkStoreTheirSharedWeightsOnce() throws {
        // Two repositories with the same weights (the fixture's objects are the same bytes each time).
        let base = try Fixtures.lfsModel("mirror-base")
        let fork = try Fixtures.lfsModel("mirror-fork")
        let list = Paths.scratch("manifest") + "/repos.txt"
        try Files.write(list, "\(base.url)\n\(fork.url)\n")
        let root = Paths.scratch("mirrors")
        let mark = hub.logSize(hub.storage_access_log)
        let run = Shell.msgit(["mirror", "--jobs", "1", "--manifest", list, "--into", root], env: hub.env)
        #expect(run.status == 0, "\(run.output)")
        let gets = storageGets(since: mark, base.name) + storageGets(since: mark, fork.name)
        let oid = try Fixtures.oid(of: "model.safetensors", in: base.worktree)
        #expect(gets.filter { $0.contains(oid) }.count == 1, "the shared weights came once: \(gets)")
        let host = URL(string: hub.url)!
        func object(_ repo: Fixtures.LFSRepo) -> String {
            "\(root)/\(host.host!)_\(host.port!)/\(repo.name).git/lfs/objects/\(oid.prefix(2))/\(oid.dropFirst(2).prefix(2))/\(oid)"
        }
        #expect(inode(object(base)) != 0 && inode(object(base)) == inode(object(fork)), "one file for both mirrors")
    }

    @Test func pruneKeepsWhatIsNeededAndFreesTheRest() throws {
        let repo = try Fixtures.lfsModel("prune")
        let oldOID = try Fixtures.oid(of: "model.safetensors", in: repo.worktree)
        try Files.writeRandom(repo.worktree + "/model.safetensors", size: 3 << 20, seed: 321)
        try Git.commitAll(repo.worktree, "New weights")
        try Git.run(["push", "-q", repo.url, "master"], in: repo.worktree, hub: hub)
        let newOID = try Fixtures.oid(of: "model.safetensors", in: repo.worktree)

        let dir = Paths.scratch("prune") + "/repo"
        #expect(Shell.msgit(["clone", "-q", repo.url, dir], env: hub.env).status == 0)
        // The old weights come into the store by a visit to the old commit (no reference's tip).
        for revision in ["master~1", "master"] {
            let visit = Shell.msgit(["-C", dir, "checkout", "-q", revision], env: hub.env)
            #expect(visit.status == 0, "\(revision): \(visit.output)")
        }
        // Unpushed work with an object that exists nowhere else.
        try Git.configureIdentity(dir)
        try Git.run(["lfs", "install", "--local"], in: dir)
        try Files.writeRandom(dir + "/weights/unpushed.bin", size: 200_000, seed: 322)
        try Git.commitAll(dir, "Unpushed")
        let unpushedOID = try Fixtures.oid(of: "weights/unpushed.bin", in: dir)
        for oid in [oldOID, newOID, unpushedOID] {
            #expect(FileManager.default.fileExists(atPath: objectPath(dir, oid)))
        }

        let dry = Shell.msgit(["-C", dir, "lfs", "prune", "--dry-run", "--json"])
        let planned = try JSONSerialization.jsonObject(with: Data(dry.stdout.utf8)) as? [String: Any]
        #expect(planned?["removed"] as? [String] == [oldOID], "\(dry.output)")
        #expect(FileManager.default.fileExists(atPath: objectPath(dir, oldOID)), "a dry run deletes nothing")
        #expect(Shell.msgit(["-C", dir, "lfs", "prune"]).status == 0)
        #expect(!FileManager.default.fileExists(atPath: objectPath(dir, oldOID)))
        #expect(FileManager.default.fileExists(atPath: objectPath(dir, newOID))
            && FileManager.default.fileExists(atPath: objectPath(dir, unpushedOID)))
        try expectGitHappy(dir, "after prune")
        // The unpushed object is still there to be pushed.
        #expect(Shell.msgit(["-C", dir, "push"], env: hub.env).status == 0)
    }

    @Test func fsckNamesADamagedObjectAndADamagedFile() throws {
        let repo = try Fixtures.lfsModel("fsck")
        let dir = Paths.scratch("fsck") + "/repo"
        #expect(Shell.msgit(["clone", "-q", repo.url, dir], env: hub.env).status == 0)
        let clean = Shell.msgit(["-C", dir, "lfs", "fsck"])
        #expect(clean.status == 0 && clean.stdout.contains("OK"), "\(clean.output)")

        let oid = try Fixtures.oid(of: "tokenizer.json", in: repo.worktree)
        let object = objectPath(dir, oid)
        let original = Files.data(object)
        var damaged = original
        damaged[100] ^= 0xFF
        try damaged.write(to: URL(fileURLWithPath: object))
        let objectCheck = Shell.msgit(["-C", dir, "lfs", "fsck"])
        #expect(objectCheck.status == 1 && objectCheck.stderr.contains("object \(oid)"), "\(objectCheck.output)")
        try original.write(to: URL(fileURLWithPath: object))

        var file = Files.data(dir + "/onnx/model.onnx")
        file[10] ^= 0xFF
        try file.write(to: URL(fileURLWithPath: dir + "/onnx/model.onnx"))
        let fileCheck = Shell.msgit(["-C", dir, "lfs", "fsck", "--json"])
        #expect(fileCheck.status == 1, "\(fileCheck.output)")
        let problems = (try JSONSerialization.jsonObject(with: Data(fileCheck.stdout.utf8)) as? [String: Any])?["problems"]
            as? [[String: Any]]
        #expect(problems?.count == 1 && problems?.first?["name"] as? String == "onnx/model.onnx"
            && problems?.first?["kind"] as? String == "file", "\(fileCheck.stdout)")
    }
}

/// An XFS file system on a loop device, mounted for one test (XFS makes copy-on-write clones).
struct XFSImage {
    let image: String
    let mountPoint: String

    /// Whether this machine lets us make and mount one (root, xfsprogs, loop devices).
    static let available: Bool = {
        guard getuid() == 0, Shell.run(["sh", "-c", "command -v mkfs.xfs"]).status == 0 else { return false }
        guard let probe = try? XFSImage(size: 300 << 20) else { return false }
        probe.remove()
        return true
    }()

    init(size: Int) throws {
        let dir = Paths.scratch("xfs")
        image = dir + "/image"
        mountPoint = dir + "/mnt"
        try FileManager.default.createDirectory(atPath: mountPoint, withIntermediateDirectories: true)
        guard Shell.run(["truncate", "-s", "\(size)", image]).status == 0,
              Shell.run(["mkfs.xfs", "-q", "-f", image]).status == 0 else {
            throw Git.Failure(description: "mkfs.xfs failed")
        }
        let mounted = Shell.run(["mount", "-o", "loop", image, mountPoint])
        guard mounted.status == 0 else { throw Git.Failure(description: "mount failed: \(mounted.stderr)") }
    }

    func usedBytes() -> Int64 {
        var info = statvfs()
        guard statvfs(mountPoint, &info) == 0 else { return 0 }
        return Int64(info.f_blocks - info.f_bfree) * Int64(info.f_frsize)
    }

    func remove() {
        _ = Shell.run(["umount", mountPoint])
        try? FileManager.default.removeItem(atPath: image)
    }
}

/// Running programs as `nobody`, to see permission bits do their work (root ignores them).
enum Unprivileged {
    static let available = getuid() == 0 && Shell.run(["sh", "-c", "command -v setpriv"]).status == 0

    static func run(_ arguments: [String], env: [String: String] = [:]) -> Shell.Result {
        Shell.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--"] + arguments, env: env)
    }

    /// Gives `path` (recursively) to nobody.
    static func own(_ path: String) throws {
        guard Shell.run(["chown", "-R", "65534:65534", path]).status == 0 else {
            throw Git.Failure(description: "chown \(path) failed")
        }
    }
}
