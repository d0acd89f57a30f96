import Foundation
import MSGit
import Synchronization
import Testing

/// Issue 24: events per file. Each LFS file an operation moves is told, in order: queued, bytes,
/// done (or failed), or skipped; a slow consumer stalls no transfer; the command line writes them
/// as git-lfs writes GIT_LFS_PROGRESS, and as JSON lines.
@Suite struct EventTests {
    let hub = Hub.shared

    final class Collected: Sendable {
        let events = Mutex<[LFSEvent]>([])
        var all: [LFSEvent] { events.withLock { $0 } }
        var handler: LFSEventHandler { { [self] event in events.withLock { $0.append(event) } } }
        func of(_ path: String) -> [LFSEvent.Kind] { all.filter { $0.path == path }.map(\.kind) }
    }

    /// Every file's events as the contract says: queued first, bytes that only grow up to its size,
    /// done last; nothing after done.
    func expectLifecycle(_ kinds: [LFSEvent.Kind], size: Int64, _ label: String) {
        guard case .queued(_, let queuedSize)? = kinds.first else {
            Issue.record("\(label): does not start queued: \(kinds)")
            return
        }
        #expect(queuedSize == size, "\(label)")
        #expect(kinds.last == .done, "\(label): \(kinds)")
        var last: Int64 = -1
        for kind in kinds.dropFirst().dropLast() {
            guard case .bytes(let done, let total) = kind else {
                Issue.record("\(label): \(kind) between queued and done")
                continue
            }
            #expect(done >= last && done <= total && total == size, "\(label): \(kinds)")
            last = done
        }
    }

    @Test func aCloneAndALaterPullTellEveryFile() async throws {
        let repo = try Fixtures.lfsModel("events")
        let client = GitClient(credentials: .token(hub.token), writeCredentials: nil)
        let dir = URL(fileURLWithPath: Paths.scratch("events") + "/repo")
        let cloned = Collected()
        _ = try await client.clone(repo.url, into: dir, lfs: LFSOptions(exclude: ["*.onnx"]),
                                   events: cloned.handler)
        for (path, size) in repo.lfsFiles where path != "onnx/model.onnx" {
            expectLifecycle(cloned.of(path), size: Int64(size), path)
        }
        #expect(cloned.of("onnx/model.onnx") == [.skipped(.excluded)])
        #expect(cloned.all.allSatisfy { $0.direction == .download })

        // Now the excluded file comes, and the others are there already.
        let pulled = Collected()
        _ = try await client.lfsPull(in: dir, events: pulled.handler)
        expectLifecycle(pulled.of("onnx/model.onnx"), size: Int64(repo.lfsFiles["onnx/model.onnx"]!), "onnx/model.onnx")
        for path in repo.lfsFiles.keys where path != "onnx/model.onnx" {
            #expect(pulled.of(path) == [.skipped(.present)], "\(path): \(pulled.of(path))")
        }
    }

    /// A mirror tells each file of the refs it mirrors, with the entry it belongs to; a rerun with
    /// nothing new tells nothing.
    @Test func aMirrorTellsEveryFileWithItsRepository() async throws {
        let repo = try Fixtures.lfsModel("events-mirror")
        let client = GitClient(credentials: .token(hub.token), writeCredentials: nil)
        let root = URL(fileURLWithPath: Paths.scratch("events-mirror"))
        let seen = Mutex<[(String, LFSEvent)]>([])
        let results = await client.mirror([repo.url], into: root, options: MirrorOptions(sharedLFSStorage: false),
                                          events: { entry, event in seen.withLock { $0.append((entry, event)) } })
        #expect(results.map(\.status) == [.mirrored], "\(results)")
        let all = seen.withLock { $0 }
        #expect(all.allSatisfy { $0.0 == repo.url })
        // A mirror moves objects and names each by a path of the mirrored refs that holds it:
        // weights/part-1.bin and weights/copy-of-part-1.bin are one blob, told once. (An empty
        // file is an empty blob, not a pointer: nothing to mirror.)
        let told = Set(all.map(\.1.path))
        #expect(told.count == repo.lfsFiles.filter { $0.value > 0 }.count - 1, "\(told.sorted())")
        for (path, size) in repo.lfsFiles where told.contains(path) {
            expectLifecycle(all.filter { $0.1.path == path }.map(\.1.kind), size: Int64(size), path)
        }
        seen.withLock { $0 = [] }
        let again = await client.mirror([repo.url], into: root, options: MirrorOptions(sharedLFSStorage: false),
                                        events: { entry, event in seen.withLock { $0.append((entry, event)) } })
        #expect(again.map(\.status) == [.mirrored])
        #expect(seen.withLock { $0.isEmpty }, "a rerun with nothing new: \(seen.withLock { $0.map(\.1) })")
    }

    @Test func aSlowConsumerStallsNoTransfer() async throws {
        // The handler holds its first event until every object is in the store: were the transfers
        // waiting for the handler, the clone could not end.
        let repo = try Fixtures.lfsModel("events-slow")
        let client = GitClient(credentials: .token(hub.token), writeCredentials: nil)
        let dir = Paths.scratch("events-slow") + "/repo"
        let oids = try repo.lfsFiles.keys.map { try Fixtures.oid(of: $0, in: repo.worktree) }
        let seen = Collected()
        let held = Mutex(false)
        _ = try await client.clone(repo.url, into: URL(fileURLWithPath: dir), events: { event in
            if !held.withLock({ $0 }) {
                held.withLock { $0 = true }
                while !oids.allSatisfy({ FileManager.default.fileExists(
                    atPath: "\(dir)/.git/lfs/objects/\($0.prefix(2))/\($0.dropFirst(2).prefix(2))/\($0)") }) {
                    try? await Task.sleep(for: .milliseconds(20))
                }
            }
            await seen.handler(event)
        })
        for (path, size) in repo.lfsFiles { expectLifecycle(seen.of(path), size: Int64(size), path) }
    }

