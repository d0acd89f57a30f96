import Foundation
import Testing

/// Issue 25: tokens where users keep them. git's credential helpers, configured in git's files,
/// asked by msgit without git: `get` before the first request, `store` once the hub accepted the
/// token, `erase` once it refused it; git does the same for the same configuration.
@Suite struct CredentialHelperTests {
    let hub = Hub.shared

    /// A home whose git configuration names `helper`, and a log of what helpers are told.
    struct Home {
        let path: String
        let log: String

        init(_ label: String) {
            path = Paths.scratch(label)
            log = path + "/helper.log"
        }

        func configure(helper: String) throws {
            try Files.write(path + "/.gitconfig", "[credential]\n\thelper = \(helper)\n")
        }

        /// One line per call: the action, then the fields given (the password's length only).
        var calls: [String] {
            Files.read(log).split(separator: "\n").map(String.init)
        }
    }

    /// A helper script that logs each call and answers `get` with `token`.
    func loggingHelper(in home: String, token: String) throws -> String {
        let script = home + "/helper.sh"
        try Files.write(script, """
            #!/bin/sh
            fields=""
            while IFS= read -r line && [ -n "$line" ]; do
              case "$line" in
                password=*) fields="$fields password(${#line})" ;;
                *) fields="$fields $line" ;;
              esac
            done
            echo "$1$fields" >> "\(home)/helper.log"
            if [ "$1" = get ]; then echo username=oauth2; echo password=\(token); fi
            """)
        chmod(script, 0o755)
        return script
    }

    func env(_ home: Home) -> [String: String] {
        ["HOME": home.path, "XDG_CONFIG_HOME": home.path + "/.config", "GIT_TERMINAL_PROMPT": "0"]
    }

    @Test func anAcceptedTokenIsStoredAndARefusedOneErasedAsGitDoes() throws {
        let repo = try Fixtures.lfsModel("helper")
        let host = URL(string: hub.url)!.host! + ":\(URL(string: hub.url)!.port!)"
        for (token, works) in [(hub.token, true), ("wrong-\(UUID().uuidString)", false)] {
            var calls: [[String]] = []
            for tool in ["msgit", "git"] {
                let home = Home("helper-\(tool)")
                try home.configure(helper: try loggingHelper(in: home.path, token: token))
                let dir = home.path + "/clone"
                let result = tool == "msgit"
                    ? Shell.msgit(["clone", repo.url, dir], env: env(home))
                    : Shell.run(["git", "clone", "-q", repo.url, dir], env: env(home).merging(["GIT_LFS_SKIP_SMUDGE": "1"]) { $1 })
                #expect((result.status == 0) == works, "\(tool): \(result.output)")
                #expect(!result.output.contains(token), "\(tool) shows the token")
                let actions = home.calls.map { String($0.prefix { $0 != " " }) }
                calls.append(actions)
                #expect(home.calls.first == "get protocol=http host=\(host)", "\(tool): \(home.calls)")
                if works {
                    #expect(home.calls.last == "store protocol=http host=\(host) username=oauth2 password(\(9 + token.count))",
                            "\(tool): \(home.calls)")
                    #expect(Files.same(dir + "/model.safetensors", repo.worktree + "/model.safetensors") || tool == "git")
                } else {
                    #expect(actions.contains("erase") && !actions.contains("store"), "\(tool): \(home.calls)")
                }
            }
            // The same conversation: get, then store or erase (git may ask again after erasing).
            #expect(Set(calls[0]) == Set(calls[1]), "msgit \(calls[0]) vs git \(calls[1])")
        }
    }

    @Test func gitsCredentialStoreKeepsAWorkingTokenAndLosesARefusedOne() throws {
        let repo = try Fixtures.standard("helper-store")
        let url = URL(string: repo.url)!
        let home = Home("helper-store")
        let creds = home.path + "/creds"
        try home.configure(helper: "store --file=\(creds)")
        try Files.write(creds, "http://oauth2:\(hub.token)@\(url.host!):\(url.port!)\n")
        let cloned = Shell.msgit(["clone", repo.url, home.path + "/a"], env: env(home))
        #expect(cloned.status == 0, "\(cloned.output)")
        #expect(Files.read(creds).contains(hub.token), "a working token stays")

        try Files.write(creds, "http://oauth2:revoked-token@\(url.host!):\(url.port!)\n")
        let refused = Shell.msgit(["clone", repo.url, home.path + "/b"], env: env(home))
        #expect(refused.status != 0, "\(refused.output)")
        #expect(!Files.read(creds).contains("revoked-token"), "a refused token is erased: \(Files.read(creds))")
        #expect(!refused.output.contains("revoked-token"))
    }
}
