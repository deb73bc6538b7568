#!/bin/sh
# Volatility3 and shadowmmu on the real Linux guests (tests/fixtures/real-guests), in one sitting, as
# benchmarks/DUMP-RESULTS.md reports them.
#
#   benchmarks/side-by-side.sh VOL3_DIR [OUT_DIR] [BEFORE_CLI_DLL]
#
# VOL3_DIR: a checkout of https://github.com/volatilityfoundation/volatility3 (2.11), run from its source with Python 3's
# standard library alone. OUT_DIR (default /tmp/shadowmmu-side-by-side) gets the guests' images, registers, addresses and
# batch files, lscpu, the load average before and after, Volatility3's timings (volatility3.jsonl), and hyperfine's
# exports of the tool's end-to-end runs (batch-*.json, maps-*.json). BEFORE_CLI_DLL, when given (an older build's
# ShadowMmu.Cli.dll), is timed on the million cases too (before-*.json). Needs hyperfine (Debian: apt-get install hyperfine).
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
vol3=$1
out=${2:-/tmp/shadowmmu-side-by-side}
before=${3:-}
mkdir -p "$out"

dotnet build "$root/src/ShadowMmu.Cli/ShadowMmu.Cli.csproj" -c Release -v quiet -nologo
dotnet build "$root/benchmarks/ShadowMmu.Benchmarks/ShadowMmu.Benchmarks.csproj" -c Release -v quiet -nologo
bench="dotnet $root/benchmarks/ShadowMmu.Benchmarks/bin/Release/net10.0/ShadowMmu.Benchmarks.dll"
cli="dotnet $root/src/ShadowMmu.Cli/bin/Release/net10.0/ShadowMmu.Cli.dll"

$bench --real-guest-files "$out" 1000000
lscpu > "$out/lscpu.txt"
uptime > "$out/load.txt"

# Guest by guest, Volatility3 then the tool, so that both meet the same load: Volatility3's _translate and translate()
# of 200,000 of the addresses and mapping() of the whole space (measure.py); translate --batch as a whole process on one
# case (the start-up), a million and five million (the same lines five times); maps in each format. Volatility3 has no
# 5-level layer: long5 is the tool's alone.
: > "$out/volatility3.jsonl"
for mode in long4 pae legacy32 long5; do
    if [ "$mode" != long5 ]; then
        python3 "$root/benchmarks/volatility3/measure.py" "$vol3" "$out" 200000 5 "$mode" >> "$out/volatility3.jsonl"
    fi

    head -n 1 "$out/$mode/cases.jsonl" > "$out/$mode/one.jsonl"
    for i in 1 2 3 4 5; do cat "$out/$mode/cases.jsonl"; done > "$out/$mode/cases5.jsonl"
    hyperfine --warmup 1 --runs 10 --export-json "$out/batch-$mode.json" \
        -n one "$cli translate --batch $out/$mode/one.jsonl" \
        -n 1M "$cli translate --batch $out/$mode/cases.jsonl" \
        -n 5M "$cli translate --batch $out/$mode/cases5.jsonl"
    rm "$out/$mode/cases5.jsonl"
    if [ -n "$before" ]; then
        hyperfine --warmup 1 --runs 5 --export-json "$out/before-$mode.json" -n 1M "dotnet $before translate --batch $out/$mode/cases.jsonl"
    fi

    registers=$(awk '$1 ~ /^(cr0|cr3|cr4|efer)$/ { printf "--%s %s ", $1, $2 }' "$out/$mode/guest.txt")
    hyperfine --warmup 1 --runs 10 --export-json "$out/maps-$mode.json" \
        -n table "$cli maps --image $out/$mode/memory.raw $registers --format table" \
        -n tlb "$cli maps --image $out/$mode/memory.raw $registers --format tlb" \
        -n mem "$cli maps --image $out/$mode/memory.raw $registers --format mem" \
        -n json "$cli maps --image $out/$mode/memory.raw $registers --format json" \
        -n version "$cli --version"
    uptime >> "$out/load.txt"
done

uptime >> "$out/load.txt"
echo "Results in $out"
