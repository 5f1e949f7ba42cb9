#!/usr/bin/env python3
"""Adds up the JUnit reports of a test run and prints one summary line per suite
and a total as 'N passed, N failed'. Exits 1 when any test failed or a suite
produced no report."""
import glob
import os
import sys
import xml.etree.ElementTree as ET


def count(path):
    root = ET.parse(path).getroot()
    suites = [root] if root.tag == "testsuite" else root.findall("testsuite")
    total = failed = skipped = 0
    for s in suites:
        total += int(s.get("tests", 0))
        failed += int(s.get("failures", 0)) + int(s.get("errors", 0))
        skipped += int(s.get("skipped", 0) or s.get("disabled", 0) or 0)
    return total - failed - skipped, failed, skipped


def main():
    reports = sys.argv[1]
    expected = ["lint", "unit-asan", "unit-tsan", "unit-valgrind", "web-unit", "integration", "web-e2e"]
    expected += [os.path.basename(p)[:-4] for p in glob.glob(os.path.join(reports, "*.xml"))
                 if os.path.basename(p)[:-4] not in expected]
    tp = tf = ts = 0
    missing = []
    print("== summary")
    for name in expected:
        path = os.path.join(reports, name + ".xml")
        if not os.path.exists(path):
            missing.append(name)
            print(f"{name:>16}: no report (suite did not run)")
            continue
        p, f, s = count(path)
        tp, tf, ts = tp + p, tf + f, ts + s
        print(f"{name:>16}: {p} passed, {f} failed, {s} skipped")
    print(f"total: {tp} passed, {tf + len(missing)} failed, {ts} skipped")
    return 1 if tf or missing or tp == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
