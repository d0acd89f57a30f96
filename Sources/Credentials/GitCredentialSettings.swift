import Foundation

/// The settings of git's `credential` section that apply to one URL, chosen as git's
/// `credential_apply_config` chooses them (with `urlmatch.c` and `select_all`).
///
/// Every `credential.*` entry whose URL matches counts, in configuration order, however specific:
/// `credential.helper` and `credential.<url>.helper` values form one list (an empty value empties
/// the list so far); the last matching `credential.username` and `credential.useHttpPath` win,
/// except that a username in the URL itself is never replaced.
///
/// A key's URL matches as git's `urlmatch_config_entry` decides: normalised (`GitURLMatch`), with
/// the same scheme, the same user if the key names one, each host label equal or `*`, the same
/// port (a default port being no port) and a path prefix ending on a `/`; a key that is not a
/// full URL (`example.com`, `https://`, `user@example.com/path`) is read as a partial URL whose
/// every part present must equal the request's (git's `match_partial_url`).
package struct GitCredentialSettings: Equatable {
    /// One `credential.helper` value and what selected it.
    package struct Helper: Equatable {
        /// The value as configured: `store --file x`, `!f() { ...; }; f`, `/usr/bin/helper`.
        var command: String
        /// "file /home/u/.gitconfig line 4".
        var origin: String
        /// The key named this very host (`credential.https://hub.example.helper`, no `*`), rather
        /// than any host (`credential.helper`, `credential.https://*.example.helper`, `https://`).
        var namesHost: Bool
    }

    package var helpers: [Helper] = []
    /// What helpers are told: protocol, host (with the port the URL has), the path only with
    /// `useHttpPath` (for http and https), the username from the URL or `credential.username`.
    package var request: CredentialDescription
    package var useHTTPPath = false
    /// `credential.protectProtocol` (default true): refuse values with a carriage return.
    package var protectProtocol = true

    package init(for request: CredentialDescription, config: GitConfig) throws(MSGitError) {
        var current = request
        let usernameFromURL = !(request.username ?? "").isEmpty
        let normalized = GitURLMatch(request.formattedURL)
        for entry in config.entries {
            guard entry.name.hasPrefix("credential.") else { continue }
            var key = Substring(entry.name.dropFirst("credential.".count))
            var namesHost = false
            if let dot = key.lastIndex(of: ".") {
                let configURL = String(key[..<dot])
                if let pattern = GitURLMatch(configURL, allowGlobs: true) {
                    guard let normalized, normalized.isMatched(by: pattern) else { continue }
                    namesHost = !pattern.host.isEmpty && !pattern.url[pattern.host].contains(UInt8(ascii: "*"))
                } else if let want = CredentialDescription(url: configURL, partial: true) {
                    guard want.isMatched(by: current, comparingPassword: false) else { continue }
                    namesHost = want.host != nil
                } else {
                    continue  // git warns "skipping credential lookup for key" and goes on
                }
                key = key[key.index(after: dot)...]
            }
            guard let value = entry.value else {
                throw MSGitError(.invalidArgument, "missing value for '\(entry.name)' (\(entry.origin))")
            }
            func bool() throws(MSGitError) -> Bool {
                do {
                    return try GitConfig.parseBool(value)
                } catch {
                    throw MSGitError(.invalidArgument, "bad boolean config value for '\(entry.name)' (\(entry.origin))")
                }
            }
            switch key {
            case "helper":
                if value.isEmpty {
                    helpers.removeAll()
                } else {
                    helpers.append(Helper(command: value, origin: entry.origin, namesHost: namesHost))
                }
            case "username":
                if !usernameFromURL { current.username = value }
            case "usehttppath": useHTTPPath = try bool()
            case "protectprotocol": protectProtocol = try bool()
            case "sanitizeprompt": _ = try bool()
            default: break
            }
        }
        if !useHTTPPath, current.protocolName == "http" || current.protocolName == "https" {
            current.path = nil
        }
        self.request = current
    }

    /// What git's credential code starts from for a repository URL: its protocol, host (with the
    /// port if the URL has one), path and username, parsed as git's `credential_from_url`.
    package static func request(for url: RemoteURL) -> CredentialDescription {
        // An IPv6 host in brackets, whether or not Foundation kept them in `host`.
        let bare = url.host.hasPrefix("[") ? String(url.host.dropFirst().dropLast()) : url.host
        let host = (bare.contains(":") ? "[\(bare)]" : bare) + (url.port.map { ":\($0)" } ?? "")
        var request = CredentialDescription(url: "\(url.scheme)://\(host)\(url.path)", partial: false)
            ?? CredentialDescription(protocolName: url.scheme, host: url.host)
        request.username = url.username
        return request
    }
}
