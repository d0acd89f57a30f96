import CoreMetrics
import Foundation
import MSGit
import MetricsTestKit
import Testing

/// Issue 24: what a service watches, through swift-metrics. The backend is the test process's
/// (bootstrapped once, here); other tests' operations count too, so every check is "at least".
@Suite struct MetricsTests {
    let hub = Hub.shared

    static let metrics: TestMetrics = {
        let metrics = TestMetrics()
        MetricsSystem.bootstrap(metrics)
        return metrics
    }()

    func total(_ label: String, _ dimensions: [(String, String)]) -> Int64 {
        Self.metrics.counterTotal(label: label, dimensions: dimensions)
    }

    @Test func operationsTheirOutcomesTimesBytesAndConnectionsAreRecorded() async throws {
        let metrics = Self.metrics
        let client = GitClient(credentials: .token(hub.token), writeCredentials: nil)
        let repo = try Fixtures.lfsModel("metrics")
        let succeeded = [("operation", "clone"), ("outcome", "success")]
        let notFound = [("operation", "clone"), ("outcome", "notFound")]
        let bytes = [("direction", "download")], objects = [("direction", "download"), ("outcome", "done")]
        let before = (total("msgit_operations_total", succeeded), total("msgit_operations_total", notFound),
                      total("msgit_lfs_bytes_total", bytes), total("msgit_lfs_objects_total", objects))

        let cloned = try await client.clone(repo.url, into: URL(fileURLWithPath: Paths.scratch("metrics") + "/repo"))
        #expect(cloned.lfs.bytesDownloaded > 0)
        do {
            _ = try await client.clone(hub.repoURL("test/no-such-\(UUID().uuidString.prefix(8).lowercased())"),
                                       into: URL(fileURLWithPath: Paths.scratch("metrics-missing") + "/repo"))
            Issue.record("a missing repository cloned")
        } catch {
            #expect(error.kind == .notFound, "\(error)")
        }

        #expect(total("msgit_operations_total", succeeded) >= before.0 + 1)
        #expect(total("msgit_operations_total", notFound) >= before.1 + 1)
        #expect(total("msgit_lfs_bytes_total", bytes) >= before.2 + cloned.lfs.bytesDownloaded)
        #expect(total("msgit_lfs_objects_total", objects) >= before.3 + Int64(cloned.lfs.objectsDownloaded))
        let times = metrics.timers(label: "msgit_operation_duration_seconds", dimensions: [("operation", "clone")])
        #expect(times.contains { !$0.values.isEmpty })
        let connections = metrics.meters(label: "msgit_http_connections_in_use")
        #expect(connections.contains { $0.values.contains { $0 > 0 } }, "a request held a connection")
    }
}
