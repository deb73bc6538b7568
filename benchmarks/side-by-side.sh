#!/bin/sh
# Volatility3 and shadowmmu on the real Linux guests (tests/fixtures/real-guests), in one sitting, as
# benchmarks/DUMP-RESULTS.md reports them.
#
#   benchmarks/side-by-side.sh VOL3_DIR [OUT_DIR]
#
# VOL3_DIR: a checkout of https://github.com/volatilityfoundation/volatility3 (2.11), run from its source with Python 3's
# standard library alone. OUT_DIR (default /tmp/shadowmmu-side-by-side) gets the guests' images, registers, addresses and
# batch files, lscpu, the load average before and after, Volatility3's timings (volatility3.jsonl), and hyperfine's
# exports of the tool's end-to-end runs (batch-*.json, maps-*.json). Needs hyperfine (Debian: apt-get install hyperfine).
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
vol3=$1
out=${2:-/tmp/shadowmmu-side-by-side}
mkdir -p "$out"

dotnet build "$root/src/ShadowMmu.Cli/ShadowMmu.Cli.csproj" -c Release -v quiet -nologo
dotnet build "$root/benchmarks/ShadowMmu.Benchmarks/ShadowMmu.Benchmarks.csproj" -c Release -v quiet -nologo
bench="dotnet $root/benchmarks/ShadowMmu.Benchmarks/bin/Release/net10.0/ShadowMmu.Benchmarks.dll"
cli="dotnet $root/src/ShadowMmu.Cli/bin/Release/net10.0/ShadowMmu.Cli.dll"

$bench --real-guest-files "$out" 1000000
lscpu > "$out/lscpu.txt"
uptime > "$out/load.txt"

# Volatility3: 200,000 of the addresses through _translate and translate(), and mapping() of the whole space.
python3 "$root/benchmarks/volatility3/measure.py" "$vol3" "$out" 200000 5 > "$out/volatility3.jsonl"

# translate --batch, the whole process: one case (the start-up), a million, five million (the same lines five times).
for mode in long4 pae legacy32 long5; do
    head -n 1 "$out/$mode/cases.jsonl" > "$out/$mode/one.jsonl"
    for i in 1 2 3 4 5; do cat "$out/$mode/cases.jsonl"; done > "$out/$mode/cases5.jsonl"
    hyperfine --warmup 1 --runs 10 --export-json "$out/batch-$mode.json" \
        -n one "$cli translate --batch $out/$mode/one.jsonl" \
        -n 1M "$cli translate --batch $out/$mode/cases.jsonl" \
        -n 5M "$cli translate --batch $out/$mode/cases5.jsonl"
done

# maps, the whole process, in each format.
for mode in long4 long5 pae legacy32; do
    registers=$(awk '$1 ~ /^(cr0|cr3|cr4|efer)$/ { printf "--%s %s ", $1, $2 }' "$out/$mode/guest.txt")
    hyperfine --warmup 1 --runs 10 --export-json "$out/maps-$mode.json" \
        -n table "$cli maps --image $out/$mode/memory.raw $registers --format table" \
        -n tlb "$cli maps --image $out/$mode/memory.raw $registers --format tlb" \
        -n mem "$cli maps --image $out/$mode/memory.raw $registers --format mem" \
        -n json "$cli maps --image $out/$mode/memory.raw $registers --format json" \
        -n version "$cli --version"
done

uptime >> "$out/load.txt"
echo "Results in $out"
