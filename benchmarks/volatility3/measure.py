#!/usr/bin/env python3
"""Volatility3's Intel layers on the real-guest fixtures, timed the way shadowmmu's side is timed.

Usage: measure.py VOL3_DIR FILES_DIR [ADDRESSES] [REPEATS] [MODES]

VOL3_DIR is a checkout of https://github.com/volatilityfoundation/volatility3 (not kept in this repository);
FILES_DIR is what `ShadowMmu.Benchmarks --real-guest-files FILES_DIR` wrote: per guest (long4, pae, legacy32) the raw
image, its registers and the addresses to translate. Volatility3 has no 5-level layer, so long5 is skipped.

For each guest it builds a FileLayer over memory.raw and the Intel layer the registers select (Intel32e for 4-level
paging, IntelPAE, Intel for 32-bit paging with PSE), both from Volatility3's own code with nothing changed, and times:
  - translate: ADDRESSES (default 200,000) of the addresses, each through the layer's _translate() (the walk every
    read and mapping() makes; an unmapped address raises, and is caught) and through the public translate();
  - mapping: layer.mapping(0, maximum_address + 1, ignore_errors=True) listed whole, as plugins enumerate a space.
Each is run once to warm Volatility3's table cache, then REPEATS (default 5) times; the median is printed, with the
fastest and slowest, as one JSON object per line (and a table on stderr). MODES (default long4,pae,legacy32) picks guests.
"""
import json
import os
import statistics
import sys
import time


def load_guest(folder):
    registers = {}
    with open(os.path.join(folder, "guest.txt")) as f:
        for line in f:
            name, value = line.split()
            registers[name] = value
    return registers


def build_layer(vol3, image, registers):
    from volatility3.framework import contexts
    from volatility3.framework.layers import intel, physical

    context = contexts.Context()
    context.config["base.location"] = "file://" + os.path.abspath(image)
    context.add_layer(physical.FileLayer(context, "base", "base"))
    cr3 = int(registers["cr3"], 16)
    cls = {"long4": intel.Intel32e, "pae": intel.IntelPAE, "legacy32": intel.Intel}[registers["mode"]]
    context.config["virtual.memory_layer"] = "base"
    context.config["virtual.page_map_offset"] = cr3
    layer = cls(context, "virtual", "virtual")
    context.add_layer(layer)
    return layer


def timed(function, repeats):
    function()  # warm Volatility3's caches (the layer's table cache, the file's page cache)
    times = []
    result = None
    for _ in range(repeats):
        start = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - start)
    return statistics.median(times), min(times), max(times), result


def main():
    if len(sys.argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    vol3, files = sys.argv[1], sys.argv[2]
    count = int(sys.argv[3]) if len(sys.argv) > 3 else 200_000
    repeats = int(sys.argv[4]) if len(sys.argv) > 4 else 5
    modes = sys.argv[5].split(",") if len(sys.argv) > 5 else ["long4", "pae", "legacy32"]
    sys.path.insert(0, vol3)
    from volatility3.framework import constants, exceptions

    for mode in modes:
        folder = os.path.join(files, mode)
        registers = load_guest(folder)
        layer = build_layer(vol3, os.path.join(folder, "memory.raw"), registers)
        with open(os.path.join(folder, "addresses.txt")) as f:
            vas = [int(line, 16) for _, line in zip(range(count), f)]
        if mode == "long4":
            # Volatility3 takes 4-level addresses below 2**48: the upper half as mapping() yields it, sign bits off.
            vas = [va & ((1 << 48) - 1) for va in vas]

        def walk_all():
            translated = 0
            total = 0
            walk = layer._translate
            for va in vas:
                try:
                    pa, _, _ = walk(va)
                except exceptions.InvalidAddressException:
                    continue
                translated += 1
                total += pa
            return translated, total

        def translate_all():
            translated = 0
            translate = layer.translate
            for va in vas:
                pa, _ = translate(va, ignore_errors=True)
                if pa is not None:
                    translated += 1
            return translated

        def enumerate_all():
            pages = 0
            size = 0
            for _, length, _, _, _ in layer.mapping(0, layer.maximum_address + 1, ignore_errors=True):
                pages += 1
                size += length
            return pages, size

        walk_median, walk_min, walk_max, (translated, pa_sum) = timed(walk_all, repeats)
        public_median, public_min, public_max, _ = timed(translate_all, repeats)
        map_median, map_min, map_max, (runs, mapped) = timed(enumerate_all, repeats)
        result = {
            "mode": mode,
            "layer": type(layer).__name__,
            "volatility3": constants.PACKAGE_VERSION,
            "python": sys.version.split()[0],
            "addresses": len(vas),
            "translated": translated,
            "pa_sum": pa_sum,
            "translate_s": [walk_median, walk_min, walk_max],
            "translate_per_s": len(vas) / walk_median,
            "public_translate_s": [public_median, public_min, public_max],
            "public_translate_per_s": len(vas) / public_median,
            "mapping_s": [map_median, map_min, map_max],
            "mapping_runs": runs,
            "mapping_bytes": mapped,
        }
        print(json.dumps(result), flush=True)
        print(
            f"{mode:9} {type(layer).__name__:9} _translate {len(vas) / walk_median / 1000:7.1f} k/s "
            f"(median {walk_median:.3f} s of {repeats}, {walk_min:.3f}-{walk_max:.3f}); translate() {len(vas) / public_median / 1000:6.1f} k/s; "
            f"mapping() {map_median * 1000:7.1f} ms ({map_min * 1000:.1f}-{map_max * 1000:.1f}) for {runs} runs, {mapped / 1048576:.1f} MiB",
            file=sys.stderr,
            flush=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
