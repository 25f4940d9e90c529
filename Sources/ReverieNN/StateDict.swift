import ReverieCore

extension Module {
    /// Copies `state` into this module's parameters and buffers, in place (tensor identities are kept, so an
    /// optimizer built earlier still points at the same parameters).
    ///
    /// Validation happens before anything is written: on error the module is untouched.
    /// - strict: every module key must be present and no other key may be (PyTorch's `strict=True`).
    /// - non-strict: missing and unexpected keys are reported, matching keys are loaded.
    /// In both modes a key present on both sides with a different shape is an error, as in PyTorch.
    ///
    /// - Throws: `ModuleError.stateDictMismatch` naming every missing, unexpected and mis-shaped key.
    /// - Returns: the report (in non-strict mode it lists what was skipped).
    @discardableResult
    public func loadStateDict(_ state: [String: Tensor], strict: Bool = true) throws -> StateDictReport {
        let targets = namedTensors()
        var report = StateDictReport()
        var known = Set<String>()
        var copies: [(Tensor, Tensor)] = []
        for (key, t, _) in targets {
            known.insert(key)
            guard let source = state[key] else {
                report.missing.append(key)
                continue
            }
            if source.shape != t.shape {
                report.misShaped.append(.init(key: key, expected: t.shape, found: source.shape))
            } else {
                copies.append((t, source))
            }
        }
        report.unexpected = state.keys.filter { !known.contains($0) }.sorted(by: naturalKeyOrder)
        report.missing.sort(by: naturalKeyOrder)
        report.misShaped.sort { naturalKeyOrder($0.key, $1.key) }
        if !report.misShaped.isEmpty || (strict && !report.isExact) {
            throw ModuleError.stateDictMismatch(report)
        }
        for (target, source) in copies where target.pointer != source.pointer {
            // copyMemory has memmove semantics, so a source that views part of another parameter is still safe.
            UnsafeMutableRawPointer(target.pointer).copyMemory(
                from: source.pointer, byteCount: target.count * MemoryLayout<Float>.stride)
        }
        report.loaded = copies.count
        return report
    }
}
