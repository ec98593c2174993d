#!/usr/bin/env bash
# Training data of the default 224-px model (model card: public/models/README.md).
# Downloads Debian's freely licensed desktop-background packages at pinned
# versions, checks their SHA-256, selects the photographs (licences per file
# in the model card), adds the sample photos (the two held-out ones are
# excluded at training time by --holdout) and a minority of Debian's
# public-domain clip art, and shrinks everything with `webmae prepare-images`.
# Usage: scripts/pretrain-data.sh OUT_DIR   (needs ./webmae built)
set -euo pipefail
out=${1:?usage: scripts/pretrain-data.sh OUT_DIR}
webmae=${WEBMAE:-./webmae}
max_side=${MAX_SIDE:-768}
work=$(mktemp -d "${TMPDIR:-/tmp}/webmae-pretrain-data.XXXXXX")
trap 'rm -rf "$work"' EXIT

# package=version sha256
debs=(
	"mate-backgrounds=1.26.0-1 7bf4c2209f34b4f61ba6d24c8b58c28b361e82e4b943aae6d42c030169af9e04"
	"ukui-wallpapers=20.04.3-1.1 6d49be70152e6d603163458e177e501deb0be8f2916389ccbfcf59b0d7fc0262"
	"lomiri-wallpapers-16.04=20.04.0-2 a99ff6a3bfe451e4cc0682ecb3cc82e71740626d59e4845ae34a0a0e45421eab"
	"lomiri-wallpapers-20.04=20.04.0-2 d44e89b8473aafe64a5b678f014862dc31335aaaf18665c544d985d854f1a709"
	"plasma-workspace-wallpapers=4:5.27.5-2 32cd18b71c8c938a18b3b351f217c02ac590e323caa3cf322fbb875ce8892f8b"
	"openclipart-png=1:0.18+dfsg-19 f07f1545a2970c2cf3fa339bc2405da1a95cf2b1827bfa05bf73eb1c20291c02"
)
mkdir -p "$work/deb" "$work/x" "$work/stage"
for entry in "${debs[@]}"; do
	spec=${entry% *} sum=${entry#* }
	name=${spec%%=*}
	(cd "$work/deb" && apt-get download -q "$spec" >/dev/null)
	file=$(ls "$work/deb/${name}_"*.deb)
	echo "$sum  $file" | sha256sum -c --quiet -
	dpkg-deb -x "$file" "$work/x/$name"
done

stage() { # stage SRC DEST_NAME
	mkdir -p "$work/stage/$(dirname "$2")"
	cp "$1" "$work/stage/$2"
}
# MATE: the photographs under nature/ and desktop/GreenTraditional (GPL-2+).
for f in "$work"/x/mate-backgrounds/usr/share/backgrounds/mate/nature/*.jpg \
	"$work"/x/mate-backgrounds/usr/share/backgrounds/mate/desktop/GreenTraditional.jpg; do
	stage "$f" "mate/$(basename "$f")"
done
# UKUI (CC-BY-SA-3.0) and Lomiri (CC0, CC-BY, CC-BY-SA): every wallpaper.
for f in "$work"/x/ukui-wallpapers/usr/share/backgrounds/*.jpg "$work"/x/ukui-wallpapers/usr/share/backgrounds/*.png; do
	stage "$f" "ukui/$(basename "$f")"
done
for p in lomiri-wallpapers-16.04 lomiri-wallpapers-20.04; do
	for f in "$work"/x/$p/usr/share/backgrounds/*.jpg; do
		stage "$f" "lomiri/$(basename "$f")"
	done
done
# Plasma: the photographs (LGPL-3 / CC-BY-SA-4.0), largest size of each.
for w in Altai Autumn BytheWater ColdRipple ColorfulCups DarkestHour EveningGlow FallenLeaf \
	Grey IceCold Kite MilkyWay OneStandsOut Path Shell summer_1am; do
	f=$(ls -S "$work"/x/plasma-workspace-wallpapers/usr/share/wallpapers/$w/contents/images/* | head -1)
	stage "$f" "plasma/$w.${f##*.}"
done
# Clip art (public domain) as a minority: every 200th drawing by name.
i=0
while IFS= read -r f; do
	if (( i % 200 == 0 )); then stage "$f" "openclipart/$(basename "$f")"; fi
	i=$((i + 1))
done < <(find "$work"/x/openclipart-png/usr/share/openclipart/png -name '*.png' | LC_ALL=C sort)

rm -rf "$out.tmp" && mkdir -p "$out.tmp"
"$webmae" prepare-images --src "$work/stage" --out "$out.tmp/images" --max-side "$max_side" --min-side 64 --background 255,255,255
mkdir -p "$out.tmp/images/photos"
cp public/web/samples/*.jpg "$out.tmp/images/photos/"
rm -rf "$out" && mv "$out.tmp" "$out"
echo "training images in $out/images: $(find "$out/images" -type f | wc -l)"
