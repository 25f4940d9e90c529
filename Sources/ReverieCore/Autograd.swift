import Foundation

/// One recorded operation: the tensors it read and the rule mapping the output gradient to input gradients.
///
/// A rule returns one entry per input (nil where the input needs no gradient). Rules may return tensors that alias
/// the incoming gradient; the engine copies before accumulating in place, so rules never need to.
final class GradNode {
    let op: String
    let inputs: [Tensor]
    let backward: (Tensor) -> [Tensor?]

    init(op: String, inputs: [Tensor], backward: @escaping (Tensor) -> [Tensor?]) {
        self.op = op
        self.inputs = inputs
        self.backward = backward
    }
}

/// Whether operations record the graph. Per thread: data-parallel micro-batches record their own graphs on their
/// own threads while one of them runs a frozen part under `withNoGrad`.
public enum GradMode {
    /// The calling thread's no-grad depth, stored as the pointer value of a thread-specific key (nil = 0).
    private static let depthKey: pthread_key_t = {
        var key = pthread_key_t()
        pthread_key_create(&key, nil)
        return key
    }()

    static var disabledDepth: Int {
        get { Int(bitPattern: pthread_getspecific(depthKey)) }
        set { pthread_setspecific(depthKey, UnsafeRawPointer(bitPattern: newValue)) }
    }

    public static var isEnabled: Bool { pthread_getspecific(depthKey) == nil }

    /// Runs `body` without recording operations (inference, evaluation, optimizer updates).
    public static func withNoGrad<T>(_ body: () throws -> T) rethrows -> T {
        disabledDepth += 1
        defer { disabledDepth -= 1 }
        return try body()
    }
}

/// Runs `body` without recording operations for autodiff.
public func withNoGrad<T>(_ body: () throws -> T) rethrows -> T { try GradMode.withNoGrad(body) }

/// True when an op over `inputs` must record a node (grad mode on and some input requires a gradient).
@inline(__always) public func shouldRecord(_ inputs: Tensor...) -> Bool {
    guard GradMode.isEnabled else { return false }
    for t in inputs where t.requiresGrad { return true }
    return false
}

extension Tensor {
    /// Attaches a backward rule to `self` (an op's fresh output) when any input requires a gradient: the
    /// extension point for differentiable ops defined outside ReverieCore (fused blocks, custom kernels).
    ///
    /// `rule` receives the gradient of `self` and returns one gradient per input, shaped like that input (nil for
    /// inputs that need none). Capture tensors, not raw pointers, so saved values outlive the forward pass.
    @discardableResult
    public func recorded(_ op: String, _ inputs: [Tensor], _ rule: @escaping (Tensor) -> [Tensor?]) -> Tensor {
        guard GradMode.isEnabled, inputs.contains(where: { $0.requiresGrad }) else { return self }
        node = GradNode(op: op, inputs: inputs, backward: rule)
        return self
    }

    /// Back-propagates from this tensor, accumulating into `grad` of every leaf that requires one.
    ///
    /// `seed` defaults to ones (so a scalar loss needs none). Gradients add to existing `grad` values across calls;
    /// call `zeroGrad` on parameters (or the optimizer) between steps.
    public func backward(seed: Tensor? = nil) throws {
        try propagate(seed: seed) { leaf, g, owned in leaf.accumulateGrad(g, owned: owned) }
    }

    /// Back-propagates like `backward` but returns the leaves' gradients (keyed by the leaf's identity) instead of
    /// adding them to `grad`: what a data-parallel micro-batch computes on its own thread, to be summed in a fixed
    /// order afterwards with `accumulateGradient`. The returned tensors may share storage with the graph; read them.
    public func leafGradients(seed: Tensor? = nil) throws -> [ObjectIdentifier: Tensor] {
        var out: [ObjectIdentifier: Tensor] = [:]
        // The walk sums a shared input's gradients before visiting it, so each leaf is delivered once.
        try propagate(seed: seed) { leaf, g, _ in out[ObjectIdentifier(leaf)] = g }
        return out
    }

