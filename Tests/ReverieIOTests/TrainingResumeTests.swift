import Foundation
import ReverieCore
import ReverieIO
import ReverieNN
import XCTest

/// A training run stopped at step N, written to an HDF5 checkpoint (weights, AdamW state, RNG) and resumed into a
/// freshly built model continues exactly as the unbroken run (docs/DESIGN.md §3, determinism).
final class TrainingResumeTests: XCTestCase {
    struct Run {
        let model: MLP
        let optimizer: AdamW
        var rng: RNG
    }

    func makeRun(initSeed: UInt64) throws -> Run {
        var rng = RNG(seed: initSeed)
        let model = try MLP(dim: 6, hidden: 16, activation: .gelu, rng: &rng)
        let optimizer = try AdamW(parameters: model.trainableParameters(), lr: 3e-3, weightDecay: 0.05)
        return Run(model: model, optimizer: optimizer, rng: RNG(seed: 99))
    }

    /// One step on a batch drawn from the run's RNG (so the data stream is part of the resumed state).
    func step(_ run: inout Run) throws -> Float {
        let x = Tensor.randn([8, 6], rng: &run.rng)
        let target = try x.tanh() * 0.5
        run.optimizer.zeroGrad()
        let loss = try mseLoss(run.model(x), target)
        try loss.backward()
        run.optimizer.step()
        return try loss.item()
    }

    func testResumeFromCheckpointMatchesUnbrokenRunBitForBit() throws {
        var unbroken = try makeRun(initSeed: 1)
        let reference = try (0..<6).map { _ in try step(&unbroken) }

        var first = try makeRun(initSeed: 1)
        var losses = try (0..<3).map { _ in try step(&first) }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("reverie-resume-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("step3.h5")
        var checkpoint = Checkpoint(
            model: first.model.stateDict(), optimizer: first.optimizer.exportState(),
            integers: ["state.rng": first.rng.stateWords.map { Int64(bitPattern: $0) }])
        checkpoint.step = 3
        try checkpoint.write(to: file)

        // A different initialisation proves the weights really come from the file.
        var resumed = try makeRun(initSeed: 2)
        let loaded = try Checkpoint.read(from: file)
        XCTAssertEqual(loaded.step, 3)
        try resumed.model.loadStateDict(loaded.model, strict: true)
        try resumed.optimizer.importState(loaded.optimizer)
        resumed.rng = try RNG(stateWords: try XCTUnwrap(loaded.integers["state.rng"]).map { UInt64(bitPattern: $0) })
        losses += try (0..<3).map { _ in try step(&resumed) }

        XCTAssertEqual(losses, reference)
        for (key, tensor) in unbroken.model.stateDict() {
            XCTAssertEqual(tensor.toArray(), resumed.model.stateDict()[key]?.toArray(), key)
        }
    }
}
