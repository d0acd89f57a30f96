import Testing
@testable import Credentials
@testable import MSGit

@Suite struct FileStatusTests {
    @Test func pathsAreQuotedAsGitStatusQuotesThem() {
        #expect(FileStatus.quoted("plain/path.txt") == "plain/path.txt")
        #expect(FileStatus.quoted("a b.txt") == "\"a b.txt\"")
        #expect(FileStatus.quoted("q\"x") == "\"q\\\"x\"")
        #expect(FileStatus.quoted("tab\there") == "\"tab\\there\"")
        #expect(FileStatus.quoted("ü.txt") == "\"\\303\\274.txt\"")
        #expect(FileStatus.quoted("ü.txt", nonASCII: false) == "ü.txt")
    }

    @Test func shortLines() {
        #expect(FileStatus(path: "a", index: " ", workTree: "M").shortLine == " M a")
        #expect(FileStatus(path: "new name", originalPath: "old", index: "R", workTree: " ").shortLine == "R  old -> \"new name\"")
        #expect(FileStatus(path: "dir/", index: "?", workTree: "?").shortLine == "?? dir/")
    }

    @Test func aRevisionMayBeACommitIDOnlyWhenAsked() throws {
        let branches: Set<String> = ["refs/heads/main"]
        #expect(try CloneJob.chooseCheckout(requested: "main", remoteHEAD: nil, branches: branches, tags: [], commitAllowed: true)
            == .branch("refs/heads/main"))
        #expect(try CloneJob.chooseCheckout(requested: "ABCDEF12", remoteHEAD: nil, branches: branches, tags: [],
                                            commitAllowed: true) == .commit("abcdef12"))
        #expect(throws: MSGitError.self) {
            try CloneJob.chooseCheckout(requested: "abcdef12", remoteHEAD: nil, branches: branches, tags: [])
        }
        #expect(throws: MSGitError.self) {
            try CloneJob.chooseCheckout(requested: "not-hex", remoteHEAD: nil, branches: branches, tags: [], commitAllowed: true)
        }
    }
}
