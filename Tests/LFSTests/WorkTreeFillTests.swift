import Crypto
import Foundation
import HTTP
import Logging
import Synchronization
import Testing
@testable import LFS

/// The fill of a work tree's LFS files, with no server: objects come from the repository's store,
/// and whatever is missing from it fails without an endpoint (or against a closed port). The
/// network half is the integration tests' (EventTests, TrustTests, KillTests).
@Suite struct WorkTreeFillTests {
    final class Events: Sendable {
        let list = Mutex<[LFSEvent]>([])
        var all: [LFSEvent] { list.withLock { $0 } }
        func of(_ path: String) -> [LFSEvent.Kind] { all.filter { $0.path == path }.map(\.kind) }
    }

    struct Repo {
        var root: URL
        var gitDirectory: URL { root.appendingPathComponent(".git") }
        var store: ObjectStore { ObjectStore(gitDirectory: gitDirectory) }

        init() throws {
            root = FileManager.default.temporaryDirectory.appendingPathComponent("msgit-fill-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: root.appendingPathComponent(".git"), withIntermediateDirectories: true)
        }

        /// An object of `content` in the store (when `stored`), and its file.
        func object(_ path: String, _ content: String, stored: Bool = true) throws -> LFSFile {
            let data = Data(content.utf8)
            let pointer = try #require(Pointer(oid: SHA256.hash(data: data).hexString, size: Int64(data.count)))
            if stored {
                let (scratch, fd) = try store.createScratch("object")
                _ = data.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
                close(fd)
                try store.insert(scratch.name, in: scratch.directory, for: pointer)
            }
            return LFSFile(path: path, pointer: pointer)
        }

        func write(_ path: String, _ data: Data) throws {
            let url = root.appendingPathComponent(path)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try data.write(to: url)
        }

        func read(_ path: String) -> String? {
            FileManager.default.contents(atPath: root.appendingPathComponent(path).path).map { String(decoding: $0, as: UTF8.self) }
        }
    }

