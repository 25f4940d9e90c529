import Foundation
import ReverieCore
import ReverieIO

/// Seed inputs for targets whose real inputs are too large to commit or start from: a small checkpoint in
/// Reverie's layout, with every section and attribute kind, so the fuzzer starts inside the reader's paths.
enum FuzzSeeds {
    static func write(to directory: URL) throws {
        let folder = directory.appendingPathComponent("checkpoint", isDirectory: true)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        var rng = RNG(seed: 1)
        let checkpoint = Checkpoint(
            model: ["layer.weight": Tensor.randn([4, 3], rng: &rng), "layer.bias": Tensor.randn([4], rng: &rng)],
            optimizer: ["layer.weight.exp_avg": Tensor.randn([4, 3], rng: &rng)],
            state: ["loss": Tensor(scalar: 0.5)],
            integers: ["optimizer.step": [3], "state.rng": [1, 2, 3, 4]],
            attributes: [
                "model_config": .string(#"{"kind": "vae"}"#), "step": .int(3), "lr": .double(1e-3),
            ])
        try checkpoint.write(to: folder.appendingPathComponent("small.h5"))
        try checkpoint.write(to: folder.appendingPathComponent("small-f16.h5"), dtype: .float16)
    }
}
