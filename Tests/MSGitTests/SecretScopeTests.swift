import Foundation
import GitCore
import Logging
import Synchronization
import Testing
@testable import Credentials
@testable import MSGit

/// Secrets held for the life of an operation, where each purpose's credential comes from, error
/// classification, and the library's defaults.
@Suite struct SecretScopeTests {
    @Test func aScopeMasksItsTokensUntilItEnds() {
        let scope = SecretScope()
        scope.admit(token: "scoped-token-1")
        #expect("x scoped-token-1 y".redacted == "x *** y")
        let other = SecretScope()
        other.admit(token: "scoped-token-1")
        scope.end()
        #expect("scoped-token-1".redacted == "***", "still held by the other scope")
        other.end()
        #expect("scoped-token-1".redacted == "scoped-token-1")
        other.admit(token: "scoped-token-2")
        #expect("scoped-token-2".redacted == "scoped-token-2", "an ended scope holds nothing more")
    }

    @Test func heldSecretsAreCountedAndReleasedNotKept() {
        let redactor = Redactor()
        for i in 0..<10_000 {
            let token = "token-\(i)-\(UUID().uuidString)"
            #expect(redactor.hold(token))
            if i % 1000 == 0 { #expect(redactor.redact("[\(token)]") == "[***]") }
            redactor.release(token)
            #expect(redactor.secretCount == 0)
        }
        redactor.register("kept-for-good")
        #expect(redactor.hold("kept-for-good"))
        redactor.release("kept-for-good")
        #expect(redactor.redact("kept-for-good") == "***" && redactor.secretCount == 1)
    }

    @Test func tenThousandOperationsWithTheirOwnTokensLeaveNoneBehind() async throws {
        // Each operation resolves its credential (and holds its token) before it finds that the
        // target directory is not empty. The directory is named after the token: the error, made
        // while the operation runs, masks it (so the token was held), and once the operation has
        // returned the token is no longer masked (so it was let go).
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("msgit-busy-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        var tokens: [String] = []
        for i in 0..<10_000 {
            let token = "per-request-token-\(i)-\(UUID().uuidString.prefix(8))"
            tokens.append(token)
            let busy = root.appendingPathComponent(token)
            try FileManager.default.createDirectory(at: busy, withIntermediateDirectories: true)
            try Data("x".utf8).write(to: busy.appendingPathComponent("file"))
            let client = GitClient(credentials: .token(token), writeCredentials: nil)
            do {
                _ = try await client.clone("http://127.0.0.1:9/ns/name.git", into: busy)
                Issue.record("the clone should fail")
            } catch {
                #expect(error.kind == .invalidArgument)
                if i % 500 == 0 {
                    #expect(error.message.contains("***") && !error.message.contains(token), "held while it ran: \(error.message)")
                }
            }
        }
        #expect(tokens.allSatisfy { $0.redacted == $0 }, "no token outlives its operation")
    }

    @Test func aTokenIsMaskedWhileItsOperationRuns() async throws {
        for i in 0..<20 {
            let token = "running-token-\(i)-\(UUID().uuidString.prefix(8))"
            let checks = MaskChecks()
            var logger = Logger(label: "test") { _ in MaskCheckingHandler(token: token, checks: checks) }
            logger.logLevel = .trace
            let client = GitClient(credentials: .token(token), writeCredentials: nil, logger: logger)
            let target = FileManager.default.temporaryDirectory.appendingPathComponent("msgit-mask-\(UUID().uuidString)")
            // Port 9 (discard) is closed here: the clone logs, connects, and fails.
            _ = try? await client.clone("http://127.0.0.1:9/ns/name.git", into: target)
            #expect(!checks.results.isEmpty && checks.results.allSatisfy { $0 }, "masked at every log line")
            #expect(token.redacted == token, "and released after")
        }
    }
}

/// Records, at every log line, whether `Redactor.shared` masks `token` at that moment.
private struct MaskCheckingHandler: LogHandler {
    let token: String
    let checks: MaskChecks
    var logLevel: Logger.Level = .trace
    var metadata: Logger.Metadata = [:]
    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }
    func log(event: LogEvent) {
        checks.record(token.redacted == "***")
    }
}

private final class MaskChecks: Sendable {
    private let state = Mutex<[Bool]>([])
    var results: [Bool] { state.withLock { $0 } }
    func record(_ masked: Bool) { state.withLock { $0.append(masked) } }
}
