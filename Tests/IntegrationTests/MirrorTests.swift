import Foundation
import MSGit
import Testing

/// `msgit mirror` against the local hub: refs as the server has them, every LFS object of every ref,
/// incremental reruns, failures that stay local, interrupted and concurrent runs, shards, push-to.
@Suite struct MirrorTests {
    let hub = Hub.shared

    /// A repository whose LFS file changed once, so an older object is only in history.
    func lfsWithHistory(_ label: String) throws -> Fixtures.LFSRepo {
        var repo = try Fixtures.lfsModel(label)
        try Files.writeRandom(repo.worktree + "/model.safetensors", size: 1 << 20, seed: 99)
        try Git.commitAll(repo.worktree, "New weights")
        try Git.run(["tag", "v2"], in: repo.worktree)
        try Git.run(["push", "-q", repo.url, "master", "v2"], in: repo.worktree, hub: hub)
        repo.lfsFiles["model.safetensors"] = 1 << 20
        return repo
    }

    /// Every LFS oid any ref of the bare repository at `path` references, history included, found
    /// with git itself.
    static func lfsOIDs(inBare path: String) throws -> Set<String> {
        let objects = try Git.run(["--git-dir", path, "rev-list", "--objects", "--all"])
        var oids = Set<String>()
        for line in objects.split(separator: "\n") {
            let id = String(line.split(separator: " ").first ?? "")
            guard (try? Git.run(["--git-dir", path, "cat-file", "-t", id])) == "blob",
                  let size = Int((try? Git.run(["--git-dir", path, "cat-file", "-s", id])) ?? ""), size < 1024,
                  let text = try? Git.run(["--git-dir", path, "cat-file", "-p", id]),
                  text.hasPrefix("version https://git-lfs.github.com/spec/v1"),
                  let oidLine = text.split(separator: "\n").first(where: { $0.hasPrefix("oid sha256:") }) else { continue }
            oids.insert(String(oidLine.dropFirst(11)))
        }
        return oids
    }

    /// The mirror of repository `name` in `root`.
    static func mirrorPath(_ name: String, in root: String) -> String {
        let port = Hub.shared.url.split(separator: ":").last!
        return "\(root)/127.0.0.1_\(port)/\(name).git"
    }

    /// Whether every LFS object of `oids` is in the mirror's store with the right SHA-256.
    static func verifiedObjects(_ oids: Set<String>, in mirror: String) -> Bool {
        oids.allSatisfy { oid in
            let file = "\(mirror)/lfs/objects/\(oid.prefix(2))/\(oid.dropFirst(2).prefix(2))/\(oid)"
            return Shell.run(["sha256sum", file]).stdout.hasPrefix(oid)
        }
    }

    func manifest(_ lines: [String]) throws -> String {
        let path = Paths.scratch("manifest") + "/repos.txt"
        try Files.write(path, "# repositories to mirror\n\n" + lines.joined(separator: "\n") + "\n")
        return path
    }

    func report(_ path: String) throws -> [[String: Any]] {
        try Files.read(path).split(separator: "\n").map {
            try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
        }
    }

