import Foundation
import MSGit
import Testing

/// Servers that stall or lie, full disks, interruptions, and two processes at once: each ends in a
/// clear message and the right exit code, without a hang and without losing anything.
@Suite struct FailureTests {
    let hub = Hub.shared
    let fault = FaultServer.shared

    /// Runs msgit and returns its result with the wall time, which guards against hangs only (the
    /// bound is far above the limits under test).
    func timed(_ arguments: [String], env: [String: String] = [:]) -> (Shell.Result, Duration) {
        let start = ContinuousClock.now
        let result = Shell.msgit(arguments, env: env)
        return (result, ContinuousClock.now - start)
    }

    @Test func gitServerThatAcceptsAndNeverAnswersTimesOut() {
        let (result, took) = timed(["clone", "--timeout", "2", "\(fault.url)/stall/ns/name.git", Paths.scratch("t") + "/repo"],
                                   env: hub.env)
        #expect(result.status == 1, "\(result.output)")
        #expect(result.stderr.contains("timed out: no data for 2 s"), "\(result.stderr)")
        #expect(result.stderr.contains("--timeout"))
        #expect(took < .seconds(60))
    }

    @Test func connectionThatNeverCompletesTimesOut() {
        let (result, took) = timed(["clone", "--connect-timeout", "2", "http://127.0.0.1:\(fault.blackhole_port)/ns/name.git",
                                    Paths.scratch("t") + "/repo"], env: hub.env)
        #expect(result.status == 1, "\(result.output)")
        #expect(result.stderr.contains("connection to 127.0.0.1:\(fault.blackhole_port) timed out after 2 s"), "\(result.stderr)")
        #expect(result.stderr.contains("--connect-timeout"))
        #expect(took < .seconds(60))
    }

    @Test(arguments: [
        ("stall", "timed out"),
        ("stallbody", "timed out"),
        ("html", "did not answer with batch JSON (text/html"),
        ("garbage", "did not answer with batch JSON"),
        ("badsize", "does not match its pointer"),
    ])
    func lfsServerThatStallsOrLiesLeavesThePointerWithExit5(scenario: String, reason: String) throws {
        let repo = try Fixtures.lfsWithEndpoint("\(fault.url)/lfs/\(scenario)/x.git/info/lfs")
        let dir = Paths.scratch("lfsfault") + "/repo"
        let (result, took) = timed(["clone", "--timeout", "2", repo.url, dir], env: hub.env)
        #expect(result.status == 5, "\(scenario): \(result.output)")
        #expect(result.stderr.contains("weights.bin: "), "\(scenario): \(result.stderr)")
        #expect(result.stderr.contains(reason), "\(scenario): \(result.stderr)")
        #expect(Files.read(dir + "/weights.bin").hasPrefix("version https://git-lfs.github.com/spec/v1"))
        let objects = (try? FileManager.default.subpathsOfDirectory(atPath: dir + "/.git/lfs/objects")) ?? []
        #expect(objects.allSatisfy { !$0.hasSuffix(".bin") && $0.count < 64 }, "nothing unverified stored: \(objects)")
        #expect(took < .seconds(60))
    }

    @Test func requestsWaitingForAConnectionAreNotTimedOut() throws {
        // Two objects of 32 MiB from storage that serves 4 MB/s per connection: two downloads of
        // four 4 MiB segments in flight each, over two connections, so each request waits ~3 s for
        // a connection, longer than the 2 s idle limit, while every running one keeps receiving.
        // Only silence on a running request may count as a stall. (Before msgit queued requests
        // itself, libcurl's queue held them and the watchdog timed them out, retries included.
        // A 1 s limit, used first, also caught a running request starved of CPU by the rest of
        // the suite, once in four runs.)
        let name = "test/slow-\(UUID().uuidString.prefix(8).lowercased())"
        let work = Paths.scratch("queued")
        try Git.initRepo(work, lfs: true)
        try Files.write(work + "/.gitattributes", "*.bin filter=lfs diff=lfs merge=lfs -text\n")
        for i in 0..<2 { try Files.writeRandom(work + "/shard-\(i).bin", size: 32 << 20, seed: UInt64(200 + i)) }
        try Git.commitAll(work, "Shards")
        let url = try hub.publish(work, as: name)
        let dir = Paths.scratch("queued") + "/repo"
        let result = Shell.msgit(["clone", "--jobs", "2", "--timeout", "2", url, dir], env: hub.env)
        #expect(result.status == 0, "\(result.output)")
        for i in 0..<2 {
            #expect(Files.same("\(dir)/shard-\(i).bin", "\(work)/shard-\(i).bin"), "shard-\(i).bin")
        }
    }

