#!/usr/bin/env python3
"""The file-road equivalence study (issue 35): the shapes pipeline trained twice, once on ShapesWorld in memory
limited to as many distinct items as an export holds, once on that export read back as JSONL manifests.

Both runs use recipes/shapes/*.yaml with the ShapesWorld-only losses (siglip patch_labels/patch_colors, mllm
shape_probe) removed, since a manifest has no scene labels; nothing else changes but the data section.

  python3 tools/file-road-study.py --reverie /tmp/eq/reverie --work /tmp/eq export
  python3 tools/file-road-study.py --reverie /tmp/eq/reverie --work /tmp/eq recipes
  REVERIE_THREADS=1 OPENBLAS_NUM_THREADS=1 /tmp/eq/reverie train /tmp/eq/memory/pipeline.yaml   # and files/
  /tmp/eq/reverie eval --checkpoint /tmp/eq/memory-run/model.h5 --count 500 --json               # and files-run/

`recipes --seed-offset K` writes a second draw of both roads (every stage's training seed plus K) to memory-sK/ and
files-sK/, training into memory-sK-run/ and files-sK-run/, so the spread between seeds can be set beside the
difference between roads. `--stage-exports` (with both `export` and `recipes`) gives the file road one export per stage, of the world that stage
reads on the memory road (data-<stage>/), so that, as in memory, no two stages see the same images.
`--siglip-captions` gives both roads' siglip stage the caption records only: the memory
road's siglip stage reads no text-to-image prompts, so without it the roads differ in that stage's pairs.
"""
import argparse
import os
import re
import shutil
import subprocess

# Records of each kind in the export, in the mllm mixture's proportions (caption 2 : t2i 1.5 : edit 1 : interleaved 0.5).
COUNTS = {"caption": 16000, "t2i": 12000, "edit": 8000, "interleaved": 4000}
EXPORT_SEED = 7
STAGES = ["siglip", "vae", "decoder", "mllm", "tune"]
# The world each stage of recipes/shapes reads (its data.world_seed): the memory road's stages never share scenes.
STAGE_WORLDS = {"siglip": 1, "vae": 2, "decoder": 3, "mllm": 4, "tune": 5}


def export(reverie, data, seed=EXPORT_SEED):
    for kind, count in COUNTS.items():
        subprocess.run([reverie, "data", "shapes", "--out", data, "--count", str(count), "--kinds", kind,
                        "--seed", str(seed)], check=True, stdout=subprocess.DEVNULL)
    with open(os.path.join(data, "train.jsonl"), "w") as out:
        for kind in COUNTS:
            with open(os.path.join(data, f"{kind}.jsonl")) as f:
                shutil.copyfileobj(f, out)


def distinct(data, siglip_captions):
    """The distinct items of each stream the manifest road reads (what the memory road is limited to)."""
    pairs = COUNTS["caption"] + (0 if siglip_captions else COUNTS["t2i"])
    images = sum(len(files) for _, _, files in os.walk(os.path.join(data, "images")))
    return {"siglip": pairs, "vae": images, "decoder": images, "mllm": sum(COUNTS.values()),
            "tune": sum(COUNTS.values())}


def without_scene_labels(text):
    text = re.sub(r"^loss: \{patch_labels.*\}\n", "", text, flags=re.M)
    return text.replace(", shape_probe: 1", "")


def data_section(text, replacement):
    """Replaces the recipe's `data:` section (one line or an indented block)."""
    return re.sub(r"^data:.*\n(?:  .*\n)*", replacement, text, count=1, flags=re.M)


def recipes(repo, work, data, offset, siglip_captions, stage_exports=False):
    limits = distinct(data if not stage_exports else data + "-mllm", siglip_captions)
    for kind in ["memory", "files"]:
        road = f"{kind}-s{offset}" if offset else kind
        folder = os.path.join(work, road)
        os.makedirs(folder, exist_ok=True)
        shutil.copy(os.path.join(repo, "recipes/shapes/tokenizer.json"), folder)
        pipeline = open(os.path.join(repo, "recipes/shapes/pipeline.yaml")).read()
        pipeline = re.sub(r"^root: .*$", f"root: {work}/{road}-run", pipeline, flags=re.M)
        open(os.path.join(folder, "pipeline.yaml"), "w").write(pipeline)
        for stage in STAGES:
            data_dir = f"{data}-{stage}" if stage_exports else data
            text = without_scene_labels(open(os.path.join(repo, f"recipes/shapes/{stage}.yaml")).read())
            text = re.sub(r"^root: .*$", f"root: {work}/{road}-run", text, flags=re.M)
            text = re.sub(r"^seed: (\d+)$", lambda m: f"seed: {int(m.group(1)) + offset}", text, flags=re.M)
            if kind == "memory":
                text = re.sub(r"^(data: \{world_seed: \d+)", rf"\1, items: {limits[stage]}", text, flags=re.M)
                text = re.sub(r"^(  world_seed: \d+\n)", rf"\1  items: {limits[stage]}\n", text, flags=re.M)
            elif stage == "siglip" and siglip_captions:  # the memory road's siglip stage reads captions only
                text = data_section(text, f"data: {{manifest: {data_dir}/caption.jsonl, canvas: 64}}\n")
            elif stage == "tune":  # the shapes tune stage draws text-to-image and edits 1 : 1
                text = data_section(text, "data:\n  canvas: 64\n  sources:\n"
                                    f"    - {{manifest: {{path: {data_dir}/t2i.jsonl}}, weight: 1}}\n"
                                    f"    - {{manifest: {{path: {data_dir}/edit.jsonl}}, weight: 1}}\n")
            else:
                text = data_section(text, f"data: {{manifest: {data_dir}/train.jsonl, canvas: 64}}\n")
            assert "items" in text or kind == "files", stage
            open(os.path.join(folder, f"{stage}.yaml"), "w").write(text)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--reverie", required=True)
    parser.add_argument("--work", required=True)
    parser.add_argument("--seed-offset", type=int, default=0)
    parser.add_argument("--siglip-captions", action="store_true",
                        help="both roads' siglip stage reads the caption records only (the memory road's pairs)")
    parser.add_argument("--stage-exports", action="store_true",
                        help="one export per stage, of the world the memory road's stage reads (data-<stage>/), so "
                             "no two stages of either road share images")
    parser.add_argument("step", choices=["export", "recipes"])
    args = parser.parse_args()
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    data = os.path.join(args.work, "data")
    if args.step == "export" and args.stage_exports:
        for stage in STAGES:
            export(args.reverie, f"{data}-{stage}", STAGE_WORLDS[stage])
    elif args.step == "export":
        export(args.reverie, data)
    else:
        recipes(repo, args.work, data, args.seed_offset, args.siglip_captions, args.stage_exports)


if __name__ == "__main__":
    main()
