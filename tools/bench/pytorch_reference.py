"""The PyTorch / transformers / diffusers equivalents of `reverie bench core|llm|decoder` (issue 38).

Same shapes, model configurations, optimiser settings, FLOP counts, thread count and timing scheme as
Sources/reverie/Bench/*.swift: one untimed warm-up, then `--repeats` pairs of (sgemm ceiling, workload); the median
seconds are reported under the names Reverie's `--json` report uses, so the two can be matched by name
(tools/bench/compare.py does). PyTorch eager on the CPU; random initialisation, nothing is downloaded.

    python pytorch_reference.py --suite llm [--repeats 5] [--threads N] [--scale tiny] [--json]

Needs torch, transformers and diffusers, in a venv outside the repository (`make bench-compare` documents one).
`--scale tiny` mirrors Reverie's: only the llm suite and the ceiling shrink; core and decoder stay as they are.
"""

import argparse
import json
import os
import statistics
import sys
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # every model here is built from a config: never reach the network

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

LLM = dict(vocab_size=512, hidden_size=256, intermediate_size=688, num_hidden_layers=4, num_attention_heads=4,
           num_key_value_heads=2, max_position_embeddings=512)  # LLMBench.config
LLM_TINY = dict(vocab_size=64, hidden_size=32, intermediate_size=64, num_hidden_layers=1, num_attention_heads=2,
                num_key_value_heads=1, max_position_embeddings=64)  # LLMBench.tinyConfig
# DecoderBench.unet. diffusers' `attention_head_dim` is the number of heads per block, as Reverie's `heads` is.
UNET = dict(sample_size=16, in_channels=4, out_channels=4, block_out_channels=(64, 128), layers_per_block=1,
            down_block_types=("CrossAttnDownBlock2D",) * 2, up_block_types=("CrossAttnUpBlock2D",) * 2,
            cross_attention_dim=192, attention_head_dim=(4, 8), norm_num_groups=32)
VAE = dict(in_channels=3, out_channels=3, block_out_channels=(32, 64, 64), layers_per_block=1, latent_channels=4,
           norm_num_groups=32, down_block_types=("DownEncoderBlock2D",) * 3, up_block_types=("UpDecoderBlock2D",) * 3)
SCHEDULE = dict(num_train_timesteps=1000, beta_schedule="scaled_linear", beta_start=0.00085, beta_end=0.012)


def default_threads():
    """Reverie's ThreadPolicy: REVERIE_THREADS, else OPENBLAS_NUM_THREADS, else the cores."""
    for key in ("REVERIE_THREADS", "OPENBLAS_NUM_THREADS"):
        if os.environ.get(key, "").isdigit():
            return max(1, int(os.environ[key]))
    return os.cpu_count() or 1


def adamw(model, lr, weight_decay=0.01):
    """Reverie's AdamW: 0-d and 1-d tensors (biases, norm weights) are not decayed (AdamW.excludesVectors)."""
    params = [p for p in model.parameters() if p.requires_grad]
    groups = [{"params": [p for p in params if p.dim() >= 2], "weight_decay": weight_decay},
              {"params": [p for p in params if p.dim() < 2], "weight_decay": 0.0}]
    return torch.optim.AdamW(groups, lr=lr, betas=(0.9, 0.999), eps=1e-8)


def count(model):
    return sum(p.numel() for p in model.parameters())


