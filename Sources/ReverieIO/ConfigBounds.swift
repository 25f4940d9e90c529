import Foundation

/// Sanity bounds on the sizes a `config.json` (or a checkpoint's `model_config`) declares, checked before a model
/// is built: a file can declare any number, and a hidden size of 2^40 would otherwise reach the allocator (or
/// overflow an element count) before anything names the key.
public enum ConfigBounds {
    /// Widths far above any model Reverie can run on a CPU, and low enough that no product of two overflows.
    public static let maxWidth = 1 << 16, maxIntermediate = 1 << 18, maxLayers = 1024, maxVocabulary = 1 << 22
    public static let maxPositions = 1 << 20, maxImageSize = 1 << 14

    /// Throws `SafetensorsError.badConfig` naming `file` and the first key whose value is outside its range.
    public static func check(_ values: [(key: String, value: Int, range: ClosedRange<Int>)], file: String) throws {
        for (key, value, range) in values where !range.contains(value) {
            throw SafetensorsError.badConfig(
                path: file, key: key, detail: "must be in \(range.lowerBound)...\(range.upperBound), is \(value)")
        }
    }

    /// Throws when `parameters` float32 weights would not fit in this machine's memory.
    public static func checkMemory(parameters: Double, file: String) throws {
        let bytes = parameters * 4, available = Double(ProcessInfo.processInfo.physicalMemory)
        guard bytes <= available else {
            throw SafetensorsError.badConfig(
                path: file, key: nil,
                detail: String(
                    format: "declares %.3g parameters (%.1f GB as float32), more than this machine's %.1f GB of memory",
                    parameters, bytes / 1e9, available / 1e9))
        }
    }
}
