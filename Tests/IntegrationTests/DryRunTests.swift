import Foundation
import Testing

/// Issue 25: a plan before the bytes. `--dry-run` on clone, pull and lfs pull says what would be
/// downloaded (path, oid, size), what is present, the total and whether the disk has room, and
/// writes nothing to a work tree and downloads no LFS object.
@Suite struct DryRunTests {
    let hub = Hub.shared

    struct Plan: Decodable {
        struct File: Decodable, Equatable {
            var path: String
            var oid: String
            var size: Int64
            var action: String
        }
        var files: [File]
        var excluded: [String]
        var objectsToDownload: Int
        var bytesToDownload: Int64
        var bytesNeeded: Int64
        var bytesAvailable: Int64?
        var fits: Bool
        var gitBytes: UInt64
    }

    struct Report: Decodable {
        var status: String
        var head: String?
        var plan: Plan?
    }

    func report(_ result: Shell.Result) throws -> Report {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return try decoder.decode(Report.self, from: Data(result.stdout.utf8))
    }

    func storageGets(_ repo: Fixtures.LFSRepo, since mark: UInt64) -> [String] {
        hub.settledLogLines(hub.storage_access_log, since: mark).filter { $0.contains("/objects/\(repo.name)/") }
    }

    /// The plan of the reference clone's LFS files: path -> (oid, size).
    func expected(_ repo: Fixtures.LFSRepo) throws -> [String: (String, Int64)] {
        var files: [String: (String, Int64)] = [:]
        for (path, size) in repo.lfsFiles { files[path] = (try Fixtures.oid(of: path, in: repo.worktree), Int64(size)) }
        return files
    }

    @Test func aClonesDryRunNamesEveryFileAndLeavesNothing() throws {
        let repo = try Fixtures.lfsModel("dry-clone")
        let parent = Paths.scratch("dry-clone")
        let mark = hub.logSize(hub.storage_access_log)
        let result = Shell.msgit(["clone", "--dry-run", "--json", "-X", "onnx/*", repo.url, parent + "/repo"], env: hub.env)
        #expect(result.status == 0, "\(result.output)")
        let plan = try #require(try report(result).plan)
        let expected = try expected(repo)
        let planned = plan.files.map(\.path) + plan.excluded
        #expect(Set(planned) == Set(expected.keys), "\(planned) vs \(expected.keys.sorted())")
        #expect(plan.excluded == ["onnx/model.onnx"])
        for file in plan.files {
            #expect(file.action == "download" && file.oid == expected[file.path]?.0 && file.size == expected[file.path]?.1,
                    "\(file)")
        }
        let objects = Dictionary(plan.files.map { ($0.oid, $0.size) }, uniquingKeysWith: { a, _ in a })
        #expect(plan.objectsToDownload == objects.count && plan.bytesToDownload == objects.values.reduce(0, +))
        #expect(plan.gitBytes > 0 && plan.bytesNeeded >= plan.bytesToDownload + Int64(plan.gitBytes))
        #expect(plan.fits && (plan.bytesAvailable ?? 0) > 0)
        #expect(!FileManager.default.fileExists(atPath: parent + "/repo"), "a dry run makes no clone")
        let scratch = (try? FileManager.default.contentsOfDirectory(atPath: Paths.scratchRoot + "/tmp")) ?? []
        #expect(!scratch.contains { $0.hasPrefix("msgit-dry-run-") }, "its temporary history is gone")
        #expect(storageGets(repo, since: mark).isEmpty, "no LFS object was downloaded")

