/// Arithmetic on sizes and counts that come from outside (a pointer's `size` is whatever its
/// author wrote, up to 18 digits): it saturates at the bounds instead of trapping. Ten pointers
/// of 999999999999999999 bytes each overflowed a sum of sizes and killed the process.
extension Int64 {
    /// `self + other`, or `Int64.max`/`Int64.min` when the sum does not fit.
    public func saturatingAdd(_ other: Int64) -> Int64 {
        let (sum, overflow) = addingReportingOverflow(other)
        return overflow ? (other > 0 ? .max : .min) : sum
    }

    /// `self - other`, or `Int64.max`/`Int64.min` when the difference does not fit.
    public func saturatingSubtract(_ other: Int64) -> Int64 {
        let (difference, overflow) = subtractingReportingOverflow(other)
        return overflow ? (other < 0 ? .max : .min) : difference
    }

    /// `self * other`, or the bound of the product's sign when it does not fit.
    public func saturatingMultiply(_ other: Int64) -> Int64 {
        let (product, overflow) = multipliedReportingOverflow(by: other)
        return overflow ? ((self < 0) == (other < 0) ? .max : .min) : product
    }
}

extension Sequence where Element == Int64 {
    /// The sum, saturating at `Int64.max` (see `saturatingAdd`).
    public func saturatingSum() -> Int64 {
        reduce(0) { $0.saturatingAdd($1) }
    }
}
