import Foundation
import Testing

/// Issue 23, class 1: a repository made to attack its users. Trees that git's fsck refuses
/// (built with `git mktree`, which a plain `git http-backend` accepts) must not write anything,
/// anywhere; clone, pull and checkout refuse them before a file is written.
@Suite struct HostileTreeTests {
    let hub = Hub.shared

    /// A repository on the hub whose master is an honest commit A with a symbolic link
    /// `<link> -> <target>` and a README, and whose branch `attack` is commit B on top of it: a tree
    /// with that link *and* a directory of the same name holding `victim.rc` (duplicate entries).
    struct Attack {
        var name: String
        var url: String
        var work: String
        var honest: String
        var hostile: String
    }

    static func attack(_ label: String, link: String = "up", target: String = "..") throws -> Attack {
        let hub = Hub.shared
        let name = Fixtures.name(label)
        let work = Paths.scratch("hostile") + "/work"
        try Git.initRepo(work)
        try Files.write(work + "/README", "honest\n")
        try FileManager.default.createSymbolicLink(atPath: work + "/" + link, withDestinationPath: target)
        try Git.commitAll(work, "A")
        let honest = try Git.run(["rev-parse", "HEAD"], in: work)
        let blob = try Git.run(["hash-object", "-w", "--stdin"], in: work, stdin: "pwned\n")
        let sub = try Git.run(["mktree"], in: work, stdin: "100644 blob \(blob)\tvictim.rc\n")
        let readme = try Git.run(["rev-parse", "HEAD:README"], in: work)
        let linkBlob = try Git.run(["rev-parse", "HEAD:\(link)"], in: work)
        let tree = try Git.run(["mktree"], in: work,
                               stdin: "100644 blob \(readme)\tREADME\n120000 blob \(linkBlob)\t\(link)\n040000 tree \(sub)\t\(link)\n")
        let hostile = try Git.run(["commit-tree", tree, "-p", honest, "-m", "B"], in: work)
        try Git.run(["branch", "attack", hostile], in: work)
        let url = try hub.publish(work, as: name)
        return Attack(name: name, url: url, work: work, honest: honest, hostile: hostile)
    }

    /// Moves the hub's `master` of `attack` to its hostile commit, as a compromised hub would.
    func moveMasterToTheAttack(_ attack: Attack) throws {
        try Git.run(["update-ref", "refs/heads/master", attack.hostile], in: hub.bareRepoPath(attack.name))
    }

    @Test func pullRefusesATreeWithALinkAndADirectoryOfOneName() throws {
        let attack = try Self.attack("dup-pull")
        let parent = Paths.scratch("dup-pull")
        let dir = parent + "/repo"
        #expect(Shell.msgit(["clone", "-q", attack.url, dir], env: hub.env).status == 0)
        #expect((try? FileManager.default.destinationOfSymbolicLink(atPath: dir + "/up")) == "..")
        try moveMasterToTheAttack(attack)

        let pulled = Shell.msgit(["-C", dir, "pull"], env: hub.env)
        #expect(pulled.status == 1, "\(pulled.output)")
        #expect(pulled.stderr.contains("'up'") && pulled.stderr.contains("two entries"), "\(pulled.stderr)")
        #expect(!FileManager.default.fileExists(atPath: parent + "/victim.rc"), "written outside the work tree")
        #expect(try Git.run(["rev-parse", "HEAD"], in: dir) == attack.honest, "the branch did not move")
        #expect(try Git.run(["status", "--porcelain"], in: dir) == "", "the work tree is as it was")

        // git refuses too (it will not write through the link).
        let gitDir = Paths.scratch("dup-pull-git") + "/repo"
        try Git.run(["clone", "-q", "-b", "master", attack.url, gitDir], hub: hub)
        #expect(Shell.run(["git", "-C", gitDir, "pull", "-q", "--ff-only"]).status != 0)
        #expect(!FileManager.default.fileExists(atPath: (gitDir as NSString).deletingLastPathComponent + "/victim.rc"))
    }

    @Test func checkoutRefusesItAndALinkToAnAbsoluteDirectoryKeepsItsFiles() throws {
        let outside = Paths.scratch("outside")
        try Files.write(outside + "/victim.rc", "the user's own file\n")
        let attack = try Self.attack("dup-abs", link: "models", target: outside)
        let dir = Paths.scratch("dup-abs") + "/repo"
        #expect(Shell.msgit(["clone", "-q", attack.url, dir], env: hub.env).status == 0)

        let checkout = Shell.msgit(["-C", dir, "checkout", "attack"], env: hub.env)
        #expect(checkout.status == 1, "\(checkout.output)")
        #expect(checkout.stderr.contains("'models'"), "\(checkout.stderr)")
        #expect(Files.read(outside + "/victim.rc") == "the user's own file\n")
        #expect(try Git.run(["rev-parse", "HEAD"], in: dir) == attack.honest)

        try moveMasterToTheAttack(attack)
        let pulled = Shell.msgit(["-C", dir, "pull"], env: hub.env)
        #expect(pulled.status == 1, "\(pulled.output)")
        #expect(Files.read(outside + "/victim.rc") == "the user's own file\n")
    }

