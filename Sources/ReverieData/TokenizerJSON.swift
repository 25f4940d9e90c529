import Foundation

extension Tokenizer {
    /// Loads a Hugging Face `tokenizer.json` with a BPE model: GPT-2 style byte-level, Llama-3 style (a Split on its
    /// pattern, then ByteLevel), SmolLM style (Digits, then ByteLevel) or SentencePiece style (Llama 2, Mistral:
    /// `▁` by a Prepend + Replace normalizer or a Metaspace pre-tokenizer, byte fallback).
    ///
    /// Accepted: `model.type = "BPE"` with `vocab`, `merges` (as `"a b"` strings or `["a", "b"]` pairs),
    /// `byte_fallback`, `unk_token`, `fuse_unk`, `ignore_merges`, no dropout, no subword prefix or suffix;
    /// normalizers Prepend and Replace (of a string); pre-tokenizers ByteLevel, Split (GPT-2's and Llama-3's
    /// patterns), Metaspace and Digits; post-processors ByteLevel and TemplateProcessing; decoders ByteLevel,
    /// Replace, ByteFallback, Fuse, Strip and Metaspace; Sequences of these; `added_tokens`.
    /// Anything else throws ``TokenizerError`` naming the file, the key and the value at fault.
    public init(contentsOf url: URL) throws {
        let path = url.path
        guard FileManager.default.fileExists(atPath: path) else { throw TokenizerError.fileNotFound(path: path) }
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw TokenizerError.io(path: path, operation: "read", detail: error.localizedDescription)
        }
        try self.init(json: data, path: path)
    }

    /// Parses `tokenizer.json` contents; `path` names the source in errors.
    public init(json data: Data, path: String = "<memory>") throws {
        let root: Any
        do { root = try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed]) } catch {
            throw TokenizerError.invalidJSON(path: path, detail: (error as NSError).localizedDescription)
        }
        let file = JSONFields(path: path)
        let top = try file.object(root, "(root)")
        let modelObject = try file.object(top["model"], "model")
        let type = try file.string(modelObject["type"], "model.type", default: "BPE")
        guard type == "BPE" else { throw TokenizerError.unsupported(path: path, key: "model.type", value: type) }
        // GPT-2 and RoBERTa files spell "no prefix/suffix" as "", trained files as null; both mean none.
        for key in ["dropout", "continuing_subword_prefix", "end_of_word_suffix"]
        where !file.isNull(modelObject[key]) && (modelObject[key] as? String) != "" {
            throw TokenizerError.unsupported(path: path, key: "model.\(key)", value: "\(modelObject[key] ?? "")")
        }
        let vocabObject = try file.object(modelObject["vocab"], "model.vocab")
        var vocab: [String: Int] = [:]
        vocab.reserveCapacity(vocabObject.count)
        for (token, value) in vocabObject { vocab[token] = try file.id(value, "model.vocab[\"\(token)\"]") }
        // Two tokens with one id would decode ambiguously (the id table keeps one of them): a corrupt vocabulary.
        var owner: [Int: String] = [:]
        for (token, id) in vocab.sorted(by: { $0.key < $1.key }) {
            if let first = owner.updateValue(token, forKey: id) {
                throw TokenizerError.invalidField(
                    path: path, key: "model.vocab", reason: "tokens '\(first)' and '\(token)' share id \(id)")
            }
        }
        // Ids index a table, so a corrupt id far beyond the vocabulary must not size it.
        if let largest = vocab.values.max(), largest >= vocab.count + 65536 {
            throw TokenizerError.invalidField(
                path: path, key: "model.vocab", reason: "has id \(largest) for only \(vocab.count) tokens")
        }
        let merges = try file.merges(modelObject["merges"] ?? [Any]())
        var options = BPEOptions(
            byteFallback: try file.bool(modelObject["byte_fallback"], "model.byte_fallback"),
            fuseUnknown: try file.bool(modelObject["fuse_unk"], "model.fuse_unk"),
            ignoreMerges: try file.bool(modelObject["ignore_merges"], "model.ignore_merges"))
        if !file.isNull(modelObject["unk_token"]) {
            let unk = try file.string(modelObject["unk_token"], "model.unk_token", default: nil)
            guard let id = vocab[unk] else {
                throw TokenizerError.invalidField(
                    path: path, key: "model.unk_token", reason: "'\(unk)' is not in model.vocab")
            }
            options.unknown = id
        }
        let model: BPEModel
        do { model = try BPEModel(vocab: vocab, merges: merges, options: options) } catch let error as BPEModelError {
            switch error {
            case .unknownMergePart(let index, let merge):
                throw TokenizerError.invalidField(
                    path: path, key: "model.merges[\(index)]",
                    reason: "'\(merge)' uses a token missing from model.vocab")
            case .missingMergeResult(let index, let merge):
                throw TokenizerError.invalidField(
                    path: path, key: "model.merges[\(index)]",
                    reason: "'\(merge)' makes a token missing from model.vocab")
            }
        }
        var added: [AddedToken] = []
        for (i, item) in try file.array(top["added_tokens"] ?? [Any](), "added_tokens").enumerated() {
            let key = "added_tokens[\(i)]"
            let o = try file.object(item, key)
            let content = try file.string(o["content"], "\(key).content", default: nil)
            guard !content.isEmpty else {
                throw TokenizerError.invalidField(path: path, key: "\(key).content", reason: "is empty")
            }
            let id = try file.id(o["id"], "\(key).id")
            guard id < vocab.count + 65536 else {
                throw TokenizerError.invalidField(
                    path: path, key: "\(key).id", reason: "\(id) is far beyond the vocabulary")
            }
            added.append(
                AddedToken(
                    id: id, content: content,
                    singleWord: try file.bool(o["single_word"], "\(key).single_word"),
                    lstrip: try file.bool(o["lstrip"], "\(key).lstrip"),
                    rstrip: try file.bool(o["rstrip"], "\(key).rstrip"),
                    normalized: try file.bool(o["normalized"], "\(key).normalized"),
                    special: try file.bool(o["special"], "\(key).special")))
        }
        var special = vocab
        for token in added { special[token.content] = token.id }
        if let gpt2 = try? file.byteLevelPreTokenizer(top["pre_tokenizer"]), file.isNull(top["normalizer"]),
            ["decoder", "post_processor"].allSatisfy({ file.isNull(top[$0]) || file.isByteLevel(top[$0]) })
        {  // the plain byte-level layout Reverie writes itself
            self.init(
                model: model, addedTokens: added, pipeline: .gpt2(addPrefixSpace: gpt2.addPrefixSpace),
                trimOffsets: gpt2.trimOffsets, hasPostProcessor: !file.isNull(top["post_processor"]),
                hasDecoder: !file.isNull(top["decoder"]))
        } else {
            var pipeline = try file.pipeline(top, special: special)
            pipeline.sections = Dictionary(
                uniqueKeysWithValues: ["normalizer", "pre_tokenizer", "post_processor", "decoder"].map {
                    ($0, file.text(top[$0]))
                })
            if let token = added.first(where: { $0.normalized && !$0.special }), !pipeline.normalizer.isEmpty {
                throw TokenizerError.unsupported(
                    path: path, key: "added_tokens", value: "'\(token.content)' normalized with a normalizer")
            }
            self.init(model: model, addedTokens: added, pipeline: pipeline)
        }
    }
}

