import Foundation
import HTTP
import MSGit
import Testing
@testable import MSGitCommands

@Suite struct JSONReportTests {
    func object(_ report: JSONReport) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(report.text.utf8)) as? [String: Any])
    }

    @Test func aSuccessfulCloneInSnakeCase() throws {
        var report = JSONReport(command: "clone")
        report.url = "https://hub.example/ns/m.git"
        report.receivedObjects = 12
        report.durationSeconds = Duration.milliseconds(2_500).reportSeconds
        report.refs = JSONReport.changes([ReferenceChange(reference: "refs/heads/main", old: nil, new: String(repeating: "a", count: 40))])
        let json = try object(report)
        #expect(json["status"] as? String == "ok" && json["exit_code"] as? Int == 0)
        #expect(json["received_objects"] as? Int == 12 && json["duration_seconds"] as? Double == 2.5)
        #expect((json["refs"] as? [[String: Any]])?.first?["ref"] as? String == "refs/heads/main")
        #expect(json["error"] == nil && json["lfs"] == nil, "absent fields are left out")
        #expect(!report.text.contains("\n"), "one line")
    }

    @Test func lfsFailuresMakeItIncompleteWithExitFive() throws {
        var summary = LFSSummary()
        summary.files = 2
        summary.failures = [LFSFailure(path: "w.bin", oid: String(repeating: "b", count: 64), reason: "HTTP 404")]
        var report = JSONReport(command: "lfs pull")
        report.setLFS(summary)
        let json = try object(report)
        #expect(json["status"] as? String == "lfs-incomplete" && json["exit_code"] as? Int == 5)
        let failures = (json["lfs"] as? [String: Any])?["failures"] as? [[String: Any]]
        #expect(failures?.first?["path"] as? String == "w.bin")
    }

    @Test func errorsCarryKindHintServerWordsAndRefsWithoutSecrets() throws {
        var error = MSGitError(.pushRejected, "failed to push some refs to 'https://oauth2:tok-secret-1@hub.example/x.git'",
                               hint: "fetch first", serverMessage: "HTTP Basic: Access denied")
        error.rejectedRefs = [RejectedReference(reference: "refs/heads/main", reason: "non-fast-forward")]
        var report = JSONReport(command: "push")
        report.fail(error)
        let json = try object(report)
        #expect(json["status"] as? String == "error" && json["exit_code"] as? Int == 1)
        let info = try #require(json["error"] as? [String: Any])
        #expect(info["kind"] as? String == "pushRejected" && info["hint"] as? String == "fetch first")
        #expect(info["server_message"] as? String == "HTTP Basic: Access denied")
        #expect((info["rejected_refs"] as? [[String: Any]])?.first?["reason"] as? String == "non-fast-forward")
        #expect(!report.text.contains("tok-secret-1"))
    }

    @Test(arguments: [
        (MSGitError.Kind.invalidArgument, 2), (.authenticationRequired, 3), (.authenticationRejected, 3), (.notFound, 4),
        (.lfsIncomplete, 5), (.cancelled, 130), (.timeout, 1), (.network, 1), (.io, 1), (.git, 1),
    ])
    func exitCodes(kind: MSGitError.Kind, code: Int) {
        #expect(ExitStatus.code(for: MSGitError(kind, "x")) == Int32(code))
    }
}

@Suite struct ArgumentTypeTests {
    @Test func shards() {
        #expect(Shard(argument: "0/4") == Shard(argument: "0/4") && Shard(argument: "3/4")?.index == 3)
        for bad in ["4/4", "-1/4", "1/0", "1", "a/b", "1/2/3", "/2"] { #expect(Shard(argument: bad) == nil, "\(bad)") }
    }

    @Test func sizes() {
        #expect(Size(argument: "10MiB")?.bytes == 10 << 20 && Size(argument: "500KB")?.bytes == 500_000)
        #expect(Size(argument: "lots") == nil)
        #expect(Size(bytes: 1 << 20, description: "1MiB").description == "1MiB")
    }
}

@Suite struct LFSOptionTests {
    @Test func gitLFSSkipSmudgeTurnsLFSOff() throws {
        let group = try LFSOptionGroup.parse([])
        #expect(group.options(environment: [:]).enabled)
        for value in ["1", "true", "TRUE", "yes", "on"] {
            #expect(!group.options(environment: ["GIT_LFS_SKIP_SMUDGE": value]).enabled, "\(value)")
        }
        for value in ["0", "false", ""] {
            #expect(group.options(environment: ["GIT_LFS_SKIP_SMUDGE": value]).enabled, "\(value)")
        }
        #expect(!group.options(enabled: false, environment: [:]).enabled)
    }

    @Test func sizesAsGitLFSPrintsThem() {
        for (bytes, text) in [(0, "0 B"), (7, "7 B"), (999, "999 B"), (1000, "1.0 KB"), (262_144, "262 KB"),
                              (1_048_576, "1.0 MB"), (3_145_728, "3.1 MB"), (12_582_912, "13 MB"), (1_073_741_824, "1.1 GB")] {
            #expect(LFSLsFilesCommand.humanSize(Int64(bytes)) == text, "\(bytes)")
        }
    }
}
