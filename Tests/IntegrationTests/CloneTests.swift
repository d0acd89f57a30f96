import Foundation
import MSGit
import Testing

/// `msgit clone` against the local hub, with `git clone` as the reference.
@Suite struct CloneTests {
    let hub = Hub.shared

    @Test func cloneEqualsGitClone() throws {
        let fixture = try Fixtures.standard("clone")
        let reference = try Fixtures.gitClone(fixture.url)
        let dir = Paths.scratch("clone") + "/repo"

        let result = Shell.msgit(["clone", fixture.url, dir], env: hub.env)
        #expect(result.status == 0, "\(result.output)")
        // Not a terminal: one line per finished phase, with the final numbers.
        #expect(result.stderr.contains("Receiving objects: 100%"), "\(result.stderr)")
        #expect(result.stderr.contains("Updating files: 100% (5/5)"), "\(result.stderr)")

        #expect(try Git.run(["rev-parse", "HEAD"], in: dir) == Git.run(["rev-parse", "HEAD"], in: reference))
        #expect(try Git.run(["symbolic-ref", "HEAD"], in: dir) == "refs/heads/master")
        #expect(try Git.refs(dir) == Git.refs(reference))
        // Same index entries (modes and blob ids) and the same files, modes and symlinks on disk.
        #expect(try Git.run(["ls-files", "-s"], in: dir) == Git.run(["ls-files", "-s"], in: reference))
        #expect(try Files.sameTree(dir, reference))
        #expect(try Git.run(["status", "--porcelain"], in: dir) == "")
        #expect(try Git.run(["config", "branch.master.remote"], in: dir) == "origin")
        #expect(try Git.run(["config", "branch.master.merge"], in: dir) == "refs/heads/master")
        #expect(try Git.run(["symbolic-ref", "refs/remotes/origin/HEAD"], in: dir) == "refs/remotes/origin/master")
        try Git.run(["fsck", "--strict"], in: dir)
    }

    @Test func cloneBranchAndTag() throws {
        let fixture = try Fixtures.standard("branch")
        let dir = Paths.scratch("clone") + "/repo"
        let result = Shell.msgit(["clone", "-q", "--branch", "dev", fixture.url, dir], env: hub.env)
        #expect(result.status == 0, "\(result.output)")
        #expect(result.stderr.isEmpty, "quiet prints nothing: \(result.stderr)")
        #expect(try Git.run(["symbolic-ref", "HEAD"], in: dir) == "refs/heads/dev")
        #expect(FileManager.default.fileExists(atPath: dir + "/dev.txt"))

        let tagDir = Paths.scratch("clone") + "/repo"
        let tagged = Shell.msgit(["clone", "-b", "v1.0", fixture.url, tagDir], env: hub.env)
        #expect(tagged.status == 0, "\(tagged.output)")
        #expect(Shell.run(["git", "symbolic-ref", "-q", "HEAD"], in: tagDir).status != 0, "a tag leaves HEAD detached")
        #expect(try Git.run(["rev-parse", "HEAD"], in: tagDir) == Git.run(["rev-parse", "v1.0^{commit}"], in: fixture.worktree))
    }

    @Test func bareCloneEqualsGitBareClone() throws {
        let fixture = try Fixtures.standard("bare")
        let reference = try Fixtures.gitClone(fixture.url, ["--bare"])
        let dir = Paths.scratch("clone") + "/repo.git"
        let result = Shell.msgit(["clone", "--bare", fixture.url, dir], env: hub.env)
        #expect(result.status == 0, "\(result.output)")
        #expect(try Git.refs(dir) == Git.refs(reference))
        #expect(try Git.run(["rev-parse", "--is-bare-repository"], in: dir) == "true")
        #expect(try Git.run(["symbolic-ref", "HEAD"], in: dir) == "refs/heads/master")
        try Git.run(["fsck", "--strict"], in: dir)
    }

    @Test func remoteHEADNamingAMissingBranchStillClones() throws {
        // ModelScope's default branch is master; repositories pushed with only `main` keep a HEAD
        // that names nothing. libgit2 1.5.1 cannot clone them by itself.
        let fixture = try Fixtures.standard("nohead", head: "main")
        try Git.run(["symbolic-ref", "HEAD", "refs/heads/master"], in: hub.bareRepoPath(fixture.name))
        let dir = Paths.scratch("clone") + "/repo"
        let result = Shell.msgit(["clone", fixture.url, dir], env: hub.env)
        #expect(result.status == 0, "\(result.output)")
        #expect(try Git.run(["symbolic-ref", "HEAD"], in: dir) == "refs/heads/main")
        #expect(try Git.run(["rev-parse", "HEAD"], in: dir) == Git.run(["rev-parse", "main"], in: fixture.worktree))
        #expect(try Git.run(["status", "--porcelain"], in: dir) == "")
    }

