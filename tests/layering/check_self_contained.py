#!/usr/bin/env python3
"""Fails when a file of the repository reads or cites a document that lives outside it.

The repository is the whole project: a clone alone must build, test and explain itself. The team's
working documents (the design, reliability and style notes, the Alibaba API reference) are not part
of it; what the code needs from them is in docs/ (contract.md, failure-matrix.md, alibaba-api.md) and
the SDK-made reference data is in tests/data/reference/. This check keeps it that way.

  check_self_contained.py [--root DIR]   every file git tracks under DIR (or, without git, every file)
  check_self_contained.py --self-test    plants a citation in a scratch tree and expects a failure
"""
import argparse
import os
import pathlib
import subprocess
import sys
import tempfile

# Spelled in pieces so that this file does not match itself.
FORBIDDEN = [
    ".." + "/shared",
    "SHAREKEEPER_" + "SHARED_DIR",
    "RELIABILITY" + ".md",
    "cloud-api" + ".md",
    "DESIGN" + ".md",
    "STYLE" + ".md",
]
SKIP_DIRS = {".git", "node_modules", "build", ".cache"}


def files_of(root: pathlib.Path):
    try:
        out = subprocess.run(["git", "-C", str(root), "ls-files", "-z"], check=True,
                             capture_output=True).stdout
        return [root / p for p in out.decode().split("\0") if p]
    except (OSError, subprocess.CalledProcessError):
        found = []
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames[:] = [d for d in dirnames if d not in SKIP_DIRS and not d.startswith("build-")]
            found += [pathlib.Path(dirpath) / f for f in filenames]
        return found


def violations(root: pathlib.Path):
    for path in files_of(root):
        try:
            text = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue  # binary or unreadable: cannot cite anything
        for number, line in enumerate(text.splitlines(), 1):
            for needle in FORBIDDEN:
                if needle in line:
                    yield f"{path.relative_to(root)}:{number}: mentions '{needle}'"


def self_test() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        root = pathlib.Path(tmp)
        (root / "clean.md").write_text("see docs/failure-matrix.md §4.7\n")
        (root / "src").mkdir()
        (root / "src" / "bad.cpp").write_text("// ok\n// per " + FORBIDDEN[2] + " §5\n")
        found = list(violations(root))
        expected = [f"src/bad.cpp:2: mentions '{FORBIDDEN[2]}'"]
        if found != expected:
            print(f"self-test: expected {expected}, got {found}")
            return 1
    print("self-test: a planted citation is found, a clean file passes")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--root", default=pathlib.Path(__file__).resolve().parents[2])
    parser.add_argument("--self-test", action="store_true")
    args = parser.parse_args()
    if args.self_test:
        return self_test()
    root = pathlib.Path(args.root).resolve()
    found = list(violations(root))
    for v in found:
        print(v)
    if found:
        print(f"{len(found)} reference(s) to documents outside the repository: put what is needed "
              "in docs/ or tests/data/ and cite that")
        return 1
    print(f"self-contained: {len(files_of(root))} files, no reference outside the repository")
    return 0


if __name__ == "__main__":
    sys.exit(main())
