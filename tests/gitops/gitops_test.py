#!/usr/bin/env python3
"""docs/gitops.md, run as written: the GitHub Actions and GitLab CI plan jobs' commands, extracted from
the page's marked YAML blocks, on examples/quickstart.yaml against sharekeeper-emulator.

The only differences from a real CI run are what CI itself provides: `sharekeeper` on PATH is a wrapper
that execs the built binary with `--endpoint-override <emulator>` appended; GITHUB_API_URL and
CI_API_V4_URL point at a local HTTP server that records the comment; secrets are the quickstart seed's
key. The install steps (`install sharekeeper`, `before_script`) are not run: the package has its own test
(tests/package/package_test.sh).

  gitops_test.py --sharekeeper BIN --emulator BIN --source REPO_ROOT
"""
import argparse
import http.server
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.parse
import urllib.request

import yaml

ARGS = None
SHARER_KEY = ("LTAI5tQuickstartSharer01", "QuickstartSharerSecret0123456789")


def read_text(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def doc_blocks(path):
    """The fenced block after each `<!-- gitops:NAME -->` marker, by NAME."""
    text = read_text(path)
    blocks = {}
    for m in re.finditer(r"<!-- gitops:([a-z-]+) -->\s*```[a-z]*\n(.*?)```", text, re.S):
        blocks[m.group(1)] = m.group(2)
    return blocks


class CommentServer:
    """Records POSTs (path, headers, body) the way the GitHub / GitLab APIs would receive them."""

    def __init__(self):
        self.posts = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                n = int(self.headers.get("content-length", "0"))
                outer.posts.append({"path": self.path, "headers": dict(self.headers), "body": self.rfile.read(n).decode()})
                self.send_response(201)
                self.send_header("content-type", "application/json")
                self.end_headers()
                self.wfile.write(b'{"id": 1}')

            def log_message(self, *a):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=10)