    @Test func mirrorsRefsAndEveryLFSObjectThenRerunsIncrementally() throws {
        let plain = try Fixtures.standard("mirror-plain")
        let plain2 = try Fixtures.standard("mirror-plain2")
        let lfs = try Fixtures.lfsModel("mirror-lfs")
        let history = try lfsWithHistory("mirror-history")
        let names = [plain.name, plain2.name, lfs.name, history.name]
        let list = try manifest(names.map { hub.repoURL($0) })
        let root = Paths.scratch("mirrors")
        let reportPath = Paths.scratch("report") + "/report.jsonl"

        let first = Shell.msgit(["mirror", "--manifest", list, "--into", root, "--report", reportPath], env: hub.env)
        #expect(first.status == 0, "\(first.output)")
        let lines = try report(reportPath)
        #expect(lines.count == 4 && lines.allSatisfy { $0["status"] as? String == "ok" }, "\(lines)")
        for name in names {
            let mirror = Self.mirrorPath(name, in: root)
            #expect(try Git.refs(mirror) == Git.refs(hub.bareRepoPath(name)), "\(name)")
            #expect(try Git.run(["--git-dir", mirror, "symbolic-ref", "HEAD"]) == "refs/heads/master")
            #expect(try Git.run(["--git-dir", mirror, "config", "remote.origin.url"]) == hub.repoURL(name))
            let expected = try Self.lfsOIDs(inBare: hub.bareRepoPath(name))
            #expect(Self.verifiedObjects(expected, in: mirror), "\(name): \(expected)")
            try Git.run(["--git-dir", mirror, "fsck"])
        }
        #expect(try Self.lfsOIDs(inBare: hub.bareRepoPath(history.name)).count == 5, "the old weights are only in history")

        // A rerun with nothing new upstream transfers nothing: no pack, no LFS object.
        let gitMark = hub.logSize(hub.git_access_log)
        let storageMark = hub.logSize(hub.storage_access_log)
        let rerun = Shell.msgit(["mirror", "--manifest", list, "--into", root, "--report", reportPath], env: hub.env)
        #expect(rerun.status == 0, "\(rerun.output)")
        let gitLines = hub.logLines(hub.git_access_log, since: gitMark).filter { line in names.contains { line.contains($0) } }
        #expect(!gitLines.contains { $0.contains("POST") && $0.contains("git-upload-pack") }, "\(gitLines)")
        #expect(hub.logLines(hub.storage_access_log, since: storageMark).filter { line in names.contains { line.contains($0) } }.isEmpty)
        #expect(try report(reportPath).allSatisfy { ($0["refs_changed"] as? Int) == 0 && ($0["lfs_objects"] as? Int) == 0 })

        // Upstream moves: a new commit with a new LFS object, a deleted branch, a moved tag.
        try Files.writeRandom(lfs.worktree + "/weights/part-3.bin", size: 500 << 10, seed: 77)
        try Git.commitAll(lfs.worktree, "Part 3")
        try Git.run(["push", "-q", lfs.url, "master"], in: lfs.worktree, hub: hub)
        try Git.run(["push", "-q", plain.url, ":dev"], in: plain.worktree, hub: hub)
        try Git.run(["tag", "-f", "dev-snapshot", "master"], in: plain2.worktree)
        try Git.run(["push", "-q", "-f", plain2.url, "refs/tags/dev-snapshot"], in: plain2.worktree, hub: hub)
        let third = Shell.msgit(["mirror", "--manifest", list, "--into", root, "--report", reportPath], env: hub.env)
        #expect(third.status == 0, "\(third.output)")
        for name in names {
            #expect(try Git.refs(Self.mirrorPath(name, in: root)) == Git.refs(hub.bareRepoPath(name)), "\(name)")
        }
        #expect(Self.verifiedObjects(try Self.lfsOIDs(inBare: hub.bareRepoPath(lfs.name)), in: Self.mirrorPath(lfs.name, in: root)))
        let changed = Dictionary(try report(reportPath).map { ($0["url"] as? String ?? "", $0) }, uniquingKeysWith: { a, _ in a })
        #expect(changed[lfs.url]?["lfs_objects"] as? Int == 1, "only the new object: \(changed[lfs.url] ?? [:])")
        #expect((changed[plain.url]?["refs_changed"] as? Int ?? 0) >= 1 && (changed[plain2.url]?["refs_changed"] as? Int ?? 0) >= 1)
    }

