/// Orders dotted parameter keys the way a reader expects: component by component, numbers numerically
/// (`layers.2` before `layers.10`), everything else by string. State dicts and checkpoint listings share it.
public func naturalKeyOrder(_ lhs: String, _ rhs: String) -> Bool {
    let left = lhs.split(separator: ".", omittingEmptySubsequences: false)
    let right = rhs.split(separator: ".", omittingEmptySubsequences: false)
    for (a, b) in zip(left, right) where a != b {
        if let x = Int(a), let y = Int(b), x != y { return x < y }
        return a < b
    }
    return left.count < right.count
}
