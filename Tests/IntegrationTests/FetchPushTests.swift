import Foundation
import MSGit
import Testing

/// `msgit fetch` and `msgit push`, checked on the server with git.
@Suite struct FetchPushTests {
    let hub = Hub.shared

    @Test func fetchBringsCommitsPushedAfterTheClone() throws {
        let fixture = try Fixtures.standard("fetch")
        let dir = Paths.scratch("fetch") + "/repo"
        #expect(Shell.msgit(["clone", "-q", fixture.url, dir], env: hub.env).status == 0)

        // Someone else pushes a commit and a tag with git.
        try Files.write(fixture.worktree + "/new.txt", "new\n")
        try Git.commitAll(fixture.worktree, "New upstream commit")
        try Git.run(["tag", "v2.0"], in: fixture.worktree)
        try Git.run(["push", "-q", fixture.url, "master", "v2.0"], in: fixture.worktree, hub: hub)
        let upstream = try Git.run(["rev-parse", "master"], in: fixture.worktree)

        let result = Shell.msgit(["-C", dir, "fetch"], env: hub.env)
        #expect(result.status == 0, "\(result.output)")
        #expect(try Git.run(["rev-parse", "refs/remotes/origin/master"], in: dir) == upstream)
        #expect(try Git.run(["rev-parse", "v2.0"], in: dir) == upstream, "tags pointing into fetched history follow")
        #expect(result.stderr.contains("refs/remotes/origin/master"), "names the updated ref: \(result.stderr)")
        // The local branch is not moved by a fetch.
        #expect(try Git.run(["rev-parse", "master"], in: dir) != upstream)

        let again = Shell.msgit(["-C", dir, "fetch"], env: hub.env)
        #expect(again.status == 0 && !again.stderr.contains("refs/remotes"), "nothing new: \(again.output)")
    }

    @Test func pushToAnEmptyRepositoryAndThenToAnExistingOne() throws {
        let name = Fixtures.name("push")
        let server = try hub.createBare(name)
        let work = Paths.scratch("push") + "/repo"
        try Git.initRepo(work)
        try Files.write(work + "/README.md", "hello\n")
        try Files.write(work + "/bin/tool", "#!/bin/sh\n", mode: 0o755)
        try Git.commitAll(work, "First")
        try Git.run(["remote", "add", "origin", hub.repoURL(name)], in: work)

        let first = Shell.msgit(["-C", work, "push"], env: hub.env)
        #expect(first.status == 0, "\(first.output)")
        #expect(try Git.run(["--git-dir", server, "rev-parse", "master"]) == Git.run(["rev-parse", "HEAD"], in: work))
        try Git.run(["--git-dir", server, "fsck", "--strict"])

        try Files.write(work + "/README.md", "hello again\n")
        try Git.commitAll(work, "Second")
        try Git.run(["tag", "-a", "v1", "-m", "v1"], in: work)
        try Git.run(["branch", "feature"], in: work)
        let second = Shell.msgit(["-C", work, "push", "origin", "master", "feature", "v1"], env: hub.env)
        #expect(second.status == 0, "\(second.output)")
        let log = try Git.run(["--git-dir", server, "log", "--format=%s", "master"])
        #expect(log == "Second\nFirst")
        #expect(try Git.run(["--git-dir", server, "rev-parse", "feature"]) == Git.run(["rev-parse", "HEAD"], in: work))
        #expect(try Git.run(["--git-dir", server, "cat-file", "-t", "v1"]) == "tag")
        try Git.run(["--git-dir", server, "fsck", "--strict"])
        // The remote-tracking ref follows, as with git push.
        #expect(try Git.run(["rev-parse", "refs/remotes/origin/master"], in: work) == Git.run(["rev-parse", "HEAD"], in: work))

        // Deleting a branch with ":name".
        let delete = Shell.msgit(["-C", work, "push", "origin", ":feature"], env: hub.env)
        #expect(delete.status == 0, "\(delete.output)")
        #expect(Shell.run(["git", "--git-dir", server, "rev-parse", "--verify", "-q", "refs/heads/feature"]).status != 0)
    }