class Emulator:
    def __init__(self, binary, seed, workdir):
        port_file = os.path.join(workdir, "emulator.port")
        self.log = open(os.path.join(workdir, "emulator.log"), "w")
        self.proc = subprocess.Popen([binary, "--listen", "127.0.0.1:0", "--seed", seed, "--port-file", port_file],
                                     stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 20
        while not (os.path.exists(port_file) and read_text(port_file).strip()):
            if time.monotonic() > deadline or self.proc.poll() is not None:
                raise RuntimeError("sharekeeper-emulator did not start")
            time.sleep(0.05)
        self.url = f"http://127.0.0.1:{read_text(port_file).strip()}"

    def admin(self, method, name, body=None):
        req = urllib.request.Request(f"{self.url}/_emulator/{name}", method=method,
                                     data=None if body is None else json.dumps(body).encode())
        with urllib.request.urlopen(req, timeout=10) as r:
            text = r.read().decode()
            return json.loads(text) if text else None

    def close(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=10)
        finally:
            self.log.close()


class GitOpsDocTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.blocks = doc_blocks(os.path.join(ARGS.source, "docs", "gitops.md"))
        cls.github = yaml.safe_load(cls.blocks["github"])
        cls.gitlab = yaml.safe_load(cls.blocks["gitlab"])
        cls.policy = json.loads(cls.blocks["readonly-policy"])

    def setUp(self):
        self.work = tempfile.mkdtemp(prefix="sharekeeper-gitops-")
        self.emu = Emulator(ARGS.emulator, os.path.join(ARGS.source, "examples", "seed", "quickstart.json"), self.work)
        self.server = CommentServer()
        # The config repository's checkout: the config in sharekeeper/, as the snippets expect.
        self.checkout = os.path.join(self.work, "checkout")
        os.makedirs(os.path.join(self.checkout, "sharekeeper"))
        shutil.copy(os.path.join(ARGS.source, "examples", "quickstart.yaml"), os.path.join(self.checkout, "sharekeeper"))
        bindir = os.path.join(self.work, "bin")
        os.makedirs(bindir)
        wrapper = os.path.join(bindir, "sharekeeper")
        with open(wrapper, "w") as f:
            f.write(f'#!/bin/sh\nexec "{ARGS.sharekeeper}" "$@" --endpoint-override "{self.emu.url}" --log-format text\n')
        os.chmod(wrapper, 0o755)
        self.path = bindir + os.pathsep + os.environ.get("PATH", "/usr/bin:/bin")
        self.secret = SHARER_KEY[1]

    def tearDown(self):
        self.server.close()
        self.emu.close()
        shutil.rmtree(self.work, ignore_errors=True)

    # ---- the two jobs, as CI runs them

    def secrets(self, expr_env):
        """Resolves the ${{ ... }} expressions the GitHub snippet uses to what Actions would put there."""
        values = {
            "secrets.SHAREKEEPER_PLAN_ACCESS_KEY_ID": SHARER_KEY[0],
            "secrets.SHAREKEEPER_PLAN_ACCESS_KEY_SECRET": self.secret,
            "secrets.GITHUB_TOKEN": "ghs-test-token",
            "github.event.pull_request.number": "7",
        }
        def resolve(m):
            self.assertIn(m.group(1), values, f"the test knows what Actions puts in {m.group(0)}")
            return values[m.group(1)]

        return {k: re.sub(r"\$\{\{\s*([^}]+?)\s*\}\}", resolve, str(v)) for k, v in (expr_env or {}).items()}

    def base_env(self):
        env = {k: v for k, v in os.environ.items() if not k.startswith(("ALIBABA_CLOUD_", "GITHUB_", "CI_"))}
        env["PATH"] = self.path
        return env

    def run_github(self):
        """The plan job's steps after `install sharekeeper`; a failing step skips the rest. Returns
        (job passed, $GITHUB_OUTPUT of the plan step)."""
        job = self.github["jobs"]["plan"]
        steps = job["steps"]
        names = [s.get("name") for s in steps]
        self.assertIn("install sharekeeper", names)
        output_file = os.path.join(self.work, "github-output")
        env = self.base_env()
        env.update(self.secrets(job.get("env")))
        env.update({"GITHUB_API_URL": self.server.url, "GITHUB_REPOSITORY": "acme/cloud-config", "GITHUB_OUTPUT": output_file})
        ran = 0
        for step in steps[names.index("install sharekeeper") + 1:]:
            self.assertIn("run", step, f"step {step.get('name')} is a shell step")
            step_env = dict(env)
            step_env.update(self.secrets(step.get("env")))
            # Actions' default shell on Linux: bash --noprofile --norc -eo pipefail {0}
            r = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]], cwd=self.checkout,
                               env=step_env, capture_output=True, text=True, timeout=120)
            ran += 1
            self.log(f"github step {step.get('name')!r}: exit {r.returncode}\n{r.stdout}{r.stderr}")
            if r.returncode != 0:
                return False, self.outputs(output_file)
        self.assertEqual(ran, 3, "validate, plan and comment")
        return True, self.outputs(output_file)

    def run_gitlab(self):
        job = self.gitlab["sharekeeper-plan"]
        env = self.base_env()
        env.update({k: str(v) for k, v in job.get("variables", {}).items()})
        env.update({
            "ALIBABA_CLOUD_ACCESS_KEY_ID": SHARER_KEY[0],
            "ALIBABA_CLOUD_ACCESS_KEY_SECRET": self.secret,
            "SHAREKEEPER_GITLAB_TOKEN": "glpat-test-token",
            "CI_API_V4_URL": self.server.url + "/api/v4",
            "CI_PROJECT_ID": "42",
            "CI_MERGE_REQUEST_IID": "7",
        })
        script = "\n".join(job["script"])
        r = subprocess.run(["sh", "-e", "-c", script], cwd=self.checkout, env=env, capture_output=True, text=True, timeout=120)
        self.log(f"gitlab script: exit {r.returncode}\n{r.stdout}{r.stderr}")
        return r.returncode == 0

    @staticmethod
    def outputs(path):
        if not os.path.exists(path):
            return {}
        return dict(line.split("=", 1) for line in read_text(path).splitlines() if "=" in line)

    @staticmethod
    def log(text):
        # ctest shows it when the test fails (--output-on-failure).
        print(text.rstrip(), flush=True)

    def plan_file(self):
        return read_text(os.path.join(self.checkout, "sharekeeper-plan.md"))

    def apply(self):
        """What the daemon does after the merge: one converge pass."""
        env = self.base_env()
        env.update({"ALIBABA_CLOUD_ACCESS_KEY_ID": SHARER_KEY[0], "ALIBABA_CLOUD_ACCESS_KEY_SECRET": SHARER_KEY[1]})
        r = subprocess.run(["sharekeeper", "apply", "-c", "sharekeeper", "--auto-approve"], cwd=self.checkout, env=env,
                           capture_output=True, text=True, timeout=120)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)

    def assert_github_comment(self, post, plan):
        self.assertEqual(post["path"], "/repos/acme/cloud-config/issues/7/comments")
        self.assertEqual(post["headers"].get("Authorization"), "Bearer ghs-test-token")
        self.assertEqual(json.loads(post["body"]), {"body": plan})

    def assert_gitlab_note(self, post, plan):
        self.assertEqual(post["path"], "/api/v4/projects/42/merge_requests/7/notes")
        self.assertEqual(post["headers"].get("PRIVATE-TOKEN"), "glpat-test-token")
        self.assertEqual(urllib.parse.parse_qs(post["body"]), {"body": [plan]})

    # ---- the cases

    def test_changes_then_nothing_to_do(self):
        passed, outputs = self.run_github()
        self.assertTrue(passed, "exit 2 (changes) does not fail the job")
        self.assertEqual(outputs.get("exitcode"), "2")
        plan = self.plan_file()
        self.assertIn("### sharekeeper plan", plan)
        # 6 RAM/KMS objects and, with manageShares (the default), 4 share writes.
        self.assertIn("**Plan: 10 to add, 0 to change, 0 to remove", plan)
        self.assertIn("role AliyunECSShareEncryptImageDefaultRole (create, with trust policy)", plan)
        self.assertIn("share image m-bp1aaaaaaaaaaaaaaaaa -> account:1111222233334444", plan)
        self.assertEqual(len(self.server.posts), 1)
        self.assert_github_comment(self.server.posts[0], plan)

        self.assertTrue(self.run_gitlab(), "exit 2 (changes) does not fail the job")
        self.assertEqual(len(self.server.posts), 2)
        self.assert_gitlab_note(self.server.posts[1], self.plan_file())
        self.assertIn("**Plan: 10 to add", self.plan_file())

        self.apply()  # the merge: the daemon converges
        passed, outputs = self.run_github()
        self.assertTrue(passed)
        self.assertEqual(outputs.get("exitcode"), "0")
        converged = self.plan_file()
        self.assertIn("**Plan: 0 to add, 0 to change, 0 to remove", converged)
        self.assert_github_comment(self.server.posts[2], converged)
        self.assertTrue(self.run_gitlab())
        self.assert_gitlab_note(self.server.posts[3], converged)

    def test_invalid_config_fails_both_jobs_without_a_comment(self):
        with open(os.path.join(self.checkout, "sharekeeper", "quickstart.yaml"), "a") as f:
            f.write("  - name: broken\n    account: nobody\n")
        passed, outputs = self.run_github()
        self.assertFalse(passed)
        self.assertNotIn("exitcode", outputs, "the job stopped at validate")
        self.assertFalse(self.run_gitlab())
        self.assertEqual(self.server.posts, [])

    def test_plan_error_fails_both_jobs_without_a_comment(self):
        self.secret = "not-the-secret-0123456789abcdef"  # SignatureDoesNotMatch: plan exits 1
        passed, outputs = self.run_github()
        self.assertFalse(passed)
        self.assertEqual(outputs.get("exitcode"), "1")
        self.assertFalse(self.run_gitlab())
        self.assertEqual(self.server.posts, [])

    def test_plans_call_only_what_the_read_only_policy_allows(self):
        allowed = set()
        for st in self.policy["Statement"]:
            self.assertEqual(st["Effect"], "Allow")
            actions = st["Action"] if isinstance(st["Action"], list) else [st["Action"]]
            allowed.update(a.lower() for a in actions)
        for a in allowed:
            verb = a.split(":", 1)[1]
            self.assertRegex(verb, r"^(get|list|describe)", f"{a} is not a read")
        self.emu.admin("DELETE", "requests")
        self.assertTrue(self.run_github()[0])
        self.apply()
        self.emu.admin("DELETE", "requests")  # the daemon's writes are not the plan job's
        self.assertTrue(self.run_github()[0])
        self.assertTrue(self.run_gitlab())
        journal = self.emu.admin("GET", "requests")
        entries = journal["requests"] if isinstance(journal, dict) else journal
        called = {f"{e['product']}:{e['action']}".lower() for e in entries}
        self.assertIn("ram:listpoliciesforrole", called, "the converged plan reads the attachments")
        self.assertLessEqual(called, allowed, f"called outside the read-only policy: {sorted(called - allowed)}")


def main():
    global ARGS
    p = argparse.ArgumentParser()
    p.add_argument("--sharekeeper", required=True)
    p.add_argument("--emulator", required=True)
    p.add_argument("--source", required=True)
    ARGS, rest = p.parse_known_args()
    ARGS.sharekeeper = os.path.abspath(ARGS.sharekeeper)
    ARGS.emulator = os.path.abspath(ARGS.emulator)
    result = unittest.main(argv=[sys.argv[0]] + rest, exit=False, verbosity=2).result
    failed = len(result.failures) + len(result.errors)
    print(f"{result.testsRun - failed} passed, {failed} failed")
    sys.exit(1 if failed or not result.wasSuccessful() else 0)


if __name__ == "__main__":
    main()