class Ceiling:
    """SGEMMCeiling: C = A·B at n³, run before each timed workload run so drift between pairs cancels out."""

    def __init__(self, n):
        g = torch.Generator().manual_seed(1)
        self.n = n
        self.a = torch.rand(n, n, generator=g) * 2 - 1
        self.b = torch.rand(n, n, generator=g) * 2 - 1
        self.c = torch.empty(n, n)
        self.flops = 2.0 * n ** 3

    def run(self):
        torch.mm(self.a, self.b, out=self.c)

    def measure_self(self, repeats):
        self.run()
        t = statistics.median_high([timed(self.run) for _ in range(max(1, repeats))])
        return result(f"sgemm_{self.n}", t, self.flops, 1.0)

    def measure(self, name, flops, repeats, body, detail=None, variant=None):
        """Timing.paired: warm-up of each, then `repeats` (ceiling, body) pairs; medians as Reverie takes them."""
        self.run()
        body()
        times, ratios = [], []
        for _ in range(max(1, repeats)):
            c = timed(self.run)
            t = timed(body)
            times.append(t)
            ratios.append(c / t)
        # Reverie's median is sorted[count / 2], the upper middle: median_high matches it for even counts.
        r = result(name, statistics.median_high(times), flops, flops / self.flops * statistics.median_high(ratios))
        r["detail"].update(detail or {})
        if variant:
            r["variant"] = variant
        return r


def timed(body):
    start = time.perf_counter()
    body()
    return time.perf_counter() - start


def result(name, seconds, flops, fraction):
    return {"name": name, "seconds": seconds, "gflops": flops / seconds * 1e-9, "fractionOfCeiling": fraction,
            "detail": {}}


# --- core: CoreBench.mlpBlock, CoreBench.attention, CoreBench.conv3x3 ---------------------------------------

def mlp_block(ceiling, repeats, rows=4096, width=256, hidden=1024):
    torch.manual_seed(3)
    block = torch.nn.Sequential(torch.nn.Linear(width, hidden), torch.nn.GELU(), torch.nn.Linear(hidden, width))
    opt = adamw(block, lr=1e-3)
    x, target = torch.randn(rows, width), torch.randn(rows, width)

    def step():
        opt.zero_grad()
        F.mse_loss(block(x), target).backward()
        opt.step()
    return ceiling.measure(f"mlp_{width}x{hidden}_rows{rows}_fwd_bwd_adamw", 12.0 * rows * width * hidden,
                           repeats, step)


def attention(ceiling, repeats, batch=32, heads=4, tokens=128, head_dim=64):
    torch.manual_seed(2)
    shape = (batch, heads, tokens, head_dim)
    q, k, v = (torch.randn(shape, requires_grad=True) for _ in range(3))
    seed = torch.randn(shape)

    def step():
        for t in (q, k, v):
            t.grad = None
        F.scaled_dot_product_attention(q, k, v).backward(seed)  # not causal, scale 1/√d, as Reverie's default
    return ceiling.measure(f"attention_b{batch}_h{heads}_t{tokens}_d{head_dim}_fwd_bwd",
                           12.0 * batch * heads * tokens * tokens * head_dim, repeats, step, variant="sdpa")


def conv3x3(ceiling, repeats, cin, cout, size, batch=8, parallel=2):
    # Reverie runs `parallel` batches of `batch` side by side, one per core; PyTorch gets the same items as one batch
    # and spreads it over its own threads, its usual way of using the cores.
    torch.manual_seed(4)
    n = batch * parallel
    x = torch.randn(n, cin, size, size, requires_grad=True)
    w = torch.randn(cout, cin, 3, 3, requires_grad=True)
    b = torch.randn(cout, requires_grad=True)
    seed = torch.randn(n, cout, size, size)

    def step():
        for t in (x, w, b):
            t.grad = None
        F.conv2d(x, w, b, padding=1).backward(seed)
    return ceiling.measure(f"conv3x3_{parallel}x{batch}_c{cin}to{cout}_{size}x{size}_fwd_bwd",
                           6.0 * n * cout * cin * 9 * size * size, repeats, step, variant=f"one_batch_of_{n}")


def core(ceiling, repeats, tiny):
    out = [mlp_block(ceiling, repeats), attention(ceiling, repeats)]
    for cin, cout, size in [(64, 32, 32), (64, 64, 16), (128, 128, 8)]:
        out.append(conv3x3(ceiling, repeats, cin, cout, size))
    return out


