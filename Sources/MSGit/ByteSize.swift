import Foundation

/// Sizes as people write them.
public enum ByteSize {
    /// "1048576", "500KB", "10MiB", "1.5GB", "2M" -> bytes; nil for anything else.
    public static func parse(_ text: String) -> Int64? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let units: [(String, Double)] = [("KiB", 1024), ("MiB", 1_048_576), ("GiB", 1_073_741_824), ("KB", 1000),
                                         ("MB", 1e6), ("GB", 1e9), ("K", 1024), ("M", 1_048_576), ("G", 1_073_741_824),
                                         ("B", 1)]
        for (suffix, factor) in units where trimmed.uppercased().hasSuffix(suffix.uppercased()) {
            guard let number = Double(trimmed.dropLast(suffix.count).trimmingCharacters(in: .whitespaces)),
                  number >= 0, number * factor < 9e18 else { return nil }
            return Int64(number * factor)
        }
        return Int64(trimmed).flatMap { $0 >= 0 ? $0 : nil }
    }
}