    @Test func emptyRepositoryClonesWithAWarning() throws {
        let name = Fixtures.name("empty")
        try hub.createBare(name)
        let dir = Paths.scratch("clone") + "/repo"
        let result = Shell.msgit(["clone", hub.repoURL(name), dir], env: hub.env)
        #expect(result.status == 0, "\(result.output)")
        #expect(result.stderr.contains("empty repository"))
        #expect(try Git.run(["symbolic-ref", "HEAD"], in: dir) == "refs/heads/master")
    }

    @Test func tokenInURLWorksButIsNeverStoredOrPrinted() throws {
        let fixture = try Fixtures.standard("userinfo")
        let withToken = fixture.url.replacingOccurrences(of: "http://", with: "http://oauth2:\(hub.token)@")
        let dir = Paths.scratch("clone") + "/repo"
        let result = Shell.msgit(["clone", "-vvv", withToken, dir])
        #expect(result.status == 0, "\(result.output)")
        #expect(!result.output.contains(hub.token))
        #expect(result.stderr.contains("visible to other users"), "warns about the token in the URL")
        #expect(try Git.run(["config", "remote.origin.url"], in: dir) == fixture.url)
        let config = Files.read(dir + "/.git/config")
        #expect(!config.contains(hub.token) && !config.contains("oauth2@"))
        // Nothing msgit wrote under .git holds the token.
        let grep = Shell.run(["grep", "-rl", hub.token, dir + "/.git"])
        #expect(grep.stdout.isEmpty, "token found in \(grep.stdout)")
    }

    /// A fresh clone leaves libgit2's checkout filters off only when nothing can ask for a
    /// conversion (ContentConversion). Where attributes do ask, in the root and in a subdirectory,
    /// or core.autocrlf does, the files must come out as git writes them.
    @Test func contentConversionsAreAppliedAsGitAppliesThem() throws {
        let work = Paths.scratch("fixture")
        try Git.initRepo(work)
        try Files.write(work + "/.gitattributes", "*.txt text eol=crlf\n*.bin -text\n")
        try Files.write(work + "/src/.gitattributes", "*.c ident\n")
        try Files.write(work + "/notes.txt", "one\ntwo\n")
        try Files.write(work + "/data.bin", "raw\nbytes\n")
        try Files.write(work + "/src/main.c", "/* $Id$ */\nint x;\n")
        try Files.write(work + "/plain.md", "not\nconverted\n")
        try Git.commitAll(work, "attributes that convert")
        let url = try hub.publish(work, as: Fixtures.name("eol"))

        let reference = try Fixtures.gitClone(url)
        let dir = Paths.scratch("clone") + "/repo"
        let result = Shell.msgit(["clone", "-q", url, dir], env: hub.env)
        #expect(result.status == 0, "\(result.output)")
        #expect(Files.read(dir + "/notes.txt") == "one\r\ntwo\r\n")
        #expect(Files.read(dir + "/src/main.c").hasPrefix("/* $Id: "))
        #expect(Files.read(dir + "/plain.md") == "not\nconverted\n")
        #expect(try Files.sameTree(dir, reference))
        #expect(try Git.run(["status", "--porcelain"], in: dir) == "")

        // No attributes at all, but core.autocrlf=true in the user's global configuration.
        let plain = Paths.scratch("fixture")
        try Git.initRepo(plain)
        try Files.write(plain + "/a.txt", "line\nline\n")
        try Git.commitAll(plain, "plain text")
        let plainURL = try hub.publish(plain, as: Fixtures.name("autocrlf"))
        let home = Paths.scratch("home")
        try Files.write(home + "/.gitconfig", "[core]\n\tautocrlf = true\n")
        let gitDir = Paths.scratch("gitclone") + "/repo"
        try Git.run(["-c", "core.autocrlf=true", "clone", "-q", plainURL, gitDir], hub: hub)
        let converted = Paths.scratch("clone") + "/repo"
        let cloned = Shell.msgit(["clone", "-q", plainURL, converted], env: hub.env.merging(["HOME": home]) { $1 })
        #expect(cloned.status == 0, "\(cloned.output)")
        #expect(Files.read(converted + "/a.txt") == "line\r\nline\r\n")
        #expect(try Files.sameTree(converted, gitDir))

        // The same repository, with the conversion asked for by the user's global attributes file.
        let attributesHome = Paths.scratch("home")
        try Files.write(attributesHome + "/.config/git/attributes", "*.txt text eol=crlf\n")
        let homeEnv = ["HOME": attributesHome, "XDG_CONFIG_HOME": attributesHome + "/.config"]
        let gitGlobal = Paths.scratch("gitclone") + "/repo"
        try Git.run(["clone", "-q", plainURL, gitGlobal], hub: hub, env: homeEnv)
        let global = Paths.scratch("clone") + "/repo"
        let globalClone = Shell.msgit(["clone", "-q", plainURL, global], env: hub.env.merging(homeEnv) { $1 })
        #expect(globalClone.status == 0, "\(globalClone.output)")
        #expect(Files.read(global + "/a.txt") == "line\r\nline\r\n")
        #expect(try Files.sameTree(global, gitGlobal))
    }