# --- llm: LLMBench.trainingStep, LLMBench.decode ---------------------------------------------------------------

def llama(sizes, attn):
    from transformers import LlamaConfig, LlamaForCausalLM
    config = LlamaConfig(**sizes, rms_norm_eps=1e-6, tie_word_embeddings=False, attn_implementation=attn)
    model = LlamaForCausalLM(config)
    assert model.config._attn_implementation == attn, model.config._attn_implementation
    return model


def matmul_parameters(model):
    """LLMBench.matmulParameters: every 2-d parameter but the embedding lookup (the untied head included)."""
    return sum(p.numel() for k, p in model.named_parameters() if p.dim() == 2 and k != "model.embed_tokens.weight")


def llm_train_step(ceiling, repeats, sizes, attn, batch, tokens):
    torch.manual_seed(5)
    model = llama(sizes, attn).train()
    opt = adamw(model, lr=1e-3)
    ids = torch.randint(0, sizes["vocab_size"], (batch, tokens + 1))
    inputs, targets = ids[:, :-1].contiguous(), ids[:, 1:].reshape(-1)
    params = matmul_parameters(model)
    width = sizes["hidden_size"] * sizes["num_hidden_layers"]  # heads · head_dim · layers
    flops = 6.0 * params * batch * tokens + 12.0 * batch * tokens * tokens * width

    def step():
        opt.zero_grad()
        logits = model(input_ids=inputs, use_cache=False).logits  # [B, T, V]
        F.cross_entropy(logits.reshape(-1, sizes["vocab_size"]), targets).backward()
        opt.step()
    r = ceiling.measure(f"llm_train_step_b{batch}_t{tokens}_d{sizes['hidden_size']}_l{sizes['num_hidden_layers']}",
                        flops, repeats, step, variant=attn)
    r["detail"].update(tokens_per_second=batch * tokens / r["seconds"], parameters=count(model),
                       matmul_parameters=params)
    return r


def llm_decode(ceiling, repeats, sizes, attn, prompt, steps):
    torch.manual_seed(6)
    model = llama(sizes, attn).eval()
    ids = torch.randint(0, sizes["vocab_size"], (1, prompt))
    params = matmul_parameters(model)
    width = sizes["hidden_size"] * sizes["num_hidden_layers"]
    flops = 2.0 * params * (prompt + steps) + sum(4.0 * (p + 1) * width for p in range(prompt + steps))

    def run():
        # Greedy with the KV cache; no end token, so exactly `steps` tokens (prefill included in the time, as in
        # Reverie).
        out = model.generate(input_ids=ids, attention_mask=torch.ones_like(ids), max_new_tokens=steps,
                             min_new_tokens=steps, do_sample=False, use_cache=True, eos_token_id=None,
                             pad_token_id=0)
        assert out.shape[1] == prompt + steps, out.shape

    with torch.inference_mode():
        r = ceiling.measure(f"llm_decode_b1_prompt{prompt}_steps{steps}", flops, repeats, run, variant=attn)
    r["detail"].update(tokens_per_second=steps / r["seconds"], parameters=count(model))
    return r


def llm(ceiling, repeats, tiny, attns=("sdpa", "eager")):
    sizes = LLM_TINY if tiny else LLM
    out = []
    for attn in attns:
        out.append(llm_train_step(ceiling, repeats, sizes, attn, batch=2 if tiny else 32, tokens=8 if tiny else 128))
        out.append(llm_decode(ceiling, repeats, sizes, attn, prompt=4 if tiny else 16, steps=8 if tiny else 128))
    return out


# --- decoder: DecoderBench.unetTrainingStep, DecoderBench.generation ---------------------------------------------

