import ReverieCore
import ReverieData
import ReverieRuntime

/// Pixels of ShapesWorld items for the stages.
enum ShapesBatch {
    /// The rendered scenes at `indices` of `world` → [B, 3, N, N]
    static func scenes(_ world: ShapesWorld, _ indices: [Int]) throws -> Tensor {
        try ImageBatch.pixels(indices.map { world.render(world.scene(at: $0)) })
    }
}