    @Test func batchRequestsArePipelinedWithTheDownloads() throws {
        // 151 objects: a batch of 100, answered at once, and one of 51 the server takes 1.5 s over.
        // (The content served is not the objects': every download fails its check, which is fine
        // here: only when the requests are made matters.)
        let repo = try Fixtures.lfsWithEndpoint("\(fault.url)/lfs/slowbatch/x.git/info/lfs", small: 150)
        let mark = fault.logSize
        let result = Shell.msgit(["clone", repo.url, Paths.scratch("pipeline") + "/repo"], env: hub.env)
        #expect(result.status == 5, "\(result.output)")
        // (Other tests use the fault server at the same time: only this scenario's batches, and the
        // 1 KiB objects only this fixture has, are counted.)
        let requests = fault.requests(since: mark)
        let batches = requests.filter { $0.method == "POST" && $0.path.hasPrefix("/lfs/slowbatch/") }
        let downloads = requests.filter { $0.method == "GET" && $0.path.hasPrefix("/content/") && $0.path.hasSuffix("/1024") }
        #expect(batches.count == 2 && downloads.count == 150, "\(batches.count) batches, \(downloads.count) downloads")
        // The first batch's objects were being downloaded while the second batch was being answered.
        if batches.count == 2, let asked = batches[1].time {
            let early = downloads.filter { ($0.time ?? .infinity) < asked + 1.0 }
            #expect(early.count >= 8, "\(early.count) downloads before the slow batch was answered")
        }
    }

    @Test(arguments: ["html", "garbage"])
    func gitServerAnsweringSomethingElseIsNamed(kind: String) {
        let result = Shell.msgit(["clone", "\(fault.url)/\(kind)/ns/name.git", Paths.scratch("t") + "/repo"], env: hub.env)
        #expect(result.status == 1, "\(result.output)")
        #expect(result.stderr.contains("did not answer with the git smart HTTP protocol"), "\(result.stderr)")
    }

