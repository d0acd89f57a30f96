import Foundation
import MSGit
import Testing

/// Living with a clone: pull, checkout, pinned revisions, and the listings people compare with
/// git's. git and git-lfs are the reference: after each msgit command the clone must look to them
/// exactly like one of their own.
@Suite struct UpdateTests {
    let hub = Hub.shared

    func storageGets(since mark: UInt64, _ name: String) -> [String] {
        hub.settledLogLines(hub.storage_access_log, since: mark).filter { $0.contains("/objects/\(name)/") && $0.contains("\"GET ") }
    }

    func json(_ result: Shell.Result) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any], "\(result.output)")
    }

    /// The clone as git + git-lfs would leave it: the same files as `reference`, the same index
    /// entries, nothing for `git status`, and `git lfs fsck` content.
    func expectLikeGit(_ dir: String, _ reference: String, _ label: String) throws {
        #expect(try Files.sameTree(dir, reference), "\(label): work tree")
        #expect(try Git.run(["ls-files", "-s"], in: dir) == Git.run(["ls-files", "-s"], in: reference), "\(label): index")
        #expect(try Git.run(["status", "--porcelain"], in: dir) == "", "\(label): git status")
        #expect(try Git.run(["lfs", "fsck"], in: dir).contains("Git LFS fsck OK"), "\(label): git lfs fsck")
    }

    @Test func pullBringsTheNewTipAsAFreshCloneOfItHasIt() throws {
        let repo = try Fixtures.lfsModel("pull")
        let dir = Paths.scratch("pull") + "/repo"
        #expect(Shell.msgit(["clone", "-q", repo.url, dir], env: hub.env).status == 0)
        try Files.write(dir + "/untracked.txt", "mine\n")
        try Fixtures.pushSecondVersion(repo)
        let tip = try Git.run(["rev-parse", "HEAD"], in: repo.worktree)

        let mark = hub.logSize(hub.storage_access_log)
        let pulled = Shell.msgit(["-C", dir, "pull", "--json"], env: hub.env)
        #expect(pulled.status == 0, "\(pulled.output)")
        let report = try json(pulled)
        #expect(report["head"] as? String == tip && report["up_to_date"] as? Bool == false)
        #expect((report["lfs"] as? [String: Any])?["objects_downloaded"] as? Int == 2, "\(pulled.stdout)")
        // Only the two new objects came, each once.
        let changed = try ["model.safetensors", "weights/part-2.bin"].map { try Fixtures.oid(of: $0, in: repo.worktree) }
        let gets = storageGets(since: mark, repo.name)
        #expect(Set(changed.flatMap { oid in gets.filter { $0.contains(oid) }.map { _ in oid } }).count == 2)
        #expect(gets.allSatisfy { line in changed.contains { line.contains($0) } }, "\(gets)")
        #expect(Files.read(dir + "/untracked.txt") == "mine\n", "untracked files stay")
        try FileManager.default.removeItem(atPath: dir + "/untracked.txt")
        try expectLikeGit(dir, try Fixtures.gitLFSClone(repo.url), "after pull")

        // Nothing new: no LFS request at all, and git's words.
        let again = hub.logSize(hub.storage_access_log)
        let second = Shell.msgit(["-C", dir, "pull"], env: hub.env)
        #expect(second.status == 0 && second.stderr.contains("Already up to date."), "\(second.output)")
        #expect(storageGets(since: again, repo.name).isEmpty)
    }

    @Test func refusedPullsChangeNothing() throws {
        let repo = try Fixtures.lfsModel("refused")
        let dir = Paths.scratch("refused") + "/repo"
        #expect(Shell.msgit(["clone", "-q", repo.url, dir], env: hub.env).status == 0)
        try Fixtures.pushSecondVersion(repo)
        let head = try Git.run(["rev-parse", "HEAD"], in: dir)

        // A local change to a file the update changes (an LFS file and a plain one): refused, kept.
        try Files.write(dir + "/README.md", "my notes\n")
        try Files.writeRandom(dir + "/model.safetensors", size: 1000, seed: 7)
        let local = Files.data(dir + "/model.safetensors")
        let overwrite = Shell.msgit(["-C", dir, "pull"], env: hub.env)
        #expect(overwrite.status == 1, "\(overwrite.output)")
        #expect(overwrite.stderr.contains("Your local changes to the following files would be overwritten by merge:")
            && overwrite.stderr.contains("\tREADME.md") && overwrite.stderr.contains("\tmodel.safetensors"), "\(overwrite.stderr)")
        #expect(Files.read(dir + "/README.md") == "my notes\n" && Files.data(dir + "/model.safetensors") == local)
        #expect(try Git.run(["rev-parse", "HEAD"], in: dir) == head)
        #expect(!FileManager.default.fileExists(atPath: dir + "/weights/part-2.bin"), "nothing of the update was written")

        // An untracked file where the update puts one: refused too.
        try Git.run(["checkout", "--", "README.md", "model.safetensors"], in: dir)
        try Files.write(dir + "/weights/part-2.bin", "mine\n")
        let untracked = Shell.msgit(["-C", dir, "pull"], env: hub.env)
        #expect(untracked.status == 1 && untracked.stderr.contains("untracked working tree files would be overwritten")
            && untracked.stderr.contains("weights/part-2.bin"), "\(untracked.output)")
        #expect(Files.read(dir + "/weights/part-2.bin") == "mine\n")
        try FileManager.default.removeItem(atPath: dir + "/weights/part-2.bin")

        // Commits on both sides: msgit does not merge.
        try Git.configureIdentity(dir)
        try Files.write(dir + "/local.txt", "local\n")
        try Git.commitAll(dir, "Local work")
        let ahead = try Git.run(["rev-parse", "HEAD"], in: dir)
        let diverged = Shell.msgit(["-C", dir, "pull"], env: hub.env)
        #expect(diverged.status == 1 && diverged.stderr.contains("Not possible to fast-forward, aborting."), "\(diverged.output)")
        #expect(try Git.run(["rev-parse", "HEAD"], in: dir) == ahead && Files.read(dir + "/local.txt") == "local\n")

        // A local change to a file the update does not touch is carried along.
        try Git.run(["reset", "-q", "--hard", head], in: dir)
        try Files.write(dir + "/config.json", "{\"mine\": true}\n")
        let carried = Shell.msgit(["-C", dir, "pull"], env: hub.env)
        #expect(carried.status == 0, "\(carried.output)")
        #expect(Files.read(dir + "/config.json") == "{\"mine\": true}\n")
        #expect(try Git.run(["status", "--porcelain"], in: dir) == "M config.json")
    }

    @Test func checkoutOfAnOlderTagRestoresItsLFSContentAndGoingBackDownloadsNothing() throws {
        let repo = try Fixtures.lfsModel("checkout")
        try Git.run(["tag", "v1"], in: repo.worktree)
        try Git.run(["push", "-q", repo.url, "v1"], in: repo.worktree, hub: hub)
        let v1Model = Paths.scratch("v1") + "/model.safetensors"
        try FileManager.default.copyItem(atPath: repo.worktree + "/model.safetensors", toPath: v1Model)
        let v1 = try Git.run(["rev-parse", "HEAD"], in: repo.worktree)
        try Fixtures.pushSecondVersion(repo)

        let dir = Paths.scratch("checkout") + "/repo"
        #expect(Shell.msgit(["clone", "-q", repo.url, dir], env: hub.env).status == 0)
        var mark = hub.logSize(hub.storage_access_log)
        let old = Shell.msgit(["-C", dir, "checkout", "v1", "--json"], env: hub.env)
        #expect(old.status == 0, "\(old.output)")
        #expect(try json(old)["head"] as? String == v1)
        #expect(Files.same(dir + "/model.safetensors", v1Model) && FileManager.default.fileExists(atPath: dir + "/onnx/model.onnx"))
        #expect(try Git.run(["rev-parse", "HEAD"], in: dir) == v1)
        #expect(Shell.run(["git", "symbolic-ref", "-q", "HEAD"], in: dir).status != 0, "detached, as git leaves a tag")
        #expect(try Git.run(["status", "--porcelain"], in: dir) == "" && Git.run(["lfs", "fsck"], in: dir).contains("OK"))
        let v1Objects = storageGets(since: mark, repo.name)
        #expect(!v1Objects.isEmpty, "v1's model came from the storage host")

        // Back to the branch: every object is in the store already.
        mark = hub.logSize(hub.storage_access_log)
        let back = Shell.msgit(["-C", dir, "checkout", "master"], env: hub.env)
        #expect(back.status == 0 && back.stderr.contains("Switched to branch 'master'"), "\(back.output)")
        #expect(storageGets(since: mark, repo.name).isEmpty)
        try expectLikeGit(dir, try Fixtures.gitLFSClone(repo.url), "back on master")

        // A new branch, and a switch that would overwrite a change.
        let made = Shell.msgit(["-C", dir, "checkout", "-b", "experiment"], env: hub.env)
        #expect(made.status == 0 && made.stderr.contains("Switched to a new branch 'experiment'"), "\(made.output)")
        #expect(try Git.run(["rev-parse", "--abbrev-ref", "HEAD"], in: dir) == "experiment")
        try Files.writeRandom(dir + "/model.safetensors", size: 100, seed: 9)
        let refused = Shell.msgit(["-C", dir, "checkout", "v1"], env: hub.env)
        #expect(refused.status == 1 && refused.stderr.contains("would be overwritten by checkout")
            && refused.stderr.contains("\tmodel.safetensors"), "\(refused.output)")
        #expect(Files.data(dir + "/model.safetensors").count == 100)
        #expect(Shell.msgit(["-C", dir, "checkout", "no-such-thing"], env: hub.env).status == 2)
    }

    @Test func cloneRevisionChecksOutExactlyThatCommit() throws {
        let fixture = try Fixtures.standard("revision")
        let older = try Git.run(["rev-parse", "master~1"], in: fixture.worktree)
        let dir = Paths.scratch("revision") + "/repo"
        let cloned = Shell.msgit(["clone", "--json", "--revision", older, fixture.url, dir], env: hub.env)
        #expect(cloned.status == 0, "\(cloned.output)")
        #expect(try json(cloned)["head"] as? String == older)
        #expect(try Git.run(["rev-parse", "HEAD"], in: dir) == older)
        #expect(Shell.run(["git", "symbolic-ref", "-q", "HEAD"], in: dir).status != 0, "detached")
        let reference = try Fixtures.gitClone(fixture.url)
        try Git.run(["checkout", "-q", older], in: reference)
        #expect(try Files.sameTree(dir, reference))
        #expect(try Git.run(["status", "--porcelain"], in: dir) == "")

        // A prefix of the id, a tag, and a revision the repository does not have.
        let short = Paths.scratch("revision") + "/short"
        #expect(Shell.msgit(["clone", "-q", "--revision", String(older.prefix(8)), fixture.url, short], env: hub.env).status == 0)
        #expect(try Git.run(["rev-parse", "HEAD"], in: short) == older)
        let tagged = Paths.scratch("revision") + "/tag"
        #expect(Shell.msgit(["clone", "-q", "--revision", "v1.0", fixture.url, tagged], env: hub.env).status == 0)
        #expect(try Git.run(["rev-parse", "HEAD"], in: tagged) == Git.run(["rev-parse", "v1.0^{commit}"], in: fixture.worktree))
        let missing = Shell.msgit(["clone", "--revision", String(repeating: "e", count: 40), fixture.url,
                                   Paths.scratch("revision") + "/missing"], env: hub.env)
        #expect(missing.status == 2 && missing.stderr.contains("is not a branch, tag or commit"), "\(missing.output)")
    }

    @Test func datasetsAndModelScopeEndpointShortNames() throws {
        let name = "datasets/test/ds-\(UUID().uuidString.prefix(8).lowercased())"
        let work = Paths.scratch("dataset")
        try Git.initRepo(work)
        try Files.write(work + "/data.csv", "a,b\n1,2\n")
        try Git.commitAll(work, "Data")
        try hub.publish(work, as: name)
        let short = String(name.split(separator: "/").dropFirst().joined(separator: "/"))  // test/ds-...
        let parent = Paths.scratch("dataset-clone")
        let cloned = Shell.msgit(["clone", "datasets/\(short)"], in: parent,
                                 env: hub.env.merging(["MODELSCOPE_ENDPOINT": hub.url]) { $1 })
        #expect(cloned.status == 0, "\(cloned.output)")
        let dir = parent + "/" + short.split(separator: "/").last!
        #expect(try Git.run(["config", "remote.origin.url"], in: dir) == hub.repoURL(name))
        #expect(Files.read(dir + "/data.csv") == "a,b\n1,2\n")
    }

    @Test func lsFilesAndStatusSayWhatGitLFSAndGitSay() throws {
        let repo = try Fixtures.lfsModel("listings")
        let dir = Paths.scratch("listings") + "/repo"
        // tokenizer.json stays a pointer.
        #expect(Shell.msgit(["clone", "-q", "-X", "tokenizer.json", repo.url, dir], env: hub.env).status == 0)
        for flags in [[], ["--long"], ["--size"], ["--name-only"]] {
            let ours = Shell.msgit(["-C", dir, "lfs", "ls-files"] + flags)
            let theirs = try Git.run(["lfs", "ls-files"] + flags, in: dir)
            #expect(ours.status == 0 && ours.stdout.trimmingCharacters(in: .newlines) == theirs, "\(flags): \(ours.output)\n\(theirs)")
        }
        let ours = try JSONSerialization.jsonObject(with: Data(Shell.msgit(["-C", dir, "lfs", "ls-files", "--json"]).stdout.utf8))
        let theirs = try JSONSerialization.jsonObject(with: Data(try Git.run(["lfs", "ls-files", "--json"], in: dir).utf8))
        #expect((ours as? NSDictionary) == (theirs as? NSDictionary), "\(ours)\n\(theirs)")
        let files = ((ours as? [String: Any])?["files"] as? [[String: Any]]) ?? []
        #expect(files.first { $0["name"] as? String == "tokenizer.json" }?["downloaded"] as? Bool == false)

        // Every kind of change git's short status shows, and an LFS file that was only touched.
        try Files.write(dir + "/README.md", "changed\n")
        try FileManager.default.removeItem(atPath: dir + "/config.json")
        try Files.write(dir + "/new file.txt", "new\n")
        try Files.write(dir + "/newdir/inside.txt", "new\n")
        try Files.write(dir + "/staged.txt", "staged\n")
        try Git.run(["add", "staged.txt"], in: dir)
        try Git.run(["mv", "notes/pointer-like.txt", "notes/renamed.txt"], in: dir)
        try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSinceNow: -3600)],
                                              ofItemAtPath: dir + "/model.safetensors")
        // msgit first: the touched LFS file is clean to it by its content (git, after it, finds the
        // index entry refreshed; with git-lfs's clean filter it would say clean anyway).
        for flags in [[], ["-b"]] {
            let status = Shell.msgit(["-C", dir, "status"] + flags)
            #expect(!status.stdout.contains("model.safetensors"))
            let git = Shell.run(["git"] + Git.lfsFilters + ["status", "--short"] + flags, in: dir).stdout
            #expect(status.status == 0 && status.stdout == git, "\(flags):\n\(status.stdout)\n--\n\(git)")
        }
        let report = try json(Shell.msgit(["-C", dir, "status", "--json"]))
        #expect(report["lfs_pointers"] as? [String] == ["tokenizer.json"], "\(report)")
    }

    @Test func gitLFSSkipSmudgeLeavesPointersAsGitLFSDoes() throws {
        let repo = try Fixtures.lfsModel("skipsmudge")
        let mark = hub.logSize(hub.storage_access_log)
        let dir = Paths.scratch("skip") + "/repo"
        let cloned = Shell.msgit(["clone", "-q", repo.url, dir], env: hub.env.merging(["GIT_LFS_SKIP_SMUDGE": "1"]) { $1 })
        #expect(cloned.status == 0, "\(cloned.output)")
        #expect(Files.read(dir + "/model.safetensors").hasPrefix("version https://git-lfs.github.com/spec/v1"))
        #expect(storageGets(since: mark, repo.name).isEmpty)
    }

    @Test func anUpdateStoppedBeforeItsLFSFilesIsFinishedByTheNext() throws {
        // slow-*: the storage host serves 4 MB/s, so the pull can be killed while it downloads.
        let repo = try Fixtures.lfsModel("stopped", name: "test/slow-\(UUID().uuidString.prefix(8).lowercased())",
                                         bigSize: 1 << 20)
        let dir = Paths.scratch("stopped") + "/repo"
        #expect(Shell.msgit(["clone", "-q", repo.url, dir], env: hub.env).status == 0)
        try Files.writeRandom(repo.worktree + "/model.safetensors", size: 24 << 20, seed: 55)
        try Git.commitAll(repo.worktree, "Bigger")
        try Git.run(["push", "-q", repo.url, "master"], in: repo.worktree, hub: hub)
        let oid = try Fixtures.oid(of: "model.safetensors", in: repo.worktree)

        let pid = try Spawn.start([Paths.msgit, "-C", dir, "pull", "-q"], env: hub.env)
        for _ in 0..<3000 where Spawn.partialPrefix("\(dir)/.git/lfs/incomplete/\(oid).part") < 4 << 20 { usleep(10_000) }
        kill(pid, SIGKILL)
        _ = Spawn.wait(pid)
        #expect(Files.read(dir + "/model.safetensors").hasPrefix("version "), "killed mid-download: still the pointer")

        let rerun = Shell.msgit(["-C", dir, "pull"], env: hub.env)
        #expect(rerun.status == 0 && rerun.stderr.contains("Already up to date."), "\(rerun.output)")
        #expect(Files.same(dir + "/model.safetensors", repo.worktree + "/model.safetensors"))
        try expectLikeGit(dir, try Fixtures.gitLFSClone(repo.url), "after the rerun")
    }
}