    @Test func oneFailingRepositoryDoesNotStopTheOthers() throws {
        let good = try Fixtures.standard("mirror-good")
        let missingName = Fixtures.name("mirror-missing")
        let missing = hub.repoURL(missingName)
        let wrongToken = good.url.replacingOccurrences(of: "http://", with: "http://oauth2:wrong-token-42@")
            .replacingOccurrences(of: good.name, with: (try Fixtures.standard("mirror-wrong")).name)
        let list = try manifest([good.url, missing, wrongToken, "not a url at all"])
        let root = Paths.scratch("mirrors")
        let reportPath = Paths.scratch("report") + "/report.jsonl"
        let result = Shell.msgit(["mirror", "--manifest", list, "--into", root, "--report", reportPath], env: hub.env)
        #expect(result.status == 1, "\(result.output)")
        let lines = try report(reportPath)
        #expect(lines.count == 4)
        let byURL = Dictionary(lines.map { ($0["url"] as? String ?? "", $0) }, uniquingKeysWith: { a, _ in a })
        #expect(byURL[good.url]?["status"] as? String == "ok")
        #expect(byURL[missing]?["error_kind"] as? String == "notFound")
        #expect(lines.contains { $0["error_kind"] as? String == "authenticationRejected" && !(($0["url"] as? String) ?? "").contains("@") })
        #expect(lines.contains { $0["error_kind"] as? String == "invalidArgument" })
        #expect(!Files.read(reportPath).contains("wrong-token-42") && !result.output.contains("wrong-token-42"))
        #expect(!FileManager.default.fileExists(atPath: Self.mirrorPath(missingName, in: root)),
                "no empty mirror is left for a failed first fetch")
    }

    @Test func aKilledRunIsFinishedByTheNextAndTwoRunsDoNotCollide() throws {
        let slow = try Fixtures.lfsModel("mirror-slow", name: "test/slow-\(UUID().uuidString.prefix(8).lowercased())", bigSize: 16 << 20)
        let other = try Fixtures.lfsModel("mirror-other")
        let list = try manifest([slow.url, other.url])
        let root = Paths.scratch("mirrors")
        let env = hub.env.merging(["HOME": Shell.emptyHome]) { $1 }
        let killed = try Spawn.start([Paths.msgit, "mirror", "-q", "--manifest", list, "--into", root], env: env)
        // Downloads land in the store the mirrors share (<into>/.lfs-storage), then are linked.
        let incomplete = root + "/.lfs-storage/incomplete"
        var sawPartial = false
        for _ in 0..<2000 {
            if let names = try? FileManager.default.contentsOfDirectory(atPath: incomplete),
               names.contains(where: { Spawn.size("\(incomplete)/\($0)") > 0 }) {
                sawPartial = true
                break
            }
            usleep(10_000)
        }
        #expect(sawPartial)
        kill(killed, SIGKILL)
        _ = Spawn.wait(killed)

        // Two runs at once on the same directory: each repository is worked on by one of them.
        let reportA = Paths.scratch("report") + "/a.jsonl"
        let reportB = Paths.scratch("report") + "/b.jsonl"
        let a = try Spawn.start([Paths.msgit, "mirror", "-q", "--manifest", list, "--into", root, "--report", reportA], env: env)
        let b = try Spawn.start([Paths.msgit, "mirror", "-q", "--manifest", list, "--into", root, "--report", reportB], env: env)
        _ = Spawn.wait(a)
        _ = Spawn.wait(b)
        let statuses = (try report(reportA) + report(reportB)).compactMap { $0["status"] as? String }
        #expect(statuses.allSatisfy { $0 == "ok" || $0 == "busy" }, "\(statuses)")

        // Whatever happened, the next run finds everything complete and correct.
        let final = Shell.msgit(["mirror", "--manifest", list, "--into", root], env: hub.env)
        #expect(final.status == 0, "\(final.output)")
        for repo in [slow, other] {
            let path = Self.mirrorPath(repo.name, in: root)
            #expect(try Git.refs(path) == Git.refs(hub.bareRepoPath(repo.name)))
            #expect(Self.verifiedObjects(try Self.lfsOIDs(inBare: hub.bareRepoPath(repo.name)), in: path))
            try Git.run(["--git-dir", path, "fsck"])
        }
    }

    @Test func shardsCoverTheManifestExactlyOnce() throws {
        let repos = try (0..<5).map { try Fixtures.standard("mirror-shard\($0)") }
        let list = try manifest(repos.map(\.url))
        let root = Paths.scratch("mirrors")
        var mirrored: [String] = []
        for index in 0..<3 {
            let reportPath = Paths.scratch("report") + "/shard\(index).jsonl"
            let run = Shell.msgit(["mirror", "--shard", "\(index)/3", "--lfs", "none", "--manifest", list, "--into", root,
                                   "--report", reportPath], env: hub.env)
            #expect(run.status == 0, "\(run.output)")
            mirrored += try report(reportPath).compactMap { $0["url"] as? String }
        }
        #expect(mirrored.sorted() == repos.map(\.url).sorted())
        #expect(Shell.msgit(["mirror", "--shard", "3/3", "--manifest", list, "--into", root]).status == 2)
    }

    @Test func pushToAnotherHubTakesRefsAndLFSObjects() throws {
        let source = try lfsWithHistory("mirror-push")
        // test/<name> -> test-mirror/<name> (giftless cannot verify uploads under nested namespaces).
        let targetName = source.name.replacingOccurrences(of: "test/", with: "test-mirror/")
        try hub.createBare(targetName)
        try Git.run(["push", "-q", hub.repoURL(targetName), "master:refs/heads/stale"], in: source.worktree, hub: hub)
        let list = try manifest([source.url])
        let root = Paths.scratch("mirrors")
        let template = "\(hub.url)/{ns}-mirror/{name}.git"
        let reportPath = Paths.scratch("report") + "/report.jsonl"
        // The target gets a token only when one is given for writing (TrustTests covers the rest).
        let run = Shell.msgit(["mirror", "--manifest", list, "--into", root, "--push-to", template, "--report", reportPath],
                              env: hub.env.merging(["MSGIT_PUSH_TOKEN": hub.token]) { $1 })
        #expect(run.status == 0, "\(run.output)")
        #expect(try report(reportPath).first?["pushed_to"] as? String == hub.repoURL(targetName))
        #expect(try Git.refs(hub.bareRepoPath(targetName)) == Git.refs(hub.bareRepoPath(source.name)), "refs as the source, stale pruned")
        for oid in try Self.lfsOIDs(inBare: hub.bareRepoPath(source.name)) {
            #expect(FileManager.default.fileExists(atPath: Fixtures.storagePath(oid, repo: targetName)), "\(oid)")
        }
        let clone = try Fixtures.gitLFSClone(hub.repoURL(targetName))
        #expect(Files.same(clone + "/model.safetensors", source.worktree + "/model.safetensors"))
    }
}
