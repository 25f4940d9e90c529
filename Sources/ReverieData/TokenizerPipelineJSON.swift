import Foundation

/// Reading the pipeline sections of a `tokenizer.json`: each component Reverie implements, and an error naming the
/// key and value of any other (nothing is silently ignored).
extension JSONFields {
    func pipeline(_ top: [String: Any], special: [String: Int]) throws -> TokenizerPipeline {
        var p = TokenizerPipeline()
        p.normalizer = try normalizer(top["normalizer"], "normalizer")
        p.preTokenizer = PreTokenizer(steps: try preTokenizer(top["pre_tokenizer"], "pre_tokenizer"))
        if let last = p.preTokenizer.steps.lastIndex(where: { if case .byteLevel = $0 { true } else { false } }),
            last != p.preTokenizer.steps.count - 1
        {
            throw TokenizerError.unsupported(path: path, key: "pre_tokenizer", value: "a step after ByteLevel")
        }
        p.template = try postProcessor(top["post_processor"], "post_processor", special: special)
        p.decoder = try decoder(top["decoder"], "decoder")
        return p
    }

    func type(_ o: [String: Any], _ key: String) throws -> String {
        try string(o["type"], "\(key).type", default: nil)
    }

    /// Members of a `Sequence` section (under `members`), or the section itself.
    func flattened(_ value: Any?, _ key: String, members: String) throws -> [(object: [String: Any], key: String)] {
        if isNull(value) { return [] }
        let o = try object(value, key)
        guard try type(o, key) == "Sequence" else { return [(o, key)] }
        return try array(o[members], "\(key).\(members)").enumerated().flatMap { i, item in
            try flattened(item, "\(key).\(members)[\(i)]", members: members)
        }
    }

    /// A `{"String": s}` pattern (a regex is refused, naming it).
    func literal(_ value: Any?, _ key: String) throws -> String {
        let o = try object(value, key)
        if let s = o["String"] as? String { return s }
        throw TokenizerError.unsupported(path: path, key: key, value: "\(o["Regex"] ?? o)")
    }

    func scalar(_ value: Any?, _ key: String) throws -> Unicode.Scalar {
        let s = try string(value, key, default: nil)
        guard s.unicodeScalars.count == 1, let c = s.unicodeScalars.first else {
            throw TokenizerError.invalidField(path: path, key: key, reason: "should be one character, got '\(s)'")
        }
        return c
    }

    func prependScheme(_ o: [String: Any], _ key: String) throws -> PreTokenizerStep.PrependScheme {
        if let scheme = o["prepend_scheme"] as? String {
            guard let s = PreTokenizerStep.PrependScheme(rawValue: scheme) else {
                throw TokenizerError.unsupported(path: path, key: "\(key).prepend_scheme", value: scheme)
            }
            return s
        }
        return try bool(o["add_prefix_space"] ?? true, "\(key).add_prefix_space") ? .always : .never
    }

    func normalizer(_ value: Any?, _ key: String) throws -> [NormalizerStep] {
        try flattened(value, key, members: "normalizers").map { o, key in
            switch try type(o, key) {
            case "Prepend": return .prepend(try string(o["prepend"], "\(key).prepend", default: nil))
            case "Replace":
                return .replace(
                    try literal(o["pattern"], "\(key).pattern"),
                    try string(o["content"], "\(key).content", default: nil))
            case let other: throw TokenizerError.unsupported(path: path, key: key, value: other)
            }
        }
    }

