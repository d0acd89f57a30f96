import Foundation
import Testing

/// Issue 23, class 4: no input traps the process. A pointer's size is whatever its author wrote:
/// 18 digits are valid for git-lfs, and ten of them overflowed a sum of sizes (exit 132, a
/// half-made clone left behind). Every command that reads such pointers ends with an answer.
@Suite struct HostileContentTests {
    let hub = Hub.shared

    @Test func pointersOfAbsurdSizesAreReportedNotTrappedOn() throws {
        let name = Fixtures.name("hugesizes")
        let work = Paths.scratch("hugesizes") + "/work"
        try Git.initRepo(work, lfs: true)
        try Files.write(work + "/.gitattributes", "*.bin filter=lfs diff=lfs merge=lfs -text\n")
        try Git.commitAll(work, "Attributes")
        for i in 0..<10 {
            let oid = String(format: "%064x", i + 1)
            try Fixtures.commitRaw("version https://git-lfs.github.com/spec/v1\noid sha256:\(oid)\nsize 999999999999999999\n",
                                   at: "huge-\(i).bin", in: work)
        }
        // Their objects exist nowhere: git-lfs's pre-push hook would refuse the push.
        try hub.createBare(name)
        let url = hub.repoURL(name)
        try Git.run(["-c", "core.hooksPath=/dev/null", "push", "-q", url, "master"], in: work, hub: hub)
        let dir = Paths.scratch("hugesizes-clone") + "/repo"
        let clone = Shell.msgit(["clone", "--json", url, dir], env: hub.env, limit: .seconds(300))
        #expect(clone.status == 5, "\(clone.output)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(clone.stdout.utf8)) as? [String: Any])
        let failures = ((report["lfs"] as? [String: Any])?["failures"] as? [[String: Any]]) ?? []
        #expect(failures.count == 10, "\(clone.stdout)")
        #expect(Files.read(dir + "/huge-0.bin").hasPrefix("version https://git-lfs.github.com/spec/v1"), "still a pointer")
        for command in [["lfs", "ls-files", "--size"], ["status"], ["lfs", "du"], ["lfs", "fsck"], ["lfs", "pull"]] {
            let result = Shell.msgit(["-C", dir] + command, env: hub.env, limit: .seconds(300))
            #expect(result.status < 128, "\(command): killed by a signal: \(result.output)")
        }
    }
}
