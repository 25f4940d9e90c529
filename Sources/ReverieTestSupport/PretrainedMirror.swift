import Foundation

/// A scratch copy of the repository's layout in which `recipes/pretrained/`'s `checkpoints/…` directories are the
/// random-init directories of the real layouts at reduced width (Tests/Fixtures/pretrained, made by
/// tools/fixtures/pretrained_layouts.py): the shipped recipes, unedited, run as a user with downloaded checkpoints
/// runs them.
public enum PretrainedMirror {
    /// The directory names recipes/pretrained/ expects under checkpoints/, and the fixture each stands for.
    public static let checkpoints = [
        "siglip-base-patch16-256": "siglip", "stable-diffusion-v1-5": "sd", "SmolLM2-135M": "llm",
    ]

    /// Builds the mirror under `scratch` from the repository at `repository`; returns its recipes/pretrained.
    public static func make(repository: URL, in scratch: URL) throws -> URL {
        let fm = FileManager.default
        let recipes = scratch.appendingPathComponent("recipes/pretrained")
        try fm.createDirectory(at: recipes, withIntermediateDirectories: true)
        let shipped = repository.appendingPathComponent("recipes/pretrained")
        for file in try fm.contentsOfDirectory(atPath: shipped.path) {
            try fm.copyItem(at: shipped.appendingPathComponent(file), to: recipes.appendingPathComponent(file))
        }
        // The manifest the recipes default to, and the photos it names (relative to it).
        try fm.createSymbolicLink(
            at: scratch.appendingPathComponent("recipes/manifest"),
            withDestinationURL: repository.appendingPathComponent("recipes/manifest"))
        try fm.createSymbolicLink(
            at: scratch.appendingPathComponent("Tests"), withDestinationURL: repository.appendingPathComponent("Tests"))
        let checkpoints = scratch.appendingPathComponent("checkpoints")
        try fm.createDirectory(at: checkpoints, withIntermediateDirectories: true)
        for (name, fixture) in Self.checkpoints {
            try fm.createSymbolicLink(
                at: checkpoints.appendingPathComponent(name),
                withDestinationURL: repository.appendingPathComponent("Tests/Fixtures/pretrained/\(fixture)"))
        }
        return recipes
    }
}
