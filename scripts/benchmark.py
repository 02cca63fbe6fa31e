#!/usr/bin/env python
"""Benchmark of the workflow (run on demand, not in the unit tests): how long a build takes, and what
Snakemake's orchestration costs.

In a fresh copy of the workflow (a temporary folder; the project's own results are never touched), with
the offline mirror of the public data, it measures, one after the other:

(a) ``full``       the full default build from the mirror (``snakemake --cores N``);
(b) ``noop``       the same command again: nothing should run;
(c) ``swap``       one coding file edited (``--swap-coding``/``--swap-key``/``--swap-value``), then the
                   build again; the jobs Snakemake schedules (``-n`` first) must all depend on that coding;
(d) ``multiverse_<study>``  every universe of one study (``results/multiverse/<study>_*``, forced): its
                   shards (``multiverse_shards`` of config/config.yaml, or ``--shards N``), the gather and
                   the curves; reported with the number of universes and universes per second (wall and
                   CPU); ``--multiverse-file config/multiverse_quick.yaml`` uses a smaller multiverse (in every step);
(e) ``single_<study>``      one coding (baseline) of that study (its per-coding jobs, forced);
(f) ``inprocess``  the computations of (a) in ONE Python process: every job script Snakemake generated in
                   (a) (kept with ``--skip-script-cleanup``) executed in the order the jobs started, with
                   the package imported once and no scheduler.

For each: wall time, CPU time (user + system of all child processes, from ``getrusage(RUSAGE_CHILDREN)``
of a small wrapper process around the step), peak memory of the largest single process (``ru_maxrss`` of
the same wrapper) and the peak total memory of the step's process tree (the sum of the proportional set
sizes, PSS, of all its processes, sampled from /proc every 0.1 s; PSS counts memory shared between forked
workers once). Then the ratios against the targets (2-core machine):

* no-op rerun < 5% of the full rebuild's wall time;
* one-coding swap < 30% of the full rebuild, and only the dependent jobs run;
* a study's multiverse < 10x the wall time of a single-coding build of that study; peak memory < 2 GB;
* the full build's wall time < 1.5x the same computations in one process (orchestration overhead).

Usage::

    .venv/bin/python scripts/benchmark.py [--mirror DIR] [--cores 2] [--keep] [--out results/benchmark.json]

Other work on the machine inflates every figure; the load average before and after is recorded.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
#: what a working copy of the workflow needs (never data, results or the virtualenv)
PARTS = ("Snakefile", "rules", "config", "scripts", "envs", "report", "profiles")
TARGETS = {"noop_vs_full": 0.05, "swap_vs_full": 0.30, "multiverse_vs_single": 10.0,
           "multiverse_peak_gb": 2.0, "full_vs_inprocess": 1.5}
STUDIES = ("weisiger", "henke")


# ------------------------------------------------------------------------------------------------
# measuring one step


def _measure_main(argv: list[str]) -> int:
    """``benchmark.py _measure OUT -- CMD...``: run CMD, then write its children's rusage to OUT."""
    out, cmd = argv[0], argv[2:]
    rc = subprocess.run(cmd).returncode
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    Path(out).write_text(json.dumps({"returncode": rc, "utime": ru.ru_utime, "stime": ru.ru_stime,
                                     "maxrss_kb": ru.ru_maxrss}))
    return rc


