import Foundation

extension Duration {
    /// This duration in seconds.
    public var timeInterval: TimeInterval {
        let (seconds, attoseconds) = components
        return TimeInterval(seconds) + TimeInterval(attoseconds) / 1e18
    }

    /// Seconds rounded to the millisecond, as `--json` reports and mirror reports give durations.
    public var reportSeconds: Double {
        (timeInterval * 1000).rounded() / 1000
    }
}
