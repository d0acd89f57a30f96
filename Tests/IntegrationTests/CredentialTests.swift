import Foundation
import MSGit
import Testing

/// Token sources, auth check and store, short names, and tokens never leaving their host.
@Suite struct CredentialTests {
    let hub = Hub.shared

    @Test func tokenFileThenEnvironmentThenCredentialStoreThenNetrc() throws {
        let fixture = try Fixtures.standard("sources")
        let home = Paths.scratch("home")
        func clone(_ env: [String: String], _ extra: [String] = []) -> Shell.Result {
            Shell.msgit(["clone", "-q", "-v"] + extra + [fixture.url, Paths.scratch("src") + "/repo"], env: env)
        }
        // Nothing anywhere: exit 3, and the message lists every place a token can go.
        let none = clone(["HOME": home])
        #expect(none.status == 3)
        for place in ["--token-file", "MSGIT_TOKEN", "~/.git-credentials", "~/.netrc", "msgit auth store"] {
            #expect(none.stderr.contains(place), "\(place): \(none.stderr)")
        }
        // ~/.netrc.
        try Files.write(home + "/.netrc", "machine 127.0.0.1 login oauth2 password \(hub.token)\n", mode: 0o600)
        let netrc = clone(["HOME": home])
        #expect(netrc.status == 0 && netrc.stderr.contains("\(home)/.netrc"), "\(netrc.output)")
        // git's credential store beats netrc; a wrong token there is really used (and refused).
        try Files.write(home + "/.git-credentials", "\(fixture.url.replacingOccurrences(of: "http://", with: "http://oauth2:wrong-token-1@"))\n", mode: 0o600)
        let store = clone(["HOME": home])
        #expect(store.status == 3 && store.stderr.contains(".git-credentials"), "\(store.output)")
        // MSGIT_TOKEN beats the store; --token-file beats MSGIT_TOKEN.
        #expect(clone(["HOME": home, "MSGIT_TOKEN": hub.token]).status == 0)
        try Files.write(home + "/token", hub.token + "\n", mode: 0o600)
        let file = clone(["HOME": home, "MSGIT_TOKEN": "wrong-token-2"], ["--token-file", home + "/token"])
        #expect(file.status == 0, "\(file.output)")
        let wrongFile = clone(["HOME": home, "MSGIT_TOKEN": hub.token], ["--token-file", home + "/missing"])
        #expect(wrongFile.status == 2 && wrongFile.stderr.contains("cannot read the token file"), "\(wrongFile.output)")
    }

    @Test func authCheckTellsTheSourceAndReadWriteWithoutPrintingTheToken() throws {
        let fixture = try Fixtures.standard("authcheck")
        let rw = Shell.msgit(["auth", "check", fixture.url], env: hub.env)
        #expect(rw.status == 0, "\(rw.output)")
        #expect(rw.stdout.contains("from MSGIT_TOKEN") && rw.stdout.contains("read:        accepted")
            && rw.stdout.contains("write:       accepted"), "\(rw.stdout)")
        let ro = Shell.msgit(["auth", "check", fixture.url], env: ["MSGIT_TOKEN": hub.read_only_token])
        #expect(ro.status == 0 && ro.stdout.contains("write:       refused"), "\(ro.stdout)")
        #expect(ro.stdout.contains("not allowed to push"))
        let wrong = Shell.msgit(["auth", "check", "--json", fixture.url], env: ["MSGIT_TOKEN": "wrong-token-3"])
        #expect(wrong.status == 3)
        let json = try JSONSerialization.jsonObject(with: Data(wrong.stdout.utf8)) as? [String: Any]
        let access = json?["access"] as? [String: Any]
        #expect(access?["read"] as? String == "refused" && access?["source"] as? String == "MSGIT_TOKEN", "\(wrong.stdout)")
        let missing = Shell.msgit(["auth", "check", hub.repoURL("no/such-repo")], env: hub.env)
        #expect(missing.status == 4, "\(missing.output)")
        for result in [rw, ro, wrong, missing] {
            #expect(!result.output.contains(hub.token) && !result.output.contains(hub.read_only_token))
        }
    }