def _proc_tree_pss(root_pid: int) -> int:
    """Sum of PSS (kB) over ``root_pid`` and its descendants (Linux /proc); RSS where PSS is unreadable."""
    children: dict[int, list[int]] = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as fh:
                stat = fh.read()
            ppid = int(stat[stat.rindex(")") + 2:].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(ppid, []).append(int(d))
    total, todo = 0, [root_pid]
    while todo:
        pid = todo.pop()
        todo.extend(children.get(pid, []))
        kb = 0
        try:
            with open(f"/proc/{pid}/smaps_rollup") as fh:
                for line in fh:
                    if line.startswith("Pss:"):
                        kb = int(line.split()[1])
                        break
        except OSError:
            try:
                with open(f"/proc/{pid}/status") as fh:
                    for line in fh:
                        if line.startswith("VmRSS:"):
                            kb = int(line.split()[1])
                            break
            except OSError:
                pass
        total += kb
    return total


def run_step(name: str, cmd: list[str], cwd: Path, env: dict[str, str] | None = None,
             log_dir: Path | None = None) -> dict[str, Any]:
    """Run ``cmd`` in ``cwd`` through the measuring wrapper; wall, CPU, peak memory, output."""
    with tempfile.NamedTemporaryFile("r", suffix=".json", delete=False) as fh:
        usage_file = fh.name
    wrapper = [sys.executable, str(Path(__file__).resolve()), "_measure", usage_file, "--", *cmd]
    log = (log_dir / f"{name}.log") if log_dir else None
    t0 = time.perf_counter()
    with open(log or os.devnull, "w") as out:
        proc = subprocess.Popen(wrapper, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT)
        peak = 0
        stop = threading.Event()

        def sample() -> None:
            nonlocal peak
            while not stop.is_set():
                peak = max(peak, _proc_tree_pss(proc.pid))
                stop.wait(0.1)

        th = threading.Thread(target=sample, daemon=True)
        if Path("/proc").is_dir():
            th.start()
        rc = proc.wait()
        stop.set()
        if th.is_alive():
            th.join()
    wall = time.perf_counter() - t0
    usage = json.loads(Path(usage_file).read_text() or "{}")
    os.unlink(usage_file)
    text = log.read_text(errors="replace") if log else ""
    res = {
        "step": name, "command": " ".join(cmd), "returncode": rc, "wall_s": round(wall, 2),
        "cpu_s": round(usage.get("utime", 0.0) + usage.get("stime", 0.0), 2),
        "peak_process_mb": round(usage.get("maxrss_kb", 0) / 1024, 1),
        "peak_tree_pss_mb": round(peak / 1024, 1),
        "jobs": job_stats(text),
    }
    if rc != 0:
        res["error_tail"] = text[-3000:]
    return res


def job_stats(text: str) -> dict[str, int]:
    """Snakemake's "Job stats" table (rule -> number of jobs) of the last run in ``text``."""
    blocks = text.split("Job stats:")
    if len(blocks) < 2:
        return {}
    out: dict[str, int] = {}
    for line in blocks[-1].splitlines()[1:]:
        line = line.strip()
        if not line:
            if out:
                break
            continue
        m = re.match(r"^(\S+)\s+(\d+)$", line)
        if m and m.group(1) not in ("job", "total"):
            out[m.group(1)] = int(m.group(2))
    return out


def scheduled_jobs(text: str) -> list[dict[str, str]]:
    """Every job of a dry run (rule, output, wildcards) from Snakemake's printout."""
    jobs, cur = [], None
    for line in text.splitlines():
        m = re.match(r"^(?:local)?rule (\S+):$", line.strip())
        if m:
            cur = {"rule": m.group(1), "output": "", "wildcards": ""}
            jobs.append(cur)
        elif cur is not None and line.strip().startswith("output:"):
            cur["output"] = line.split("output:", 1)[1].strip()
        elif cur is not None and line.strip().startswith("wildcards:"):
            cur["wildcards"] = line.split("wildcards:", 1)[1].strip()
    return jobs


# ------------------------------------------------------------------------------------------------
# the in-process run (f)


def _inprocess_main(argv: list[str]) -> int:
    """``benchmark.py _inprocess SCRIPTS_LIST``: exec every saved job script in this one process."""
    scripts = json.loads(Path(argv[0]).read_text())
    failed, per_rule = [], {}
    t0 = time.perf_counter()
    for path in scripts:
        src = Path(path).read_text()
        ns: dict[str, Any] = {"__name__": "__main__", "__file__": path}
        t = time.perf_counter()
        try:
            exec(compile(src, path, "exec"), ns)
        except SystemExit as exc:
            if exc.code not in (0, None):
                failed.append(path)
        except Exception as exc:  # noqa: BLE001 -- reported, the run goes on
            failed.append(f"{path}: {type(exc).__name__}: {exc}")
        rule = getattr(ns.get("snakemake"), "rule", "?")
        n, secs = per_rule.get(rule, (0, 0.0))
        per_rule[rule] = (n + 1, secs + time.perf_counter() - t)
    print(json.dumps({"scripts": len(scripts), "failed": failed, "seconds": round(time.perf_counter() - t0, 2),
                      "per_rule": {r: {"jobs": n, "seconds": round(s, 2)} for r, (n, s) in sorted(per_rule.items())}}))
    return 1 if failed else 0


# ------------------------------------------------------------------------------------------------


def _job_seconds(wd: Path) -> dict[str, dict[str, float]]:
    """Per rule, the jobs' own wall time from Snakemake's log (job start to job finish) of the full build."""
    logs = sorted((wd / ".snakemake" / "log").glob("*.snakemake.log"))
    if not logs:
        return {}
    text = logs[0].read_text(errors="replace")
    start: dict[str, tuple[str, float]] = {}
    out: dict[str, dict[str, float]] = {}
    stamp = None
    rule = None
    for line in text.splitlines():
        m = re.match(r"^\[(\w{3} \w{3} +\d+ \d\d:\d\d:\d\d \d{4})\]$", line.strip())
        if m:
            stamp = time.mktime(time.strptime(m.group(1), "%a %b %d %H:%M:%S %Y"))
            continue
        m = re.match(r"^(?:local)?rule (\S+):$", line.strip())
        if m:
            rule = m.group(1)
            continue
        m = re.match(r"^jobid: (\d+)$", line.strip())
        if m and rule and stamp is not None:
            start[m.group(1)] = (rule, stamp)
            rule = None
            continue
        m = re.match(r"^Finished jobid: (\d+)", line.strip())
        if m and m.group(1) in start and stamp is not None:
            r, t0 = start.pop(m.group(1))
            d = out.setdefault(r, {"jobs": 0, "seconds": 0.0})
            d["jobs"] += 1
            d["seconds"] += stamp - t0
    return out


def copy_workflow(dst: Path) -> Path:
    dst.mkdir(parents=True, exist_ok=True)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
    for part in PARTS:
        src = ROOT / part
        if src.is_dir():
            shutil.copytree(src, dst / part, ignore=ignore)
        elif src.is_file():
            shutil.copy2(src, dst / part)
    return dst


def _edit_coding(path: Path, key: str, value: Any) -> tuple[str, Any]:
    """Set ``weisiger.<key>`` (or ``henke.<key>``) of one coding file; returns (study, old value)."""
    import yaml

    data = yaml.safe_load(path.read_text())
    for study in ("weisiger", "henke"):
        sec = data.get(study) or {}
        if key in sec:
            old = sec[key]
            sec[key] = value
            data[study] = sec
            path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))
            return study, old
    raise SystemExit(f"{path}: has no weisiger/henke key {key!r} to change (choose --swap-key)")


