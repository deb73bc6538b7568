#!/bin/sh
# Issue 18's figures from `shadowmmu simulate`, measured alternately in one sitting (benchmarks/PARALLEL-RESULTS.md):
# per round, every configuration in turn, all six modes each; the table gives each configuration's median over the
# rounds and the ratios the issue sets goals for. BenchmarkDotNet's per-fault figures are the other half
# (FaultThroughputBenchmarks, DisjointFaultThroughputBenchmarks, ControlFaultThroughputBenchmarks).
#
#   benchmarks/parallel-faults.sh [ROUNDS] [OUT_DIR] [BEFORE_CLI_DLL]
#
# ROUNDS (default 5). OUT_DIR (default /tmp/shadowmmu-parallel-faults) gets every run's JSON, lscpu and the load
# average before and after. BEFORE_CLI_DLL, when given (an older build's ShadowMmu.Cli.dll), runs one vCPU in the same
# rounds, for the 1-vCPU comparison.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
rounds=${1:-5}
out=${2:-/tmp/shadowmmu-parallel-faults}
before=${3:-}
mkdir -p "$out"
dotnet build "$root/src/ShadowMmu.Cli/ShadowMmu.Cli.csproj" -c Release -v quiet -nologo
cli="dotnet $root/src/ShadowMmu.Cli/bin/Release/net10.0/ShadowMmu.Cli.dll"
lscpu > "$out/lscpu.txt"
uptime > "$out/load.txt"

run() { # NAME CLI ARGS...
  name=$1; shift; exe=$1; shift
  $exe simulate --json --seconds 7.2 "$@" > "$out/$name-$round.json"
}

round=1
while [ "$round" -le "$rounds" ]; do
  run one "$cli" --workload disjoint --vcpus 1 --vms 1
  [ -n "$before" ] && run before-one "dotnet $before" --workload disjoint --vcpus 1 --vms 1
  run disjoint "$cli" --workload disjoint --vcpus 2 --vms 1
  run shared "$cli" --workload shared-tables --vcpus 2 --vms 1
  run control "$cli" --workload disjoint --vcpus 2 --vms 2
  for vcpus in 1 2 4; do
    # The default run (the mix workload: writers, a host thread) at 1, 2 and 4 vCPUs.
    $cli simulate --json --seconds 6 --vcpus "$vcpus" > "$out/mix$vcpus-$round.json"
  done
  round=$((round + 1))
done
uptime >> "$out/load.txt"

python3 - "$out" "$rounds" <<'PY'
import json, statistics, sys, os
out, rounds = sys.argv[1], int(sys.argv[2])
def rates(name):
    per = {}
    for r in range(1, rounds + 1):
        path = os.path.join(out, f"{name}-{r}.json")
        if not os.path.exists(path):
            return None
        for m in json.load(open(path))["modes"]:
            per.setdefault(m["mode"], []).append(m["faultsPerSecond"])
    return {k: statistics.median(v) for k, v in per.items()}
one, before, dis, sh, ctl = (rates(n) for n in ("one", "before-one", "disjoint", "shared", "control"))
f = lambda v: f"{v / 1e6:.2f} M/s"
print("| mode | 1 vCPU | 2 vCPUs, disjoint | 2 vCPUs, shared tables | control (2 VMs) | disjoint / control (goal >= 0.90) | shared / control (goal >= 0.75) | disjoint / 1 vCPU | shared / 1 vCPU |" + (" 1 vCPU before | 1 vCPU now / before |" if before else ""))
print("|---|--:|--:|--:|--:|--:|--:|--:|--:|" + ("--:|--:|" if before else ""))
for m in one:
    row = f"| {m} | {f(one[m])} | {f(dis[m])} | {f(sh[m])} | {f(ctl[m])} | {dis[m]/ctl[m]:.2f} | {sh[m]/ctl[m]:.2f} | {dis[m]/one[m]:.2f} | {sh[m]/one[m]:.2f} |"
    if before:
        row += f" {f(before[m])} | {one[m]/before[m]:.2f} |"
    print(row)
print()
print("| default simulate (mix workload) | " + " | ".join(f"{v} vCPU{'s' if v > 1 else ''}" for v in (1, 2, 4)) + " |")
print("|---|--:|--:|--:|")
mix = {v: rates(f"mix{v}") for v in (1, 2, 4)}
for m in mix[1]:
    print(f"| {m} | " + " | ".join(f(mix[v][m]) for v in (1, 2, 4)) + " |")
PY
