import ReverieCore

/// Errors in optimizer state supplied from a checkpoint.
public enum OptimizerError: Error, CustomStringConvertible, Equatable {
    /// The state does not fit this optimizer's parameters; `problems` lists every offending key.
    case invalidState(problems: [String])

    public var description: String {
        switch self {
        case let .invalidState(problems):
            return "optimizer state does not match the parameters:\n"
                + problems.map { "  " + $0 }.joined(separator: "\n")
        }
    }
}

extension AdamW {
    /// The optimizer state as tensors, for `/optimizer/...` in a training checkpoint: `step` (the number of
    /// `step()` calls) and, for every parameter updated at least once, `<key>.exp_avg`, `<key>.exp_avg_sq` and
    /// `<key>.step` (its own step count). Scalars are 0-d tensors; moments are copies, safe to write while
    /// training continues. Restoring it with `importState(_:)` continues bit-exactly.
    public func exportState() -> [String: Tensor] {
        var out: [String: Tensor] = ["step": Tensor(scalar: Float(stepCount))]
        for s in slots {
            guard let m = s.expAvg, let v = s.expAvgSq else { continue }
            out[s.key + ".exp_avg"] = m.copy()
            out[s.key + ".exp_avg_sq"] = v.copy()
            out[s.key + ".step"] = Tensor(scalar: Float(s.steps))
        }
        return out
    }

    /// Replaces the whole state with `state` (as `exportState()` produced it). Parameters without entries start
    /// fresh. Everything is validated first; on error the optimizer is unchanged.
    ///
    /// - Throws: `OptimizerError.invalidState` listing unknown keys, shape mismatches, incomplete entries and
    ///   non-integral step counts.
    public func importState(_ state: [String: Tensor]) throws {
        var problems: [String] = []
        func count(_ key: String) -> Int? {
            guard let t = state[key] else { return nil }
            guard t.count == 1, let x = t.toArray().first, x >= 0, x == x.rounded(), x < 0x1p24 else {
                problems.append("\(key): expected one non-negative integral value, got \(t)")
                return nil
            }
            return Int(x)
        }
        let global = count("step")
        if state["step"] == nil { problems.append("step: missing") }
        var used: Set<String> = ["step"]
        var restored: [(Slot, Tensor, Tensor, Int)] = []
        for s in slots {
            let keys = [s.key + ".exp_avg", s.key + ".exp_avg_sq", s.key + ".step"]
            let present = keys.filter { state[$0] != nil }
            used.formUnion(present)
            if present.isEmpty { continue }
            guard present.count == 3 else {
                problems.append("\(s.key): incomplete state, has only \(present.joined(separator: ", "))")
                continue
            }
            let m = state[keys[0]]!, v = state[keys[1]]!  // presence checked just above
            for (key, t) in [(keys[0], m), (keys[1], v)] where t.shape != s.param.shape {
                problems.append("\(key): shape \(shapeString(t.shape)), parameter has \(shapeString(s.param.shape))")
            }
            if let n = count(keys[2]), m.shape == s.param.shape, v.shape == s.param.shape {
                restored.append((s, m, v, n))
            }
        }
        for key in state.keys.sorted() where !used.contains(key) { problems.append("\(key): no such parameter") }
        guard problems.isEmpty, let global else { throw OptimizerError.invalidState(problems: problems) }
        for s in slots { (s.expAvg, s.expAvgSq, s.steps) = (nil, nil, 0) }
        for (s, m, v, n) in restored {
            (s.expAvg, s.expAvgSq, s.steps) = (m.copy(), v.copy(), n)
        }
        stepCount = global
    }
}
