#!/usr/bin/env bash
# The end of `make quickstart`: the few-minute model next to the shipped one on the same held-out ShapesWorld items
# (world 1000003, never trained on): a caption, a drawing and an edit from each, with the reference, so a newcomer
# sees what a few minutes of training give and what the full pipeline gives.
# Usage: tools/quickstart-side-by-side.sh REVERIE SMALL_MODEL [SHIPPED_MODEL] [OUT_DIR]
set -euo pipefail
reverie=$1
small=$2
shipped=${3:-checkpoints/shapes/model.h5}
out=${4:-$(dirname "$small")/side-by-side}
rm -rf "$out"
mkdir -p "$out"
for kind in caption t2i edit; do
    "$reverie" data shapes --out "$out/items" --count 1 --kinds $kind --seed 1000003 > /dev/null 2>&1
done
# One field of an item's JSON record.
field() { python3 -c 'import json, sys; print(json.loads(open(sys.argv[1]).readline())[sys.argv[2]])' "$out/items/$1.jsonl" "$2"; }
image=$out/items/$(field caption image)
prompt=$(field t2i text)
source=$out/items/$(field edit source)
instruction=$(field edit instruction)
cp "$image" "$out/caption-input.png"
cp "$out/items/$(field t2i image)" "$out/draw-reference.png"
cp "$source" "$out/edit-source.png"
cp "$out/items/$(field edit target)" "$out/edit-reference.png"
echo
echo "caption of $out/caption-input.png"
printf '  %-11s %s\n' reference "$(field caption text)"
for model in quickstart shipped; do
    checkpoint=$([ $model = quickstart ] && echo "$small" || echo "$shipped")
    printf '  %-11s %s\n' $model "$("$reverie" caption --checkpoint "$checkpoint" --image "$image")"
    "$reverie" generate --checkpoint "$checkpoint" --prompt "$prompt" --out "$out/draw-$model.png" > /dev/null
    "$reverie" edit --checkpoint "$checkpoint" --image "$source" --instruction "$instruction" \
        --out "$out/edit-$model.png" > /dev/null
done
echo "drawing of \"$prompt\": $out/draw-{reference,quickstart,shipped}.png"
echo "edit \"$instruction\" of $out/edit-source.png: $out/edit-{reference,quickstart,shipped}.png"
