import ReverieCore

/// A node of a model: it owns parameters (trainable leaf tensors), buffers (persistent non-trainable tensors) and
/// child modules, and names each of them in `visit(_:)`.
///
/// Keys are the names joined by `.` from the root, arrays indexed (`layers.1.attn.q_proj.weight`), so a model's
/// state dictionary reads like a Hugging Face one. A subclass overrides `visit(_:)` and names everything it owns,
/// always in the same order; that order is the order of `namedParameters()`, of the optimizer state and of the
/// flat gradient buffer.
///
/// ```swift
/// final class Block: Module {
///     let norm: RMSNorm, attn: MultiHeadAttention, mlp: SwiGLU
///     override func visit(_ v: inout ModuleVisitor) {
///         v.child("input_layernorm", norm)
///         v.child("self_attn", attn)
///         v.child("mlp", mlp)
///     }
/// }
/// ```
///
/// Forward passes are ordinary methods (usually `callAsFunction`) with whatever arguments the module needs; the
/// base class knows nothing about them. A parameter is a leaf `Tensor` with `requiresGrad == true`; a frozen
/// parameter has `requiresGrad == false` and is skipped by optimizers, while gradients still flow through the
/// module to its inputs.
open class Module {
    /// Training mode (the default, as in PyTorch) enables dropout; `eval()` switches it off for the whole subtree.
    public internal(set) var isTraining = true

    public init() {}

    /// Names this module's parameters, buffers and direct children. Override and call the visitor once per item,
    /// in a fixed order. The default names nothing (a module with no state).
    open func visit(_ v: inout ModuleVisitor) {}

    /// Called after `train()` / `eval()` changed `isTraining`; override to react (the default does nothing).
    open func didChangeMode() {}
}

/// Collects what a module names in `Module.visit(_:)`.
public struct ModuleVisitor {
    /// One named item of a module.
    public enum Item {
        case parameter(String, Tensor)
        case buffer(String, Tensor)
        case child(String, Module)
    }

    /// The items named so far, in order.
    public private(set) var items: [Item] = []

    init() {}

    /// A trainable tensor (created with `requiresGrad = true`). Its key is `<prefix>.<name>`.
    public mutating func parameter(_ name: String, _ tensor: Tensor) {
        check(name)
        items.append(.parameter(name, tensor))
    }

    /// An optional parameter (for example a bias that a configuration turned off); nil names nothing.
    public mutating func parameter(_ name: String, _ tensor: Tensor?) {
        if let tensor { parameter(name, tensor) }
    }

    /// A persistent tensor that is saved and loaded with the state dictionary but never trained
    /// (PyTorch's `register_buffer(persistent=True)`).
    public mutating func buffer(_ name: String, _ tensor: Tensor) {
        check(name)
        items.append(.buffer(name, tensor))
    }

    /// A child module; its keys are prefixed with `<name>.`.
    public mutating func child(_ name: String, _ module: Module) {
        check(name)
        items.append(.child(name, module))
    }

    /// An optional child module; nil names nothing.
    public mutating func child(_ name: String, _ module: Module?) {
        if let module { child(name, module) }
    }

    /// An array of modules, keyed `<name>.0`, `<name>.1`, … (PyTorch's `nn.ModuleList`).
    public mutating func children<M: Module>(_ name: String, _ modules: [M]) {
        for (i, m) in modules.enumerated() { child("\(name).\(i)", m) }
    }

    private func check(_ name: String) {
        // Names are literals in model code, so a bad one is a programming error, not user input. Clashing names
        // are caught when the full keys are collected (`namedTensors()`).
        precondition(
            !name.isEmpty && !name.hasPrefix(".") && !name.hasSuffix("."),
            "invalid module item name '\(name)'")
    }
}

extension ModuleVisitor.Item {
    /// The item's own name (one or more key components).
    public var name: String {
        switch self {
        case let .parameter(n, _), let .buffer(n, _), let .child(n, _): return n
        }
    }
}

extension Module {
    /// The items this module names directly.
    public var items: [ModuleVisitor.Item] {
        var v = ModuleVisitor()
        visit(&v)
        return v.items
    }

    /// Calls `body` for every parameter and buffer of the subtree with its full key, depth first in visit order.
    func forEachTensor(prefix: String = "", _ body: (_ key: String, _ tensor: Tensor, _ isParameter: Bool) -> Void) {
        for item in items {
            switch item {
            case let .parameter(name, t): body(prefix + name, t, true)
            case let .buffer(name, t): body(prefix + name, t, false)
            case let .child(name, m): m.forEachTensor(prefix: prefix + name + ".", body)
            }
        }
    }

    /// This module (key "") and every descendant with its key, depth first in visit order.
    public func namedModules() -> [(String, Module)] {
        var out: [(String, Module)] = [("", self)]
        func walk(_ m: Module, _ prefix: String) {
            for case let .child(name, c) in m.items {
                out.append((prefix + name, c))
                walk(c, prefix + name + ".")
            }
        }
        walk(self, "")
        return out
    }

    /// The descendant at `path` (for example `layers.3.self_attn`), or nil.
    public func module(at path: String) -> Module? {
        if path.isEmpty { return self }
        return namedModules().first { $0.0 == path }?.1
    }

    /// Puts the subtree in training mode (dropout active).
    public func train() { setMode(training: true) }

    /// Puts the subtree in evaluation mode (dropout off).
    public func eval() { setMode(training: false) }

    private func setMode(training: Bool) {
        for (_, m) in namedModules() where m.isTraining != training {
            m.isTraining = training
            m.didChangeMode()
        }
    }
}
