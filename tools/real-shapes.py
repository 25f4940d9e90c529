#!/usr/bin/env python3
"""Random-init directories at the real shapes recipes/pretrained/ is built for, for measuring a training step and a
generation at full size without the hub: SigLIP-B/16-256 (SiglipVisionModel), SmolLM2-135M (LlamaForCausalLM, with
a small byte-level tokenizer: the embedding keeps the real 49152 rows), and Stable Diffusion 1.5's UNet, VAE and
scheduler config. Laid out as recipes/pretrained/ expects under checkpoints/.

    python3 tools/real-shapes.py OUT            # then point a mirror's checkpoints/ at OUT (docs/experiments)
"""
import os
import shutil
import sys

import torch
from diffusers import AutoencoderKL, PNDMScheduler, UNet2DConditionModel
from transformers import LlamaConfig, LlamaForCausalLM, SiglipVisionConfig, SiglipVisionModel

HERE = os.path.dirname(__file__)


def main():
    out = sys.argv[1]
    torch.manual_seed(0)
    SiglipVisionModel(SiglipVisionConfig(
        hidden_size=768, intermediate_size=3072, num_hidden_layers=12, num_attention_heads=12, image_size=256,
        patch_size=16)).save_pretrained(os.path.join(out, "siglip-base-patch16-256"))
    llm = os.path.join(out, "SmolLM2-135M")
    LlamaForCausalLM(LlamaConfig(
        hidden_size=576, intermediate_size=1536, num_hidden_layers=30, num_attention_heads=9, num_key_value_heads=3,
        vocab_size=49152, max_position_embeddings=8192, rope_theta=100000.0, rms_norm_eps=1e-5,
        tie_word_embeddings=True)).save_pretrained(llm)
    shutil.copy(os.path.join(HERE, "../Tests/Fixtures/tokenizer_layouts/smollm.json"), os.path.join(llm, "tokenizer.json"))
    sd = os.path.join(out, "stable-diffusion-v1-5")
    UNet2DConditionModel(
        sample_size=64, block_out_channels=(320, 640, 1280, 1280), layers_per_block=2, cross_attention_dim=768,
        attention_head_dim=8, down_block_types=("CrossAttnDownBlock2D",) * 3 + ("DownBlock2D",),
        up_block_types=("UpBlock2D",) + ("CrossAttnUpBlock2D",) * 3).save_pretrained(os.path.join(sd, "unet"))
    AutoencoderKL(
        block_out_channels=(128, 256, 512, 512), layers_per_block=2, latent_channels=4, norm_num_groups=32,
        down_block_types=("DownEncoderBlock2D",) * 4, up_block_types=("UpDecoderBlock2D",) * 4, sample_size=512,
        scaling_factor=0.18215).save_pretrained(os.path.join(sd, "vae"))
    PNDMScheduler(beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear", skip_prk_steps=True,
                  steps_offset=1, set_alpha_to_one=False).save_config(os.path.join(sd, "scheduler"))


if __name__ == "__main__":
    main()