    @Test func authStoreReadsStandardInputIntoAPrivateCredentialStore() throws {
        let fixture = try Fixtures.standard("authstore")
        let home = Paths.scratch("home")
        try Files.write(home + "/.git-credentials", "https://someone:other@example.com\n")
        let store = Shell.msgit(["auth", "store", hub.url], env: ["HOME": home], stdin: hub.token + "\n")
        #expect(store.status == 0, "\(store.output)")
        #expect(!store.output.contains(hub.token))
        let attributes = try FileManager.default.attributesOfItem(atPath: home + "/.git-credentials")
        #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
        let text = Files.read(home + "/.git-credentials")
        #expect(text.contains("https://someone:other@example.com"), "other entries are kept")
        // Storing again replaces the entry rather than adding one.
        #expect(Shell.msgit(["auth", "store", hub.url + "/x/y"], env: ["HOME": home], stdin: hub.token).status == 0)
        #expect(Files.read(home + "/.git-credentials").components(separatedBy: "127.0.0.1").count == 2)
        // And clone uses it with nothing else configured.
        let clone = Shell.msgit(["clone", "-q", fixture.url, Paths.scratch("store") + "/repo"], env: ["HOME": home])
        #expect(clone.status == 0, "\(clone.output)")
        // No token on the command line: there is no option for one.
        #expect(Shell.msgit(["auth", "store", hub.url, "--token", "x"], env: ["HOME": home]).status == 2)
    }

    @Test func shortNamesExpandAgainstMSGIT_ENDPOINT() throws {
        let fixture = try Fixtures.standard("short")
        let parent = Paths.scratch("short")
        var env = hub.env
        env["MSGIT_ENDPOINT"] = hub.url
        let result = Shell.msgit(["clone", fixture.name], in: parent, env: env)
        #expect(result.status == 0, "\(result.output)")
        let repo = parent + "/" + fixture.name.split(separator: "/").last!
        #expect(try Git.run(["config", "remote.origin.url"], in: repo) == fixture.url)
        let help = Shell.msgit(["clone", "--help"])
        #expect(help.stdout.contains("MSGIT_ENDPOINT") && help.stdout.contains("MODELSCOPE_DOMAIN"))
    }

