import Foundation

extension Communicator {
    /// Every rank's `bytes`, in rank order, on every rank (an all-gather of messages of any length: their lengths
    /// first, then each rank's message broadcast in turn).
    public func allGather(_ bytes: Data) throws -> [Data] {
        guard size > 1 else { return [bytes] }
        var lengths = [Double](repeating: 0, count: size)
        lengths[rank] = Double(bytes.count)
        try lengths.withUnsafeMutableBufferPointer { try allreduceSum($0) }
        return try (0..<size).map { root in
            var message = root == rank ? bytes : Data(count: Int(lengths[root]))
            if !message.isEmpty {
                try message.withUnsafeMutableBytes { try broadcast($0, root: root) }
            }
            return message
        }
    }
}
