import ReverieCore

/// Parameter enumeration, freezing, gradients and counts for a module tree.
extension Module {
    /// Every parameter and buffer with its full key, in visit order. A tensor shared by two modules (tied weights)
    /// appears under each key.
    public func namedTensors() -> [(key: String, tensor: Tensor, isParameter: Bool)] {
        var out: [(key: String, tensor: Tensor, isParameter: Bool)] = []
        var seen = Set<String>()
        forEachTensor { key, t, isParameter in
            precondition(seen.insert(key).inserted, "key '\(key)' is named twice in the module tree")
            out.append((key, t, isParameter))
        }
        return out
    }

    /// The trainable parameters with their keys, in visit order (the deterministic order optimizers and gradient
    /// buffers use). A tensor shared under several keys (tied weights) is listed once, under its first key, as
    /// `torch.nn.Module.named_parameters` does.
    public func namedParameters() -> [(String, Tensor)] {
        var seen = Set<ObjectIdentifier>()
        var out: [(String, Tensor)] = []
        for (key, t, isParameter) in namedTensors() where isParameter && seen.insert(ObjectIdentifier(t)).inserted {
            out.append((key, t))
        }
        return out
    }

    /// The parameters in `namedParameters()` order.
    public func parameters() -> [Tensor] { namedParameters().map(\.1) }

    /// The persistent buffers with their keys, in visit order.
    public func namedBuffers() -> [(String, Tensor)] {
        namedTensors().filter { !$0.isParameter }.map { ($0.key, $0.tensor) }
    }

    /// The parameters that an optimizer would update now (`requiresGrad == true`), with their keys.
    public func trainableParameters() -> [(String, Tensor)] { namedParameters().filter { $0.1.requiresGrad } }

    /// Number of parameter elements (tied tensors counted once).
    public var parameterCount: Int { parameters().reduce(0) { $0 + $1.count } }

    /// Number of parameter elements that are not frozen.
    public var trainableParameterCount: Int { trainableParameters().reduce(0) { $0 + $1.1.count } }

    /// Parameters and buffers by key, sharing storage with the module (no copies). Tied tensors appear under
    /// every key, as in PyTorch's `state_dict()`.
    public func stateDict() -> [String: Tensor] {
        var out: [String: Tensor] = [:]
        for (key, t, _) in namedTensors() { out[key] = t.detached() }
        return out
    }

    /// Clears the gradient of every parameter.
    public func zeroGrad() {
        for (_, p) in namedParameters() { p.zeroGrad() }
    }

    /// Freezes the parameters under `prefix` (`requiresGrad = false`): optimizers skip them, while gradients still
    /// flow through them to earlier inputs. `prefix` matches whole key components: `"vision"` matches
    /// `vision.proj.weight` but not `vision_proj.weight`; `""` matches everything.
    ///
    /// - Returns: the number of parameter tensors affected.
    /// - Throws: `ModuleError.noParameterMatches` when the prefix names no parameter (a typo in a recipe).
    @discardableResult
    public func freeze(prefix: String = "") throws -> Int { try setRequiresGrad(false, prefix: prefix) }

    /// Makes the parameters under `prefix` trainable again; matching as in `freeze(prefix:)`.
    @discardableResult
    public func unfreeze(prefix: String = "") throws -> Int { try setRequiresGrad(true, prefix: prefix) }

    private func setRequiresGrad(_ flag: Bool, prefix: String) throws -> Int {
        let matches = namedParameters().filter { keyHasPrefix($0.0, prefix) }
        guard !matches.isEmpty else {
            throw ModuleError.noParameterMatches(prefix: prefix, topLevel: topLevelNames())
        }
        for (_, p) in matches { p.requiresGrad = flag }
        return matches.count
    }

    private func topLevelNames() -> [String] {
        var names: [String] = []
        for (key, _) in namedParameters() {
            let first = String(key.prefix { $0 != "." })
            if names.last != first && !names.contains(first) { names.append(first) }
        }
        return names
    }
}

/// Whether `key` lies under `prefix` as whole dotted components (`""` is the root and matches every key).
public func keyHasPrefix(_ key: String, _ prefix: String) -> Bool {
    prefix.isEmpty || key == prefix || (key.hasPrefix(prefix) && key.dropFirst(prefix.count).first == ".")
}
