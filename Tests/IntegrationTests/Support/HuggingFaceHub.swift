import Foundation

/// The Hugging Face-like hub (Tests/Hub/hub.py --huggingface), beside `Hub.shared` and apart from
/// it: git and LFS on 127.0.0.4, repository URLs without ".git", any username with its token
/// (`hf_...`), LFS download links on its own storage host, 127.0.0.5 (as Hugging Face's lead to
/// cas-bridge.xethub.hf.co). Its repositories, objects and access logs are its own. Started once
/// per test process, stopped by its own watchdog when the process exits.
struct HuggingFaceHub: Sendable, Decodable {
    let url: String
    let storage_url: String
    let token: String
    let read_only_token: String
    let repos: String
    let lfs_storage: String
    let git_access_log: String
    let storage_access_log: String

    static let shared: HuggingFaceHub = {
        let state = Paths.scratchRoot + "/hf-hub"
        let result = Shell.run(["python3", Paths.hubScript, "start", "--huggingface", "--state", state,
                                "--watch-pid", "\(getpid())"])
        guard result.status == 0, let hub = try? JSONDecoder().decode(HuggingFaceHub.self, from: Data(result.stdout.utf8)) else {
            fatalError("could not start the Hugging Face-like hub (run .ci/setup first): \(result.stderr)")
        }
        return hub
    }()

    /// The repository's URL as Hugging Face shows it: no ".git".
    func repoURL(_ id: String) -> String { "\(url)/\(id)" }

    func bareRepoPath(_ id: String) -> String { "\(repos)/\(id).git" }

    /// HTTP Basic as the hub's access log records it.
    func basic(_ token: String, user: String = "hf_user") -> String {
        "Basic " + Data("\(user):\(token)".utf8).base64EncodedString()
    }

    /// git's `-c` arguments for a credential helper that answers `user` and this hub's token: the
    /// hub takes any username.
    func credentialHelper(user: String) -> [String] {
        ["-c", "credential.helper=!f() { echo username=\(user); echo password=\(token); }; f"]
    }

    /// The environment for msgit with this hub as `HF_ENDPOINT` and none of the runner's own
    /// Hugging Face settings (a blank variable counts as unset), plus `extra`.
    func env(_ extra: [String: String] = [:]) -> [String: String] {
        ["HF_ENDPOINT": url, "HF_TOKEN": "", "HUGGING_FACE_HUB_TOKEN": "", "HF_TOKEN_PATH": "",
         "HF_HOME": Paths.scratch("hf-home"), "HF_HUB_DISABLE_IMPLICIT_TOKEN": ""].merging(extra) { $1 }
    }

    /// A unique repository id for one test: `<org>/<label>-<random>`.
    static func id(_ org: String, _ label: String) -> String {
        "\(org)/\(label)-\(UUID().uuidString.prefix(8).lowercased())"
    }

    /// A model repository pushed to this hub with git and git-lfs (as `fixture-pusher`, any
    /// username will do) at the URL without ".git": ordinary files, LFS files in directories, an
    /// executable one, an LFS file changed once (its old object in history only), a tag and a
    /// second branch. Returns the local work tree.
    @discardableResult
    func publishModel(_ id: String) throws -> String {
        let work = Paths.scratch("hf-fixture")
        try Git.initRepo(work, branch: "main", lfs: true)
        try Files.write(work + "/.gitattributes", """
            *.safetensors filter=lfs diff=lfs merge=lfs -text
            *.bin filter=lfs diff=lfs merge=lfs -text
            tokenizer.json filter=lfs diff=lfs merge=lfs -text

            """)
        try Files.write(work + "/README.md", "---\nlicense: apache-2.0\n---\n# \(id)\n")
        try Files.write(work + "/config.json", "{\"hidden_size\": 64}\n")
        try Files.writeRandom(work + "/model.safetensors", size: 1 << 20, seed: 21)
        try Files.writeRandom(work + "/tokenizer.json", size: 256 << 10, seed: 22)
        try Files.writeRandom(work + "/onnx/model.bin", size: 300_000, seed: 23)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: work + "/onnx/model.bin")
        try Git.commitAll(work, "Upload model")
        try Git.run(["tag", "v1.0"], in: work)
        try Git.run(["branch", "dev"], in: work)
        try Files.writeRandom(work + "/model.safetensors", size: 1 << 20, seed: 24)
        try Git.commitAll(work, "New weights")

        let path = bareRepoPath(id)
        try? FileManager.default.removeItem(atPath: path)
        try Git.run(["init", "--bare", "-q", "--initial-branch=main", path])
        try Git.run(["config", "http.receivepack", "true"], in: path)
        for refs in [["--all"], ["--tags"]] {
            try Git.run(credentialHelper(user: "fixture-pusher") + ["push", "-q", repoURL(id)] + refs, in: work)
        }
        return work
    }

    /// A clone made by git with git-lfs (smudging), as `someone`: the reference.
    func gitLFSClone(_ id: String) throws -> String {
        let dir = Paths.scratch("hf-gitclone") + "/repo"
        try Git.run(credentialHelper(user: "someone") + ["clone", "-q", repoURL(id), dir], env: ["GIT_LFS_SKIP_SMUDGE": "0"])
        return dir
    }
}
