#!/usr/bin/env python3
"""check_spec_decode.py: runs the official spec test suite's binary modules
through wasm_load_tool. Every `module` must load; every binary
assert_malformed / assert_invalid must be rejected (with the matching error
kind); modules of assert_unlinkable / assert_uninstantiable / assert_trap /
assert_exhaustion must load (linking and running are not this part's job).
Text-format (.wat) assertion modules are skipped. Prints per-script counts and
totals; exits 1 if anything failed.

usage: check_spec_decode.py --tool build/bin/wasm_load_tool --suite ../shared/wasm-testsuite/core
       [--only NAME ...] [--verbose]
"""
import argparse
import glob
import json
import os
import subprocess
import sys
import tempfile

LOAD_OK = ("module", "assert_unlinkable", "assert_uninstantiable", "assert_trap",
           "assert_exhaustion", "assert_return")
EXPECT_KIND = {"assert_malformed": "malformed", "assert_invalid": "invalid"}


def load(tool, path):
    p = subprocess.run([tool, path], capture_output=True, text=True, timeout=60)
    out = (p.stdout + p.stderr).strip()
    if "Sanitizer" in out or "runtime error" in out:
        return 99, out  # a sanitizer report is a failure whatever the exit status
    return p.returncode, out


def check_script(tool, wast, verbose):
    name = os.path.basename(wast)[:-5]
    ok = fail = wrong_kind = skipped = 0
    failures = []
    text_miss = []
    with tempfile.TemporaryDirectory() as tmp:
        js = os.path.join(tmp, name + ".json")
        p = subprocess.run(["wast2json", wast, "-o", js], capture_output=True, text=True)
        if p.returncode != 0:
            return name, 0, 1, 0, 0, ["wast2json failed: " + p.stderr.strip()[:200]]
        commands = json.load(open(js))["commands"]
        for c in commands:
            t = c["type"]
            fn = c.get("filename")
            if t in ("assert_return", "assert_trap", "assert_exhaustion") and "action" in c:
                continue  # actions on an earlier module, nothing to decode
            if not fn:
                continue
            if c.get("module_type", "binary") != "binary" or not fn.endswith(".wasm"):
                skipped += 1
                continue
            rc, out = load(tool, os.path.join(tmp, fn))
            where = "%s:%d %s %s" % (name, c["line"], t, fn)
            if t in LOAD_OK:
                if rc == 0:
                    ok += 1
                else:
                    fail += 1
                    failures.append("%s: expected ok, got %s" % (where, out))
            elif t in EXPECT_KIND:
                if rc == 1:
                    ok += 1
                    if c.get("text") and c["text"] not in out:
                        text_miss.append("%s: text '%s' not in: %s" % (where, c["text"], out))
                    if not out.startswith(EXPECT_KIND[t] + ":"):
                        wrong_kind += 1
                        if verbose:
                            failures.append("%s: kind (expected %s '%s'), got %s" %
                                            (where, EXPECT_KIND[t], c.get("text"), out))
                else:
                    fail += 1
                    failures.append("%s: expected %s '%s', got %s" %
                                    (where, EXPECT_KIND[t], c.get("text"), out))
            else:
                skipped += 1
    if verbose:
        failures += ["(text) " + t for t in text_miss]
    return name, ok, fail, wrong_kind, skipped, failures


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tool", required=True)
    ap.add_argument("--suite", required=True)
    ap.add_argument("--only", nargs="*")
    ap.add_argument("--verbose", action="store_true")
    a = ap.parse_args()
    scripts = sorted(glob.glob(os.path.join(a.suite, "*.wast")))
    scripts = [s for s in scripts if not os.path.basename(s).startswith("simd_")]
    if a.only:
        scripts = [s for s in scripts if os.path.basename(s)[:-5] in a.only]
    tot = [0, 0, 0, 0]
    all_failures = []
    for s in scripts:
        name, ok, fail, wk, sk, failures = check_script(a.tool, s, a.verbose)
        print("%-28s ok %5d  fail %3d  wrong-kind %3d  skipped(text) %3d" % (name, ok, fail, wk, sk))
        tot = [tot[0] + ok, tot[1] + fail, tot[2] + wk, tot[3] + sk]
        all_failures += failures
    for f in all_failures:
        print("FAIL " + f)
    print("TOTAL ok %d  fail %d  wrong-kind %d  skipped(text) %d  scripts %d" %
          (tot[0], tot[1], tot[2], tot[3], len(scripts)))
    return 1 if tot[1] else 0


if __name__ == "__main__":
    sys.exit(main())