    @Test func gitRedirectToAnotherHostNeverGetsTheToken() throws {
        let fault = FaultServer.shared
        for scenario in ["redirect", "auth-then-redirect"] {
            let mark = fault.logSize
            let result = Shell.msgit(["clone", "\(fault.url)/\(scenario)/ns/name.git", Paths.scratch("redir") + "/repo"],
                                     env: hub.env)
            #expect(result.status == 3, "\(scenario): \(result.output)")
            #expect(result.stderr.contains("msgit sends a token only to the host it was given for"), "\(result.stderr)")
            let requests = fault.requests(since: mark)
            // Before any credential the redirect is followed; after one, the socket stream does
            // not even send the request elsewhere (CredentialOriginTests).
            if scenario == "redirect" { #expect(requests.contains { $0.host == "127.0.0.2" }, "the redirect was followed") }
            #expect(requests.filter { $0.host == "127.0.0.2" }.allSatisfy { $0.authorization == nil }, "\(requests)")
        }
    }

    @Test func lfsEndpointChosenByTheRepositoryNeverGetsTheHubToken() throws {
        let fault = FaultServer.shared
        let repo = try Fixtures.lfsWithEndpoint("\(fault.url)/lfs/record/x.git/info/lfs")
        let mark = fault.logSize
        let result = Shell.msgit(["clone", repo.url, Paths.scratch("lfsrecord") + "/repo"], env: hub.env)
        #expect(result.status == 5, "\(result.output)")
        let requests = fault.requests(since: mark).filter { $0.path.hasPrefix("/lfs/record/") }
        #expect(!requests.isEmpty)
        #expect(requests.allSatisfy { $0.authorization == nil }, "\(requests)")
    }

    @Test func lfsRedirectsDropCredentialsOnTheWayToAnotherHost() throws {
        let fault = FaultServer.shared
        // The batch endpoint's own credential (stored for its host) must not follow a 307 elsewhere.
        let home = Paths.scratch("home")
        try Files.write(home + "/.git-credentials", "\(fault.url.replacingOccurrences(of: "http://", with: "http://oauth2:fault-host-token@"))\n")
        let batchRedirect = try Fixtures.lfsWithEndpoint("\(fault.url)/lfs/redirect/x.git/info/lfs")
        var mark = fault.logSize
        let first = Shell.msgit(["clone", batchRedirect.url, Paths.scratch("lfsredir") + "/repo"],
                                env: ["HOME": home, "MSGIT_TOKEN": hub.token])
        #expect(first.status == 5, "\(first.output)")
        var requests = fault.requests(since: mark)
        #expect(requests.contains { $0.host == "127.0.0.1" && $0.authorization != nil }, "the endpoint's host got its own credential")
        #expect(requests.contains { $0.host == "127.0.0.2" })
        #expect(requests.filter { $0.host == "127.0.0.2" }.allSatisfy { $0.authorization == nil }, "\(requests)")

        // A storage href's action header must not follow its redirect to another host either.
        let storageRedirect = try Fixtures.lfsWithEndpoint("\(fault.url)/lfs/storage-redirect/x.git/info/lfs")
        mark = fault.logSize
        let second = Shell.msgit(["clone", storageRedirect.url, Paths.scratch("lfsredir") + "/repo"], env: hub.env)
        #expect(second.status == 5, "\(second.output)")
        requests = fault.requests(since: mark)
        #expect(requests.contains { $0.path.hasPrefix("/redirect/storage") && $0.authorization == "Bearer action-secret" })
        #expect(requests.filter { $0.host == "127.0.0.2" }.allSatisfy { $0.authorization == nil }, "\(requests)")
        #expect(!(first.output + second.output).contains("action-secret") && !(first.output + second.output).contains(hub.token))
    }

    @Test func httpsNeverDropsToPlainHTTP() throws {
        let fault = FaultServer.shared
        let env = hub.env.merging(fault.trust) { $1 }
        // A git remote over https that redirects to http.
        let mark = fault.logSize
        // A name of its own: other tests use the fault server over plain http at the same time.
        let name = "ns/downgrade-\(UUID().uuidString.prefix(8).lowercased()).git"
        let git = Shell.msgit(["clone", "\(fault.tls_url)/downgrade/\(name)", Paths.scratch("tls") + "/repo"], env: env)
        #expect(git.status == 1, "\(git.output)")
        #expect(git.stderr.contains("redirected from https to plain http, which msgit refuses"), "\(git.stderr)")
        let mine = fault.requests(since: mark).filter { $0.path.contains(name) }
        #expect(!mine.isEmpty && mine.allSatisfy { $0.tls == true }, "nothing went over plain http: \(mine)")

        // The LFS side (an https endpoint handing out an http href, an https href redirecting to
        // http) is covered by unit tests: FoundationNetworking on Linux trusts only the system CA
        // store, so a test server's certificate cannot be trusted without changing the machine.
    }

    @Test func noTokenInAnyOutputOrFileAtTheMostVerboseLevel() throws {
        let repo = try Fixtures.lfsModel("leak")
        let home = Paths.scratch("home")
        let root = Paths.scratch("leak")
        let dir = root + "/repo"
        var outputs: [Shell.Result] = []
        let env = ["HOME": home, "MSGIT_TOKEN": hub.token]
        outputs.append(Shell.msgit(["clone", "-vvv", "--no-lfs", repo.url, dir], env: env))
        outputs.append(Shell.msgit(["-C", dir, "lfs", "pull", "-vvv", "--json"], env: env))
        outputs.append(Shell.msgit(["-C", dir, "fetch", "-vvv", "--json"], env: env))
        try Git.configureIdentity(dir)
        try Files.write(dir + "/new.txt", "new\n")
        try Git.commitAll(dir, "New")
        outputs.append(Shell.msgit(["-C", dir, "push", "-vvv", "--json"], env: env))
        outputs.append(Shell.msgit(["auth", "check", "-vvv", "--json", repo.url], env: env))
        // Failures too: a wrong token given in the URL, a missing repository, a refused push.
        let inURL = repo.url.replacingOccurrences(of: "http://", with: "http://oauth2:\(hub.token)@")
        outputs.append(Shell.msgit(["clone", "-vvv", "--json", inURL, root + "/second"], env: ["HOME": home]))
        outputs.append(Shell.msgit(["clone", "-vvv", "--json", inURL + "-missing", root + "/third"], env: ["HOME": home]))
        outputs.append(Shell.msgit(["-C", dir, "push", "-vvv", "--json", "origin", "+HEAD~1:refs/heads/master", "x"], env: env))
        outputs.append(Shell.msgit(["auth", "store", "-h"], env: env))
        #expect(outputs[0].status == 0 && outputs[1].status == 0 && outputs[2].status == 0 && outputs[3].status == 0,
                "\(outputs.prefix(4).map(\.output))")
        for (i, result) in outputs.enumerated() {
            #expect(!result.output.contains(hub.token), "output \(i) holds the token")
        }
        // Every file msgit wrote (the clones, their .git, the home directory).
        let grep = Shell.run(["grep", "-rl", "--binary-files=text", hub.token, root, home])
        #expect(grep.stdout.isEmpty, "token found in: \(grep.stdout)")
    }
}
