/// 4-connected components of a boolean mask on a square grid.
enum ConnectedComponents {
    /// The pixel indices of each component, in scan order of their first pixel.
    static func label(_ mask: [Bool], size n: Int) -> [[Int]] {
        var seen = [Bool](repeating: false, count: mask.count)
        var components: [[Int]] = []
        var stack: [Int] = []
        for start in mask.indices where mask[start] && !seen[start] {
            var pixels: [Int] = []
            seen[start] = true
            stack.append(start)
            while let i = stack.popLast() {
                pixels.append(i)
                let x = i % n, y = i / n
                for (nx, ny) in [(x - 1, y), (x + 1, y), (x, y - 1), (x, y + 1)]
                where nx >= 0 && nx < n && ny >= 0 && ny < n {
                    let j = ny * n + nx
                    if mask[j] && !seen[j] {
                        seen[j] = true
                        stack.append(j)
                    }
                }
            }
            components.append(pixels)
        }
        return components
    }
}
