import ReverieCore
import ReverieNN

/// What reads the shape labels from patch features [B, P, D] → logits [B, P, classes].
public enum PatchHead {
    /// A trained linear layer.
    case learned(Linear)
    /// Constant directions W [classes, D] with orthonormal rows: logits = features · Wᵀ.
    case fixed(Tensor)

    var linear: Linear? {
        if case let .learned(l) = self { return l }
        return nil
    }

    func logits(_ features: Tensor) throws -> Tensor {
        switch self {
        case let .learned(l): return try l(features)
        case let .fixed(w): return try ReverieCore.linear(features, weight: w, bias: nil)
        }
    }

    /// `rows` orthonormal directions in `dim` dimensions (Gram–Schmidt on Gaussian draws).
    public static func orthonormal(_ rows: Int, _ dim: Int, rng: inout RNG) throws -> Tensor {
        var basis: [[Float]] = []
        while basis.count < rows {
            var v = Tensor.randn([dim], rng: &rng).toArray()
            for b in basis {
                let dot = zip(v, b).reduce(0) { $0 + $1.0 * $1.1 }
                for i in v.indices { v[i] -= dot * b[i] }
            }
            let norm = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
            guard norm > 1e-3 else { continue }
            basis.append(v.map { $0 / norm })
        }
        return try Tensor(shape: [rows, dim], data: basis.flatMap { $0 })
    }
}
