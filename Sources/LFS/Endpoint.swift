import Foundation

/// Where a repository's Git LFS server is (git-lfs docs/api/server-discovery.md).
public enum Endpoint {
    /// The LFS endpoint for a remote.
    ///
    /// In order: `lfs.url`, then `remote.<name>.lfsurl`, from the git configuration and then from
    /// `.lfsconfig`; else the remote URL with `.git` added if missing, plus `/info/lfs`.
    /// - Parameters:
    ///   - remoteURL: the remote's URL, without userinfo.
    ///   - config: the repository's git configuration values that were asked for (keys lowercased).
    ///   - lfsconfig: the text of the `.lfsconfig` file at the top of the work tree, if any.
    public static func resolve(remoteURL: String, remoteName: String = "origin",
                               config: [String: String] = [:], lfsconfig: String? = nil) -> URL? {
        let fileConfig = lfsconfig.map(GitConfigFile.parse) ?? [:]
        let remoteKey = "remote.\(remoteName.lowercased()).lfsurl"
        for source in [config, fileConfig] {
            for key in ["lfs.url", remoteKey] {
                if let value = source[key], !value.isEmpty, let url = URL(string: value), url.scheme != nil {
                    return url
                }
            }
        }
        var base = remoteURL
        while base.hasSuffix("/") { base.removeLast() }
        if !base.hasSuffix(".git") { base += ".git" }
        return URL(string: base + "/info/lfs")
    }
}

/// Reads the subset of git's configuration file syntax that `.lfsconfig` uses: sections,
/// subsections in quotes, `key = value`, quoted values, comments. Keys come back as
/// "section.subsection.key" with section and key lowercased.
enum GitConfigFile {
    static func parse(_ text: String) -> [String: String] {
        var result: [String: String] = [:]
        var section = ""
        for rawLine in text.split(whereSeparator: \.isNewline) {
            var line = rawLine.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") || line.hasPrefix(";") { continue }
            if line.hasPrefix("[") {
                guard let close = line.lastIndex(of: "]") else { continue }
                let inner = line[line.index(after: line.startIndex)..<close].trimmingCharacters(in: .whitespaces)
                if let quote = inner.firstIndex(of: "\"") {
                    let name = inner[..<quote].trimmingCharacters(in: .whitespaces).lowercased()
                    let sub = inner[inner.index(after: quote)...].replacingOccurrences(of: "\"", with: "")
                    section = name + "." + sub
                } else {
                    // [section.subsection] (old syntax): the subsection is lowercased too.
                    section = inner.lowercased()
                }
                continue
            }
            guard !section.isEmpty else { continue }
            var key = line
            var value = "true"
            if let eq = line.firstIndex(of: "=") {
                key = line[..<eq].trimmingCharacters(in: .whitespaces)
                value = line[line.index(after: eq)...].trimmingCharacters(in: .whitespaces)
            }
            line = value
            value = unquote(line)
            result[section + "." + key.lowercased()] = value
        }
        return result
    }

    private static func unquote(_ raw: String) -> String {
        var out = ""
        var quoted = false
        var escaped = false
        for c in raw {
            if escaped {
                out.append(c == "n" ? "\n" : c == "t" ? "\t" : c)
                escaped = false
            } else if c == "\\" {
                escaped = true
            } else if c == "\"" {
                quoted.toggle()
            } else if !quoted && (c == "#" || c == ";") {
                break
            } else {
                out.append(c)
            }
        }
        return out.trimmingCharacters(in: .whitespaces)
    }
}
