#!/usr/bin/env python3
"""Runs every Check unit test binary of a build under valgrind (memcheck, full leak
check, no forking so valgrind sees the tests) and writes a JUnit report.

usage: run_valgrind.py BUILD_DIR REPORT.xml"""
import glob
import os
import subprocess
import sys
import xml.etree.ElementTree as ET


def main():
    build, report = sys.argv[1], sys.argv[2]
    binaries = sorted(p for p in glob.glob(os.path.join(build, "tests", "unit", "test_*"))
                      if os.access(p, os.X_OK) and not p.endswith(".c"))
    suite = ET.Element("testsuite", name="unit-valgrind")
    failures = 0
    for b in binaries:
        name = os.path.basename(b)
        env = dict(os.environ, CK_FORK="no")
        proc = subprocess.run(
            ["valgrind", "--quiet", "--leak-check=full", "--show-leak-kinds=definite,indirect",
             "--errors-for-leak-kinds=definite,indirect", "--error-exitcode=97", b],
            env=env, capture_output=True, text=True, errors="replace")
        case = ET.SubElement(suite, "testcase", classname="valgrind", name=name)
        ok = proc.returncode == 0
        print(f"valgrind {name}: {'ok' if ok else 'FAILED (%d)' % proc.returncode}")
        if not ok:
            failures += 1
            f = ET.SubElement(case, "failure", message=f"exit {proc.returncode}")
            f.text = (proc.stdout + proc.stderr)[-20000:]
            print((proc.stdout + proc.stderr)[-5000:])
    suite.set("tests", str(len(binaries)))
    suite.set("failures", str(failures))
    ET.ElementTree(suite).write(report)
    return 1 if failures or not binaries else 0


if __name__ == "__main__":
    sys.exit(main())