    @Test func defaultDirectoryIsTheRepositoryName() throws {
        let fixture = try Fixtures.standard("dirname")
        let parent = Paths.scratch("clone")
        let result = Shell.msgit(["clone", fixture.url], in: parent, env: hub.env)
        #expect(result.status == 0, "\(result.output)")
        let expected = String(fixture.name.split(separator: "/").last!)
        #expect(FileManager.default.fileExists(atPath: "\(parent)/\(expected)/README.md"))
        #expect(result.stderr.contains("Cloning into '\(expected)'"))
    }

    @Test func libraryReportsProgressAndResult() async throws {
        let fixture = try Fixtures.standard("progress")
        let dir = URL(fileURLWithPath: Paths.scratch("clone") + "/repo")
        let phases = PhaseRecorder()
        let client = GitClient(credentials: .token(hub.token))
        let result = try await client.clone(fixture.url, into: dir) { phases.record($0) }
        #expect(result.branch == "master")
        #expect(result.head == (try Git.run(["rev-parse", "master"], in: fixture.worktree)))
        #expect(result.receivedObjects > 0 && result.receivedBytes > 0)
        let seen = phases.phases
        #expect(seen.contains(.checkingOut))
        #expect(seen.contains(.receivingObjects) || seen.contains(.resolvingDeltas))
        #expect(seen.last == .done)
        #expect(phases.last?.totalFiles == phases.last?.checkedOutFiles)
    }

    @Test func eightClonesAtOnceInOneProcess() async throws {
        let fixtures = try (0..<4).map { try Fixtures.standard("parallel\($0)") }
        let client = GitClient(credentials: .token(hub.token))
        let root = Paths.scratch("parallel")
        let results = try await withThrowingTaskGroup(of: (Int, CloneResult).self) { group in
            for i in 0..<8 {
                group.addTask {
                    let dir = URL(fileURLWithPath: "\(root)/clone\(i)")
                    return (i, try await client.clone(fixtures[i % 4].url, into: dir))
                }
            }
            return try await group.reduce(into: [:]) { $0[$1.0] = $1.1 }
        }
        #expect(results.count == 8)
        for i in 0..<8 {
            let dir = "\(root)/clone\(i)"
            let fixture = fixtures[i % 4]
            #expect(results[i]?.head == (try Git.run(["rev-parse", "master"], in: fixture.worktree)))
            #expect(try Files.sameTree(dir, fixture.worktree))
            #expect(try Git.run(["status", "--porcelain"], in: dir) == "")
        }
    }
}

/// Collects progress phases from any thread.
final class PhaseRecorder: @unchecked Sendable {
    // @unchecked Sendable: every access goes through `lock`.
    private let lock = NSLock()
    private var all: [TransferProgress] = []

    func record(_ p: TransferProgress) {
        lock.lock()
        all.append(p)
        lock.unlock()
    }

    var phases: [TransferProgress.Phase] {
        lock.lock()
        defer { lock.unlock() }
        return all.map(\.phase)
    }

    var last: TransferProgress? {
        lock.lock()
        defer { lock.unlock() }
        return all.last
    }
}
