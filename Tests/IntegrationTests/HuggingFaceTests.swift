import Foundation
import LFS
import Testing

/// Issue 25: repositories from Hugging Face, the hub users mirror from, against a hub with its ways
/// (`HuggingFaceHub`): `hf:` short names with HF_ENDPOINT, URLs without ".git", HF_TOKEN and the
/// token file under HF_HOME, each token reaching only its own hub, and a mirror to the
/// ModelScope-like hub in one command.
@Suite struct HuggingFaceTests {
    let hf = HuggingFaceHub.shared
    let hub = Hub.shared

    // Marks are taken once the logs have settled: nginx writes a line after its answer, so a
    // fixture's last requests could land after a mark taken at once.

    /// Lines of `log` written since `mark` that are about repository `id`.
    func lines(_ log: String, since mark: UInt64, about id: String) -> [String] {
        hub.settledLogLines(log, since: mark).filter { $0.contains(id) }
    }

    /// The Authorization each line carried (`-` for none).
    func authorizations(_ lines: [String]) -> Set<String> {
        Set(lines.compactMap { line in
            line.range(of: "auth=\"").map { start in String(line[start.upperBound...].prefix { $0 != "\"" }) }
        })
    }

    /// Requests of the storage hosts since their marks about `id`, each without any credential.
    func expectStorageGotNoCredential(_ storageLines: [String], _ label: String) {
        #expect(!storageLines.isEmpty, "\(label): the objects came from the storage host")
        #expect(authorizations(storageLines) == ["-"], "\(label): \(storageLines)")
    }