    @Test(.enabled(if: getuid() == 0, "mounting a small file system needs root"))
    func fullDiskIsAClearErrorAndLeavesNothingHalfWritten() throws {
        let repo = try Fixtures.lfsModel("diskfull", bigSize: 6 << 20)
        let mount = Paths.scratch("tmpfs")
        let mounted = Shell.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", mount])
        try #require(mounted.status == 0, "\(mounted.output)")
        defer { _ = Shell.run(["umount", "-l", mount]) }

        // The git part fits; the 6 MiB object does not.
        let dir = mount + "/repo"
        let lfs = Shell.msgit(["clone", repo.url, dir], env: hub.env.merging(["TMPDIR": mount]) { $1 })
        #expect(lfs.status == 5, "\(lfs.output)")
        #expect(lfs.stderr.contains("model.safetensors: ") && lfs.stderr.contains("No space left on device"), "\(lfs.stderr)")
        #expect(Files.read(dir + "/model.safetensors").hasPrefix("version https://git-lfs.github.com/spec/v1"))
        let oid = try Fixtures.oid(of: "model.safetensors", in: repo.worktree)
        #expect(!FileManager.default.fileExists(atPath: "\(dir)/.git/lfs/objects/\(oid.prefix(2))/\(oid.dropFirst(2).prefix(2))/\(oid)"))
        // With the temporary directory elsewhere, the same clone's lfs pull finishes the job.
        let again = Shell.msgit(["-C", dir, "lfs", "pull"], env: hub.env)
        #expect(again.status == 5 && again.stderr.contains("No space left on device"), "\(again.output)")
        _ = Shell.run(["umount", "-l", mount])
        _ = Shell.run(["mount", "-t", "tmpfs", "-o", "size=64m", "tmpfs", mount])
        let fresh = Shell.msgit(["clone", repo.url, mount + "/repo"], env: hub.env)
        #expect(fresh.status == 0, "\(fresh.output)")
        #expect(Files.same(mount + "/repo/model.safetensors", repo.worktree + "/model.safetensors"))

        // Git's own pack does not fit: exit 1, the error says why, the clone directory is gone.
        let big = try Fixtures.standard("diskfull-git")
        try Files.writeRandom(big.worktree + "/blob.dat", size: 8 << 20, seed: 3)
        try Git.commitAll(big.worktree, "Big blob")
        try Git.run(["push", "-q", big.url, "master"], in: big.worktree, hub: hub)
        _ = Shell.run(["umount", "-l", mount])
        _ = Shell.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", mount])
        let git = Shell.msgit(["clone", big.url, mount + "/big"], env: hub.env)
        #expect(git.status == 1, "\(git.output)")
        #expect(git.stderr.contains("No space left on device"), "\(git.stderr)")
        #expect(!FileManager.default.fileExists(atPath: mount + "/big"))
    }

    @Test func cancellingALibraryCloneStopsPromptlyAndRemovesItsDirectory() async throws {
        let repo = try Fixtures.lfsModel("cancel", name: "test/slow-\(UUID().uuidString.prefix(8).lowercased())", bigSize: 24 << 20)
        let dir = Paths.scratch("cancel") + "/repo"
        let client = GitClient(credentials: .token(hub.token))
        // The first bytes of the download, as the clone tells them.
        let events = EventTests.Collected()
        let task = Task { try await client.clone(repo.url, into: URL(fileURLWithPath: dir), events: events.handler) }
        // Wait without the concurrency pool, which other tests keep busy, and long enough for a
        // machine busy with the rest of the suite.
        let started = await Task.detached { () -> Bool in
            for _ in 0..<1200 {
                if events.all.contains(where: { if case .bytes(let done, _) = $0.kind { done > 0 } else { false } }) {
                    return true
                }
                usleep(100_000)
            }
            return false
        }.value
        #expect(started)
        let cancelledAt = ContinuousClock.now
        task.cancel()
        do {
            _ = try await task.value
            Issue.record("the clone should have been cancelled")
        } catch let error as MSGitError {
            #expect(error.kind == .cancelled, "\(error)")
        }
        #expect(ContinuousClock.now - cancelledAt < .seconds(20))
        #expect(!FileManager.default.fileExists(atPath: dir), "a cancelled clone removes the directory it made")
    }

