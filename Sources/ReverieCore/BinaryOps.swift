/// Broadcasting elementwise arithmetic between tensors. Gradients are summed back to each operand's shape.
extension Tensor {
    public static func + (a: Tensor, b: Tensor) throws -> Tensor {
        let shape = try Broadcast.shape(a.shape, b.shape, op: "add")
        let out = Broadcast.apply(a, b, outShape: shape, +)
        return out.recorded("add", [a, b]) { g in
            [a.requiresGrad ? Broadcast.sumTo(g, a.shape) : nil, b.requiresGrad ? Broadcast.sumTo(g, b.shape) : nil]
        }
    }

    public static func - (a: Tensor, b: Tensor) throws -> Tensor {
        let shape = try Broadcast.shape(a.shape, b.shape, op: "sub")
        let out = Broadcast.apply(a, b, outShape: shape, -)
        return out.recorded("sub", [a, b]) { g in
            [
                a.requiresGrad ? Broadcast.sumTo(g, a.shape) : nil,
                b.requiresGrad ? Broadcast.sumTo(g.neg(), b.shape) : nil,
            ]
        }
    }

    public static func * (a: Tensor, b: Tensor) throws -> Tensor {
        let shape = try Broadcast.shape(a.shape, b.shape, op: "mul")
        let out = Broadcast.apply(a, b, outShape: shape, *)
        return out.recorded("mul", [a, b]) { g in
            [
                a.requiresGrad ? Broadcast.sumTo(Broadcast.apply(g, b, outShape: shape, *), a.shape) : nil,
                b.requiresGrad ? Broadcast.sumTo(Broadcast.apply(g, a, outShape: shape, *), b.shape) : nil,
            ]
        }
    }

    public static func / (a: Tensor, b: Tensor) throws -> Tensor {
        let shape = try Broadcast.shape(a.shape, b.shape, op: "div")
        let out = Broadcast.apply(a, b, outShape: shape, /)
        guard shouldRecord(a, b) else { return out }
        let y = out.detached()
        return out.recorded("div", [a, b]) { g in
            let ga = Broadcast.apply(g, b, outShape: shape, /)
            return [
                a.requiresGrad ? Broadcast.sumTo(ga, a.shape) : nil,
                b.requiresGrad ? Broadcast.sumTo(Broadcast.apply(ga, y, outShape: shape) { -$0 * $1 }, b.shape) : nil,
            ]
        }
    }
}