    func fill(_ repo: Repo, _ files: [LFSFile], excluded: [String] = [], unrefreshed: Set<String> = [],
              endpoint: URL? = nil, events: LFSEvents? = nil) -> WorkTreeFill {
        WorkTreeFill(root: repo.root, gitDirectory: repo.gitDirectory, files: files, excludedPaths: excluded,
                     unrefreshed: unrefreshed, endpoint: endpoint, scope: nil,
                     pool: TransferPool(idleTimeout: .seconds(5), connectTimeout: .seconds(5)),
                     logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }), events: events)
    }

    @Test func everyFileIsToldItsFateAndStoredObjectsArePlaced() async throws {
        let repo = try Repo()
        let a = try repo.object("a.bin", "alpha\n")
        let b = try repo.object("dir/b.bin", "beta\n")
        let missing = try repo.object("c.bin", "gamma\n", stored: false)
        let present = try repo.object("d.bin", "delta\n")
        let extended = LFSFile(path: "e.bin", pointer: try #require(Pointer(Data("""
            version https://git-lfs.github.com/spec/v1
            ext-0-foo sha256:\(String(repeating: "1", count: 64))
            oid sha256:\(String(repeating: "2", count: 64))
            size 3

            """.utf8))))
        for file in [a, b, missing, extended] { try repo.write(file.path, file.pointer.data) }
        try repo.write(present.path, Data("delta\n".utf8))

        let collected = Events()
        let events = LFSEvents { event in collected.list.withLock { $0.append(event) } }
        let outcome = try await fill(repo, [a, b, missing, present, extended], excluded: ["x.bin"], events: events).run()
        await events.finish()

        #expect(repo.read("a.bin") == "alpha\n")
        #expect(repo.read("dir/b.bin") == "beta\n")
        #expect(repo.read("c.bin") == String(decoding: missing.pointer.data, as: UTF8.self), "a missing object keeps its pointer")
        #expect(outcome.placed == ["a.bin", "dir/b.bin"])
        #expect(outcome.failures.map(\.path) == ["c.bin", "e.bin"])
        #expect(outcome.failures[0].reason == "no LFS endpoint")
        #expect(outcome.failures[1].reason.contains("LFS extension ext-0-foo"))
        #expect((outcome.files, outcome.excluded, outcome.objectsDownloaded) == (5, 1, 0))

        guard case .queued(let oid, 6)? = collected.of("a.bin").first else {
            Issue.record("a.bin does not start queued: \(collected.of("a.bin"))")
            return
        }
        #expect(oid == a.pointer.oid)
        #expect(collected.of("a.bin").last == .done)
        #expect(collected.of("c.bin").last == .failed(reason: "no LFS endpoint"))
        #expect(collected.of("d.bin") == [.skipped(.present)])
        #expect(collected.of("x.bin") == [.skipped(.excluded)])
        if case .failed? = collected.of("e.bin").last {} else { Issue.record("e.bin: \(collected.of("e.bin"))") }
    }

    @Test func aLinkAtAFilesPathIsAFailureNotAWrite() async throws {
        let repo = try Repo()
        let a = try repo.object("a.bin", "alpha\n")
        let outside = repo.root.deletingLastPathComponent().appendingPathComponent("outside-\(UUID().uuidString)")
        try a.pointer.data.write(to: outside)
        try FileManager.default.createSymbolicLink(atPath: repo.root.appendingPathComponent("a.bin").path,
                                                   withDestinationPath: outside.path)
        let outcome = try await fill(repo, [a]).run()
        #expect(outcome.placed.isEmpty)
        #expect(outcome.failures.map(\.path) == ["a.bin"])
        #expect(try Data(contentsOf: outside) == a.pointer.data, "nothing written through the link")
    }

    @Test func contentAKilledRunPlacedIsVerifiedNotFetched() async throws {
        let repo = try Repo()
        let good = try repo.object("good.bin", "right\n", stored: false)
        let bad = try repo.object("bad.bin", "right\n", stored: false)
        try repo.write("good.bin", Data("right\n".utf8))
        try repo.write("bad.bin", Data("wrong\n".utf8))
        let outcome = try await fill(repo, [good, bad], unrefreshed: ["good.bin", "bad.bin"]).run()
        #expect(outcome.verified == ["good.bin"])
        #expect(outcome.settled == ["good.bin"])
    }

    @Test func anEarlyFillPlacesNothingBeforeTheGateAndOnlyPointersAfter() async throws {
        let repo = try Repo()
        let a = try repo.object("a.bin", "alpha\n")
        let b = try repo.object("b.bin", "beta\n")
        let early = EarlyFill()
        early.start(fill(repo, [a, b]))
        // The checkout writes a's pointer, and b as something else (a user's own file).
        try repo.write("a.bin", a.pointer.data)
        try repo.write("b.bin", Data("mine\n".utf8))
        let outcome = try #require(try await early.finish())
        #expect(outcome.placed == ["a.bin"])
        #expect(repo.read("a.bin") == "alpha\n")
        #expect(repo.read("b.bin") == "mine\n")
    }

    @Test func anAbandonedEarlyFillWritesNothing() async throws {
        let repo = try Repo()
        let a = try repo.object("a.bin", "alpha\n")
        let early = EarlyFill()
        early.start(fill(repo, [a]))
        try repo.write("a.bin", a.pointer.data)
        await early.abandon()
        #expect(repo.read("a.bin") == String(decoding: a.pointer.data, as: UTF8.self))
    }

    @Test func aGateOpensOnceWithTheFirstOutcome() async {
        let gate = CheckoutGate()
        #expect(!gate.isOpen)
        async let waited = gate.wait()
        gate.open(checkedOut: false)
        gate.open(checkedOut: true)
        #expect(await waited == false)
        #expect(await gate.wait() == false)
    }
}
