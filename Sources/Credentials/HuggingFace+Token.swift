import Foundation

extension HuggingFace {
    /// The token Hugging Face's users keep for it, where huggingface_hub's `get_token` finds it,
    /// in its order: `HF_TOKEN`, else `HUGGING_FACE_HUB_TOKEN` (its older name), else the token
    /// file (`tokenFile`), which `hf auth login` writes. Cleaned as huggingface_hub cleans it (line
    /// breaks taken out, blanks trimmed); a blank one counts as none.
    ///
    /// None at all when `HF_HUB_DISABLE_IMPLICIT_TOKEN` is true: huggingface_hub then sends its
    /// token only where the caller passes it, and the user who set it wants the same here
    /// (`--token-file` and `MSGIT_TOKEN` still pass one).
    ///
    /// Left out: a token exchanged through OIDC (`HF_OIDC_RESOURCE`, a network exchange), the
    /// refresh of an expiring OAuth token (its refresh token is in `stored_tokens`) and Colab's
    /// secrets.
    package static func credential(environment: [String: String], home: URL) -> Credential? {
        guard !isTrue(environment["HF_HUB_DISABLE_IMPLICIT_TOKEN"]) else { return nil }
        // `os.environ.get("HF_TOKEN") or os.environ.get("HUGGING_FACE_HUB_TOKEN")`, then cleaned:
        // a blank HF_TOKEN hides the older variable and leads to the file.
        let variable = environment["HF_TOKEN"].map { $0.isEmpty } == false ? "HF_TOKEN" : "HUGGING_FACE_HUB_TOKEN"
        if let token = clean(environment[variable]) {
            return Credential(username: username, token: token, source: variable)
        }
        let file = tokenFile(environment: environment, home: home)
        if let text = try? String(contentsOf: file, encoding: .utf8), let token = clean(text) {
            return Credential(username: username, token: token, source: file.path)
        }
        return nil
    }

    /// huggingface_hub's `HF_TOKEN_PATH`: that variable, else `$HF_HOME/token`, where `HF_HOME`
    /// defaults to `$XDG_CACHE_HOME/huggingface`, else `~/.cache/huggingface`. `~` and `$VAR` in
    /// them are expanded, as `os.path.expanduser` and `os.path.expandvars` do there. A variable
    /// set to nothing counts as unset (huggingface_hub would take the current directory).
    public static func tokenFile(environment: [String: String] = ProcessInfo.processInfo.environment,
                                 home: URL? = nil) -> URL {
        let home = home ?? environment["HOME"].map { URL(fileURLWithPath: $0, isDirectory: true) }
            ?? FileManager.default.homeDirectoryForCurrentUser
        func path(_ variable: String) -> String? {
            guard let value = environment[variable], !value.isEmpty else { return nil }
            return expandVariables(expandUser(value, home: home), environment: environment)
        }
        if let file = path("HF_TOKEN_PATH") { return URL(fileURLWithPath: file) }
        let hfHome = path("HF_HOME")
            ?? ((environment["XDG_CACHE_HOME"].flatMap { $0.isEmpty ? nil : $0 }
                 ?? home.appendingPathComponent(".cache").path) as NSString).appendingPathComponent("huggingface")
        return URL(fileURLWithPath: hfHome).appendingPathComponent("token")
    }

    /// huggingface_hub's `_clean_token`.
    package static func clean(_ token: String?) -> String? {
        guard let token else { return nil }
        let cleaned = token.filter { $0 != "\r" && $0 != "\n" && $0 != "\r\n" }.trimmingCharacters(in: .whitespacesAndNewlines)
        return cleaned.isEmpty ? nil : cleaned
    }

    /// huggingface_hub's `_is_true`: 1, ON, YES or TRUE, in any case.
    package static func isTrue(_ value: String?) -> Bool {
        ["1", "ON", "YES", "TRUE"].contains(value?.uppercased() ?? "")
    }

    /// `os.path.expanduser` for the current user: a leading `~` alone or before a "/".
    package static func expandUser(_ path: String, home: URL) -> String {
        guard path == "~" || path.hasPrefix("~/") else { return path }
        return home.path + path.dropFirst()
    }

    /// `os.path.expandvars`: `$NAME` and `${NAME}` replaced by the variable's value, left as they
    /// are when it is not set.
    package static func expandVariables(_ path: String, environment: [String: String]) -> String {
        guard path.contains("$") else { return path }
        let wordCharacter: (Character) -> Bool = { $0 == "_" || ($0.isASCII && ($0.isLetter || $0.isNumber)) }
        var result = ""
        var rest = Substring(path)
        while let dollar = rest.firstIndex(of: "$") {
            result += rest[..<dollar]
            let after = rest[rest.index(after: dollar)...]
            let name: Substring
            let end: Substring.Index
            if after.hasPrefix("{"), let close = after.firstIndex(of: "}") {
                name = after[after.index(after: after.startIndex)..<close]
                end = after.index(after: close)
            } else {
                end = after.firstIndex(where: { !wordCharacter($0) }) ?? after.endIndex
                name = after[..<end]
            }
            if !name.isEmpty, let value = environment[String(name)] {
                result += value
            } else {
                result += rest[dollar..<end]
            }
            rest = rest[end...]
        }
        return result + rest
    }
}
