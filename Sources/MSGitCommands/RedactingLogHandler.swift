import Foundation
import Logging
import MSGit

/// Passes every message and metadata value through the `Redactor` before the wrapped handler
/// writes it, so no log level can print a token, userinfo or a presigned signature.
struct RedactingLogHandler: LogHandler {
    var wrapped: any LogHandler

    init(_ wrapped: any LogHandler) { self.wrapped = wrapped }

    var logLevel: Logger.Level {
        get { wrapped.logLevel }
        set { wrapped.logLevel = newValue }
    }

    var metadata: Logger.Metadata {
        get { wrapped.metadata }
        set { wrapped.metadata = newValue }
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { wrapped[metadataKey: key] }
        set { wrapped[metadataKey: key] = newValue }
    }

    func log(event: LogEvent) {
        var event = event
        // Without -v, a warning is for the user, not a log: git's "warning: ..." line.
        if wrapped.logLevel == .warning, event.level == .warning {
            FileHandle.standardError.write(Data("warning: \(event.message.description.redacted)\n".utf8))
            return
        }
        event.message = "\(event.message.description.redacted)"
        event.metadata = event.metadata?.mapValues { .string($0.description.redacted) }
        wrapped.log(event: event)
    }
}
