"""The command line both repository checks share: --root DIR (default: the repository) or --self-test.

check(root) returns (violations, summary when there are none, advice when there are some).
"""
import argparse
import pathlib


def run(check, self_test) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--root", default=pathlib.Path(__file__).resolve().parents[2])
    parser.add_argument("--self-test", action="store_true")
    args = parser.parse_args()
    if args.self_test:
        return self_test()
    found, ok, advice = check(pathlib.Path(args.root).resolve())
    for v in found:
        print(v)
    if found:
        print(f"{len(found)} violation(s): {advice}")
        return 1
    print(ok)
    return 0