    /// Back-propagates and hands each leaf's gradient to `deliver` as soon as it is final (the walk sums a shared
    /// input's gradients before visiting it), in the walk's order: what lets a data-parallel step start reducing the
    /// first gradients while backward computes the rest. `deliver` must copy what it keeps; after it throws, no
    /// more leaves are delivered and the error is rethrown once the walk ends.
    public func backward(seed: Tensor? = nil, delivering deliver: (Tensor, Tensor) throws -> Void) throws {
        var failure: (any Error)?
        try propagate(seed: seed) { leaf, g, _ in
            guard failure == nil else { return }
            do { try deliver(leaf, g) } catch { failure = error }
        }
        if let failure { throw failure }
    }

    /// Adds `g` (shaped like `self`) to this leaf's accumulated gradient.
    public func accumulateGradient(_ g: Tensor) { accumulateGrad(g, owned: false) }

    private func propagate(seed: Tensor?, deliver: (Tensor, Tensor, Bool) -> Void) throws {
        if let seed, seed.shape != shape {
            throw TensorError.shapeMismatch(
                op: "backward", detail: "seed \(shapeString(seed.shape)) for output \(shapeString(shape))")
        }
        guard requiresGrad else {
            throw TensorError.invalidArgument(op: "backward", detail: "tensor does not require a gradient")
        }
        let order = topologicalOrder()
        var grads: [ObjectIdentifier: (tensor: Tensor, owned: Bool)] = [:]
        grads[ObjectIdentifier(self)] = (seed ?? Tensor(repeating: 1, shape: shape), seed == nil)
        withNoGrad {
            for t in order.reversed() {
                guard let (g, owned) = grads.removeValue(forKey: ObjectIdentifier(t)) else { continue }
                guard let node = t.node else {
                    if t.isLeafRequiringGrad { deliver(t, g, owned) }
                    continue
                }
                let inputGrads = node.backward(g)
                for (input, ig) in zip(node.inputs, inputGrads) {
                    guard let ig, input.requiresGrad else { continue }
                    let key = ObjectIdentifier(input)
                    if let (existing, existingOwned) = grads[key] {
                        if existingOwned {
                            Kernels.addInPlace(existing.pointer, ig.pointer, count: existing.count)
                            grads[key] = (existing, true)
                        } else {
                            let sum = Tensor(uninitialized: existing.shape)
                            Kernels.add(existing.pointer, ig.pointer, sum.pointer, count: sum.count)
                            grads[key] = (sum, true)
                        }
                    } else {
                        grads[key] = (ig, false)
                    }
                }
            }
        }
    }

    private func accumulateGrad(_ g: Tensor, owned: Bool) {
        if let grad {
            Kernels.addInPlace(grad.pointer, g.pointer, count: grad.count)
        } else {
            // Leaf gradients persist and are updated in place later, so they must own their storage.
            grad = owned && g.shape == shape ? g : Tensor(storage: g.copy().storage, shape: shape)
        }
    }

    /// Clears the accumulated gradient.
    public func zeroGrad() { grad = nil }

    /// Tensors reachable from `self` through recorded nodes, each after all of its inputs.
    private func topologicalOrder() -> [Tensor] {
        var order: [Tensor] = []
        var visited = Set<ObjectIdentifier>()
        var stack: [(Tensor, Int)] = [(self, 0)]
        visited.insert(ObjectIdentifier(self))
        while let (t, next) = stack.popLast() {
            if let node = t.node, next < node.inputs.count {
                stack.append((t, next + 1))
                let child = node.inputs[next]
                if child.requiresGrad, visited.insert(ObjectIdentifier(child)).inserted {
                    stack.append((child, 0))
                }
            } else {
                order.append(t)
            }
        }
        return order
    }
}
