"""Stata's SMCL log files -> the estimations they record (command, estimator, coefficients, N, ...).

Henke's archive has no do-file: her specifications and results are in two Stata logs written in SMCL,
Stata's markup (``{txt}``, ``{res}``, ``{com}``, ``{err}``, ``{hline N}``, ``{c |}``, ``{c +}``, ``{col N}``,
``{space N}``, ``{ralign N:...}``, ...). :func:`render_line` turns one SMCL line into the plain text Stata
shows on screen (directives with a column or width are laid out the way Stata lays them out), and remembers
whether the line was typed (``{com}``) or output. :func:`parse_smcl` then finds every estimation command
(``logit``, ``probit``, ``clogit``, ``logistic``, ``regress``, ...) and reads its output block:

* the command line (continuation lines ``> ...`` joined), its estimator, outcome, covariates, ``if``/``in``
  condition, weights and options, and the variance type and cluster variable (``vce(cluster c)``,
  ``cluster(c)``, ``vce(robust)``/``robust``);
* the header: title (``Logistic regression``), ``Number of obs``, ``Wald chi2(k)``/``LR chi2(k)``,
  ``Prob > chi2``, ``Pseudo R2``, the final ``Log likelihood`` or ``Log pseudolikelihood``, and the number
  of clusters from ``(Std. Err. adjusted for G clusters in c)``;
* the coefficient table: for each term the coefficient (or odds ratio, said in ``coef_label``), standard
  error, z (or t), p-value and confidence bounds, exactly as printed (the printed strings are kept too).
  Names that Stata abbreviated in the table (``embeddedn~s``) are resolved against the command's varlist
  when exactly one variable fits; terms Stata omitted (``(omitted)``, ``(base)``, ``(empty)``) have no
  numbers and say so in ``note``.

Nothing is guessed: a number that is not in the log stays missing (``None``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from ..util import CoalitionsError

#: width Stata draws ``{hline}`` and ``{.-}`` without a length at (the log's line size)
LINESIZE = 79
#: estimation commands recognised, by the name typed (and Stata's abbreviations) -> canonical name
ESTIMATORS = {
    "logit": "logit", "logistic": "logistic", "probit": "probit", "clogit": "clogit", "xtlogit": "xtlogit",
    "xtprobit": "xtprobit", "relogit": "relogit", "firthlogit": "firthlogit", "ologit": "ologit",
    "oprobit": "oprobit", "mlogit": "mlogit", "poisson": "poisson", "nbreg": "nbreg", "cloglog": "cloglog",
    "regress": "regress", "reg": "regress", "regr": "regress", "regre": "regress", "regres": "regress",
}
#: prefixes that can stand before an estimation command and keep its output in the log
_PREFIXES = re.compile(r"^(?:(?:capture|captur|captu|capt|cap)\s+(?:noisily|noisil|noisi|nois|noi|n)\s+|"
                       r"(?:noisily|noisil|noisi|nois|noi)\s+|xi\s*:\s*|svy\s*:\s*|"
                       r"(?:by|bysort|bys)\s+[^:]+:\s*|eststo(?:\s+\w+)?\s*:\s*|"
                       r"(?:estimates|est)\s+store\s+\w+\s*:\s*)", re.I)
_QUIET = re.compile(r"^(?:quietly|quietl|quiet|quie|qui)\b", re.I)
_CHARS = {"|": "|", "+": "+", "-": "-", "TT": "+", "BT": "+", "LT": "+", "RT": "+", "TLC": "+", "TRC": "+",
          "BLC": "+", "BRC": "+", "-(": "{", ")-": "}", "S|": "|", "a'": "á", "e'": "é"}
_MODES = {"txt": "txt", "text": "txt", "res": "res", "result": "res", "com": "com", "input": "com",
          "inp": "com", "err": "err", "error": "err", "hi": "hi", "sf": None, "bf": None, "it": None,
          "ul": None, "smcl": None, "reset": None, "hilite": "hi", "cmd": None, "opt": None, "var": None,
          "varname": None, "vars": None, "depvar": None, "indepvars": None, "ifin": None, "weight": None,
          "dtype": None}
_IGNORED = {"p", "p_end", "pstd", "phang", "phang2", "pmore", "pmore2", "pin", "psee", "break", "marker",
            "synoptset", "synopthdr", "synopt", "p2colset", "p2col", "p2line", "p2colreset", "title", "dlgtab",
            "viewerjumpto", "vieweralsosee", "smcl", "ul", "sf", "bf", "it", "reset", "hline_end"}
_LINKS = {"help", "helpb", "stata", "view", "browse", "manlink", "manhelp", "net", "search", "dialog", "mansection",
          "matacmd", "newvar", "back", "clearmore", "ado", "update", "bind"}
_NUM = r"[-+]?(?:\d[\d,]*\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"


# ---------------------------------------------------------------------------------------------- rendering
def _split_directive(body: str) -> tuple[str, str, str | None]:
    """``name args:text`` -> (name, args, text or None); the first top-level colon separates the text."""
    depth = 0
    for i, ch in enumerate(body):
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
        elif ch == ":" and depth == 0:
            head, text = body[:i], body[i + 1:]
            break
    else:
        head, text = body, None
    head = head.strip()
    name, _, args = head.partition(" ")
    return name, args.strip(), text


def _int(s: str, default: int) -> int:
    try:
        return int(s.split()[0])
    except (ValueError, IndexError):
        return default


class _Line:
    """One rendered line: the characters and the mode (txt, res, com, err) each was written in."""

    def __init__(self) -> None:
        self.chars: list[str] = []
        self.modes: list[str] = []

    def add(self, text: str, mode: str) -> None:
        self.chars.extend(text)
        self.modes.extend([mode] * len(text))

    @property
    def text(self) -> str:
        return "".join(self.chars)


def _render(s: str, out: _Line, mode: str) -> str:
    """Render SMCL text ``s`` into ``out`` starting in ``mode``; returns the mode at the end."""
    i, n = 0, len(s)
    while i < n:
        ch = s[i]
        if ch != "{":
            j = s.find("{", i)
            j = n if j < 0 else j
            out.add(s[i:j], mode)
            i = j
            continue
        depth, j = 0, i
        while j < n:
            if s[j] == "{":
                depth += 1
            elif s[j] == "}":
                depth -= 1
                if depth == 0:
                    break
            j += 1
        if j >= n:  # an unclosed brace is text
            out.add(s[i:], mode)
            break
        body = s[i + 1:j]
        i = j + 1
        if body.startswith("*"):
            continue  # {* comment}
        name, args, text = _split_directive(body)
        if name in _MODES:
            m = _MODES[name] or mode
            if text is not None:
                _render(text, out, m)
            elif _MODES[name] is not None:
                mode = m
        elif name == "hline":
            if text is None:
                out.add("-" * (_int(args, LINESIZE - len(out.chars)) if args else max(LINESIZE - len(out.chars), 0)),
                        mode)
        elif name == ".-":
            out.add("-" * max(LINESIZE - len(out.chars), 0), mode)
        elif name in ("c", "char"):
            if args.lower().startswith("0x"):
                try:
                    out.add(chr(int(args, 16)), mode)
                except ValueError:
                    out.add("?", mode)
            elif args.isdigit():
                out.add(chr(int(args)), mode)
            else:
                out.add(_CHARS.get(args, "?"), mode)
        elif name == "space":
            out.add(" " * _int(args, 1), mode)
        elif name == "col":
            want = _int(args, 1) - 1
            if want > len(out.chars):
                out.add(" " * (want - len(out.chars)), mode)
        elif name == "tab":
            out.add(" " * (8 - len(out.chars) % 8), mode)
        elif name in ("ralign", "lalign", "center", "rcenter") and text is not None:
            inner = _Line()
            _render(text, inner, mode)
            width = _int(args, len(inner.chars))
            pad = max(width - len(inner.chars), 0)
            left = {"ralign": pad, "lalign": 0, "center": pad // 2, "rcenter": (pad + 1) // 2}[name]
            out.add(" " * left, mode)
            out.chars.extend(inner.chars)
            out.modes.extend(inner.modes)
            out.add(" " * (pad - left), mode)
        elif name == "dup" and text is not None:
            inner = _Line()
            _render(text, inner, mode)
            for _ in range(_int(args, 1)):
                out.chars.extend(inner.chars)
                out.modes.extend(inner.modes)
        elif name in _LINKS:
            shown = text if text is not None else args
            if shown:
                _render(shown, out, mode)
        elif name in _IGNORED:
            if text is not None:
                _render(text, out, mode)
        elif text is not None:  # an unknown directive: show its text
            _render(text, out, mode)
    return mode


def render_line(smcl: str, mode: str = "txt") -> tuple[str, str, str]:
    """Plain text of one SMCL line, the mode of its first visible character, and the mode at its end."""
    out = _Line()
    end = _render(smcl, out, mode)
    first = next((m for c, m in zip(out.chars, out.modes) if not c.isspace()), end)
    return out.text.rstrip(), first, end


def render(text: str) -> list[tuple[str, str]]:
    """Every line of an SMCL document as (plain text, mode of its first visible character)."""
    mode = "txt"
    lines = []
    for raw in text.splitlines():
        plain, first, mode = render_line(raw, mode)
        lines.append((plain, first))
    return lines


# ---------------------------------------------------------------------------------------------- results
@dataclass
class Coefficient:
    term: str
    estimate: float | None
    std_error: float | None
    statistic: float | None
    p_value: float | None
    conf_low: float | None
    conf_high: float | None
    printed: tuple[str, ...] = ()
    printed_term: str = ""
    equation: str = ""
    note: str = ""


@dataclass
class Estimation:
    """One estimation command of a log and what its output block shows."""

    index: int                  # 1, 2, ... in the order of the log
    line: int                   # line number of the command in the SMCL file (1-based)
    command: str                # as typed (continuation lines joined)
    estimator: str              # canonical command name (logit, probit, ...)
    outcome: str
    covariates: tuple[str, ...]
    condition: str = ""         # the if/in qualifier, as typed
    weight: str = ""
    options: str = ""
    prefix: str = ""
    vce: str = "oim"            # oim, robust or cluster (or what vce() says)
    cluster: str | None = None
    title: str = ""
    n_obs: int | None = None
    n_clusters: int | None = None
    n_groups: int | None = None
    loglik: float | None = None
    loglik_kind: str = ""       # "log likelihood" or "log pseudolikelihood"
    pseudo_r2: float | None = None
    chi2: float | None = None
    chi2_df: int | None = None
    chi2_kind: str = ""         # Wald or LR
    prob_chi2: float | None = None
    coef_label: str = ""        # Coef. / Coefficient / Odds Ratio
    se_label: str = ""          # Std. Err. / Robust Std. Err.
    stat_label: str = ""        # z or t
    depvar_in_table: str = ""
    coefficients: list[Coefficient] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    error: str = ""             # an error Stata printed instead of results ({err} lines)

    @property
    def has_table(self) -> bool:
        return bool(self.coefficients)

    def coefficient(self, term: str) -> Coefficient | None:
        return next((c for c in self.coefficients if c.term == term), None)


@dataclass
class SmclLog:
    path: str
    estimations: list[Estimation]
    synthetic: bool = False     # the log says it is synthetic test data
    header: dict[str, str] = field(default_factory=dict)


SYNTHETIC_MARK = "SYNTHETIC TEST LOG"


def _num(tok: str) -> float | None:
    t = tok.strip()
    if t in (".", "", ".a", ".b"):
        return None
    return float(t.replace(",", ""))


def _count(tok: str) -> int:
    return int(tok.replace(",", ""))


# ---------------------------------------------------------------------------------------------- commands
def _split_top(s: str, sep: str) -> tuple[str, str | None]:
    """Split at the first ``sep`` outside parentheses, brackets and quotes."""
    depth, quote = 0, False
    for i, ch in enumerate(s):
        if ch == '"':
            quote = not quote
        elif quote:
            continue
        elif ch in "([":
            depth += 1
        elif ch in ")]":
            depth -= 1
        elif ch == sep and depth == 0:
            return s[:i], s[i + 1:]
    return s, None


_OPT = re.compile(r"([A-Za-z_]\w*)\s*(\((?:[^()]|\([^()]*\))*\))?")


def _options(opts: str) -> dict[str, str]:
    out = {}
    for m in _OPT.finditer(opts):
        out[m.group(1).lower()] = (m.group(2) or "")[1:-1].strip() if m.group(2) else ""
    return out


def parse_command(command: str) -> dict | None:
    """Estimator, outcome, covariates, qualifier, weight, options, vce and cluster of an estimation command;
    ``None`` when the command is not one of :data:`ESTIMATORS`."""
    cmd = command.strip()
    prefix = ""
    if _QUIET.match(cmd):
        return None
    while True:
        m = _PREFIXES.match(cmd)
        if not m:
            break
        prefix += m.group(0)
        cmd = cmd[m.end():]
    name = cmd.split(None, 1)[0].rstrip(",") if cmd.split() else ""
    est = ESTIMATORS.get(name.lower())
    if est is None:
        return None
    rest = cmd[len(name):]
    main, opts = _split_top(rest, ",")
    opts = (opts or "").strip()
    weight = ""
    wm = re.search(r"\[[^\]]*\]", main)
    if wm:
        weight = wm.group(0)
        main = main[:wm.start()] + " " + main[wm.end():]
    cond = ""
    cm = re.search(r"(?:^|\s)(if|in)\s", main)
    if cm:
        cond = main[cm.start():].strip()
        main = main[:cm.start()]
    varlist = main.split()
    if not varlist:
        return None
    o = _options(opts)
    vce, cluster = "oim", None
    if "vce" in o:
        parts = o["vce"].split()
        kind = parts[0].lower() if parts else ""
        if kind.startswith("cl"):
            vce, cluster = "cluster", (parts[1] if len(parts) > 1 else None)
        elif kind.startswith("r"):
            vce = "robust"
        elif kind:
            vce = kind
    for k in ("cluster", "clu", "cl", "clus", "clust", "cluste"):
        if k in o and o[k]:
            vce, cluster = "cluster", o[k].split()[0]
    if vce == "oim" and any(k in o for k in ("robust", "r", "rob", "robu", "robus")):
        vce = "robust"
    return {"estimator": est, "outcome": varlist[0], "covariates": tuple(varlist[1:]), "condition": cond,
            "weight": weight, "options": opts, "prefix": prefix.strip(), "vce": vce, "cluster": cluster}


# ---------------------------------------------------------------------------------------------- output blocks
_HEADER = {
    "n_obs": re.compile(r"Number of obs\s*=\s*(" + _NUM + ")"),
    "n_groups": re.compile(r"Number of groups\s*=\s*(" + _NUM + ")"),
    "pseudo_r2": re.compile(r"Pseudo R2\s*=\s*(" + _NUM + ")"),
    "prob_chi2": re.compile(r"Prob > chi2\s*=\s*(" + _NUM + ")"),
}
_CHI2 = re.compile(r"(Wald|LR) chi2\(\s*(\d+)\s*\)\s*=\s*(" + _NUM + r"|\.)")
_LL = re.compile(r"^\s*(Log (?:pseudo)?likelihood)\s*=\s*(" + _NUM + ")")
_CLUSTERS = re.compile(r"\(Std\. [Ee]rr\. adjusted for (" + _NUM + r") clusters in (\S+?)\)")
_COEF_HEAD = re.compile(r"(?<![A-Za-z])(Coef\.|Coefficient|Odds [Rr]atio|Haz\. [Rr]atio|IRR)(?![A-Za-z])")
_OMITTED = re.compile(r"^\(?(omitted|base|empty)\)?$")


def _is_rule(s: str) -> bool:
    t = s.strip()
    return bool(t) and set(t) <= set("-+")


def _resolve(printed: str, names: list[str]) -> str:
    if "~" not in printed:
        return printed
    pre, _, suf = printed.partition("~")
    hits = [v for v in names if v.startswith(pre) and v.endswith(suf) and len(v) >= len(pre) + len(suf) + 1]
    return hits[0] if len(hits) == 1 else printed


def _parse_table(lines: list[str], start: int, est: Estimation) -> int:
    """Read the coefficient table whose column-header line is ``lines[start]``; returns the next index."""
    head = lines[start]
    left, _, right = head.partition("|")
    est.depvar_in_table = left.strip()
    m = _COEF_HEAD.search(right)
    est.coef_label = m.group(1) if m else ""
    est.stat_label = "t" if re.search(r"\bt\b", right.split("P>")[0]) else "z"
    sm = re.search(r"[Ss]td\. [Ee]rr\.", right)
    se = sm.group(0) if sm else ""
    above = lines[start - 1] if start > 0 else ""
    est.se_label = (("Robust " if "Robust" in above else "") + se).strip()
    names = [*est.covariates, "_cons"]
    i = start + 1
    group = ""
    n = len(lines)
    while i < n:
        s = lines[i]
        if _is_rule(s):
            # a rule inside the table is followed by more rows; the closing rule is not
            nxt = lines[i + 1] if i + 1 < n else ""
            if "|" in nxt and not _is_rule(nxt) and nxt.partition("|")[0].strip():
                group = ""
                i += 1
                continue
            return i + 1
        if "|" not in s:
            return i
        label, _, vals = s.partition("|")
        label, toks = label.strip(), vals.split()
        if not toks:
            group = label
            i += 1
            continue
        note = ""
        if len(toks) <= 2 and _OMITTED.match(toks[-1]):
            note = _OMITTED.match(toks[-1]).group(1)
            nums: list[float | None] = [None] * 6
        else:
            try:
                nums = [_num(t) for t in toks[:6]] + [None] * max(0, 6 - len(toks))
            except ValueError:
                est.notes.append(f"unparsed table row: {s.strip()}")
                i += 1
                continue
        printed_term = label
        term = _resolve(label, names)
        equation = ""
        if group:
            if re.fullmatch(r"\d+[a-z]?", term):
                term = f"{term}.{_resolve(group, names)}"
            else:
                equation = group
        est.coefficients.append(Coefficient(term, nums[0], nums[1], nums[2], nums[3], nums[4], nums[5],
                                            printed=tuple(toks), printed_term=printed_term, equation=equation,
                                            note=note))
        i += 1
    return i


def _parse_block(lines: list[tuple[str, str]], est: Estimation) -> None:
    texts = [t for t, _ in lines]
    i = 0
    while i < len(texts):
        s, mode = lines[i]
        if mode == "err" and s.strip():
            est.error = (est.error + " " + s.strip()).strip()
        if s.lstrip().startswith("Iteration "):
            i += 1
            continue
        if "Number of obs" in s and not est.title:
            est.title = s.split("Number of obs")[0].strip()
        for k, rx in _HEADER.items():
            m = rx.search(s)
            if m and getattr(est, k) is None:
                v = m.group(1)
                setattr(est, k, _count(v) if k in ("n_obs", "n_groups") else _num(v))
        m = _CHI2.search(s)
        if m and est.chi2 is None:
            est.chi2_kind, est.chi2_df, est.chi2 = m.group(1), int(m.group(2)), _num(m.group(3))
        m = _LL.search(s)
        if m:
            est.loglik_kind, est.loglik = m.group(1).lower(), _num(m.group(2))
        m = _CLUSTERS.search(s)
        if m:
            est.n_clusters = _count(m.group(1))
            if est.cluster is None:
                est.cluster = m.group(2)
        if not est.coefficients and "|" in s and _COEF_HEAD.search(s.partition("|")[2]):
            i = _parse_table(texts, i, est)
            continue
        if est.coefficients and s.strip().lower().startswith("note:"):
            est.notes.append(s.strip())
        elif not est.coefficients and s.strip().lower().startswith("note:"):
            est.notes.append(s.strip())
        i += 1


def parse_smcl(text: str, path: str = "") -> SmclLog:
    """Every estimation of an SMCL log (see the module docstring)."""
    if "{smcl}" not in text[:200] and "{com}" not in text and "{txt}" not in text:
        raise CoalitionsError(f"{path or 'log'}: not an SMCL log (no {{smcl}}, {{com}} or {{txt}} directive)")
    rendered = render(text)
    header: dict[str, str] = {}
    for plain, _ in rendered[:12]:
        m = re.match(r"^\s*(name|log|log type|opened on|closed on):\s*(.*)$", plain)
        if m:
            header[m.group(1)] = m.group(2).strip()
    commands: list[tuple[int, int, str]] = []  # (first line, last line, command)
    i = 0
    while i < len(rendered):
        plain, mode = rendered[i]
        if mode == "com" and plain.startswith(". "):
            parts = [plain[2:]]
            j = i + 1
            while j < len(rendered) and rendered[j][0].startswith(">"):
                parts.append(rendered[j][0][1:].lstrip())
                j += 1
            cmd = ""
            for p in parts:
                p = p.rstrip()
                cmd = (cmd + " " + p).strip() if cmd else p
                if cmd.endswith("///"):
                    cmd = cmd[:-3].rstrip()
            commands.append((i, j, cmd))
            i = j
            continue
        i += 1
    estimations: list[Estimation] = []
    for k, (first, after, cmd) in enumerate(commands):
        parsed = parse_command(cmd)
        if parsed is None:
            continue
        end = commands[k + 1][0] if k + 1 < len(commands) else len(rendered)
        est = Estimation(index=len(estimations) + 1, line=first + 1, command=cmd, **parsed)
        _parse_block(rendered[after:end], est)
        if not est.coefficients and not est.error:
            est.error = "no coefficient table in the log after this command"
        estimations.append(est)
    synthetic = SYNTHETIC_MARK.lower() in text.lower()
    return SmclLog(path=path, estimations=estimations, synthetic=synthetic, header=header)


def read_smcl(path: str | Path) -> SmclLog:
    """Read and parse one SMCL log (UTF-8, or latin-1 for logs of Stata 13 and earlier)."""
    p = Path(path)
    try:
        raw = p.read_bytes()
    except FileNotFoundError:
        raise CoalitionsError(f"{p}: Stata log not found; fetch the archive again (rule fetch_archive)") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")
    return parse_smcl(text, str(p))
