import Foundation

/// `reverie serve --runs DIR`: the training runs under a folder (every directory holding a `metrics.jsonl`, a few
/// levels down), their logged metrics as series, and their sample sheets. A run is named by its path under the
/// folder and looked up in the listing, so a request reaches nothing else on disk.
struct RunsBrowser: Sendable {
    let root: URL
    /// The largest metrics file read whole (a longer one is read from its last this-many bytes).
    static let maxMetricsBytes = 64 << 20

    struct Run: Sendable {
        let name: String
        let url: URL
    }

    /// The runs, by name.
    func runs() -> [Run] {
        var found: [Run] = []
        func walk(_ dir: URL, _ name: String, depth: Int) {
            let fm = FileManager.default
            if fm.fileExists(atPath: dir.appendingPathComponent("metrics.jsonl").path) {
                found.append(Run(name: name.isEmpty ? "." : name, url: dir))
            }
            guard depth < 4, let children = try? fm.contentsOfDirectory(atPath: dir.path) else { return }
            for child in children.sorted() where !child.hasPrefix(".") && child != "samples" {
                var isDir: ObjCBool = false
                let url = dir.appendingPathComponent(child)
                if fm.fileExists(atPath: url.path, isDirectory: &isDir), isDir.boolValue {
                    walk(url, name.isEmpty ? child : name + "/" + child, depth: depth + 1)
                }
            }
        }
        walk(root, "", depth: 0)
        return found
    }

    func run(_ name: String) throws -> Run {
        guard let run = runs().first(where: { $0.name == name }) else {
            throw ServeError.notFound("no run '\(name)' under \(root.path)")
        }
        return run
    }

    /// Each run's name, last logged step and loss, and stage (from its `recipe.yaml`).
    func listing() -> [[String: Any]] {
        runs().map { run in
            var entry: [String: Any] = ["name": run.name]
            if let last = (try? lines(run))?.last(where: { $0["loss"] != nil }) {
                entry["step"] = last["step"]
                entry["loss"] = last["loss"]
            }
            if let recipe = try? String(contentsOf: run.url.appendingPathComponent("recipe.yaml"), encoding: .utf8),
                let line = recipe.split(separator: "\n").first(where: { $0.hasPrefix("stage:") })
            {
                entry["stage"] = line.dropFirst(6).trimmingCharacters(in: .whitespaces)
            }
            entry["samples"] = sheets(run).count
            return entry
        }
    }

    /// Series of every numeric key of the run's training lines (`step` as x), and of its evaluations (`eval/…`).
    func series(_ name: String) throws -> [String: [[Double]]] {
        var series: [String: [[Double]]] = [:]
        for line in try lines(try run(name)) {
            guard let step = (line["step"] as? NSNumber)?.doubleValue else { continue }
            for (key, value) in line where key != "step" && key != "elapsed" {
                if let number = value as? NSNumber {
                    series[key, default: []].append([step, number.doubleValue])
                } else if let eval = value as? [String: Any] {
                    for (k, v) in eval {
                        if let n = v as? NSNumber { series["eval/" + k, default: []].append([step, n.doubleValue]) }
                    }
                }
            }
        }
        return series
    }

    /// The run's sample sheets, in step order.
    func sheets(_ run: Run) -> [String] {
        let folder = run.url.appendingPathComponent("samples")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        func step(_ n: String) -> Int { Int(n.dropFirst(5).dropLast(4)) ?? Int.max }
        return names.filter { $0.hasPrefix("step-") && $0.hasSuffix(".png") }.sorted { step($0) < step($1) }
    }

    /// A sample sheet's bytes, if the run lists it.
    func sheet(_ name: String, file: String) throws -> [UInt8] {
        let run = try run(name)
        guard sheets(run).contains(file),
            let data = FileManager.default.contents(atPath: run.url.appendingPathComponent("samples/\(file)").path)
        else { throw ServeError.notFound("run '\(name)' has no sample sheet '\(file)'") }
        return [UInt8](data)
    }

    func lines(_ run: Run) throws -> [[String: Any]] {
        let url = run.url.appendingPathComponent("metrics.jsonl")
        guard let handle = try? FileHandle(forReadingFrom: url) else { return [] }
        defer { try? handle.close() }
        let size = (try? handle.seekToEnd()) ?? 0
        let start = size > UInt64(Self.maxMetricsBytes) ? size - UInt64(Self.maxMetricsBytes) : 0
        try handle.seek(toOffset: start)
        let data = (try? handle.readToEnd()) ?? Data()
        return data.split(separator: UInt8(ascii: "\n")).dropFirst(start > 0 ? 1 : 0).compactMap {
            (try? JSONSerialization.jsonObject(with: Data($0))) as? [String: Any]
        }
    }
}
