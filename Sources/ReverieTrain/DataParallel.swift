import Foundation
import ReverieCore
import ReverieDistributed

/// Why a data-parallel run stopped.
public enum DataParallelError: Error, CustomStringConvertible, Equatable {
    /// The ranks' weights differ after `step` (they must stay identical: same start, same averaged gradients).
    case replicasDiffer(step: Int, checksums: [UInt64])

    public var description: String {
        switch self {
        case let .replicasDiffer(step, sums):
            let listed = sums.enumerated().map { "rank \($0.offset): \(String($0.element, radix: 16))" }
            return "step \(step): the ranks' weights differ (\(listed.joined(separator: ", "))); stopped"
        }
    }
}

extension Trainer {
    /// Sums this rank's loss and terms with every other rank's, and learns whether any rank asked to stop (Ctrl-C),
    /// in one small all-reduce. A non-finite loss on any rank makes the sum non-finite everywhere, so every rank
    /// stops at the same step.
    func reduceAcrossRanks(_ total: Float, _ terms: [(String, Float)]) throws -> (Float, [(String, Float)]) {
        var values = [Double(total)] + terms.map { Double($0.1) } + [Interrupt.requested != 0 ? 1 : 0]
        try values.withUnsafeMutableBufferPointer { try communicator.allreduceSum($0) }
        stopAgreed = values[values.count - 1] > 0
        return (Float(values[0]), terms.enumerated().map { ($0.element.0, Float(values[$0.offset + 1])) })
    }

    /// Replaces every trainable gradient by its sum over the ranks (each micro-batch was already scaled by 1 / the
    /// step's micro-batch count, so the sum is the step's mean), as one flat buffer.
    func reduceGradients() throws {
        let buffer = gradientBuffer
        buffer.gather()
        try communicator.allreduceSum(buffer.values)
        buffer.scatter()
    }

    /// This rank's only micro-batch of the step, its gradients summed over the ranks bucket by bucket while backward
    /// runs (a non-finite loss skips backward but still takes part in every reduction, so the ranks stay in step).
    func overlappedMicroBatch(_ indices: [Int], rng: inout RNG) throws -> MicroBatch {
        let l = try stage.loss(indices: indices, rng: &rng)
        let value = try l.total.item()
        let reduction = overlapped
        reduction.begin()
        if value.isFinite {
            let seed = Tensor(repeating: 1 / Float(plan.microBatches), shape: l.total.shape)
            try l.total.backward(seed: seed, delivering: reduction.deliver)
        }
        let started = DispatchTime.now().uptimeNanoseconds
        try reduction.finish()
        communicationSeconds += Double(DispatchTime.now().uptimeNanoseconds - started) * 1e-9
        return MicroBatch(value: value, terms: l.terms, gradients: [:], overlapped: true)
    }

    /// Compares a checksum of the weights across ranks; throws `replicasDiffer` naming the step when they differ.
    func checkReplicas() throws {
        let ranks = communicator.size
        var slots = [Double](repeating: 0, count: 2 * ranks)
        let own = Self.checksum(stage.model.stateDict().sorted { $0.key < $1.key }.map(\.value))
        // Two exact 32-bit halves per rank: a sum of zeros and one rank's value is that value.
        slots[2 * communicator.rank] = Double(own >> 32)
        slots[2 * communicator.rank + 1] = Double(own & 0xFFFF_FFFF)
        try slots.withUnsafeMutableBufferPointer { try communicator.allreduceSum($0) }
        let sums = (0..<ranks).map { UInt64(slots[2 * $0]) << 32 | UInt64(slots[2 * $0 + 1]) }
        if Set(sums).count > 1 { throw DataParallelError.replicasDiffer(step: step, checksums: sums) }
    }

    /// FNV-1a over the bit patterns of `tensors`, in order.
    static func checksum(_ tensors: [Tensor]) -> UInt64 {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for t in tensors {
            let p = t.pointer
            for i in 0..<t.count {
                h = (h ^ UInt64(p[i].bitPattern)) &* 0x100_0000_01B3
            }
        }
        return h
    }
}
