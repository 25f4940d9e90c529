import Foundation
import ReverieIO

extension Tokenizer {
    /// The tokenizer as a Hugging Face `tokenizer.json` (vocabulary in id order, merges as `["a", "b"]` pairs),
    /// loadable by `tokenizers.Tokenizer.from_file` and by ``init(contentsOf:)``.
    public func jsonData() -> Data {
        var out = "{\n  \"version\": \"1.0\",\n  \"truncation\": null,\n  \"padding\": null,\n  \"added_tokens\": ["
        for (i, token) in addedTokens.enumerated() {
            out += i == 0 ? "\n" : ",\n"
            out += "    {\"id\": \(token.id), \"content\": \(jsonString(token.content)), "
            out += "\"single_word\": \(token.singleWord), \"lstrip\": \(token.lstrip), \"rstrip\": \(token.rstrip), "
            out += "\"normalized\": \(token.normalized), \"special\": \(token.special)}"
        }
        out += addedTokens.isEmpty ? "],\n" : "\n  ],\n"
        if let sections = pipeline.sections {  // a loaded file's own components, unchanged
            for key in ["normalizer", "pre_tokenizer", "post_processor", "decoder"] {
                out += "  \"\(key)\": \(sections[key] ?? "null"),\n"
            }
        } else {
            out += "  \"normalizer\": null,\n"
            out += "  \"pre_tokenizer\": {\"type\": \"ByteLevel\", \"add_prefix_space\": \(addPrefixSpace), "
            out += "\"trim_offsets\": \(trimOffsets), \"use_regex\": true},\n"
            let byteLevel =
                "{\"type\": \"ByteLevel\", \"add_prefix_space\": true, \"trim_offsets\": true, \"use_regex\": true}"
            out += "  \"post_processor\": \(hasPostProcessor ? byteLevel : "null"),\n"
            out += "  \"decoder\": \(hasDecoder ? byteLevel : "null"),\n"
        }
        let o = model.options
        let unk = o.unknown.flatMap { model.tokens[$0] }.map(jsonString) ?? "null"
        out += "  \"model\": {\n    \"type\": \"BPE\",\n    \"dropout\": null,\n    \"unk_token\": \(unk),\n"
        out += "    \"continuing_subword_prefix\": null,\n    \"end_of_word_suffix\": null,\n"
        out += "    \"fuse_unk\": \(o.fuseUnknown),\n    \"byte_fallback\": \(o.byteFallback),\n"
        out += "    \"ignore_merges\": \(o.ignoreMerges),\n    \"vocab\": {"
        var first = true
        for (id, token) in model.tokens.enumerated() {
            guard let token else { continue }
            out += first ? "\n" : ",\n"
            out += "      \(jsonString(token)): \(id)"
            first = false
        }
        out += first ? "},\n" : "\n    },\n"
        out += "    \"merges\": ["
        for (i, (a, b)) in model.merges.enumerated() {
            out += i == 0 ? "\n" : ",\n"
            out += "      [\(jsonString(a)), \(jsonString(b))]"
        }
        out += model.merges.isEmpty ? "]\n  }\n}\n" : "\n    ]\n  }\n}\n"
        return Data(out.utf8)
    }

    /// Writes ``jsonData()`` to `url` through a temporary file and a rename, so a failure leaves no half file.
    public func write(to url: URL) throws {
        if let problem = OutputDestination.problem(url) {
            throw TokenizerError.io(path: url.path, operation: "write", detail: problem)
        }
        let temporary = url.deletingLastPathComponent()
            .appendingPathComponent(".\(url.lastPathComponent).tmp-\(ProcessInfo.processInfo.processIdentifier)")
        do {
            try jsonData().write(to: temporary)
            // rename(2) replaces an existing file atomically (Foundation's replaceItemAt lost it on Linux).
            guard rename(temporary.path, url.path) == 0 else {
                let reason = String(cString: strerror(errno))
                try? FileManager.default.removeItem(at: temporary)
                throw TokenizerError.io(path: url.path, operation: "rename", detail: reason)
            }
        } catch let error as TokenizerError {
            throw error
        } catch {
            try? FileManager.default.removeItem(at: temporary)
            throw TokenizerError.io(path: url.path, operation: "write", detail: error.localizedDescription)
        }
    }
}

/// A JSON string literal: quotes, backslashes and control characters escaped, everything else as UTF-8.
func jsonString(_ s: String) -> String {
    var out = "\""
    for scalar in s.unicodeScalars {
        switch scalar {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        case "\t": out += "\\t"
        default:
            if scalar.value < 0x20 || scalar.value == 0x7F {
                out += String(format: "\\u%04x", scalar.value)
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
    }
    return out + "\""
}
