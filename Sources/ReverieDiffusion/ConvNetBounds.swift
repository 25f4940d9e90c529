import Foundation

/// Sanity bounds on the sizes a diffusers `config.json` (or a checkpoint's `model_config`) declares for a
/// convolutional network, checked before any weight is allocated: a file can declare a channel count of 2^20 or a
/// cross-attention width of 2^40, and building that would abort in the allocator instead of naming the key.
enum ConvNetBounds {
    static let maxChannels = 1 << 14, maxWidth = 1 << 16, maxLayersPerBlock = 64, maxBlocks = 16

    static func check(component: String, channels: [Int], layersPerBlock: Int, sizes: [(String, Int)]) throws {
        func fail(_ detail: String) -> DiffusionError { .invalidConfiguration(component: component, detail: detail) }
        guard channels.count <= maxBlocks, channels.allSatisfy({ (1...maxChannels).contains($0) }) else {
            throw fail("block_out_channels \(channels): at most \(maxBlocks) blocks of 1...\(maxChannels) channels")
        }
        guard (1...maxLayersPerBlock).contains(layersPerBlock) else {
            throw fail("layers_per_block must be in 1...\(maxLayersPerBlock), is \(layersPerBlock)")
        }
        for (key, value) in sizes where !(1...maxWidth).contains(value) {
            throw fail("\(key) must be in 1...\(maxWidth), is \(value)")
        }
        // A generous estimate of the weights (3 × 3 convolutions, attention, both halves of a UNet) against memory.
        let widest = Double(sizes.map(\.1).max() ?? 1)
        let parameters = channels.reduce(0.0) { total, c in
            let c = Double(c)
            return total + Double(layersPerBlock + 1) * 2 * (2 * 9 * c * c + 12 * c * c + 2 * c * widest)
        }
        let bytes = parameters * 4, memory = Double(ProcessInfo.processInfo.physicalMemory)
        guard bytes <= memory else {
            throw fail(
                String(
                    format: "declares about %.3g parameters (%.1f GB as float32), more than this machine's %.1f GB",
                    parameters, bytes / 1e9, memory / 1e9))
        }
    }
}
