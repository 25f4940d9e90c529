/// Per-patch labels of a scene: what a vision encoder's patch token of the image shows, for training a readout
/// on its features (the siglip stage's `loss.patch_labels` and `loss.patch_colors`).
public enum PatchAttribute: String, CaseIterable, Sendable {
    case shape, color

    /// Label classes: 0 for background plus one per value of the attribute.
    public var classes: Int { 1 + (self == .shape ? ShapeKind.allCases.count : ObjectColor.allCases.count) }

    /// The label of a patch an object covers: 1 + the index of its shape (or colour) among all cases.
    func label(_ o: SceneObject) -> Int {
        switch self {
        case .shape: return 1 + (ShapeKind.allCases.firstIndex(of: o.shape) ?? 0)
        case .color: return 1 + (ObjectColor.allCases.firstIndex(of: o.color) ?? 0)
        }
    }
}

extension Scene {
    /// Classes of `patchShapeLabels`: background plus one per shape.
    public static let patchLabelClasses = PatchAttribute.shape.classes

    /// The shape under each patch of a `grid` × `grid` split of the canvas (`patchLabels(.shape, …)`).
    public func patchShapeLabels(grid: Int, canvas: Int) -> [Int] { patchLabels(.shape, grid: grid, canvas: canvas) }

    /// The attribute under each patch of a `grid` × `grid` split of the canvas, row-major: 0 for background,
    /// otherwise `attribute`'s label of the object whose bounding box covers most of the patch, when it covers at
    /// least an eighth of it (a sliver of a box is background).
    public func patchLabels(_ attribute: PatchAttribute, grid: Int, canvas: Int) -> [Int] {
        let patch = Double(canvas) / Double(grid)
        let boxes = objects.map { o -> (label: Int, x: ClosedRange<Double>, y: ClosedRange<Double>) in
            let (cx, cy) = o.cell.center(canvas: canvas)
            let h = o.size.halfExtent64 * Double(canvas) / 64
            return (attribute.label(o), (cx - h)...(cx + h), (cy - h)...(cy + h))
        }
        func overlap(_ a: ClosedRange<Double>, _ lo: Double) -> Double {
            max(0, min(a.upperBound, lo + patch) - max(a.lowerBound, lo))
        }
        return (0..<grid * grid).map { t in
            let (x0, y0) = (Double(t % grid) * patch, Double(t / grid) * patch)
            let best = boxes.map { ($0.label, overlap($0.x, x0) * overlap($0.y, y0)) }.max { $0.1 < $1.1 }
            guard let best, best.1 >= patch * patch / 8 else { return 0 }
            return best.0
        }
    }
}
