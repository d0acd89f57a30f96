import Foundation
import MSGit
import Synchronization

/// Draws progress on standard error: one live line on a terminal, a line per finished phase
/// otherwise (logs and CI), nothing with --quiet (the renderer is then not made).
final class ProgressRenderer: Sendable {
    private struct State {
        var phase: TransferProgress.Phase?
        var lineOpen = false
        var lfsStart: ContinuousClock.Instant?
        var closed: Set<TransferProgress.Phase> = []
    }

    private let state = Mutex(State())
    let isTerminal: Bool

    init(isTerminal: Bool = isatty(STDERR_FILENO) == 1) {
        self.isTerminal = isTerminal
    }

    var handler: ProgressHandler { { [self] in self.render($0) } }

    func render(_ p: TransferProgress) {
        let output: String = state.withLock { s in
            var out = ""
            if p.phase == .lfs && s.lfsStart == nil { s.lfsStart = .now }
            // Counters accumulate in one TransferProgress, so the newest report describes every
            // phase so far.
            if s.phase != p.phase, let phase = s.phase {
                // Close the finished phase with its final numbers, and any phase of the fetch it
                // went through between two reports (a small pack is received before the first one).
                let fetchPhases: [TransferProgress.Phase] = [.receivingObjects, .resolvingDeltas]
                var finished: [TransferProgress.Phase] = [phase]
                if let from = fetchPhases.firstIndex(of: phase) ?? (phase == .connecting ? -1 : nil),
                   let to = fetchPhases.firstIndex(of: p.phase) ?? (p.phase == .connecting ? nil : fetchPhases.count) {
                    finished = Array(fetchPhases[max(from, 0)..<max(to, max(from, 0))])
                }
                for phase in finished where !s.closed.contains(phase) {
                    s.closed.insert(phase)
                    let line = Self.describe(p, phase: phase, lfsStart: s.lfsStart)
                    if !line.isEmpty { out += (isTerminal ? "\r\u{1B}[K" : "") + line + "\n" }
                }
                s.lineOpen = false
            }
            s.phase = p.phase
            if isTerminal, p.phase != .done {
                let line = Self.describe(p, phase: p.phase, lfsStart: s.lfsStart)
                if !line.isEmpty {
                    out += "\r\u{1B}[K" + line
                    s.lineOpen = true
                }
            }
            return out
        }
        if !output.isEmpty { FileHandle.standardError.write(Data(output.utf8)) }
    }

    static func describe(_ p: TransferProgress, phase: TransferProgress.Phase, lfsStart: ContinuousClock.Instant?) -> String {
        switch phase {
        case .connecting, .done:
            return ""
        case .receivingObjects:
            guard p.totalObjects > 0 else { return "" }
            return "Receiving objects: \(percent(p.receivedObjects, p.totalObjects)) (\(p.receivedObjects)/\(p.totalObjects)), \(bytes(p.receivedBytes))"
        case .resolvingDeltas:
            guard p.totalDeltas > 0 else { return "" }
            return "Resolving deltas: \(percent(p.indexedDeltas, p.totalDeltas)) (\(p.indexedDeltas)/\(p.totalDeltas))"
        case .checkingOut:
            guard p.totalFiles > 0 else { return "" }
            return "Updating files: \(percent(p.checkedOutFiles, p.totalFiles)) (\(p.checkedOutFiles)/\(p.totalFiles))"
        case .pushing:
            guard p.totalPushObjects > 0 else { return "" }
            return "Writing objects: \(percent(p.pushedObjects, p.totalPushObjects)) (\(p.pushedObjects)/\(p.totalPushObjects)), \(bytes(p.pushedBytes))"
        case .lfs:
            guard p.lfsObjectsTotal > 0 else { return "" }
            var line = "LFS: \(p.lfsObjectsDone)/\(p.lfsObjectsTotal) objects, \(bytes(p.lfsBytesDone))/\(bytes(p.lfsBytesTotal))"
            if let lfsStart {
                let seconds = (ContinuousClock.now - lfsStart).components.seconds
                if seconds > 0 { line += ", \(bytes(p.lfsBytesDone / UInt64(seconds)))/s" }
            }
            return line
        }
    }

    /// Ends an open live line so the next output starts on a line of its own.
    func finish() {
        let open = state.withLock { s in
            defer { s.lineOpen = false }
            return s.lineOpen
        }
        if open { FileHandle.standardError.write(Data("\n".utf8)) }
    }

    static func percent(_ done: Int, _ total: Int) -> String {
        total <= 0 ? "100%" : "\(Int(min(100, max(0, Double(done) * 100 / Double(total)))))%"
    }

    static func bytes(_ n: UInt64) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var value = Double(n)
        var unit = 0
        while value >= 1024 && unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        return unit == 0 ? "\(n) B" : String(format: "%.2f %@", value, units[unit])
    }
}
