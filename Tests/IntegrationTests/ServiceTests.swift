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

            let bare = try await client.clone(repo.url, into: pointers, options: CloneOptions(lfs: LFSOptions(enabled: false)))
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
            #expect(mirrored.map(\.status) == [.ok], "\(label): \(mirrored)")
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
