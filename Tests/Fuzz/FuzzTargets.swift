import CGitSupport
import Foundation
@testable import HTTP
@testable import LFS
@testable import Credentials
@testable import MSGit
import PathSafety

/// One fuzz target per parser of outside input (issue 23, class 9). Each takes the raw bytes and
/// must return without trapping, hanging or growing without bound, whatever they are; what a
/// parser answers is checked where a property is cheap to state.
enum FuzzTarget: String, CaseIterable {
    /// Pointer files (`Pointer(Data)`), and a pointer's text read back.
    case pointer
    /// A batch API answer, and every action's expiry in it.
    case batch
    /// RFC 3339 dates (`expires_at`).
    case rfc3339
    /// `.lfsconfig` and git configuration files, and the endpoint they give.
    case lfsconfig
    /// `.gitattributes` (the LFS patterns) and `lfs.fetchinclude`-style pattern lists.
    case gitattributes
    /// git's credential store file.
    case credentialStore
    /// `~/.netrc`.
    case netrc
    /// Repository URLs and short names, and where a mirror of one would go.
    case url
    /// Mirror manifests.
    case manifest
    /// A response's header block as libcurl hands it over, and `Content-Range`.
    case httpHeaders
    /// HTTP responses through the filter every libgit2 read passes (C).
    case responseFilter
    /// Tree entry names and paths (`PathRules`).
    case paths

    func run(_ bytes: [UInt8]) {
        let data = Data(bytes)
        let text = String(decoding: bytes, as: UTF8.self)
        switch self {
        case .pointer:
            if let pointer = Pointer(data) {
                precondition(Pointer.isValidOID(pointer.oid) && pointer.size >= 0, "a pointer parsed into nonsense")
                precondition(Pointer(pointer.data)?.oid == pointer.oid, "a pointer's own text does not parse back")
            }
        case .batch:
            struct Answer: Decodable {
                var transfer: String?
                var objects: [BatchObject]
            }
            guard var answer = try? JSONDecoder().decode(Answer.self, from: data) else { return }
            let now = Date()
            for index in answer.objects.indices {
                answer.objects[index].receivedAt = now
                let object = answer.objects[index]
                _ = object.action("download")
                _ = object.action("upload")
                for action in (object.actions ?? [:]).values {
                    _ = action.expiry(receivedAt: now)
                    _ = URL(string: action.href).flatMap(Origin.init)
                }
            }
        case .rfc3339:
            _ = RFC3339.date(text)
        case .lfsconfig:
            _ = GitConfigFile.parse(text)
            _ = Endpoint.resolve(remoteURL: "https://hub.example/ns/name.git", lfsconfig: text)
        case .gitattributes:
            let attributes = LFSAttributes(text)
            _ = attributes.isLFS("weights/model.safetensors")
            let filter = PathFilter(include: PathFilter.patterns(text), exclude: [])
            _ = filter.allows("a/b/c.bin")
        case .credentialStore:
            if let url = try? RemoteURL("https://hub.example:8443/ns/name.git") {
                _ = GitCredentialStore.lookup(url, in: text)
            }
            for line in text.split(separator: "\n") { _ = GitCredentialStore.parse(line) }
        case .netrc:
            _ = Netrc.lookup(host: "hub.example", in: text)
        case .url:
            for line in text.split(whereSeparator: \.isNewline).prefix(8) {
                let expanded = ShortNames.expand(String(line), environment: [:])
                guard let url = try? RemoteURL(expanded) else { continue }
                let reparsed = URLComponents(string: url.string)
                precondition(reparsed?.user == nil && reparsed?.password == nil, "userinfo survived into the URL's text")
                _ = url.humanishName
                if let relative = try? MirrorJob.relativeLocation(of: url) {
                    for part in relative.split(separator: "/") {
                        precondition(PathRules.problem(withNamePart: String(part)) == nil || part.hasSuffix(".git"),
                                     "a mirror path part escaped the rules: \(part.debugDescription)")
                        precondition(part != "." && part != "..", "a dot segment in a mirror path")
                    }
                }
                _ = try? MirrorJob.expand("https://target/{host}/{ns}/{name}.git", for: url)
            }
        case .manifest:
            let manifest = Manifest(text, baseURL: "https://hub.example")
            _ = manifest.shard(0, of: 3)
        case .httpHeaders:
            let headers = bytes.withUnsafeBytes { BoundedExchange.parseHeaders($0) }
            for (_, value) in headers { _ = ContentRange(value) }
            _ = ContentRange(text)
            _ = RetryPolicy.retryAfter(text)
        case .responseFilter:
            guard let first = bytes.first else { return }
            var out = [UInt8](repeating: 0, count: 1 << 16)
            let handed = bytes.dropFirst().withUnsafeBufferPointer { input in
                msgit_response_filter_run(input.baseAddress, input.count, Int(first % 64) + 1, &out, out.count)
            }
            precondition(handed <= bytes.count, "the filter handed over more than it was given")
        case .paths:
            _ = PathRules.problem(withPath: text)
            _ = PathRules.problem(withName: bytes, isSymlink: true)
            _ = PathRules.problem(withNamePart: text)
            _ = PathRules.folded(bytes)
        }
    }
}