    @Test func aPushTellsEveryFileItUploads() async throws {
        let fixture = try Fixtures.standard("events-push")
        let client = GitClient(credentials: .token(hub.token), writeCredentials: nil)
        let dir = Paths.scratch("events-push") + "/repo"
        _ = try await client.clone(fixture.url, into: URL(fileURLWithPath: dir))
        try Git.configureIdentity(dir)
        try Git.run(["lfs", "install", "--local"], in: dir)
        try Files.write(dir + "/.gitattributes", "*.bin filter=lfs diff=lfs merge=lfs -text\n")
        try Files.writeRandom(dir + "/a.bin", size: 300_000, seed: 41)
        try Files.writeRandom(dir + "/b.bin", size: 200_000, seed: 42)
        try Git.commitAll(dir, "Weights")
        let pushed = Collected()
        _ = try await client.push(in: URL(fileURLWithPath: dir), events: pushed.handler)
        expectLifecycle(pushed.of("a.bin"), size: 300_000, "a.bin")
        expectLifecycle(pushed.of("b.bin"), size: 200_000, "b.bin")
        #expect(pushed.all.allSatisfy { $0.direction == .upload })
    }

    /// `<direction> <n>/<files> <done>/<total> <path>` lines, by path: the last of each.
    static func progressLines(_ text: String) -> [String: (direction: String, n: Int, files: Int, done: Int, total: Int)] {
        var last: [String: (String, Int, Int, Int, Int)] = [:]
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: " ", maxSplits: 3)
            guard fields.count == 4, fields[0] == "download" else { continue }
            let place = fields[1].split(separator: "/").compactMap { Int($0) }
            let bytes = fields[2].split(separator: "/").compactMap { Int($0) }
            guard place.count == 2, bytes.count == 2 else { continue }
            last[String(fields[3])] = (String(fields[0]), place[0], place[1], bytes[0], bytes[1])
        }
        return last
    }

    @Test func gitLFSProgressLinesAreGitLFSs() throws {
        let repo = try Fixtures.lfsModel("events-progress")
        // git-lfs's own lines for a pull of the same files.
        let gitDir = Paths.scratch("events-git") + "/repo"
        try Git.run(["clone", "-q", repo.url, gitDir], hub: hub, env: ["GIT_LFS_SKIP_SMUDGE": "1"])
        let gitLog = Paths.scratch("events-git") + "/progress.txt"
        try Git.run(["lfs", "pull"], in: gitDir, hub: hub, env: ["GIT_LFS_PROGRESS": gitLog])
        let dir = Paths.scratch("events-msgit") + "/repo"
        #expect(Shell.msgit(["clone", "-q", "--no-lfs", repo.url, dir], env: hub.env).status == 0)
        let log = Paths.scratch("events-msgit") + "/progress.txt"
        let json = Paths.scratch("events-msgit") + "/events.jsonl"
        let pulled = Shell.msgit(["-C", dir, "lfs", "pull", "--lfs-events", json], env: hub.env.merging(["GIT_LFS_PROGRESS": log]) { $1 })
        #expect(pulled.status == 0, "\(pulled.output)")

        // Both name each object once, by one of its files (which one may differ: git-lfs also
        // fetches pointers without filter=lfs); the same objects, each to its whole size, of as many.
        func byObject(_ lines: [String: (direction: String, n: Int, files: Int, done: Int, total: Int)]) throws
            -> [String: (done: Int, total: Int, files: Int)] {
            var objects: [String: (Int, Int, Int)] = [:]
            for (path, line) in lines { objects[try Fixtures.oid(of: path, in: repo.worktree)] = (line.done, line.total, line.files) }
            return objects
        }
        let theirs = try byObject(Self.progressLines(Files.read(gitLog)))
        let ours = try byObject(Self.progressLines(Files.read(log)))
        #expect(!theirs.isEmpty && Set(ours.keys) == Set(theirs.keys), "\(ours.keys) against \(theirs.keys)")
        for (oid, line) in theirs {
            guard let mine = ours[oid] else { continue }
            #expect(mine.done == mine.total && mine.total == line.total && line.done == line.total, "\(oid)")
            #expect(mine.files == line.files, "\(oid): \(mine.files) objects against git-lfs's \(line.files)")
        }
        #expect(Files.read(log).split(separator: "\n").allSatisfy { line in
            line.range(of: #"^(download|checkout) \d+/\d+ \d+/\d+ .+$"#, options: .regularExpression) != nil
        }, "\(Files.read(log))")
        // One JSON object a line, one done per file.
        let objects = Files.read(json).split(separator: "\n").compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
        let done = Set(objects.filter { $0["event"] as? String == "done" }.compactMap { $0["path"] as? String })
        #expect(done == Set(repo.lfsFiles.keys), "\(done)")
    }
}
