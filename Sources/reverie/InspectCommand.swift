import ArgumentParser
import Foundation
import ReverieIO

/// `reverie inspect FILE [--json]`: a checkpoint's root attributes and every tensor in it, without loading the data.
struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "List a checkpoint's attributes and tensors, or which parameters a recipe trains.",
        discussion: """
            Prints the root attributes (format, format_version, model_config, recipe, step, …), then one line per \
            dataset: its dotted key with the section prefix (model., optimizer., state.), its shape and its stored \
            type, and finally the model's parameter count. Reads no tensor data, so it is fast on large files. \
            Given a stage recipe (.yaml), builds the stage with fresh weights and lists which parameters train and \
            which stay frozen (freeze: parts and key patterns, LoRA adapters), layer numbers folded into *.
            """)

    @Argument(help: "The HDF5 checkpoint to list, or a stage recipe.", completion: .file(extensions: ["h5", "yaml"]))
    var file: String

    @Flag(help: "Print one JSON object instead of text.")
    var json = false

    @Option(name: .customLong("set"), help: "For a recipe: override a key (key=value), repeatable.")
    var overrides: [String] = []

    @Flag(help: "Read every tensor back, verifying its checksum (an error names the first damaged one).")
    var verify = false

    func run() throws {
        if file.hasSuffix(".yaml") || file.hasSuffix(".yml") {
            print(try InspectParameters.text(recipe: file, overrides: overrides))
            return
        }
        let listing = try Checkpoint.inspect(URL(fileURLWithPath: file))
        if verify {
            _ = try Checkpoint.read(from: URL(fileURLWithPath: file))
            let checked = listing.datasets.filter(\.checksummed).count
            print(
                "verified \(file): every one of \(listing.datasets.count) datasets reads back; \(checked) carry a "
                    + "checksum that matched"
                    + (checked < listing.datasets.count
                        ? " (the others were written without one: damage to them cannot be detected)" : ""))
            return
        }
        print(json ? try Self.json(listing) : Self.text(listing))
    }

    static func text(_ listing: CheckpointListing) -> String {
        var lines = ["checkpoint \(listing.file)", "attributes:"]
        for name in listing.attributeNamesInDisplayOrder {
            guard let value = listing.attributes[name] else { continue }
            let text = value.description
            if case .string = value, text.contains(where: \.isNewline) {
                // Recipes and configs span lines: print them as an indented block. Split on any line break: in a
                // Swift string "\r\n" is one Character, so a recipe saved with Windows line endings has no "\n"
                // Character to split on.
                var bodyLines = text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline)
                if bodyLines.count > 1, bodyLines.last?.isEmpty == true { bodyLines.removeLast() }
                lines.append("  \(name) (\(bodyLines.count) \(bodyLines.count == 1 ? "line" : "lines")):")
                lines += bodyLines.map { "    \($0)" }
            } else {
                lines.append("  \(name) = \(text)")
            }
        }

        lines.append("datasets (\(listing.datasets.count)):")
        let shapes = listing.datasets.map { "[" + $0.shape.map(String.init).joined(separator: ", ") + "]" }
        let keyWidth = listing.datasets.map(\.key.count).max() ?? 0
        let shapeWidth = shapes.map(\.count).max() ?? 0
        for (dataset, shape) in zip(listing.datasets, shapes) {
            lines.append("  \(padded(dataset.key, keyWidth))  \(padded(shape, shapeWidth))  \(dataset.dtype)")
        }
        lines.append("model parameters: \(grouped(listing.modelParameterCount))")
        let checked = listing.datasets.filter(\.checksummed).count
        lines.append(
            checked == 0 && !listing.datasets.isEmpty
                ? "checksums: none (written before Reverie stored them; damage to its data cannot be detected)"
                : "checksums: \(checked) of \(listing.datasets.count) datasets (Fletcher-32, verified on every read)")
        return lines.joined(separator: "\n")
    }

    static func json(_ listing: CheckpointListing) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(
            positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        let data = try encoder.encode(ListingJSON(listing))
        return String(decoding: data, as: UTF8.self)
    }

    private static func padded(_ text: String, _ width: Int) -> String {
        text + String(repeating: " ", count: max(0, width - text.count))
    }

    /// `1234567` → `1,234,567`.
    private static func grouped(_ number: Int) -> String {
        let digits = Array(String(number))
        return stride(from: digits.count, to: 0, by: -3).reversed()
            .map { String(digits[max(0, $0 - 3)..<$0]) }
            .joined(separator: ",")
    }
}

/// The `--json` shape: `{"file", "attributes": {name: value}, "datasets": [{key, path, shape, dtype}],
/// "model_parameters"}`.
private struct ListingJSON: Encodable {
    struct Dataset: Encodable {
        let key: String
        let path: String
        let shape: [Int]
        let dtype: String
    }

    let file: String
    let attributes: [String: AttributeJSON]
    let datasets: [Dataset]
    let modelParameters: Int

    enum CodingKeys: String, CodingKey {
        case file, attributes, datasets
        case modelParameters = "model_parameters"
    }

    init(_ listing: CheckpointListing) {
        file = listing.file
        attributes = listing.attributes.mapValues(AttributeJSON.init)
        datasets = listing.datasets.map { Dataset(key: $0.key, path: $0.path, shape: $0.shape, dtype: $0.dtype) }
        modelParameters = listing.modelParameterCount
    }
}

/// An attribute as a bare JSON string or number.
private struct AttributeJSON: Encodable {
    let value: CheckpointAttribute

    init(_ value: CheckpointAttribute) { self.value = value }

    func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        switch value {
        case .string(let text): try container.encode(text)
        case .int(let number): try container.encode(number)
        case .double(let number): try container.encode(number)
        }
    }
}