    @Test func nonFastForwardPushIsRejectedAndNamed() throws {
        let fixture = try Fixtures.standard("nonff")
        let dir = Paths.scratch("nonff") + "/repo"
        #expect(Shell.msgit(["clone", "-q", fixture.url, dir], env: hub.env).status == 0)
        try Git.configureIdentity(dir)
        // Upstream moves on...
        try Files.write(fixture.worktree + "/upstream.txt", "u\n")
        try Git.commitAll(fixture.worktree, "Upstream")
        try Git.run(["push", "-q", fixture.url, "master"], in: fixture.worktree, hub: hub)
        let serverBefore = try Git.run(["--git-dir", hub.bareRepoPath(fixture.name), "rev-parse", "master"])
        // ...and we commit something else.
        try Files.write(dir + "/mine.txt", "m\n")
        try Git.commitAll(dir, "Mine")

        let result = Shell.msgit(["-C", dir, "push"], env: hub.env)
        #expect(result.status == 1, "\(result.output)")
        #expect(result.stderr.contains("[rejected] refs/heads/master"), "\(result.stderr)")
        #expect(result.stderr.contains("fetch first") || result.stderr.contains("non-fast-forward"))
        #expect(try Git.run(["--git-dir", hub.bareRepoPath(fixture.name), "rev-parse", "master"]) == serverBefore)

        // After a fetch the rejection names the non-fast-forward; a forced push goes through.
        #expect(Shell.msgit(["-C", dir, "fetch", "-q"], env: hub.env).status == 0)
        let again = Shell.msgit(["-C", dir, "push"], env: hub.env)
        #expect(again.status == 1 && again.stderr.contains("non-fast-forward"), "\(again.output)")
        let forced = Shell.msgit(["-C", dir, "push", "origin", "+master"], env: hub.env)
        #expect(forced.status == 0, "\(forced.output)")
        #expect(try Git.run(["--git-dir", hub.bareRepoPath(fixture.name), "rev-parse", "master"])
            == Git.run(["rev-parse", "HEAD"], in: dir))
    }

    @Test func pushDeclinedByAServerHookListsEveryRefWithItsReason() throws {
        let fixture = try Fixtures.standard("hook")
        let server = hub.bareRepoPath(fixture.name)
        try Files.write(server + "/hooks/pre-receive", """
            #!/bin/sh
            echo "GL-HOOK-ERR: pushes are frozen" >&2
            exit 1
            """, mode: 0o755)
        let before = try Git.refs(server)
        let dir = Paths.scratch("hook") + "/repo"
        #expect(Shell.msgit(["clone", "-q", fixture.url, dir], env: hub.env).status == 0)
        try Git.configureIdentity(dir)
        try Files.write(dir + "/x.txt", "x\n")
        try Git.commitAll(dir, "X")
        try Git.run(["branch", "other"], in: dir)

        let result = Shell.msgit(["-C", dir, "push", "origin", "master", "other"], env: hub.env)
        #expect(result.status == 1, "\(result.output)")
        #expect(result.stderr.contains("[rejected] refs/heads/master (pre-receive hook declined)"), "\(result.stderr)")
        #expect(result.stderr.contains("[rejected] refs/heads/other (pre-receive hook declined)"), "\(result.stderr)")
        #expect(try Git.refs(server) == before)
    }

    @Test func libraryPushThrowsTypedRejection() async throws {
        let fixture = try Fixtures.standard("typedreject")
        let dir = Paths.scratch("typed") + "/repo"
        let client = GitClient(credentials: .token(hub.token))
        _ = try await client.clone(fixture.url, into: URL(fileURLWithPath: dir))
        try Git.configureIdentity(dir)
        try Files.write(fixture.worktree + "/u.txt", "u\n")
        try Git.commitAll(fixture.worktree, "U")
        try Git.run(["push", "-q", fixture.url, "master"], in: fixture.worktree, hub: hub)
        try Files.write(dir + "/m.txt", "m\n")
        try Git.commitAll(dir, "M")
        do {
            _ = try await client.push(in: URL(fileURLWithPath: dir))
            Issue.record("push should have been rejected")
        } catch {
            #expect(error.kind == .pushRejected)
            #expect(error.rejectedRefs.map(\.reference) == ["refs/heads/master"])
        }
    }
}