/// Typed access to JSON values with errors that name the file and key.
struct JSONFields {
    let path: String

    func isNull(_ value: Any?) -> Bool { value == nil || value is NSNull }

    func object(_ value: Any?, _ key: String) throws -> [String: Any] {
        guard let o = value as? [String: Any] else { throw missingOr(value, key, "an object") }
        return o
    }

    func array(_ value: Any?, _ key: String) throws -> [Any] {
        guard let a = value as? [Any] else { throw missingOr(value, key, "an array") }
        return a
    }

    func string(_ value: Any?, _ key: String, default fallback: String?) throws -> String {
        if isNull(value), let fallback { return fallback }
        guard let s = value as? String else { throw missingOr(value, key, "a string") }
        return s
    }

    func bool(_ value: Any?, _ key: String) throws -> Bool {
        if isNull(value) { return false }
        guard let flag = value as? Bool else { throw missingOr(value, key, "true or false") }
        return flag
    }

    func id(_ value: Any?, _ key: String) throws -> Int {
        guard let number = value as? NSNumber, let id = Int(exactly: number.doubleValue), id >= 0, id < 1 << 31 else {
            throw missingOr(value, key, "a non-negative integer id")
        }
        return id
    }

    /// Merges as `"a b"` strings (tokenizers < 0.20) or `["a", "b"]` pairs.
    func merges(_ value: Any) throws -> [(String, String)] {
        var merges: [(String, String)] = []
        for (i, item) in try array(value, "model.merges").enumerated() {
            if let text = item as? String {
                let parts = text.split(separator: " ", omittingEmptySubsequences: false)
                guard parts.count == 2 else {
                    throw TokenizerError.invalidField(
                        path: path, key: "model.merges[\(i)]",
                        reason: "is not two tokens separated by one space: '\(text)'")
                }
                merges.append((String(parts[0]), String(parts[1])))
            } else if let pair = item as? [Any], pair.count == 2, let a = pair[0] as? String, let b = pair[1] as? String
            {
                merges.append((a, b))
            } else {
                throw TokenizerError.invalidField(
                    path: path, key: "model.merges[\(i)]", reason: "is neither \"a b\" nor [\"a\", \"b\"]")
            }
        }
        return merges
    }

    func isByteLevel(_ value: Any?) -> Bool { ((value as? [String: Any])?["type"] as? String) == "ByteLevel" }

    /// The ByteLevel pre-tokenizer's options, alone or as the single member of a Sequence.
    func byteLevelPreTokenizer(_ value: Any?) throws -> (addPrefixSpace: Bool, trimOffsets: Bool) {
        var o = try object(value, "pre_tokenizer")
        var key = "pre_tokenizer"
        if (o["type"] as? String) == "Sequence" {
            let members = try array(o["pretokenizers"], "pre_tokenizer.pretokenizers")
            guard members.count == 1 else {
                throw TokenizerError.unsupported(
                    path: path, key: "pre_tokenizer", value: "Sequence of \(members.count)")
            }
            key = "pre_tokenizer.pretokenizers[0]"
            o = try object(members[0], key)
        }
        let type = try string(o["type"], "\(key).type", default: nil)
        guard type == "ByteLevel" else { throw TokenizerError.unsupported(path: path, key: key, value: type) }
        if let regex = o["use_regex"] as? Bool, !regex {
            throw TokenizerError.unsupported(path: path, key: "\(key).use_regex", value: "false")
        }
        return (try bool(o["add_prefix_space"], "\(key).add_prefix_space"), o["trim_offsets"] as? Bool ?? true)
    }

    private func missingOr(_ value: Any?, _ key: String, _ expected: String) -> TokenizerError {
        TokenizerError.invalidField(path: path, key: key, reason: value == nil ? "is missing" : "should be \(expected)")
    }
}
