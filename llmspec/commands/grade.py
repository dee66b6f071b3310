"""``llmspec grade SUBMISSION... --out DIR``: grade a class in isolated workers.

Exit codes: 0 every submission was graded (a low score is not an error: read the reports),
2 bad usage or bad config, or no submission at all (nothing graded), 3 the book's data is missing,
4 the suite itself could not run (an llmspec bug or a broken install).  A submission that is
missing from a class, has a syntax error, crashes, hangs or exhausts memory is *graded* (score 0 for
what it could not earn), not an error; with --single (Classroom, Gradescope) a missing file is too.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from llmspec.commands import add_language_option

EPILOG = """\
reports: DIR/<submission>/results.json (Gradescope), junit.xml, classroom.env (GitHub Classroom:
a runner result per stage, for $GITHUB_ENV), DIR/gradebook.csv, DIR/report.html.  Re-running resumes: submissions
whose results exist (same config, same files) are skipped unless --force.
exit codes: 0 all submissions graded, 2 bad usage/config, 3 book data missing, 4 internal error"""


def add_parser(sub, name: str, help_text: str) -> None:
    p = sub.add_parser(name, help=help_text, description=help_text, epilog=EPILOG,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("submissions", nargs="+", metavar="SUBMISSION",
                   help=".py, .ipynb, .zip or directory; a directory holds one submission per entry")
    p.add_argument("--out", default=None, help="report directory (default: ./llmspec-grades)")
    p.add_argument("--config", default=None, help="grading TOML (default: the packaged default_points.toml)")
    p.add_argument("--jobs", "-j", type=int, default=os.cpu_count() or 1,
                   help="submissions graded in parallel (default: number of cores)")
    p.add_argument("--shard", default=None, metavar="K/N", help="grade only the K-th of N deterministic slices")
    p.add_argument("--single", action="store_true",
                   help="each path is ONE submission even if it is a directory (implied by --gradescope-out)")
    p.add_argument("--force", action="store_true", help="regrade submissions that already have results")
    p.add_argument("--timeout", type=float, default=None, help="override limits.submission_timeout (seconds)")
    p.add_argument("--gradescope-out", default=None, metavar="PATH",
                   help="also write the (single) submission's results.json to PATH")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress line")
    add_language_option(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from llmspec.errors import HarnessError
    from llmspec.grading import atomic, output, shard
    from llmspec.grading.config import load_config
    from llmspec.grading.results import load_valid
    from llmspec.grading.runner import Runner
    from llmspec.grading.child import warm_suite, warm_up
    from llmspec.grading.submissions import discover
    from llmspec.i18n import set_language
    from llmspec.sandbox import readrules

    t0 = time.perf_counter()
    config = load_config(args.config)
    # The feedback's language: --lang, else the config's class language, else $LLMSPEC_LANG / the
    # locale.  Exported, so every process of the run writes it; kept in the config, whose
    # fingerprint then keeps a resumed run from mixing languages.
    os.environ["LLMSPEC_LANG"] = set_language(args.lang or config.language)
    config = replace(config, language=os.environ["LLMSPEC_LANG"])
    if args.timeout:
        config = replace(config, submission_timeout=args.timeout)
    shard_spec = shard.parse_shard(args.shard)
    out = Path(args.out or "llmspec-grades").resolve()
    single = args.single or bool(args.gradescope_out)
    if args.gradescope_out and len(args.submissions) != 1:
        print("llmspec grade: --gradescope-out takes exactly one submission", file=sys.stderr)
        return 2
    if not single and not any(os.path.lexists(p) for p in args.submissions):  # a typo, not a class
        print(f"llmspec grade: no such file or directory: {', '.join(args.submissions)}; nothing graded",
              file=sys.stderr)
        return 2
    work = Path(tempfile.mkdtemp(prefix="llmspec-grade-")).resolve()  # as the worker sees its paths (shown())
    server = None
    try:
        found = discover(args.submissions, work / "unpacked", single=single)
        if not found:
            print(f"llmspec grade: no submission in {', '.join(args.submissions)} (a class directory holds one "
                  "submission per entry); nothing graded", file=sys.stderr)
            return 2
        subs = shard.select(found, shard_spec)
        out.mkdir(parents=True, exist_ok=True)
        atomic.clean_stale(out)
        # what no submission may read (kernel rules in every worker; see llmspec.sandbox.readrules)
        os.environ[readrules.PRIVATE_ENV] = json.dumps({
            "submissions": [str(Path(p).resolve()) for p in args.submissions] + [str(work)],
            "reports": [str(out)], "config": [str(Path(args.config).resolve())] if args.config else []})
        server = _start_fork_server()  # imports torch on the other core while this process warms up
        warm_up()
        if server is not None:
            try:
                server.wait_ready()
                server.install()
            except OSError as exc:
                print(f"llmspec grade: {exc}; workers start as fresh interpreters", file=sys.stderr)
                server = None
        runner = Runner(config, args.jobs, work / "runs")
        runner.start_canonical()  # collected on another core while this process warms up
        results: dict[str, dict] = {}
        to_run, problems = [], []
        for s in subs:
            prev = None if args.force else load_valid(out / s.name / "results.json", config.fingerprint(), s.digest)
            if prev is not None:
                results[s.name] = prev
            elif s.problem:
                problems.append(s)
            else:
                to_run.append(s)
        if len(to_run) > 1:  # for one submission the warm-up costs what it saves
            warm_suite(config)  # once, on the reference: first-call costs leave every child's bill
        try:
            runner.finish_canonical()
        except HarnessError as exc:
            print(f"llmspec grade: {exc}", file=sys.stderr)
            return 4
        for s in problems:
            results[s.name] = output.write_submission(out, runner.problem(s), config, digest=s.digest)
        if to_run:
            from llmspec.sandbox import isolation, landlock

            gap = landlock.coverage(isolation.is_root())
            if gap:  # once per run: what the kernel will not enforce on this machine
                print(f"llmspec grade: {gap}", file=sys.stderr)
        progress = None if args.quiet else _progress(len(to_run), t0)

        by_name = {s.name: s for s in to_run}

        def done(g, log):
            sub = by_name[g.name]
            results[g.name] = output.write_submission(out, g, config, log, sub.digest, sub.shown)

        runner.run(to_run, done, progress)
        if progress:
            print(file=sys.stderr)
        ordered = [results[s.name] for s in subs]
        output.write_class(out, ordered, config.name)
        if args.gradescope_out and ordered:
            atomic.write_text(args.gradescope_out, json.dumps(ordered[0], indent=1) + "\n")
        wall = time.perf_counter() - t0
        mean = sum(r["score"] for r in ordered) / len(ordered) if ordered else 0.0
        kept = len(subs) - len(to_run) - len(problems)
        print(f"graded {len(to_run)} submission(s), {len(problems)} that could not run (0 points, with the reason), "
              f"{kept} unchanged since the last run (kept; --force regrades), in {wall:.1f} s; "
              f"mean score {mean:.2f}/{config.max_score:g}; reports in {out}")
        return 0
    finally:
        if server is not None:
            server.close()
        shutil.rmtree(work, ignore_errors=True)


def _start_fork_server():
    """The clean process workers are forked from (:mod:`llmspec.sandbox.forkserver`), or None: then
    every worker is a fresh interpreter (slower, as clean), never a fork of a process that holds
    the grader's answers."""
    from llmspec.sandbox import forkserver

    try:
        return forkserver.ForkServer.start()
    except OSError as exc:
        print(f"llmspec grade: {exc}; workers start as fresh interpreters", file=sys.stderr)
        return None


def _progress(total: int, t0: float):
    tty = sys.stderr.isatty()
    last = [-1]

    def show(done: int, running: int, pending: int) -> None:
        if not tty and done == last[0]:
            return
        last[0] = done
        line = f"grading: {done}/{total} done, {running} running, {pending} waiting, {time.perf_counter() - t0:.1f} s"
        print(("\r" + line) if tty else line, end="" if tty else "\n", file=sys.stderr, flush=True)

    return show
