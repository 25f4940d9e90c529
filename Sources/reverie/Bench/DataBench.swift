import Foundation
import ReverieCore
import ReverieData

/// `reverie bench data`: batches of 32 PNG images decoded and resized to 64×64, read serially and through the
/// prefetching loader, alone and interleaved with a stand-in training step.
enum DataBench {
    static func run(batches: Int = 12, batchSize: Int = 32) throws -> [BenchResult] {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("reverie-bench-data-\(getpid())")
        defer { try? FileManager.default.removeItem(at: dir) }
        // 128×128 renders, so every image is really resized to 64×64.
        let manifests = try ShapesExport.write(
            world: ShapesWorld(seed: 1, canvas: 128), to: dir,
            count: batches * batchSize, kinds: [.caption])
        let manifest = try Manifest(contentsOf: manifests[0])
        func loader() throws -> DataLoader {
            try DataLoader(
                sources: [ManifestSource(manifest)], weights: [1],
                builder: ExampleBuilder(encoder: ByteTextEncoder(), images: FileImageLoader(size: 64)),
                batchSize: batchSize, seed: 1)
        }
        // A stand-in training step: a single-threaded 1024³ GEMM (≈ 40 ms), leaving the other core to the prefetcher.
        var rng = RNG(seed: 5)
        let a = Tensor.randn([1024, 1024], rng: &rng), c = Tensor(zeros: [1024, 1024])
        let step = {
            ThreadPolicy.withSerialBLAS {
                GEMM.run(
                    transA: false, transB: false, m: 1024, n: 1024, k: 1024, a: a.pointer, b: a.pointer, c: c.pointer)
            }
        }
        let stepSeconds = Timing.median((0..<5).map { _ in Timing.seconds(step) })

        func measure(_ name: String, prefetch: Bool, withStep: Bool) throws -> BenchResult {
            var serial = try loader()
            let prefetcher = prefetch ? PrefetchingLoader(try loader(), depth: 2) : nil
            defer { prefetcher?.stop() }
            let t = try Timing.seconds {
                for _ in 0..<batches {
                    _ = try prefetcher?.next() ?? serial.next()
                    if withStep { step() }
                }
            }
            return BenchResult(
                name: name, seconds: t / Double(batches), gflops: 0, fractionOfCeiling: nil,
                detail: ["batches_per_s": Double(batches) / t, "step_s": withStep ? stepSeconds : 0])
        }
        return [
            try measure("data_png64_b\(batchSize)_serial", prefetch: false, withStep: false),
            try measure("data_png64_b\(batchSize)_prefetch", prefetch: true, withStep: false),
            try measure("data_png64_b\(batchSize)_serial_with_step", prefetch: false, withStep: true),
            try measure("data_png64_b\(batchSize)_prefetch_with_step", prefetch: true, withStep: true),
        ]
    }
}