        let human = Shell.msgit(["clone", "--dry-run", repo.url, parent + "/repo"], env: hub.env)
        #expect(human.status == 0 && human.stdout.contains("download    model.safetensors"), "\(human.output)")
        #expect(human.stdout.contains("LFS objects to download"), "\(human.stdout)")
    }

    @Test func lfsPullsDryRunTellsDownloadsFromPresentAndMatchesWhatThePullDoes() throws {
        let repo = try Fixtures.lfsModel("dry-lfs")
        let dir = Paths.scratch("dry-lfs") + "/repo"
        #expect(Shell.msgit(["clone", "-q", "-I", "model.safetensors", repo.url, dir], env: hub.env).status == 0)
        let before = try Files.treeDigest(dir)
        let mark = hub.logSize(hub.storage_access_log)
        let dry = Shell.msgit(["-C", dir, "lfs", "pull", "--dry-run", "--json"], env: hub.env)
        #expect(dry.status == 0, "\(dry.output)")
        let plan = try #require(try report(dry).plan)
        #expect(plan.files.first { $0.path == "model.safetensors" }?.action == "present")
        #expect(plan.files.filter { $0.action == "download" }.count == plan.files.count - 1, "\(plan.files)")
        #expect(plan.gitBytes == 0)
        #expect(try Files.treeDigest(dir) == before, "the work tree is as it was")
        #expect(storageGets(repo, since: mark).isEmpty, "no LFS object was downloaded")

        let pulled = Shell.msgit(["-C", dir, "lfs", "pull", "--json"], env: hub.env)
        #expect(pulled.status == 0, "\(pulled.output)")
        #expect(pulled.stdout.contains("\"objects_downloaded\":\(plan.objectsToDownload)"), "\(pulled.stdout)")
        let again = try #require(try report(Shell.msgit(["-C", dir, "lfs", "pull", "--dry-run", "--json"], env: hub.env)).plan)
        #expect(again.files.allSatisfy { $0.action == "present" } && again.objectsToDownload == 0, "\(again.files)")
    }

    @Test func aPullsDryRunFetchesButMovesNothing() throws {
        let repo = try Fixtures.lfsModel("dry-pull")
        let dir = Paths.scratch("dry-pull") + "/repo"
        #expect(Shell.msgit(["clone", "-q", repo.url, dir], env: hub.env).status == 0)
        let head = try Git.run(["rev-parse", "HEAD"], in: dir)
        try Fixtures.pushSecondVersion(repo)
        let before = try Files.treeDigest(dir)
        let dry = Shell.msgit(["-C", dir, "pull", "--dry-run", "--json"], env: hub.env)
        #expect(dry.status == 0, "\(dry.output)")
        let parsed = try report(dry)
        let plan = try #require(parsed.plan)
        #expect(Set(plan.files.map(\.path)) == ["model.safetensors", "weights/part-2.bin"], "\(plan.files)")
        #expect(plan.files.allSatisfy { $0.action == "download" })
        #expect(parsed.head == (try Git.run(["rev-parse", "origin/master"], in: dir)), "the plan is for the fetched tip")
        #expect(try Git.run(["rev-parse", "HEAD"], in: dir) == head, "the branch did not move")
        #expect(try Files.treeDigest(dir) == before, "the work tree is as it was")

        let pulled = Shell.msgit(["-C", dir, "pull", "--json"], env: hub.env)
        #expect(pulled.stdout.contains("\"objects_downloaded\":\(plan.objectsToDownload)"), "\(pulled.stdout)")
    }

    @Test(.enabled(if: getuid() == 0, "mounting a small file system needs root"))
    func aCloneThatWouldNotFitIsSaidToNotFit() throws {
        let repo = try Fixtures.lfsModel("dry-full", bigSize: 6 << 20)
        let mount = Paths.scratch("dry-tmpfs")
        let mounted = Shell.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", mount])
        try #require(mounted.status == 0, "\(mounted.output)")
        defer { _ = Shell.run(["umount", "-l", mount]) }
        let result = Shell.msgit(["clone", "--dry-run", "--json", repo.url, mount + "/repo"], env: hub.env)
        #expect(result.status == 0, "\(result.output)")
        let plan = try #require(try report(result).plan)
        #expect(!plan.fits && plan.bytesNeeded > (plan.bytesAvailable ?? .max), "\(plan.bytesNeeded) \(String(describing: plan.bytesAvailable))")
        let human = Shell.msgit(["clone", "--dry-run", repo.url, mount + "/repo"], env: hub.env)
        #expect(human.stdout.contains("more than the file system has free"), "\(human.stdout)")
    }
}

/// `mirror --dry-run`: per repository, what a run would fetch; no mirror changes, and the real run
/// then fetches exactly that.
@Suite struct MirrorDryRunTests {
    let hub = Hub.shared

    struct Line: Decodable {
        var url: String
        var status: String
        var refsChanged: Int
        /// A plan's; a run's line has `lfsObjects` instead.
        var lfsObjectsToDownload: Int?
        var lfsObjects: Int?
    }

    func lines(_ result: Shell.Result) throws -> [Line] {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return try result.stdout.split(separator: "\n").map { try decoder.decode(Line.self, from: Data($0.utf8)) }
    }

    @Test func aMirrorsDryRunIsWhatTheRunThenFetches() throws {
        let repo = try Fixtures.lfsModel("dry-mirror")
        let base = Paths.scratch("dry-mirror")
        let manifest = base + "/manifest.txt", into = base + "/mirrors"
        try Files.write(manifest, repo.url + "\n")
        let mirror = ["mirror", "--manifest", manifest, "--into", into, "--json"]

        // Nothing there yet: the whole history and every LFS object of it.
        let first = try lines(Shell.msgit(mirror + ["--dry-run"], env: hub.env))
        #expect(first.count == 1 && first[0].status == "ok" && first[0].refsChanged > 0, "\(first)")
        #expect(!FileManager.default.fileExists(atPath: into), "a dry run makes no mirror")
        let ran = try lines(Shell.msgit(mirror, env: hub.env))
        #expect(ran.first?.lfsObjects == first[0].lfsObjectsToDownload && (first[0].lfsObjectsToDownload ?? 0) > 0,
                "\(ran) \(first)")

        // Up to date: nothing to fetch.
        let refs = try Git.refs(into + "/" + (try #require(FileManager.default.subpathsOfDirectory(atPath: into)
            .first { $0.hasSuffix(".git") && !$0.contains(".git/") })))
        let idle = try lines(Shell.msgit(mirror + ["--dry-run"], env: hub.env))
        #expect(idle.first.map { ($0.refsChanged, $0.lfsObjectsToDownload ?? -1) } ?? (-1, -1) == (0, 0), "\(idle)")

        // A new version: its ref and its two new objects, and the mirror is not touched by the plan.
        try Fixtures.pushSecondVersion(repo)
        let next = try lines(Shell.msgit(mirror + ["--dry-run"], env: hub.env))
        #expect(next.first.map { ($0.refsChanged, $0.lfsObjectsToDownload ?? -1) } ?? (-1, -1) == (1, 2), "\(next)")
        let path = into + "/" + (try FileManager.default.subpathsOfDirectory(atPath: into)
            .first { $0.hasSuffix(".git") && !$0.contains(".git/") } ?? "")
        #expect(try Git.refs(path) == refs, "the dry run moved no ref of the mirror")
        let again = try lines(Shell.msgit(mirror, env: hub.env))
        #expect(again.first?.lfsObjects == 2 && again.first?.refsChanged == 1, "\(again)")
        let scratch = (try? FileManager.default.contentsOfDirectory(atPath: Paths.scratchRoot + "/tmp")) ?? []
        #expect(!scratch.contains { $0.hasPrefix("msgit-dry-run-") }, "temporary repositories are gone")
    }
}
