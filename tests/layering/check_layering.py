#!/usr/bin/env python3
"""Fails when a folder includes a folder (or a header of it) that docs/architecture.md does not allow.

The allowed graph is the ```layering block of docs/architecture.md, so the document and the check
cannot drift apart: to change the layering, change the document. Each line is

    folder: allowed-folder allowed-folder[header.hpp other.hpp] ...

where `folder[...]` allows only those headers of that folder, and the line `asio: file file ...`
lists the only files that may include Boost.Asio or Boost.Beast. A folder always may include itself.

  check_layering.py [--root DIR]   check the sources under DIR
  check_layering.py --self-test    plant violations in a scratch tree and expect each to be found
"""
import pathlib
import re
import sys
import tempfile

import check_main

INCLUDE = re.compile(r'^\s*#\s*include\s*[<"]([^">]+)[">]')
SOURCES = (".cpp", ".hpp", ".h", ".cc")


def parse_rules(doc: str):
    block = re.search(r"```layering\n(.*?)```", doc, re.S)
    if not block:
        raise SystemExit("docs/architecture.md has no ```layering block")
    folders, asio = {}, None
    for raw in block.group(1).splitlines():
        line = raw.strip()
        if not line:
            continue
        name, _, rest = line.partition(":")
        items = re.findall(r"([\w./-]+)(?:\[([^\]]*)\])?", rest)
        if name == "asio":
            asio = {path for path, _ in items}
            continue
        allowed = {}
        for folder, headers in items:
            allowed[folder] = set(headers.split()) if headers else None  # None: any header
        folders[name] = allowed
    return folders, asio or set()


def violations(root: pathlib.Path, folders, asio):
    for folder in sorted(folders):
        for path in sorted((root / folder).rglob("*")):
            if path.suffix not in SOURCES or not path.is_file():
                continue
            rel = path.relative_to(root).as_posix()
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                m = INCLUDE.match(line)
                if not m:
                    continue
                target = m.group(1)
                if target.startswith(("boost/asio", "boost/beast")) and rel not in asio:
                    yield f"{rel}:{number}: includes {target}; Asio/Beast are allowed only in {sorted(asio)}"
                    continue
                top, _, header = target.partition("/")
                if not header or top not in folders or top == folder:
                    continue  # a system or third-party header, or the folder itself
                allowed = folders[folder]
                if top not in allowed:
                    yield f"{rel}:{number}: {folder}/ must not include {top}/ ({target})"
                elif allowed[top] is not None and header not in allowed[top]:
                    yield (f"{rel}:{number}: {folder}/ may include only {sorted(allowed[top])} "
                           f"of {top}/, not {target}")


def self_test() -> int:
    doc = ("```layering\nsupport:\ncloud: support\nreconcilers: support cloud[api.hpp]\n"
           "asio: cloud/transport.cpp\n```\n")
    folders, asio = parse_rules(doc)
    with tempfile.TemporaryDirectory() as tmp:
        root = pathlib.Path(tmp)
        for d in ("support", "cloud", "reconcilers"):
            (root / d).mkdir()
        (root / "support" / "a.hpp").write_text('#include <vector>\n#include "cloud/api.hpp"\n')
        (root / "cloud" / "transport.cpp").write_text('#include <boost/asio.hpp>\n#include "support/a.hpp"\n')
        (root / "cloud" / "other.cpp").write_text('#include <boost/beast/http.hpp>\n')
        (root / "reconcilers" / "r.cpp").write_text(
            '#include "cloud/api.hpp"\n#include "cloud/transport.hpp"\n#include "reconcilers/x.hpp"\n')
        found = [v.split(":")[0] + ":" + v.split(":")[1] for v in violations(root, folders, asio)]
        expected = ["cloud/other.cpp:1", "reconcilers/r.cpp:2", "support/a.hpp:2"]
        if sorted(found) != expected:
            print(f"self-test: expected {expected}, got {sorted(found)}")
            return 1
    print("self-test: each planted violation is found, allowed includes pass")
    return 0


def check(root: pathlib.Path):
    folders, asio = parse_rules((root / "docs" / "architecture.md").read_text(encoding="utf-8"))
    return (list(violations(root, folders, asio)),
            f"layering holds: {len(folders)} folders, Asio/Beast in {len(asio)} files",
            "includes against the layering of docs/architecture.md")


if __name__ == "__main__":
    sys.exit(check_main.run(check, self_test))