    @Test func cloneRefusesItAndLeavesNothingBehind() throws {
        let attack = try Self.attack("dup-clone")
        try moveMasterToTheAttack(attack)
        let parent = Paths.scratch("dup-clone")
        let result = Shell.msgit(["clone", "--json", attack.url, parent + "/repo"], env: hub.env)
        #expect(result.status == 1, "\(result.output)")
        #expect(result.stdout.contains("\"unsafePath\""), "\(result.stdout)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: parent) == [], "the clone removed what it made")
    }

    @Test func cloneRefusesDotGitHiddenInASubdirectory() throws {
        // models/.GIT/hooks/post-checkout: a case-insensitive file system would make it a hook.
        let name = Fixtures.name("dotgit")
        let work = Paths.scratch("dotgit") + "/work"
        try Git.initRepo(work)
        try Files.write(work + "/README", "x\n")
        try Git.commitAll(work, "A")
        let hook = try Git.run(["hash-object", "-w", "--stdin"], in: work, stdin: "#!/bin/sh\necho owned\n")
        let hooks = try Git.run(["mktree"], in: work, stdin: "100755 blob \(hook)\tpost-checkout\n")
        let dotgit = try Git.run(["mktree"], in: work, stdin: "040000 tree \(hooks)\thooks\n")
        let models = try Git.run(["mktree"], in: work, stdin: "040000 tree \(dotgit)\t.GIT\n")
        let root = try Git.run(["mktree"], in: work, stdin: "040000 tree \(models)\tmodels\n")
        let commit = try Git.run(["commit-tree", root, "-m", "hook"], in: work)
        try Git.run(["update-ref", "refs/heads/master", commit], in: work)
        let url = try hub.publish(work, as: name)
        let parent = Paths.scratch("dotgit-clone")
        let result = Shell.msgit(["clone", url, parent + "/repo"], env: hub.env)
        #expect(result.status == 1, "\(result.output)")
        #expect(result.stderr.contains("'models/.GIT'") && result.stderr.contains(".git"), "\(result.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: parent) == [])
    }
}

extension HostileTreeTests {
    @Test func aLinkTheUserMadeIsNotWrittenThroughByAPull() throws {
        // An honest update adds models/new.bin; the user had put a link to a directory of theirs
        // at models. git refuses ("untracked working tree files would be overwritten"); so does msgit.
        let name = Fixtures.name("userlink")
        let work = Paths.scratch("userlink") + "/work"
        try Git.initRepo(work)
        try Files.write(work + "/README", "v1\n")
        try Git.commitAll(work, "A")
        let url = try hub.publish(work, as: name)
        let dir = Paths.scratch("userlink") + "/repo"
        #expect(Shell.msgit(["clone", "-q", url, dir], env: hub.env).status == 0)
        let outside = Paths.scratch("userlink-outside")
        try FileManager.default.createSymbolicLink(atPath: dir + "/models", withDestinationPath: outside)
        try Files.write(work + "/models/new.bin", "new\n")
        try Git.commitAll(work, "B")
        try Git.run(["push", "-q", url, "master"], in: work, hub: hub)

        let pulled = Shell.msgit(["-C", dir, "pull"], env: hub.env)
        #expect(pulled.status == 1, "\(pulled.output)")
        #expect(pulled.stderr.contains("would be overwritten"), "\(pulled.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: outside) == [], "nothing written through the link")
    }

    @Test func aCommittedLinkReplacedByADirectoryIsRemovedNotWrittenThrough() throws {
        // A honest history: A has the link models -> <outside>, B replaces it with a directory.
        let outside = Paths.scratch("replaced-outside")
        let attack = try Self.attack("replaced", link: "models", target: outside)
        try Git.run(["rm", "-q", "models"], in: attack.work)
        try Files.write(attack.work + "/models/weights.txt", "mine now\n")
        try Git.commitAll(attack.work, "C")
        try Git.run(["push", "-q", attack.url, "master"], in: attack.work, hub: hub)
        let dir = Paths.scratch("replaced") + "/repo"
        #expect(Shell.msgit(["clone", "-q", "--revision", attack.honest, attack.url, dir], env: hub.env).status == 0)
        try Git.run(["checkout", "-q", "-B", "master", attack.honest], in: dir)
        try Git.run(["branch", "-q", "--set-upstream-to=origin/master", "master"], in: dir)
        let pulled = Shell.msgit(["-C", dir, "pull"], env: hub.env)
        #expect(pulled.status == 0, "\(pulled.output)")
        #expect(Files.read(dir + "/models/weights.txt") == "mine now\n")
        #expect(try FileManager.default.contentsOfDirectory(atPath: outside) == [], "the link was removed, not followed")
    }
}