    @Test func ctrlCStopsACloneAndKeepsWhatLFSPullHadFetched() throws {
        let repo = try Fixtures.lfsModel("sigint", name: "test/slow-\(UUID().uuidString.prefix(8).lowercased())", bigSize: 24 << 20)
        // A clone interrupted during its LFS downloads removes its directory and exits 130.
        let dir = Paths.scratch("sigint") + "/repo"
        let clone = try Spawn.start([Paths.msgit, "clone", "-q", repo.url, dir], env: hub.env.merging(["HOME": Shell.emptyHome]) { $1 })
        #expect(Self.waitForPartial(in: dir, atLeast: 1))
        kill(clone, SIGINT)
        #expect(Spawn.exitCode(Spawn.wait(clone)) == 130)
        #expect(!FileManager.default.fileExists(atPath: dir))

        // lfs pull in an existing clone keeps the verified objects and the partial download.
        #expect(Shell.msgit(["clone", "-q", "--no-lfs", repo.url, dir], env: hub.env).status == 0)
        let pull = try Spawn.start([Paths.msgit, "-C", dir, "lfs", "pull", "-q"], env: hub.env.merging(["HOME": Shell.emptyHome]) { $1 })
        #expect(Self.waitForPartial(in: dir, atLeast: 4 << 20))
        kill(pull, SIGINT)
        #expect(Spawn.exitCode(Spawn.wait(pull)) == 130)
        let oid = try Fixtures.oid(of: "model.safetensors", in: repo.worktree)
        #expect(Spawn.size("\(dir)/.git/lfs/incomplete/\(oid).part") >= 4 << 20, "the partial download is kept")
        #expect(Files.read(dir + "/model.safetensors").hasPrefix("version "))
        let rerun = Shell.msgit(["-C", dir, "lfs", "pull"], env: hub.env)
        #expect(rerun.status == 0, "\(rerun.output)")
        #expect(Files.same(dir + "/model.safetensors", repo.worktree + "/model.safetensors"))
    }

    @Test func twoProcessesPullingTheSameRepositoryDoNotCorruptIt() throws {
        let repo = try Fixtures.lfsModel("twice", name: "test/slow-\(UUID().uuidString.prefix(8).lowercased())", bigSize: 12 << 20)
        let dir = Paths.scratch("twice") + "/repo"
        #expect(Shell.msgit(["clone", "-q", "--no-lfs", repo.url, dir], env: hub.env).status == 0)
        let env = hub.env.merging(["HOME": Shell.emptyHome]) { $1 }
        let first = try Spawn.start([Paths.msgit, "-C", dir, "lfs", "pull", "-q"], env: env)
        let second = try Spawn.start([Paths.msgit, "-C", dir, "lfs", "pull", "-q"], env: env)
        #expect(Spawn.exitCode(Spawn.wait(first)) == 0)
        #expect(Spawn.exitCode(Spawn.wait(second)) == 0)
        let reference = try Fixtures.gitLFSClone(repo.url)
        #expect(try Files.sameTree(dir, reference))
        #expect(try Git.run(["status", "--porcelain"], in: dir) == "")
        #expect(try Git.run(["lfs", "fsck"], in: dir).contains("OK"))
        #expect(((try? FileManager.default.contentsOfDirectory(atPath: dir + "/.git/lfs/incomplete")) ?? [])
            .allSatisfy { Spawn.size("\(dir)/.git/lfs/incomplete/\($0)") == 0 })
    }

    /// Polls (with usleep, off the concurrency pool's clock) until a partial LFS file under `dir`
    /// has a verified prefix of at least `bytes`.
    static func waitForPartial(in dir: String, atLeast bytes: Int64) -> Bool {
        for _ in 0..<6000 {
            if let names = try? FileManager.default.contentsOfDirectory(atPath: dir + "/.git/lfs/incomplete"),
               names.contains(where: { $0.hasSuffix(".part") && Spawn.partialPrefix("\(dir)/.git/lfs/incomplete/\($0)") >= bytes }) {
                return true
            }
            usleep(10_000)
        }
        return false
    }
}

extension Spawn {
    /// The exit code of a wait status (128 + signal for a killed process).
    static func exitCode(_ status: Int32) -> Int32 {
        status & 0x7f == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
    }
}

/// What scripts and services read: --json reports and the library's typed errors.
@Suite struct ReportTests {
    let hub = Hub.shared
    let fault = FaultServer.shared

    func json(_ result: Shell.Result) throws -> [String: Any] {
        let lines = result.stdout.split(separator: "\n")
        #expect(lines.count == 1, "one JSON object: \(result.stdout)")
        return try #require(try JSONSerialization.jsonObject(with: Data((lines.first ?? "").utf8)) as? [String: Any])
    }