def unet_forward_flops(unet, b, h, w, s):
    """UNet2DConditionModel.forwardFLOPs (UNetFLOPs.swift) over diffusers' modules: convolutions, linear layers and
    attention products at the resolution each runs at, 2 per multiply-add."""
    def conv(c, h, w):
        return 2.0 * b * h * w * c.weight.numel()

    def linear(layer, rows):
        return 2.0 * b * rows * layer.weight.numel()

    def resnet(r, h, w):
        return (conv(r.conv1, h, w) + conv(r.conv2, h, w)
                + (conv(r.conv_shortcut, h, w) if r.conv_shortcut is not None else 0)
                + (linear(r.time_emb_proj, 1) if r.time_emb_proj is not None else 0))

    def attn(a, t, k):
        return (linear(a.to_q, t) + linear(a.to_k, k) + linear(a.to_v, k) + linear(a.to_out[0], t)
                + 4.0 * b * a.inner_dim * t * k)

    def transformer(x, h, w):
        t = h * w
        proj = [conv(p, h, w) if isinstance(p, torch.nn.Conv2d) else linear(p, t) for p in (x.proj_in, x.proj_out)]
        f = sum(proj)
        for blk in x.transformer_blocks:
            f += attn(blk.attn1, t, t) + attn(blk.attn2, t, s)
            f += linear(blk.ff.net[0].proj, t) + linear(blk.ff.net[2], t)
        return f

    def stage(block, h, w):
        f = 0.0
        for i, r in enumerate(block.resnets):
            f += resnet(r, h, w)
            if i < len(getattr(block, "attentions", None) or []):
                f += transformer(block.attentions[i], h, w)
        return f

    f = conv(unet.conv_in, h, w) + linear(unet.time_embedding.linear_1, 1) + linear(unet.time_embedding.linear_2, 1)
    for block in unet.down_blocks:
        f += stage(block, h, w)
        for d in block.downsamplers or []:
            h, w = (h + 1) // 2, (w + 1) // 2
            f += conv(d.conv, h, w)
    f += sum(resnet(r, h, w) for r in unet.mid_block.resnets) + transformer(unet.mid_block.attentions[0], h, w)
    for block in unet.up_blocks:
        f += stage(block, h, w)
        for u in block.upsamplers or []:
            h, w = 2 * h, 2 * w
            f += conv(u.conv, h, w)
    return f + conv(unet.conv_out, h, w)


def make_unet():
    from diffusers import UNet2DConditionModel
    return UNet2DConditionModel(**UNET)


def unet_train_step(ceiling, repeats, batch=32, size=16, tokens=16):
    from diffusers import DDPMScheduler
    torch.manual_seed(4)
    unet = make_unet().train()
    opt = adamw(unet, lr=1e-4)
    schedule = DDPMScheduler(**SCHEDULE)
    latents, conditions = torch.randn(batch, 4, size, size), torch.randn(batch, tokens, 192)
    flops = 3 * unet_forward_flops(unet, batch, size, size, tokens)

    def step():
        # denoiserTrainingStep: a timestep and noise per item, ε-prediction, mean squared error, AdamW.
        opt.zero_grad()
        noise = torch.randn_like(latents)
        t = torch.randint(0, SCHEDULE["num_train_timesteps"], (batch,))
        pred = unet(schedule.add_noise(latents, noise, t), t, encoder_hidden_states=conditions).sample
        F.mse_loss(pred, noise).backward()
        opt.step()
    r = ceiling.measure(f"unet_64x128_b{batch}_{size}x{size}x4_c192x{tokens}_train_step", flops, repeats, step,
                        variant="sdpa")
    r["detail"].update(samples_per_second=batch / r["seconds"], parameters=count(unet))
    return r