    @Test func theLFSEndpointOfAURLWithoutDotGitIsGitLFSs() {
        #expect(Endpoint.resolve(remoteURL: "https://huggingface.co/org/name")?.absoluteString
            == "https://huggingface.co/org/name.git/info/lfs")
        #expect(Endpoint.resolve(remoteURL: "https://huggingface.co/datasets/org/name/")?.absoluteString
            == "https://huggingface.co/datasets/org/name.git/info/lfs")
    }

    @Test func aShortNameClonesAsGitAndGitLFSDoAndTheTokenStaysWithTheHub() throws {
        let id = HuggingFaceHub.id("hftest", "model")
        try hf.publishModel(id)
        let reference = try hf.gitLFSClone(id)
        let marks = (hub.settledLogSize(hf.git_access_log), hub.settledLogSize(hf.storage_access_log),
                     hub.settledLogSize(hub.git_access_log))
        let parent = Paths.scratch("hf-clone")
        let name = String(id.split(separator: "/").last!)
        let result = Shell.msgit(["clone", "hf:\(id)"], in: parent, env: hf.env(["HF_TOKEN": hf.token]))
        #expect(result.status == 0, "\(result.output)")
        #expect(result.stderr.contains("Cloning into '\(name)'"), "\(result.stderr)")
        let clone = parent + "/" + name
        #expect(try Files.sameTree(clone, reference), "the clone is git + git-lfs's")
        #expect(try Git.run(["config", "remote.origin.url"], in: clone) == hf.repoURL(id), "the URL as the hub shows it")
        #expect(try Git.refs(clone) == Git.refs(reference))

        let hubLines = lines(hf.git_access_log, since: marks.0, about: id)
        #expect(authorizations(hubLines).subtracting(["-"]) == [hf.basic(hf.token)], "only HF_TOKEN, as hf_user: \(hubLines)")
        #expect(hubLines.contains { $0.contains("/\(id).git/info/lfs/objects/batch") && $0.contains(hf.basic(hf.token)) },
                "the batch API at <url>.git/info/lfs, with the token")
        expectStorageGotNoCredential(lines(hf.storage_access_log, since: marks.1, about: id), "clone")
        #expect(hub.logLines(hub.git_access_log, since: marks.2).allSatisfy { !$0.contains(hf.basic(hf.token)) })
        #expect(!result.output.contains(hf.token))
    }

    @Test func theTokenFileUnderHFHomeIsFound() throws {
        let id = HuggingFaceHub.id("hftest", "tokenfile")
        try hf.publishModel(id)
        let home = Paths.scratch("hf-home")
        try Files.write(home + "/token", hf.token + "\n", mode: 0o600)
        let env = hf.env(["HF_HOME": home])

        let check = Shell.msgit(["auth", "check", "hf:\(id)"], env: env)
        #expect(check.status == 0, "\(check.output)")
        #expect(check.stdout.contains("read token:  from \(home)/token, user hf_user"), "\(check.stdout)")

        let mark = hub.settledLogSize(hf.git_access_log)
        let dir = Paths.scratch("hf-clone") + "/repo"
        let result = Shell.msgit(["clone", "hf:\(id)", dir], env: env)
        #expect(result.status == 0, "\(result.output)")
        #expect(try Files.sameTree(dir, hf.gitLFSClone(id)))
        #expect(authorizations(lines(hf.git_access_log, since: mark, about: id)).contains(hf.basic(hf.token)))

        // Without the file, nothing: the hub asks and msgit has no token to give.
        try FileManager.default.removeItem(atPath: home + "/token")
        let refused = Shell.msgit(["clone", "hf:\(id)", Paths.scratch("hf-clone") + "/repo"], env: env)
        #expect(refused.status == 3, "\(refused.output)")
    }

    @Test func hfTokenIsNotForAnotherHub() throws {
        let fixture = try Fixtures.standard("hf-elsewhere")
        let mark = hub.settledLogSize(hub.git_access_log)
        let env = hf.env(["HF_TOKEN": hf.token, "HF_HOME": Paths.scratch("hf-home")])
        let result = Shell.msgit(["clone", fixture.url, Paths.scratch("hf-elsewhere") + "/repo"], env: env)
        #expect(result.status == 3, "no token for this hub: \(result.output)")
        let seen = lines(hub.git_access_log, since: mark, about: fixture.name)
        #expect(!seen.isEmpty)
        #expect(authorizations(seen) == ["-"], "\(seen)")
        #expect(!result.output.contains(hf.token))
    }

    @Test func aMirrorFromHuggingFaceToTheOtherHubInOneCommand() throws {
        let id = HuggingFaceHub.id("hfmirror", "model")
        try hf.publishModel(id)
        // Hugging Face's default branch is main; the target's HEAD follows it, as a mirror push
        // cannot move it.
        try hub.createBare(id, head: "main")
        let list = Paths.scratch("hf-manifest") + "/hf.txt"
        try Files.write(list, "# from Hugging Face\nhf:\(id)\n")
        let root = Paths.scratch("hf-mirrors")
        let reportPath = Paths.scratch("hf-report") + "/report.jsonl"
        let marks = (hub.settledLogSize(hf.git_access_log), hub.settledLogSize(hf.storage_access_log),
                     hub.settledLogSize(hub.git_access_log), hub.settledLogSize(hub.storage_access_log))

        let run = Shell.msgit(["mirror", "--manifest", list, "--into", root, "--push-to", "\(hub.url)/{ns}/{name}.git",
                               "--report", reportPath],
                              env: hf.env(["HF_TOKEN": hf.token, "MSGIT_PUSH_TOKEN": hub.token]))
        #expect(run.status == 0, "\(run.output)")
        let hfLines = lines(hf.git_access_log, since: marks.0, about: id)
        let hubLines = lines(hub.git_access_log, since: marks.2, about: id)
        let storageLines = (lines(hf.storage_access_log, since: marks.1, about: id),
                            lines(hub.storage_access_log, since: marks.3, about: id))
        let report = try #require(try JSONSerialization.jsonObject(with: Data(Files.read(reportPath).utf8)) as? [String: Any])
        #expect(report["url"] as? String == hf.repoURL(id))
        #expect(report["pushed_to"] as? String == hub.repoURL(id))
        let port = hf.url.split(separator: ":").last!
        #expect(FileManager.default.fileExists(atPath: "\(root)/127.0.0.4_\(port)/\(id).git/HEAD"), "the mirror's place")

        // Everything arrived: every ref, every LFS object of the history, a clone equal to the source's.
        #expect(try Git.refs(hub.bareRepoPath(id)) == Git.refs(hf.bareRepoPath(id)))
        let oids = try MirrorTests.lfsOIDs(inBare: hf.bareRepoPath(id))
        #expect(oids.count == 4)
        for oid in oids {
            #expect(FileManager.default.fileExists(atPath: Fixtures.storagePath(oid, repo: id)), "\(oid)")
        }
        #expect(try Files.sameTree(Fixtures.gitLFSClone(hub.repoURL(id)), hf.gitLFSClone(id)))

        // Each token reached its own hub only, and no storage host got either (the lines were
        // read before the reference clones, which authenticate as users of their own).
        let hubBasic = "Basic " + Data("oauth2:\(hub.token)".utf8).base64EncodedString()
        #expect(authorizations(hfLines).subtracting(["-"]) == [hf.basic(hf.token)], "\(hfLines)")
        #expect(authorizations(hubLines).contains(hubBasic), "\(hubLines)")
        #expect(!authorizations(hubLines).contains(hf.basic(hf.token)), "\(hubLines)")
        #expect(authorizations(hubLines).allSatisfy { $0 == "-" || $0 == hubBasic || $0.hasPrefix("Bearer ") },
                "the target's token, or the LFS server's own for its verify action: \(hubLines)")
        expectStorageGotNoCredential(storageLines.0, "source storage")
        expectStorageGotNoCredential(storageLines.1, "target storage")
        #expect(!run.output.contains(hf.token) && !run.output.contains(hub.token))
    }
}
