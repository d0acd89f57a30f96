import Foundation
import Testing
@testable import HTTP

@Suite struct RetryPolicyTests {
    @Test func retryAfter() {
        #expect(RetryPolicy.retryAfter("3") == .seconds(3))
        #expect(RetryPolicy.retryAfter(" 0 ") == .seconds(0))
        #expect(RetryPolicy.retryAfter("soon") == nil)
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        let date = formatter.string(from: Date().addingTimeInterval(10))
        let wait = RetryPolicy.retryAfter(date)
        #expect(wait != nil && wait! > .seconds(8) && wait! <= .seconds(10))
    }
}
