import ArgumentParser
import Foundation
import ReverieData

/// `reverie data shapes`: ShapesWorld records on disk, as PNGs and JSONL manifests.
struct ShapesDataCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "shapes",
        abstract: "Write ShapesWorld records (PNG images + JSONL manifests) to a directory.")

    @Option(help: "Output directory (created if missing).")
    var out: String

    @Option(help: "Records of each kind.")
    var count = 100

    @Option(help: "Comma-separated kinds: caption,t2i,edit,interleaved.")
    var kinds = "caption,t2i,edit,interleaved"

    @Option(help: "Scene seed.")
    var seed: UInt64 = 0

    @Flag(help: "Print the manifests written as JSON.")
    var json = false

    func parsedKinds() throws -> [ShapesExport.Kind] {
        try kinds.split(separator: ",").map { name in
            let trimmed = name.trimmingCharacters(in: .whitespaces)
            guard let kind = ShapesExport.Kind(rawValue: trimmed) else {
                throw ValidationError(
                    "unknown kind '\(trimmed)' in --kinds; available: "
                        + ShapesExport.Kind.allCases.map(\.rawValue).joined(separator: ", "))
            }
            return kind
        }
    }

    func validate() throws {
        guard count > 0 else { throw ValidationError("--count must be positive, got \(count)") }
        guard try !parsedKinds().isEmpty else { throw ValidationError("--kinds names no kind") }
    }

    func run() throws {
        let directory = URL(fileURLWithPath: out, isDirectory: true)
        let kinds = try parsedKinds()
        let total = count * kinds.count
        let manifests = try ShapesExport.write(
            world: ShapesWorld(seed: seed), to: directory, count: count,
            kinds: kinds
        ) { done in
            if !json, done % Swift.max(1, total / 20) == 0 || done == total {
                FileHandle.standardError.write(Data("\r\(done)/\(total) records".utf8))
            }
        }
        if !json { FileHandle.standardError.write(Data("\n".utf8)) }
        if json {
            let paths = Dictionary(uniqueKeysWithValues: zip(kinds.map(\.rawValue), manifests.map(\.path)))
            let data = try JSONSerialization.data(
                withJSONObject: ["manifests": paths, "count": count, "seed": seed],
                options: [.prettyPrinted, .sortedKeys])
            print(String(decoding: data, as: UTF8.self))
        } else {
            for m in manifests { print(m.path) }
        }
    }
}
