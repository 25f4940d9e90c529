import Foundation
import ReverieCore
import ReverieDiffusion
import ReverieNN
import ReverieRuntime
import ReverieTestSupport
import ReverieTrain
import XCTest

/// A new stage is one type and one registration line: the recipe then names it, its own `loss:` keys decode (and
/// only those), the parts it needs are required, and the trainer runs it like any stage.
final class StageRegistryTests: XCTestCase {
    func testAToyStageRegistersInOneLine() throws {
        StageRegistry.register(GrayStage.self)
        defer { StageRegistry.shared.unregister(GrayStage.kind.rawValue) }
        let dir = try TinyRecipes.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let yaml = """
            stage: gray
            root: \(dir.path)
            model:
              vae: {channels: [8], norm_groups: 4}
            loss: {level: 0.25}
            optim: {lr: 1e-2}
            train: {steps: 20, batch: 2, log_every: 5}
            """
        let recipe = try Recipe(node: RecipeNode.parse(yaml: yaml, file: "gray.yaml"))
        XCTAssertEqual(recipe.loss(GrayStage.Loss.self).level, 0.25)
        let outcome = try Trainer(recipe: recipe).run(resume: false)
        let losses = outcome.losses
        XCTAssertLessThan(try XCTUnwrap(losses.last), try XCTUnwrap(losses.first) / 2, "\(losses)")
        XCTAssertTrue(FileManager.default.fileExists(atPath: outcome.checkpoint.path))

        func error(_ yaml: String) -> RecipeError? {
            do {
                _ = try Recipe(node: RecipeNode.parse(yaml: yaml, file: "gray.yaml"))
                return nil
            } catch { return error as? RecipeError }
        }
        XCTAssertEqual(
            error(yaml.replacingOccurrences(of: "{level: 0.25}", with: "{levle: 0.25}"))?.message,
            "unknown key; did you mean 'level'?")
        XCTAssertEqual(error(yaml.replacingOccurrences(of: "{level: 0.25}", with: "{level: 2}"))?.key, "loss.level")
        XCTAssertEqual(
            error(yaml.replacingOccurrences(of: "{level: 0.25}", with: "{kl: 1}"))?.message,
            "not a loss of the gray stage; only the vae stage has it")
        XCTAssertTrue(
            error(yaml.replacingOccurrences(of: "model:\n  vae: {channels: [8], norm_groups: 4}", with: "model: {}"))?
                .message.contains("needs a 'vae' part") ?? false)
        XCTAssertTrue(StageRegistry.kinds.contains("gray"))
    }
}

/// The toy stage: the VAE's decoder learns to draw a flat gray of `loss.level` from a zero latent.
final class GrayStage: StageDefinition {
    static let kind = StageKind("gray")
    static let requiredParts: [PartName] = [.vae]
    static func dataUses(_ recipe: Recipe) -> [DataUse] { [] }

    struct Loss: StageLossConfig {
        var level = 0.5
        init() {}
        init(from decoder: Decoder) throws { try decoder.container(keyedBy: CodingKeys.self).update(&level, .level) }
        func validate() throws { try require((0...1).contains(level), "level", "must be in 0...1") }
    }

    let vae: AutoencoderKL
    let model: Module
    let parts: ModelParts
    let level: Float

    init(parts: ModelParts, recipe: Recipe?, rng: inout RNG) throws {
        guard let p = parts.vae else { throw RuntimeError.missingPart(.vae, needed: "the gray stage") }
        self.parts = parts
        vae = try PartBuilding.vae(p, rng: &rng)
        model = PartsContainer([("decoder", PartsContainer([("vae", vae)]))])
        level = Float((recipe?.loss(Loss.self) ?? Loss()).level)
    }

    func loss(indices: [Int], rng: inout RNG) throws -> StageLoss {
        let z = Tensor(zeros: [indices.count, vae.config.latentChannels, 8, 8])
        let image = try vae.decode(z)  // [-1, 1]
        let l = try ((image + 1) * 0.5 - level).square().mean()
        return StageLoss(total: l, terms: [("gray", try l.item())])
    }

    func evaluate(count: Int, seed: UInt64, sheet: URL?, share: ItemShare) throws -> [(String, Double)] { [] }
}