def generation(ceiling, repeats, images=1, steps=25, tokens=16, guidance=5.0):
    from diffusers import AutoencoderKL, DDIMScheduler
    torch.manual_seed(5)
    vae, unet = AutoencoderKL(**VAE).eval(), make_unet().eval()
    scheduler = DDIMScheduler(**SCHEDULE)
    conditions = torch.randn(images, tokens, 192)
    null = torch.randn(1, tokens, 192).expand(images, -1, -1)  # the learned null condition
    context = torch.cat([null, conditions])
    flops = steps * unet_forward_flops(unet, 2 * images, 16, 16, tokens)

    def run():
        # LatentDiffusionDecoder.decode: DDIM, both guidance branches in one batch, then the VAE on 16×16 latents.
        scheduler.set_timesteps(steps)
        x = torch.randn(images, 4, 16, 16, generator=torch.Generator().manual_seed(1)) * scheduler.init_noise_sigma
        for t in scheduler.timesteps:
            pair = scheduler.scale_model_input(torch.cat([x, x]), t)
            uncond, cond = unet(pair, t, encoder_hidden_states=context).sample.chunk(2)
            x = scheduler.step(uncond + guidance * (cond - uncond), t, x).prev_sample
        image = vae.decode(x / vae.config.scaling_factor).sample
        assert image.shape == (images, 3, 64, 64), image.shape

    with torch.inference_mode():
        r = ceiling.measure(f"generate_64x64_ddim{steps}_cfg_images{images}", flops, repeats, run, variant="sdpa")
    r["detail"].update(images_per_second=images / r["seconds"], parameters=count(unet), vae_parameters=count(vae))
    return r


def decoder(ceiling, repeats, tiny):
    return [unet_train_step(ceiling, repeats), generation(ceiling, repeats)]


SUITES = {"core": core, "llm": llm, "decoder": decoder}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--suite", choices=[*SUITES, "all"], default="core")
    parser.add_argument("--repeats", type=int, default=5, help="timed repeats per workload (the median is reported)")
    parser.add_argument("--threads", type=int, default=default_threads(),
                        help="torch.set_num_threads (default: REVERIE_THREADS, else OPENBLAS_NUM_THREADS, else cores)")
    parser.add_argument("--scale", choices=["full", "tiny"], default="full",
                        help="tiny: Reverie's toy llm suite and a 256 ceiling (core, decoder unchanged, as in Reverie)")
    parser.add_argument("--json", action="store_true", help="print a JSON report")
    args = parser.parse_args()
    if not 1 <= args.repeats <= 1000:
        parser.error("--repeats must be in 1...1000")
    torch.set_num_threads(max(1, args.threads))
    import diffusers
    import transformers
    transformers.logging.set_verbosity_error()
    diffusers.logging.set_verbosity_error()
    tiny = args.scale == "tiny"
    ceiling = Ceiling(256 if tiny else 2048)
    own = ceiling.measure_self(args.repeats)
    results = [own]
    for name in SUITES if args.suite == "all" else [args.suite]:
        results += SUITES[name](ceiling, args.repeats, tiny)
    report = {"suite": args.suite, "threads": torch.get_num_threads(), "ceilingGFLOPS": own["gflops"],
              "results": results, "framework": {"torch": torch.__version__,
                                                "transformers": transformers.__version__,
                                                "diffusers": diffusers.__version__,
                                                "blas": "mkl" if torch.backends.mkl.is_available() else "other"}}
    if args.json:
        print(json.dumps(report, indent=2, sort_keys=True))
        return
    print(f"torch {torch.__version__}, threads {report['threads']}; sgemm ceiling {own['gflops']:.1f} GFLOP/s")
    for r in results:
        rate = "".join(f"  {r['detail'][k]:.1f} {k.replace('_per_second', '')}/s" for k in
                       ("tokens_per_second", "samples_per_second", "images_per_second") if k in r["detail"])
        label = r["name"] + (f" [{r['variant']}]" if "variant" in r else "")
        print(f"{label:<56} {r['seconds'] * 1e3:9.2f} ms {r['gflops']:8.1f} GFLOP/s  "
              f"{r['fractionOfCeiling']:.2f} of ceiling{rate}")


if __name__ == "__main__":
    sys.exit(main())