def _dependent(job: dict[str, str], coding: str) -> bool:
    """Whether a scheduled job can depend on the swapped coding (its own results, or a cross-coding table)."""
    out = job["output"]
    if f"results/{coding}/" in out or f"coding={coding}" in job["wildcards"]:
        return True
    per_coding = re.search(r"results/([a-z0-9_]+)/(weisiger|henke)/", out)
    if per_coding:
        return False  # another coding's results
    if out.startswith(("resources/", "results/sources/", "results/multiverse/")) or not out:
        return job["rule"] in ("all",)
    return True  # cross-coding outputs (comparison, paper, package) read every coding


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "_measure":
        return _measure_main(argv[1:])
    if argv and argv[0] == "_inprocess":
        return _inprocess_main(argv[1:])
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    default_mirror = os.environ.get("COALITIONS_MIRROR") or str(ROOT.parent / "shared" / "data")
    ap.add_argument("--mirror", default=default_mirror, help="offline mirror of the public data (%(default)s)")
    ap.add_argument("--cores", type=int, default=2, help="snakemake --cores (default 2: the target machine)")
    ap.add_argument("--workdir", default=None, help="where to make the copy (default: a new temporary folder)")
    ap.add_argument("--keep", action="store_true", help="keep the temporary copy (its logs/ and results/)")
    ap.add_argument("--out", default=str(ROOT / "results" / "benchmark.json"), help="JSON report (%(default)s)")
    ap.add_argument("--shards", type=int, default=None,
                    help="multiverse_shards for the multiverse steps (default: the workflow's config)")
    ap.add_argument("--multiverse-file", default=None,
                    help="multiverse_file for every step, e.g. config/multiverse_quick.yaml (default: the "
                         "workflow's config); checked before anything runs, and the report names it")
    ap.add_argument("--only-multiverse", action="store_true",
                    help="only (d) and (e), after building their inputs (the clean tables): no full build, "
                         "no-op, swap or in-process run")
    ap.add_argument("--swap-coding", default="exit_tolerance_30")
    ap.add_argument("--swap-key", default="exit_tolerance_days")
    ap.add_argument("--swap-value", default="45", help="new value (YAML)")
    args = ap.parse_args(argv)
    import yaml

    mirror = Path(args.mirror).resolve()
    if not mirror.is_dir():
        print(f"mirror {mirror} not found: give --mirror DIR or set COALITIONS_MIRROR", file=sys.stderr)
        return 2
    from coalitions.multiverse import load_multiverse
    from coalitions.util import CoalitionsError

    mv_file = args.multiverse_file or "config/multiverse.yaml"
    try:  # a wrong file is refused now, not after the builds before the multiverse steps
        mv_config = load_multiverse(ROOT / mv_file, root=ROOT)
    except CoalitionsError as e:
        print(f"--multiverse-file: {e}", file=sys.stderr)
        return 2
    base = Path(args.workdir) if args.workdir else Path(tempfile.mkdtemp(prefix="coalitions-bench-"))
    wd = copy_workflow(base / "workflow")
    logs = base / "bench-logs"
    logs.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if k != "COALITIONS_MIRROR"}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    smk = [sys.executable, "-m", "snakemake"]
    conf = ["--config", f"mirror={mirror}", *([f"multiverse_file={args.multiverse_file}"] if args.multiverse_file else [])]
    cores = ["--cores", str(args.cores)]
    load_before = os.getloadavg() if hasattr(os, "getloadavg") else None
    steps: dict[str, dict[str, Any]] = {}

    def step(name: str, cmd: list[str]) -> dict[str, Any]:
        print(f"[benchmark] {name}: {' '.join(cmd[2:])}", flush=True)
        r = run_step(name, cmd, wd, env, logs)
        steps[name] = r
        print(f"[benchmark] {name}: {r['wall_s']} s wall, {r['cpu_s']} s CPU, peak {r['peak_process_mb']} MB "
              f"(process) / {r['peak_tree_pss_mb']} MB (tree), rc={r['returncode']}", flush=True)
        return r

    study = old = None
    not_dependent: list[dict[str, str]] = []
    swap: dict[str, Any] = {"jobs": {}}
    if args.only_multiverse:
        inputs = step("inputs", [*smk, "data", *cores, *conf])
        if inputs["returncode"] != 0:
            print(inputs.get("error_tail", ""), file=sys.stderr)
            return 1
    else:
        # (a) full rebuild, keeping the generated job scripts for (f)
        full = step("full", [*smk, *cores, "--skip-script-cleanup", *conf])
        if full["returncode"] != 0:
            print(full.get("error_tail", ""), file=sys.stderr)
            return 1
        script_dir = wd / ".snakemake" / "scripts"
        saved = base / "job-scripts"
        shutil.copytree(script_dir, saved, dirs_exist_ok=True)
        scripts = sorted(saved.glob("*.py"), key=lambda p: (p.stat().st_mtime_ns, p.name))
        shutil.rmtree(script_dir, ignore_errors=True)

        # (b) no-op
        step("noop", [*smk, *cores, *conf])

        # (c) one coding swapped: which jobs are scheduled, then the run
        coding_file = wd / "config" / "codings" / f"{args.swap_coding}.yaml"
        study, old = _edit_coding(coding_file, args.swap_key, yaml.safe_load(args.swap_value))
        dry = subprocess.run([*smk, *cores, "-n", *conf], cwd=wd, env=env, capture_output=True, text=True)
        planned = scheduled_jobs(dry.stdout + dry.stderr)
        not_dependent = [j for j in planned if not _dependent(j, args.swap_coding)]
        swap = step("swap", [*smk, *cores, *conf])
        swap.update({"coding": args.swap_coding, "study": study, "key": args.swap_key, "old": old,
                     "new": yaml.safe_load(args.swap_value), "planned_jobs": planned,
                     "not_dependent_jobs": not_dependent})

    # (d) every universe of each study; (e) one coding of each study
    shard_conf = [*conf, f"multiverse_shards={args.shards}"] if args.shards else conf
    for s in STUDIES:
        r = step(f"multiverse_{s}", [*smk, f"results/multiverse/{s}_summary.json", *cores, "--forcerun",
                                     "multiverse_shard", "multiverse_run", f"multiverse_plot_{s}", *shard_conf])
        r["universes"] = mv_config[s].n_universes
        r["shards"] = r["jobs"].get("multiverse_shard")
        r["universes_per_s"] = round(r["universes"] / r["wall_s"], 2) if r["wall_s"] else None
        r["universes_per_cpu_s"] = round(r["universes"] / r["cpu_s"], 2) if r["cpu_s"] else None
        r["multiverse_file"] = mv_file
        print(f"[benchmark] multiverse_{s}: {r['universes']} universes ({mv_file}) in {r['shards']} shard(s), "
              f"{r['universes_per_s']} universes/s, {r['universes_per_cpu_s']} per CPU s", flush=True)
    single_targets = {
        "weisiger": ([f"results/baseline/weisiger/{t}/{f}" for t in ("rebuilt", "original")
                      for f in ("estimates.csv", "fits.csv")], ["weisiger_rebuilt", "weisiger_original", "weisiger_models"]),
        "henke": ([f"results/baseline/henke/{t}/{f}" for t in ("rebuilt", "original") for f in ("estimates.csv", "fits.csv")],
                  ["henke_rebuilt", "henke_original"]),
    }
    for s, (targets, rules) in single_targets.items():
        step(f"single_{s}", [*smk, *targets, *cores, "--forcerun", *rules, *conf])

    if not args.only_multiverse:
        # (f) the computations of (a) in one Python process
        listing = base / "job-scripts.json"
        listing.write_text(json.dumps([str(p) for p in scripts]))
        inproc = step("inprocess", [sys.executable, str(Path(__file__).resolve()), "_inprocess", str(listing)])
        inproc["scripts"] = len(scripts)
        try:
            inproc["per_rule"] = json.loads((logs / "inprocess.log").read_text().strip().splitlines()[-1])["per_rule"]
        except (ValueError, KeyError, IndexError):
            inproc["per_rule"] = {}
        full["per_rule_job_seconds"] = _job_seconds(wd)

    load_after = os.getloadavg() if hasattr(os, "getloadavg") else None

    def ratio(a: str, b: str) -> float | None:
        x, y = steps.get(a, {}).get("wall_s"), steps.get(b, {}).get("wall_s")
        return round(x / y, 3) if x and y else None

    ratios = {
        "noop_vs_full": ratio("noop", "full"),
        "swap_vs_full": ratio("swap", "full"),
        **{f"multiverse_vs_single_{s}": ratio(f"multiverse_{s}", f"single_{s}") for s in STUDIES},
        **{f"multiverse_peak_gb_{s}": round(max(steps[f"multiverse_{s}"]["peak_tree_pss_mb"],
                                                steps[f"multiverse_{s}"]["peak_process_mb"]) / 1024, 3)
           for s in STUDIES},
        "full_vs_inprocess": ratio("full", "inprocess"),
        **{f"universes_per_s_{s}": steps[f"multiverse_{s}"].get("universes_per_s") for s in STUDIES},
        **{f"universes_per_cpu_s_{s}": steps[f"multiverse_{s}"].get("universes_per_cpu_s") for s in STUDIES},
        # CPU seconds, less sensitive than wall time to other work on the machine (information, no target)
        **{f"multiverse_vs_single_cpu_{s}": (round(steps[f"multiverse_{s}"]["cpu_s"] / steps[f"single_{s}"]["cpu_s"], 3)
                                             if steps[f"single_{s}"]["cpu_s"] else None) for s in STUDIES},
    }
    checks = {
        "noop_vs_full": (ratios["noop_vs_full"], TARGETS["noop_vs_full"]),
        "swap_vs_full": (ratios["swap_vs_full"], TARGETS["swap_vs_full"]),
        **{f"multiverse_vs_single_{s}": (ratios[f"multiverse_vs_single_{s}"], TARGETS["multiverse_vs_single"])
           for s in STUDIES},
        **{f"multiverse_peak_gb_{s}": (ratios[f"multiverse_peak_gb_{s}"], TARGETS["multiverse_peak_gb"])
           for s in STUDIES},
        "full_vs_inprocess": (ratios["full_vs_inprocess"], TARGETS["full_vs_inprocess"]),
    }
    verdict = {k: {"value": v, "target": f"< {t}", "met": (v is not None and v < t)} for k, (v, t) in checks.items()
               if v is not None}
    if not args.only_multiverse:
        verdict["swap_only_dependent_jobs"] = {"value": len(not_dependent), "target": "0 jobs of other codings",
                                               "met": not not_dependent}

    # ---- print
    print()
    print(f"{'step':<22}{'wall s':>9}{'CPU s':>9}{'peak proc MB':>14}{'peak tree MB':>14}  jobs")
    for name, r in steps.items():
        jobs = sum(r["jobs"].values()) if r["jobs"] else (r.get("scripts") or "-")
        print(f"{name:<22}{r['wall_s']:>9.1f}{r['cpu_s']:>9.1f}{r['peak_process_mb']:>14.0f}"
              f"{r['peak_tree_pss_mb']:>14.0f}  {jobs}")
    for s in STUDIES:
        r = steps[f"multiverse_{s}"]
        print(f"multiverse {s}: {r['universes']} universes ({r['multiverse_file']}), {r['shards']} shard job(s), "
              f"{r['universes_per_s']} universes/s, {r['universes_per_cpu_s']} per CPU s; CPU vs single-coding build {ratios[f'multiverse_vs_single_cpu_{s}']}")
    print()
    print(f"{'check':<30}{'value':>10}  target     met")
    for k, v in verdict.items():
        print(f"{k:<30}{str(v['value']):>10}  {v['target']:<10} {'yes' if v['met'] else 'NO'}")
    if not_dependent:
        print("jobs of the swap that do not depend on the swapped coding:")
        for j in not_dependent:
            print(f"  {j['rule']}: {j['output']}")
    if not args.only_multiverse:
        print(f"\nswap: {args.swap_coding}.yaml {study}.{args.swap_key}: {old} -> {args.swap_value}; jobs "
              f"{swap['jobs']}")
    print(f"load average before {load_before}, after {load_after} ({os.cpu_count()} CPUs)")

    report = {
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version(),
                    "load_before": load_before, "load_after": load_after},
        "cores": args.cores, "mirror": str(mirror),
        "memory_note": "peak_process_mb: ru_maxrss of the largest process of the step (getrusage "
                       "RUSAGE_CHILDREN of a wrapper); peak_tree_pss_mb: peak of the summed PSS of the step's "
                       "process tree, sampled from /proc every 0.1 s",
        "cpu_note": "user + system time of every child process of the step (getrusage RUSAGE_CHILDREN)",
        "steps": steps, "ratios": ratios, "targets": verdict,
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2, default=str) + "\n")
    print(f"written {out}")
    if args.keep or args.workdir:
        print(f"workflow copy kept in {base}")
    else:
        shutil.rmtree(base, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
