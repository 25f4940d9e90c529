import ReverieCore

extension SafetensorsCheckpoint {
    /// The tensors of a model whose parameters are `expected` (key → shape), read from `prefix + key` with shapes
    /// checked: the shared core of every Hugging Face / diffusers import.
    ///
    /// Every tensor in the files must be one of them unless `ignoring` accepts its name (buffers a library saves,
    /// the other tower of a two-tower checkpoint, a tied copy); otherwise the error names the file, the tensor and
    /// `owner` (the reference class, e.g. `LlamaForCausalLM`).
    public func stateDict(
        expected: [(key: String, shape: [Int])], owner: String, prefix: String = "",
        ignoring: (String) -> Bool = { _ in false }
    ) throws -> [String: Tensor] {
        let known = Set(expected.map(\.key))
        for name in tensorNames where !ignoring(name) {
            guard name.hasPrefix(prefix), known.contains(String(name.dropFirst(prefix.count))) else {
                throw SafetensorsError.badHeader(
                    path: source.path, detail: "tensor '\(name)' is not a parameter of \(owner) with this config.json")
            }
        }
        var state: [String: Tensor] = [:]
        for (key, shape) in expected { state[key] = try tensor(prefix + key, shape: shape) }
        return state
    }
}