    func preTokenizer(_ value: Any?, _ key: String) throws -> [PreTokenizerStep] {
        try flattened(value, key, members: "pretokenizers").map { o, key in
            switch try type(o, key) {
            case "ByteLevel":
                return .byteLevel(
                    addPrefixSpace: try bool(o["add_prefix_space"], "\(key).add_prefix_space"),
                    useRegex: try bool(o["use_regex"] ?? true, "\(key).use_regex"))
            case "Split":
                let pattern = try object(o["pattern"], "\(key).pattern")
                guard let text = (pattern["Regex"] ?? pattern["String"]) as? String,
                    let known = SplitPattern.patterns[text]
                else {
                    throw TokenizerError.unsupported(
                        path: path, key: "\(key).pattern", value: "\(pattern["Regex"] ?? pattern["String"] ?? "")")
                }
                let behavior = try string(o["behavior"], "\(key).behavior", default: "Isolated")
                guard behavior == "Isolated" else {
                    throw TokenizerError.unsupported(path: path, key: "\(key).behavior", value: behavior)
                }
                guard try !bool(o["invert"], "\(key).invert") else {
                    throw TokenizerError.unsupported(path: path, key: "\(key).invert", value: "true")
                }
                return .split(known)
            case "Metaspace":
                return .metaspace(
                    replacement: try scalar(o["replacement"], "\(key).replacement"),
                    prepend: try prependScheme(o, key), split: try bool(o["split"] ?? true, "\(key).split"))
            case "Digits":
                return .digits(individual: try bool(o["individual_digits"], "\(key).individual_digits"))
            case let other: throw TokenizerError.unsupported(path: path, key: key, value: other)
            }
        }
    }

    /// The `single` template of a TemplateProcessing (ByteLevel processors only trim offsets, which ids ignore).
    func postProcessor(_ value: Any?, _ key: String, special: [String: Int]) throws -> [TemplateItem] {
        var template: [TemplateItem] = [.sequence]
        for (o, key) in try flattened(value, key, members: "processors") {
            switch try type(o, key) {
            case "ByteLevel": continue
            case "TemplateProcessing":
                let specials = try object(o["special_tokens"] ?? [String: Any](), "\(key).special_tokens")
                template = try array(o["single"], "\(key).single").enumerated().map { i, item in
                    let itemKey = "\(key).single[\(i)]"
                    let entry = try object(item, itemKey)
                    if let s = entry["SpecialToken"] as? [String: Any] {
                        let name = try string(s["id"], "\(itemKey).SpecialToken.id", default: nil)
                        if let listed = specials[name] as? [String: Any] {
                            return .special(
                                try array(listed["ids"], "\(key).special_tokens.\(name).ids").enumerated().map {
                                    try id($1, "\(key).special_tokens.\(name).ids[\($0)]")
                                })
                        }
                        guard let known = special[name] else {
                            throw TokenizerError.invalidField(
                                path: path, key: "\(itemKey).SpecialToken.id", reason: "'\(name)' is not a token")
                        }
                        return .special([known])
                    }
                    let sequence = try object(entry["Sequence"], "\(itemKey).Sequence")
                    let name = try string(sequence["id"], "\(itemKey).Sequence.id", default: nil)
                    guard name == "A" else {
                        throw TokenizerError.unsupported(path: path, key: "\(itemKey).Sequence.id", value: name)
                    }
                    return .sequence
                }
            case let other: throw TokenizerError.unsupported(path: path, key: key, value: other)
            }
        }
        return template
    }

    func decoder(_ value: Any?, _ key: String) throws -> [DecoderStep]? {
        if isNull(value) { return nil }
        return try flattened(value, key, members: "decoders").map { o, key in
            switch try type(o, key) {
            case "ByteLevel": return .byteLevel
            case "ByteFallback": return .byteFallback
            case "Fuse": return .fuse
            case "Replace":
                return .replace(
                    try literal(o["pattern"], "\(key).pattern"),
                    try string(o["content"], "\(key).content", default: nil))
            case "Strip":
                return .strip(
                    content: try scalar(o["content"], "\(key).content"), start: try count(o["start"], "\(key).start"),
                    stop: try count(o["stop"], "\(key).stop"))
            case "Metaspace":
                return .metaspace(
                    replacement: try scalar(o["replacement"], "\(key).replacement"),
                    prependFirst: try prependScheme(o, key) != .never)
            case let other: throw TokenizerError.unsupported(path: path, key: key, value: other)
            }
        }
    }

    func count(_ value: Any?, _ key: String) throws -> Int {
        if isNull(value) { return 0 }
        let n = try id(value, key)
        guard n < 1 << 16 else { throw TokenizerError.invalidField(path: path, key: key, reason: "is \(n)") }
        return n
    }

    /// The section's JSON text, for writing it back unchanged.
    func text(_ value: Any?) -> String {
        guard !isNull(value), let value,
            let data = try? JSONSerialization.data(withJSONObject: value, options: [.sortedKeys, .fragmentsAllowed])
        else { return "null" }
        return String(decoding: data, as: UTF8.self)
    }
}
