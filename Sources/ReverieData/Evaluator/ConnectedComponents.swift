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
                // The four neighbours, without building an array per pixel.
                for k in 0..<4 {
                    let nx = x + (k == 0 ? -1 : k == 1 ? 1 : 0), ny = y + (k == 2 ? -1 : k == 3 ? 1 : 0)
                    guard nx >= 0 && nx < n && ny >= 0 && ny < n else { continue }
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
