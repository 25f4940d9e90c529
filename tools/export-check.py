#!/usr/bin/env python3
"""Loads directories written by `reverie export` in transformers / diffusers and checks that nothing is missing,
unexpected or mismatched, and that every tensor of the directory is the one the loaded model holds.

    python3 tools/export-check.py OUT/unet OUT/vae OUT/vision OUT/llm      # needs torch, transformers, diffusers
"""
import json
import os
import sys

import torch
from safetensors.torch import load_file


def load(directory):
    config = json.load(open(os.path.join(directory, "config.json")))
    kind = config.get("_class_name") or (config.get("architectures") or ["?"])[0]
    if kind in ("UNet2DConditionModel", "AutoencoderKL"):
        import diffusers
        model, info = getattr(diffusers, kind).from_pretrained(directory, output_loading_info=True)
        weights = "diffusion_pytorch_model.safetensors"
    else:
        import transformers
        model, info = getattr(transformers, kind).from_pretrained(directory, output_loading_info=True)
        weights = "model.safetensors"
    return kind, model, info, load_file(os.path.join(directory, weights))


def main():
    failed = False
    for directory in sys.argv[1:]:
        kind, model, info, tensors = load(directory)
        problems = {k: v for k, v in info.items() if v}
        state = model.state_dict()
        for name, tensor in tensors.items():
            # transformers 5 keeps a base model's parameters without its prefix (vision_model.).
            key = name if name in state else name.split(".", 1)[1]
            if key not in state or not torch.equal(state[key], tensor):
                problems.setdefault("different", []).append(name)
        print(f"{directory}: {kind}, {len(tensors)} tensors", "ok" if not problems else problems)
        failed |= bool(problems)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
