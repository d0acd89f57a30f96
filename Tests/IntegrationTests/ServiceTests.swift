import Foundation
import MSGit
import Testing

/// Issue 24: the library as a long-running service uses it, in one process.
@Suite struct ServiceTests {
    let hub = Hub.shared

    /// Every operation twice on the same paths, which are deleted (first round) or moved away
    /// (second) in between, as a service reuses paths all day. A process-wide cache of directories
    /// already made once left every LFS file of the second clone a pointer, with success.
    @Test func everyOperationRunsTwiceOnReusedPaths() async throws {
        let client = GitClient(credentials: .token(hub.token), writeCredentials: nil)
        let repo = try Fixtures.lfsModel("reuse")
        let base = Paths.scratch("reuse")
        let dir = URL(fileURLWithPath: base + "/repo"), pointers = URL(fileURLWithPath: base + "/pointers")
        let mirrors = URL(fileURLWithPath: base + "/mirrors"), folder = base + "/folder"
        let uploadTarget = Fixtures.name("reuse-upload")
        for round in 0..<2 {
            let label = "round \(round)"
            let lfsFiles = repo.lfsFiles.count + round  // each round pushes one more
            let reference = try Fixtures.gitLFSClone(repo.url)

            let cloned = try await client.clone(repo.url, into: dir)
            #expect(cloned.lfs.filesResolved == lfsFiles && cloned.lfs.failures.isEmpty, "\(label): \(cloned.lfs)")
            #expect(try Files.sameTree(dir.path, reference), "\(label): clone")

            let back = try await client.checkout("HEAD~1", in: dir)
            #expect(back.branch == nil, "\(label)")
            let forth = try await client.checkout("master", in: dir)
            #expect(forth.branch == "master" && forth.lfs.failures.isEmpty, "\(label): \(String(describing: forth.lfs))")
            let pulled = try await client.pull(in: dir)
            #expect(pulled.upToDate, "\(label)")
            #expect(try Files.sameTree(dir.path, reference), "\(label): after checkout and pull")

            let bare = try await client.clone(repo.url, into: pointers, lfs: LFSOptions(enabled: false))
            #expect(bare.lfs.filesResolved == 0, "\(label)")
            let pulledLFS = try await client.lfsPull(in: pointers)
            #expect(pulledLFS.lfs.filesResolved == lfsFiles, "\(label): \(pulledLFS.lfs)")
            #expect(try Files.sameTree(pointers.path, reference), "\(label): lfs pull")

            try Git.configureIdentity(dir.path)
            try Files.writeRandom(dir.path + "/weights/round-\(round).bin", size: 64 << 10, seed: UInt64(900 + round))
            try Git.commitAll(dir.path, "Round \(round)")
            let pushed = try await client.push(in: dir)
            #expect(pushed.lfsUploadedObjects == 1, "\(label): \(pushed)")

            try? FileManager.default.removeItem(atPath: folder)
            try Files.writeRandom(folder + "/checkpoint-\(round).safetensors", size: 2 << 20, seed: UInt64(910 + round))
            try hub.createBare(uploadTarget)
            let uploaded = try await client.upload(folder: URL(fileURLWithPath: folder), to: hub.repoURL(uploadTarget))
            #expect(uploaded.lfsUploadedObjects == 1, "\(label): \(uploaded)")

            let mirrored = await client.mirror([repo.url], into: mirrors)
            #expect(mirrored.map(\.status) == [.mirrored], "\(label): \(mirrored)")
            #expect(try Git.refs(MirrorTests.mirrorPath(repo.name, in: mirrors.path)) == Git.refs(hub.bareRepoPath(repo.name)),
                    "\(label)")

            for path in [dir, pointers, mirrors] {
                if round == 0 {
                    try FileManager.default.removeItem(at: path)
                } else {
                    try FileManager.default.moveItem(at: path, to: path.appendingPathExtension("moved"))
                }
            }
        }
    }
}

extension ServiceTests {
    /// Twenty clones at once with one client: their LFS downloads from one storage host share the
    /// client's per-host limit (64), where each operation's own client had allowed 8-64 each.
    @Test func operationsAtOnceShareTheClientsConnectionsToAHost() async throws {
        let fault = FaultServer.shared
        let tag = "shared-\(UUID().uuidString.prefix(8))"
        let repo = try Fixtures.lfsWithEndpoint("\(fault.url)/lfs/delayed100-\(tag)/x.git/info/lfs", small: 12)
        let client = GitClient(credentials: .token(hub.token), writeCredentials: nil)
        let base = Paths.scratch("shared")
        let mark = fault.logSize
        let results = try await withThrowingTaskGroup(of: CloneResult.self) { group in
            for i in 0..<20 {
                group.addTask {
                    try await client.clone(repo.url, into: URL(fileURLWithPath: base + "/repo-\(i)"))
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        // The delayed host serves content that is not the objects': every file fails, after its
        // download reached the host.
        #expect(results.count == 20 && results.allSatisfy { $0.lfs.failures.count == 13 })
        let downloads = fault.requests(since: mark).filter { $0.path.contains("/delayed/\(tag)/") }
        let peak = downloads.compactMap(\.inflight).max() ?? 0
        #expect(downloads.count >= 20 * 13, "\(downloads.count) downloads")
        #expect(peak > 8, "more than one operation's first 8 at once: \(peak)")
        #expect(peak <= 64, "no more at once than the client allows one host: \(peak)")
    }

    @Test func shutdownEndsWhatTheClientRunsAndRefusesMore() async throws {
        let fault = FaultServer.shared
        let client = GitClient(credentials: .token(hub.token), writeCredentials: nil)
        let base = Paths.scratch("shutdown")
        let stalled = Task {
            try await client.clone("\(fault.url)/stall/ns/shutdown.git", into: URL(fileURLWithPath: base + "/stalled"))
        }
        try await Task.sleep(for: .milliseconds(500))
        client.shutdown()
        do {
            _ = try await stalled.value
            Issue.record("a clone under way at shutdown succeeded")
        } catch let error as MSGitError {
            #expect(error.kind == .cancelled, "\(error)")
        }
        #expect(!FileManager.default.fileExists(atPath: base + "/stalled"), "it cleaned up")
        let fixture = try Fixtures.standard("after-shutdown")
        do {
            _ = try await client.clone(fixture.url, into: URL(fileURLWithPath: base + "/after"))
            Issue.record("a clone after shutdown ran")
        } catch {
            #expect(error.kind == .cancelled && error.message.contains("shut down"), "\(error)")
        }
        // A copy shares the client's resources; a new client does not.
        var copy = client
        copy.timeouts = Timeouts(connect: .seconds(5), idle: .seconds(5))
        await #expect(throws: MSGitError.self) { _ = try await copy.clone(fixture.url, into: URL(fileURLWithPath: base + "/copy")) }
        let fresh = GitClient(credentials: .token(hub.token), writeCredentials: nil)
        let cloned = try await fresh.clone(fixture.url, into: URL(fileURLWithPath: base + "/fresh"))
        #expect(cloned.head != nil)
    }
}
