import Foundation
import Testing

/// At a 200 ms round trip every request is a fifth of a second, so none may be spent that is not
/// needed. Counted in the hub's own access logs (filtered to this test's repository: other
/// suites use the hub at the same time).
@Suite struct RequestCountTests {
    let hub = Hub.shared

    func lines(_ log: String, since mark: UInt64, containing needle: String) -> [String] {
        hub.settledLogLines(log, since: mark).filter { $0.contains(needle) }
    }

    @Test func aCloneAsksForEachObjectOnceAndACompleteCloneAsksNothing() throws {
        let repo = try Fixtures.lfsModel("requests")
        let dir = Paths.scratch("requests") + "/repo"
        // Two files of the fixture share an object: it is one download.
        let oids = Set(try repo.lfsFiles.keys.map { try Fixtures.oid(of: $0, in: repo.worktree) })

        var gitMark = hub.logSize(hub.git_access_log)
        var storageMark = hub.logSize(hub.storage_access_log)
        let clone = Shell.msgit(["clone", "-q", repo.url, dir], env: hub.env)
        #expect(clone.status == 0, "\(clone.output)")
        let gets = lines(hub.storage_access_log, since: storageMark, containing: "/objects/\(repo.name)/")
        #expect(gets.count == oids.count, "\(gets)")
        for oid in oids {
            #expect(gets.filter { $0.contains(oid) }.count == 1, "\(oid): \(gets)")
        }
        let batches = lines(hub.git_access_log, since: gitMark, containing: "/\(repo.name).git/info/lfs/objects/batch")
        #expect(batches.count == 1, "\(batches)")

        // Nothing missing: the store says so, and no server is asked (git-lfs asks the batch API).
        gitMark = hub.logSize(hub.git_access_log)
        storageMark = hub.logSize(hub.storage_access_log)
        let pull = Shell.msgit(["-C", dir, "lfs", "pull"], env: hub.env)
        #expect(pull.status == 0, "\(pull.output)")
        #expect(lines(hub.git_access_log, since: gitMark, containing: repo.name).isEmpty)
        #expect(lines(hub.storage_access_log, since: storageMark, containing: repo.name).isEmpty)
    }
}
