import ReverieCore

/// Spatial conditioning: condition tokens that come from an s × s grid (row-major, as pooled encoder features do)
/// laid back onto the latent grid by nearest upsampling, to be concatenated to the UNet's input channels. The
/// UNet then sees each region's condition where it draws that region, besides attending to all of them — a
/// conditional decoder learns this far faster than through cross-attention alone.
///
/// conditions [B, s², D] → [B, D, h, w] (h = w, a multiple of s). Differentiable.
public func spatialConditionMap(_ conditions: Tensor, size: (h: Int, w: Int)) throws -> Tensor {
    guard conditions.rank == 3 else {
        throw TensorError.shapeMismatch(
            op: "spatialConditionMap",
            detail: "conditions \(shapeString(conditions.shape)), expected [B, s², D]")
    }
    let (b, k, d) = (conditions.shape[0], conditions.shape[1], conditions.shape[2])
    let s = Int(Double(k).squareRoot().rounded())
    guard s * s == k, size.h == size.w, size.h % s == 0 else {
        throw TensorError.shapeMismatch(
            op: "spatialConditionMap",
            detail: "\(k) condition tokens are not a square grid that divides the \(size.h)×\(size.w) latent")
    }
    let grid = try conditions.transpose(1, 2).reshape([b, d, s, s])  // [B, D, s, s]
    return size.h == s ? grid : try upsampleNearest(grid, scale: size.h / s)
}
