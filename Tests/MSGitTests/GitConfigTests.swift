import Foundation
import Testing
@testable import Credentials
@testable import MSGit

/// git's configuration files read as git reads them: syntax, includes, the order of the files and
/// the environment's entries; compared with `git config --list` where git is installed.
@Suite struct GitConfigTests {
    func parse(_ text: String) throws -> [GitConfigParser.Item] {
        try GitConfigParser.parse(Array(text.utf8))
    }

    func pairs(_ text: String) throws -> [String] {
        try parse(text).map { "\($0.name)=\($0.value ?? "<none>")" }
    }

    @Test func sectionsAndSubsectionsFollowGitsCaseRules() throws {
        let items = try pairs("""
            [Credential "https://Hub.Example/NS"]
            \tHelper = one
            [credential]
            \thelper = two
            [Section.SubSection]
            \tKey = legacy
            [a "q\\"uo\\\\te\\d"] k = v
            [with-dash   "sp ace"]
            x=1
            """)
        #expect(items == [
            "credential.https://Hub.Example/NS.helper=one",
            "credential.helper=two",
            "section.subsection.key=legacy",
            "a.q\"uo\\ted.k=v",
            "with-dash.sp ace.x=1",
        ])
    }

    @Test func valuesUnquoteUnescapeContinueAndDropComments() throws {
        let items = try pairs("""
            [s]
            plain = a value   # comment
            semi = x ; comment
            quoted = "  kept  " outside
            escapes = "tab\\there\\nnew\\bback\\"quote\\\\slash"
            continued = one \\
              two
            quotedHash = "a # b ; c"
            bare
            empty =
            inner  =  a   b\t
            """)
        #expect(items == [
            "s.plain=a value",
            "s.semi=x",
            "s.quoted=  kept   outside",
            "s.escapes=tab\there\nnew\u{8}back\"quote\\slash",
            "s.continued=one   two",
            "s.quotedhash=a # b ; c",
            "s.bare=<none>",
            "s.empty=",
            "s.inner=a   b",
        ])
        #expect(try parse("[s]\r\nk = v\r\n").first?.value == "v", "CRLF line ends")
        #expect(try parse("\u{FEFF}[s]\nk = v").first?.value == "v", "a byte order mark")
    }

    @Test func badLinesAreRefusedWithTheirLine() {
        for (text, line) in [
            ("[s]\nk = \"open\n", 2),
            ("[s]\n\nk = bad \\q escape\n", 3),
            ("[s]\n1key = v\n", 2),
            ("[s\n", 1),
            ("[s \"sub]\n", 1),
            ("[s \"sub\" ]\n", 1),
            ("[]\n", 1),
            ("[s]\nk v\n", 2),
        ] {
            #expect(throws: GitConfigParser.SyntaxError(line: line), "\(text.debugDescription)") { try parse(text) }
        }
    }

    @Test func aBadFileIsAnErrorNamingFileAndLine() throws {
        let dir = try TemporaryDirectory()
        try dir.write(".gitconfig", "[credential]\n\thelper = ok\n\thelper = \"unterminated\n")
        #expect {
            _ = try GitConfig.load(environment: ["GIT_CONFIG_NOSYSTEM": "1"], home: dir.url)
        } throws: { error in
            (error as? MSGitError)?.kind == .invalidArgument
                && "\(error)".contains("bad config line 3 in file \(dir.path(".gitconfig"))")
        }
    }

    @Test func includesAreReadWhereTheyAppearRelativeToTheirFile() throws {
        let dir = try TemporaryDirectory()
        try dir.write(".gitconfig", """
            [s]
            \tv = 1
            [include]
            \tpath = conf.d/more
            \tpath = ~/home-relative
            \tpath = does-not-exist
            [s]
            \tv = 4
            """)
        try dir.write("conf.d/more", "[s]\n\tv = 2\n[include]\n\tpath = nested\n")
        try dir.write("conf.d/nested", "[s]\n\tv = 2b\n")
        try dir.write("home-relative", "[s]\n\tv = 3\n")
        let config = try GitConfig.load(environment: ["GIT_CONFIG_NOSYSTEM": "1"], home: dir.url)
        #expect(config.values(of: "s.v") == ["1", "2", "2b", "3", "4"])
    }

    @Test func circularIncludesStopAtGitsDepth() throws {
        let dir = try TemporaryDirectory()
        try dir.write(".gitconfig", "[include]\n\tpath = .gitconfig\n")
        #expect {
            _ = try GitConfig.load(environment: ["GIT_CONFIG_NOSYSTEM": "1"], home: dir.url)
        } throws: { error in
            "\(error)".contains("exceeded maximum include depth (10)")
        }
    }

    @Test func filesComeInGitsOrderThenTheEnvironment() throws {
        let dir = try TemporaryDirectory()
        try dir.write("system", "[o]\n\tv = system\n")
        try dir.write("xdg/git/config", "[o]\n\tv = xdg\n")
        try dir.write(".config/git/config", "[o]\n\tv = default-xdg\n")
        try dir.write(".gitconfig", "[o]\n\tv = global\n")
        try dir.write("global-elsewhere", "[o]\n\tv = GIT_CONFIG_GLOBAL\n")
        try dir.write("repo/.git/config", "[o]\n\tv = repository\n")
        let environment = [
            "GIT_CONFIG_SYSTEM": dir.path("system"),
            "XDG_CONFIG_HOME": dir.path("xdg"),
            "GIT_CONFIG_COUNT": "2",
            "GIT_CONFIG_KEY_0": "O.V",
            "GIT_CONFIG_VALUE_0": "environment",
            "GIT_CONFIG_KEY_1": "Credential.https://Hub.Example.UseHttpPath",
            "GIT_CONFIG_VALUE_1": "true",
        ]
        let all = try GitConfig.load(environment: environment, home: dir.url, gitDirectory: dir.url.appendingPathComponent("repo/.git"))
        #expect(all.values(of: "o.v") == ["system", "xdg", "global", "repository", "environment"])
        #expect(all.values(of: "credential.https://Hub.Example.usehttppath") == ["true"])
        #expect(all.entries.last?.origin == "GIT_CONFIG_KEY_1")

        var other = environment
        other["GIT_CONFIG_NOSYSTEM"] = "true"
        other["XDG_CONFIG_HOME"] = nil
        other["GIT_CONFIG_COUNT"] = nil
        #expect(try GitConfig.load(environment: other, home: dir.url).values(of: "o.v") == ["default-xdg", "global"])
        other["GIT_CONFIG_GLOBAL"] = dir.path("global-elsewhere")
        #expect(try GitConfig.load(environment: other, home: dir.url).values(of: "o.v") == ["GIT_CONFIG_GLOBAL"],
                "GIT_CONFIG_GLOBAL replaces both the XDG file and ~/.gitconfig")
        other["GIT_CONFIG_NOSYSTEM"] = "0"
        #expect(try GitConfig.load(environment: other, home: dir.url).values(of: "o.v") == ["system", "GIT_CONFIG_GLOBAL"])

        for (key, message) in [("GIT_CONFIG_KEY_1", "missing config key GIT_CONFIG_KEY_1"),
                               ("GIT_CONFIG_VALUE_1", "missing config value GIT_CONFIG_VALUE_1")] {
            var broken = environment
            broken[key] = nil
            #expect { _ = try GitConfig.load(environment: broken, home: dir.url) } throws: { "\($0)".contains(message) }
        }
        var badKey = environment
        badKey["GIT_CONFIG_KEY_0"] = "nodot"
        #expect(throws: MSGitError.self) { _ = try GitConfig.load(environment: badKey, home: dir.url) }
    }

    @Test func canonicalKeysLowercaseSectionAndKeyOnly() {
        #expect(GitConfig.canonicalKey("Credential.https://Hub.Example/Path.Helper") == "credential.https://Hub.Example/Path.helper")
        #expect(GitConfig.canonicalKey("core.bare") == "core.bare")
        #expect(GitConfig.canonicalKey("core") == nil)
        #expect(GitConfig.canonicalKey("core.1abc") == nil)
        #expect(GitConfig.canonicalKey(".x") == nil)
    }

    @Test func booleansAsGitReadsThem() throws {
        for text in [nil, "true", "YES", "on", "1", "-3", "1k"] as [String?] { #expect(try GitConfig.parseBool(text)) }
        for text in ["", "false", "No", "OFF", "0"] { #expect(try !GitConfig.parseBool(text)) }
        #expect(throws: GitConfig.BoolError.self) { try GitConfig.parseBool("maybe") }
    }

    /// The same files read by git (`git config --list --includes -z`) and by msgit give the same
    /// names and values in the same order.
    @Test(.enabled(if: Git.isInstalled)) func readsWhatGitReads() throws {
        let dir = try TemporaryDirectory()
        try dir.write("config", """
            # A file with most of the syntax at once.
            [Credential "https://Hub.Example/Path"]
            \tHelper = "!f() { echo \\"password=x\\"; }; f"
            \tuseHttpPath
            [credential]
            \thelper =
            \thelper = store --file ~/creds ; trailing comment
            [Legacy.Sub]
            \tkey = "  spaced  "\\tand tab
            [x "we\\"ird\\\\sub"]
            \tcontinued = a \\
            b
            \tempty =
            [include]
            \tpath = included
            """)
        try dir.write("included", "[from]\n\tinclude = yes\n")
        let git = try Git.run(["config", "--file", dir.path("config"), "--includes", "--list", "-z"], home: dir.url)
        let expected = git.split(separator: "\0", omittingEmptySubsequences: true).map { record -> String in
            let parts = record.split(separator: "\n", maxSplits: 1, omittingEmptySubsequences: false)
            return parts.count == 2 ? "\(parts[0])=\(parts[1])" : "\(parts[0])=<none>"
        }
        let config = try GitConfig.load(environment: ["GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": dir.path("config")],
                                        home: dir.url)
        #expect(config.entries.map { "\($0.name)=\($0.value ?? "<none>")" } == expected)
        #expect(expected.count == 9)
    }
}
