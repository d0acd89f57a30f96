import Foundation

/// Turns cumulative byte counts of one request into deltas (a retried request starts again at 0).
final class ProgressCounter: @unchecked Sendable {
    // @unchecked Sendable: `last` is guarded by `lock`.
    private let lock = NSLock()
    private var last: Int64 = 0
    private let sink: @Sendable (Int64) -> Void

    init(_ sink: @escaping @Sendable (Int64) -> Void) { self.sink = sink }

    func report(total: Int64) {
        lock.lock()
        let delta = total - last
        if delta > 0 { last = total }
        lock.unlock()
        if delta > 0 { sink(delta) }
    }
}