    @Test func cloneFetchPushAndLFSPullPrintOneJSONObjectEach() throws {
        let repo = try Fixtures.lfsModel("json")
        let dir = Paths.scratch("json") + "/repo"
        let clone = try json(Shell.msgit(["clone", "--json", "-I", "tokenizer.json", repo.url, dir], env: hub.env))
        #expect(clone["status"] as? String == "ok" && clone["exit_code"] as? Int == 0)
        #expect(clone["branch"] as? String == "master" && (clone["received_objects"] as? Int ?? 0) > 0)
        #expect(clone["duration_seconds"] is Double)
        let lfs = clone["lfs"] as? [String: Any]
        #expect(lfs?["files_resolved"] as? Int == 1 && lfs?["files_excluded"] as? Int == 4, "\(clone)")

        let pull = try json(Shell.msgit(["-C", dir, "lfs", "pull", "--json"], env: hub.env))
        #expect((pull["lfs"] as? [String: Any])?["objects_downloaded"] as? Int == 3, "\(pull)")

        try Files.write(repo.worktree + "/upstream.txt", "u\n")
        try Git.commitAll(repo.worktree, "Upstream")
        try Git.run(["push", "-q", repo.url, "master"], in: repo.worktree, hub: hub)
        let fetch = try json(Shell.msgit(["-C", dir, "fetch", "--json"], env: hub.env))
        let refs = fetch["refs"] as? [[String: Any]] ?? []
        #expect(refs.contains { $0["ref"] as? String == "refs/remotes/origin/master" && $0["new"] is String }, "\(fetch)")

        try Git.configureIdentity(dir)
        try Files.write(dir + "/mine.txt", "m\n")
        try Git.commitAll(dir, "Mine")
        let rejected = Shell.msgit(["-C", dir, "push", "--json"], env: hub.env)
        #expect(rejected.status == 1)
        let push = try json(rejected)
        let error = push["error"] as? [String: Any]
        #expect(push["status"] as? String == "error" && error?["kind"] as? String == "pushRejected", "\(push)")
        #expect((error?["rejected_refs"] as? [[String: Any]])?.first?["ref"] as? String == "refs/heads/master")
    }

    @Test func lfsFailuresAreListedPerFileInJSONWithExit5() throws {
        let repo = try Fixtures.lfsWithEndpoint("\(fault.url)/lfs/badsize/x.git/info/lfs")
        let result = Shell.msgit(["clone", "--json", repo.url, Paths.scratch("json") + "/repo"], env: hub.env)
        #expect(result.status == 5)
        let report = try json(result)
        #expect(report["status"] as? String == "lfs-incomplete" && report["exit_code"] as? Int == 5)
        let failures = (report["lfs"] as? [String: Any])?["failures"] as? [[String: Any]] ?? []
        #expect(failures.count == 1 && failures.first?["path"] as? String == "weights.bin", "\(report)")
        #expect((failures.first?["reason"] as? String)?.contains("does not match its pointer") == true)
    }

    @Test func libraryErrorsForTimeoutsAndIncompleteLFSAreTyped() async throws {
        var client = GitClient(credentials: .token(hub.token))
        client.timeouts = Timeouts(connect: .seconds(2), idle: .seconds(2))
        do {
            _ = try await client.clone("\(fault.url)/stall/ns/name.git", into: URL(fileURLWithPath: Paths.scratch("lib") + "/repo"))
            Issue.record("should time out")
        } catch {
            #expect(error.kind == .timeout, "\(error)")
        }
        let repo = try Fixtures.lfsWithEndpoint("\(fault.url)/lfs/badsize/x.git/info/lfs")
        let result = try await client.clone(repo.url, into: URL(fileURLWithPath: Paths.scratch("lib") + "/repo"))
        #expect(result.lfs.failures.map(\.path) == ["weights.bin"])
        do {
            try result.requireCompleteLFS()
            Issue.record("should throw")
        } catch {
            #expect(error.kind == .lfsIncomplete && error.lfsFailures.count == 1)
        }
    }
}
