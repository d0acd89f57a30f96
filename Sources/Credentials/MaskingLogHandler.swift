import Logging

/// Passes every message and metadata value through the `Redactor` before the wrapped handler
/// writes it. `GitClient` puts it around whatever logger it is given, so a service's own handler
/// never sees a token, a URL's userinfo or a presigned signature, at any level.
public struct MaskingLogHandler: LogHandler {
    /// The handler that writes what is left.
    public var wrapped: any LogHandler

    public init(_ wrapped: any LogHandler) { self.wrapped = wrapped }

    /// `logger` with its handler wrapped (once: a logger already masked is returned as it is).
    public static func masking(_ logger: Logger) -> Logger {
        guard !(logger.handler is MaskingLogHandler) else { return logger }
        var masked = logger
        masked.handler = MaskingLogHandler(logger.handler)
        return masked
    }

    public var logLevel: Logger.Level {
        get { wrapped.logLevel }
        set { wrapped.logLevel = newValue }
    }

    public var metadata: Logger.Metadata {
        get { wrapped.metadata }
        set { wrapped.metadata = newValue }
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { wrapped[metadataKey: key] }
        set { wrapped[metadataKey: key] = newValue }
    }

    public func log(event: LogEvent) {
        var event = event
        event.message = "\(event.message.description.redacted)"
        event.metadata = event.metadata?.mapValues { .string($0.description.redacted) }
        wrapped.log(event: event)
    }
}
