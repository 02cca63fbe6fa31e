"""Weisiger's (2016) models as data: load, validate and apply ``config/models/weisiger.yaml``.

Every model of the article (Tables 1 and 2), of its appendix (Tables A1, A1a, A2, A4) and the
window sweep of Figure 5 is one entry of the YAML file; no model is written out in code. This
module turns the file into frozen :class:`ModelSpec` objects and applies their sample restrictions
(:func:`apply_sample`) and outcome recodes (:func:`apply_recode`) to a data frame.

Sample restrictions and recodes are written in a small expression language (comparisons, ``in``
lists, ``missing(x)``, ``and``/``or``/``not``). It is parsed with :mod:`ast` and checked node by
node against a whitelist, then evaluated with vectorised numpy -- nothing is ever ``eval``-ed.
Missing values follow Stata's rule by default (a missing value is larger than any number), because
that is how the author's do-file selected its samples: ``if contribpc>.1`` keeps records whose
``contribpc`` is missing.

The file of published values (``config/published/weisiger2016.csv``) is read by
:func:`load_published`; an empty cell means "not available" (NaN), never zero.
"""

from __future__ import annotations

import ast
import functools
import math
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from ..util import CoalitionsError, read_yaml

__all__ = [
    "ModelSpec",
    "SampleFilter",
    "Recode",
    "Variable",
    "ModelConfig",
    "ESTIMATORS",
    "INTERCEPT",
    "load_model_config",
    "load_specs",
    "select_specs",
    "compile_where",
    "where_mask",
    "sample_mask",
    "apply_sample",
    "apply_recode",
    "required_columns",
    "PUBLISHED_COLUMNS",
    "published_template",
    "load_published",
]

ESTIMATORS = ("cox", "probit")
TIES = ("breslow", "efron")
MISSING_RULES = ("stata", "na_false")
#: name of the constant term of a probit (as :mod:`coalitions.estimators` and Stata call it)
INTERCEPT = "_cons"

_TOP_KEYS = {"study", "source", "defaults", "variables", "variable_families", "covariate_sets", "models", "sweeps"}
_DEFAULT_KEYS = {"estimator", "subject", "time", "cluster", "ties", "stata_adjust", "missing"}
_VARIABLE_KEYS = {"label", "role", "description", "note"}
_ROLES = {"design", "outcome", "covariate"}
_FAMILY_KEYS = {"template", "values", "label", "role", "description"}
_MODEL_KEYS = {
    "id", "table", "column", "column_number", "group", "do_file_name", "estimator", "outcome",
    "covariates", "key", "sample", "recode", "cluster", "ties", "note",
}
_COVSPEC_KEYS = {"base", "replace", "add", "drop"}
_SAMPLE_KEYS = {"where", "exclude", "include", "missing"}
_RECODE_KEYS = {"variable", "value", "where", "note", "missing"}
_SWEEP_KEYS = {"name", "parameter", "values", "model"}


# --------------------------------------------------------------------------- #
# the safe expression language
# --------------------------------------------------------------------------- #
_CMP_OPS = {
    ast.Eq: np.equal,
    ast.NotEq: np.not_equal,
    ast.Lt: np.less,
    ast.LtE: np.less_equal,
    ast.Gt: np.greater,
    ast.GtE: np.greater_equal,
}
_FUNCTIONS = {"missing"}


class _ExprError(ValueError):
    pass


def _const_number(node: ast.AST, text: str) -> float:
    """A numeric literal (optionally negated); anything else is an error."""
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        v = _const_number(node.operand, text)
        return -v if isinstance(node.op, ast.USub) else v
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
        return float(node.value)
    raise _ExprError(f"expected a number, found {ast.get_source_segment(text, node) or type(node).__name__!s}")


def _check_node(node: ast.AST, text: str, names: set[str]) -> None:
    """Walk the parsed expression and reject everything outside the whitelist."""
    seg = ast.get_source_segment(text, node) or ""
    if isinstance(node, ast.BoolOp):
        for v in node.values:
            _check_node(v, text, names)
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        _check_node(node.operand, text, names)
    elif isinstance(node, ast.Compare):
        if len(node.ops) > 1 and any(isinstance(op, (ast.In, ast.NotIn)) for op in node.ops):
            raise _ExprError(f"'in' cannot be chained with other comparisons; use 'and': {seg!r}")
        left = node.left
        for op, right in zip(node.ops, node.comparators):
            if isinstance(left, (ast.List, ast.Tuple)):
                raise _ExprError(f"a list can only follow 'in' / 'not in': {seg!r}")
            _check_operand(left, text, names)
            if isinstance(op, (ast.In, ast.NotIn)):
                if not isinstance(right, (ast.List, ast.Tuple)) or not right.elts:
                    raise _ExprError(f"'in' needs a non-empty list of numbers, as in 'warnum in [22, 28]': {seg!r}")
                for e in right.elts:
                    _const_number(e, text)
            else:
                if type(op) not in _CMP_OPS:
                    raise _ExprError(f"comparison operator not allowed in {seg!r}")
                if isinstance(right, (ast.List, ast.Tuple)):
                    raise _ExprError(f"a list can only follow 'in' / 'not in': {seg!r}")
                _check_operand(right, text, names)
            left = right
        if not any(isinstance(o, ast.Name) for o in [node.left, *node.comparators]):
            raise _ExprError(f"a comparison must involve a variable: {seg!r}")
    elif isinstance(node, ast.Call):
        _check_call(node, text, names)
    elif isinstance(node, ast.BinOp) and isinstance(node.op, (ast.BitAnd, ast.BitOr)):
        raise _ExprError(f"use 'and' / 'or' instead of '&' / '|' (Stata syntax): {seg!r}")
    else:
        raise _ExprError(f"not allowed in a filter: {seg or type(node).__name__!r} (only comparisons, "
                         "'in' lists, missing(x), and/or/not)")


def _check_operand(node: ast.AST, text: str, names: set[str]) -> None:
    """A comparison operand: a variable name or a number."""
    if isinstance(node, ast.Name):
        names.add(node.id)
        return
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.BitAnd, ast.BitOr)):
        raise _ExprError(f"use 'and' / 'or' instead of '&' / '|' (Stata syntax): {text!r}")
    try:
        _const_number(node, text)
    except _ExprError:
        seg = ast.get_source_segment(text, node) or type(node).__name__
        raise _ExprError(f"not allowed in a filter: {seg!r} (comparisons compare a variable with a number)") from None


def _check_call(node: ast.Call, text: str, names: set[str]) -> None:
    seg = ast.get_source_segment(text, node) or ""
    if not (isinstance(node.func, ast.Name) and node.func.id in _FUNCTIONS):
        raise _ExprError(f"unknown function in {seg!r}; allowed: {sorted(_FUNCTIONS)}")
    if node.keywords or len(node.args) != 1 or not isinstance(node.args[0], ast.Name):
        raise _ExprError(f"{node.func.id}() takes one variable name: {seg!r}")
    names.add(node.args[0].id)


#: bounds of the filter language (a filter is a short condition; these keep parsing and checking safe)
MAX_FILTER_LENGTH = 2000
MAX_FILTER_DEPTH = 40


def _depth(node: ast.AST) -> int:
    """The nesting depth of an expression tree (iterative: no recursion limit)."""
    deepest, stack = 0, [(node, 1)]
    while stack:
        n, d = stack.pop()
        deepest = max(deepest, d)
        if d > MAX_FILTER_DEPTH:
            return d
        stack.extend((c, d + 1) for c in ast.iter_child_nodes(n))
    return deepest


@dataclass(frozen=True)
class _Compiled:
    text: str
    tree: ast.Expression
    variables: tuple[str, ...]


@functools.lru_cache(maxsize=512)
def compile_where(text: str) -> _Compiled:
    """Parse and check a filter expression; raises ``ValueError`` with the reason.

    The variables it names are returned in ``.variables`` (the caller checks that they exist).
    """
    if not isinstance(text, str) or not text.strip():
        raise _ExprError("a filter must be a non-empty string")
    if len(text) > MAX_FILTER_LENGTH:
        raise _ExprError(f"a filter may have at most {MAX_FILTER_LENGTH} characters, this one has {len(text)} "
                         f"({text[:40]!r}...); write it more simply")
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as exc:
        raise _ExprError(f"not a valid expression ({exc.msg}): {text!r}") from None
    except (RecursionError, MemoryError):
        raise _ExprError(f"a filter may nest at most {MAX_FILTER_DEPTH} levels deep ({text[:40]!r}...)") from None
    depth = _depth(tree.body)
    if depth > MAX_FILTER_DEPTH:
        raise _ExprError(f"a filter may nest at most {MAX_FILTER_DEPTH} levels deep, this one nests {depth} "
                         f"({text[:40]!r}...); write it more simply")
    names: set[str] = set()
    body = tree.body
    if isinstance(body, (ast.Name, ast.Constant)):
        raise _ExprError(f"a filter must be a condition (a comparison, 'in', missing()), not {text!r}")
    _check_node(body, text.strip(), names)
    return _Compiled(text=text.strip(), tree=tree, variables=tuple(sorted(names)))


def _operand(node: ast.AST, df: pd.DataFrame, cache: dict[str, np.ndarray]) -> np.ndarray | float:
    if isinstance(node, ast.Name):
        if node.id not in cache:
            if node.id not in df.columns:
                raise KeyError(node.id)
            s = df[node.id]
            if not (pd.api.types.is_numeric_dtype(s.dtype) or pd.api.types.is_bool_dtype(s.dtype)):
                raise TypeError(f"variable {node.id!r} used in a filter must be numeric, is {s.dtype}")
            cache[node.id] = s.to_numpy(dtype=float, na_value=np.nan)
        return cache[node.id]
    return _const_number(node, "")


def _eval(node: ast.AST, df: pd.DataFrame, missing: str, cache: dict[str, np.ndarray]) -> np.ndarray:
    n = len(df)
    if isinstance(node, ast.BoolOp):
        parts = [_eval(v, df, missing, cache) for v in node.values]
        return functools.reduce(np.logical_and if isinstance(node.op, ast.And) else np.logical_or, parts)
    if isinstance(node, ast.UnaryOp):  # not
        return ~_eval(node.operand, df, missing, cache)
    if isinstance(node, ast.Call):  # missing(x)
        return np.isnan(np.broadcast_to(_operand(node.args[0], df, cache), (n,)))
    assert isinstance(node, ast.Compare)
    out = np.ones(n, dtype=bool)
    left = node.left
    for op, right in zip(node.ops, node.comparators):
        a = np.broadcast_to(np.asarray(_operand(left, df, cache), dtype=float), (n,))
        if isinstance(op, (ast.In, ast.NotIn)):
            values = np.array([_const_number(e, "") for e in right.elts])
            na = np.isnan(a)
            res = np.isin(a, values)
            if isinstance(op, ast.NotIn):
                res = ~res
                if missing == "na_false":
                    res &= ~na
            # stata: a missing value is in no list of numbers -> 'in' False, 'not in' True
        else:
            b = np.broadcast_to(np.asarray(_operand(right, df, cache), dtype=float), (n,))
            na = np.isnan(a) | np.isnan(b)
            if missing == "stata":
                a = np.where(np.isnan(a), np.inf, a)
                b = np.where(np.isnan(b), np.inf, b)
                res = _CMP_OPS[type(op)](a, b)
            else:
                with np.errstate(invalid="ignore"):
                    res = _CMP_OPS[type(op)](a, b) & ~na
        out &= res
        left = right
    return out


def where_mask(df: pd.DataFrame, text: str, *, missing: str = "stata") -> np.ndarray:
    """Boolean array: which rows of ``df`` satisfy the filter expression ``text``."""
    if missing not in MISSING_RULES:
        raise ValueError(f"missing must be one of {MISSING_RULES}, not {missing!r}")
    comp = compile_where(text)
    absent = [v for v in comp.variables if v not in df.columns]
    if absent:
        raise CoalitionsError(f"filter {text!r} uses column(s) {absent} that the data do not have")
    return _eval(comp.tree.body, df, missing, {})


# --------------------------------------------------------------------------- #
# specifications
# --------------------------------------------------------------------------- #
@dataclass(frozen=True)
class Variable:
    """One variable of the models' vocabulary with the label the tables print."""

    name: str
    label: str
    role: str
    description: str = ""
    note: str = ""


@dataclass(frozen=True)
class SampleFilter:
    """A sample restriction: the rows for which ``where`` is true (``None`` = all rows).

    ``exclude``/``include`` of the YAML are translated into ``where`` (``x not in [...]`` /
    ``x in [...]``) so that there is a single evaluation path; ``source`` keeps the YAML form for
    the reader of a table note.
    """

    where: str
    missing: str = "stata"
    source: str = ""

    @property
    def variables(self) -> tuple[str, ...]:
        return compile_where(self.where).variables


@dataclass(frozen=True)
class Recode:
    """Set ``variable`` to ``value`` on the rows where ``where`` is true (an outcome recode)."""

    variable: str
    value: float
    where: str
    note: str = ""
    missing: str = "stata"

    @property
    def variables(self) -> tuple[str, ...]:
        return tuple(sorted({self.variable, *compile_where(self.where).variables}))


@dataclass(frozen=True)
class ModelSpec:
    """One model of the article, as the YAML file defines it.

    ``covariates`` are in the order of the author's command line; ``key_terms`` are the terms
    whose coefficients test the article's hypotheses (Common Front, War Worsening, ...).
    ``labels`` maps every variable the model uses to its table label.
    """

    id: str
    table: str
    column: str
    column_number: int
    estimator: str
    outcome: str
    covariates: tuple[str, ...]
    key_terms: tuple[str, ...]
    cluster: str | None
    subject: str
    time: str
    ties: str
    stata_adjust: bool
    sample: SampleFilter | None = None
    recode: Recode | None = None
    group: str = ""
    do_file_name: str = ""
    note: str = ""
    sweep: str | None = None
    sweep_value: int | float | None = None
    labels: tuple[tuple[str, str], ...] = field(default=(), repr=False)
    source: str = field(default="", repr=False)

    @property
    def terms(self) -> tuple[str, ...]:
        """The terms the model reports (covariates, plus the constant of a probit)."""
        return self.covariates + ((INTERCEPT,) if self.estimator == "probit" else ())

    @property
    def variables(self) -> tuple[str, ...]:
        """Every variable the model needs: outcome, covariates, cluster, subject (Cox), filter and recode variables."""
        out: list[str] = [self.outcome, *self.covariates]
        if self.estimator == "cox":
            # the subject identifies the participant's records (stset id()); the analysis time is
            # carried by the periods' start/stop columns, which every track provides
            out.append(self.subject)
        if self.cluster:
            out.append(self.cluster)
        if self.sample is not None:
            out += list(self.sample.variables)
        if self.recode is not None:
            out += list(self.recode.variables)
        return tuple(dict.fromkeys(out))

    def label(self, term: str) -> str:
        if term == INTERCEPT:
            return "Constant"
        return dict(self.labels).get(term, term)


@dataclass(frozen=True)
class ModelConfig:
    """The whole file: the models (in file order) and the variable vocabulary."""

    path: str
    study: str
    source: str
    specs: tuple[ModelSpec, ...]
    variables: Mapping[str, Variable]

    def spec(self, model_id: str) -> ModelSpec:
        for s in self.specs:
            if s.id == model_id:
                return s
        raise CoalitionsError(f"{self.path}: no model with id {model_id!r}")

    def labels(self) -> dict[str, str]:
        return {n: v.label for n, v in self.variables.items()}


def _err(path: Path | str, where: str, msg: str) -> CoalitionsError:
    return CoalitionsError(f"{path}: {where}: {msg}")


def _check_keys(obj: Any, allowed: set[str], path: Path, where: str, required: Iterable[str] = ()) -> dict:
    if not isinstance(obj, dict):
        raise _err(path, where, f"must be a mapping, got {type(obj).__name__}")
    unknown = sorted(set(obj) - allowed)
    if unknown:
        raise _err(path, where, f"unknown key(s) {unknown}; allowed: {sorted(allowed)}")
    missing = [k for k in required if k not in obj]
    if missing:
        raise _err(path, where, f"required key(s) missing: {missing}")
    return obj


def _values(spec: Any, path: Path, where: str) -> list[int | float]:
    """``{from, to, by}`` (inclusive) or an explicit list of numbers."""
    if isinstance(spec, list) and spec and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in spec):
        return list(spec)
    if isinstance(spec, dict) and set(spec) <= {"from", "to", "by"} and {"from", "to"} <= set(spec):
        a, b, step = spec["from"], spec["to"], spec.get("by", 1)
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in (a, b, step)) or step <= 0 or b < a:
            raise _err(path, where, "values: from/to/by must be integers with from <= to and by > 0")
        return list(range(a, b + 1, step))
    raise _err(path, where, "values must be a list of numbers or {from: a, to: b, by: step}")


def _substitute(obj: Any, param: str, value: Any) -> Any:
    """Replace ``{param}`` in every string of a nested YAML structure (plain str.replace)."""
    token = "{" + param + "}"
    if isinstance(obj, str):
        return obj.replace(token, str(value))
    if isinstance(obj, list):
        return [_substitute(v, param, value) for v in obj]
    if isinstance(obj, dict):
        return {_substitute(k, param, value): _substitute(v, param, value) for k, v in obj.items()}
    return obj


def _load_variables(data: dict, path: Path) -> dict[str, Variable]:
    out: dict[str, Variable] = {}
    fams = data.get("variable_families") or {}
    if not isinstance(fams, dict):
        raise _err(path, "variable_families", "must be a mapping")
    for fname, fam in fams.items():
        where = f"variable_families.{fname}"
        _check_keys(fam, _FAMILY_KEYS, path, where, required=("template", "values", "label", "role"))
        if "{K}" not in str(fam["template"]):
            raise _err(path, where, "template must contain the placeholder {K}, as in 'ctrend{K}'")
        if fam["role"] not in _ROLES:
            raise _err(path, where, f"role must be one of {sorted(_ROLES)}")
        for v in _values(fam["values"], path, where):
            name = _substitute(fam["template"], "K", v)
            out[name] = Variable(name, _substitute(fam["label"], "K", v), fam["role"],
                                 _substitute(fam.get("description", ""), "K", v))
    variables = data.get("variables")
    if not isinstance(variables, dict) or not variables:
        raise _err(path, "variables", "must be a non-empty mapping of variable name -> {label, role}")
    for name, info in variables.items():
        where = f"variables.{name}"
        _check_keys(info, _VARIABLE_KEYS, path, where, required=("label", "role"))
        if info["role"] not in _ROLES:
            raise _err(path, where, f"role must be one of {sorted(_ROLES)}, not {info['role']!r}")
        out[name] = Variable(str(name), str(info["label"]), info["role"], str(info.get("description", "")),
                             str(info.get("note", "")))
    return out


def _resolve_covariates(cov: Any, sets: dict[str, list[str]], path: Path, where: str) -> list[str]:
    if isinstance(cov, list):
        out = list(cov)
    elif isinstance(cov, dict):
        _check_keys(cov, _COVSPEC_KEYS, path, f"{where}.covariates", required=("base",))
        base = cov["base"]
        if base not in sets:
            raise _err(path, f"{where}.covariates.base", f"unknown covariate set {base!r}; defined: {sorted(sets)}")
        out = list(sets[base])
        for old, new in (cov.get("replace") or {}).items():
            if old not in out:
                raise _err(path, f"{where}.covariates.replace", f"{old!r} is not in {base} ({out})")
            out[out.index(old)] = new
        for d in cov.get("drop") or []:
            if d not in out:
                raise _err(path, f"{where}.covariates.drop", f"{d!r} is not in the covariates ({out})")
            out.remove(d)
        add = cov.get("add") or []
        if not isinstance(add, list):
            raise _err(path, f"{where}.covariates.add", "must be a list")
        out += add
    else:
        raise _err(path, f"{where}.covariates", "must be a list of variables or {base: SET, replace/add/drop}")
    if not out or not all(isinstance(c, str) for c in out):
        raise _err(path, f"{where}.covariates", f"must be a non-empty list of variable names, got {out}")
    dup = sorted({c for c in out if out.count(c) > 1})
    if dup:
        raise _err(path, f"{where}.covariates", f"variable(s) listed twice: {dup}")
    return out


def _compile_checked(text: Any, variables: Mapping[str, Variable], path: Path, where: str) -> str:
    try:
        comp = compile_where(text) if isinstance(text, str) else compile_where("")
    except _ExprError as exc:
        raise _err(path, where, f"bad filter: {exc}") from None
    unknown = [v for v in comp.variables if v not in variables]
    if unknown:
        raise _err(path, where, f"filter {text!r} uses unknown variable(s) {unknown}")
    return comp.text


def _list_literal(values: Any, path: Path, where: str) -> str:
    if not isinstance(values, list) or not values:
        raise _err(path, where, "must be a non-empty list of numbers")
    for v in values:
        if not isinstance(v, (int, float)) or isinstance(v, bool) or not math.isfinite(v):
            raise _err(path, where, f"{v!r} is not a number")
    return "[" + ", ".join(repr(v) for v in values) + "]"


def _parse_sample(obj: Any, variables: Mapping[str, Variable], default_missing: str, path: Path,
                  where: str) -> SampleFilter:
    _check_keys(obj, _SAMPLE_KEYS, path, where)
    parts: list[str] = []
    if "where" in obj:
        parts.append("(" + _compile_checked(obj["where"], variables, path, f"{where}.where") + ")")
    for key, op in (("exclude", "not in"), ("include", "in")):
        if key in obj:
            m = obj[key]
            if not isinstance(m, dict) or not m:
                raise _err(path, f"{where}.{key}", "must be a mapping variable -> list of values")
            for var, vals in m.items():
                if var not in variables:
                    raise _err(path, f"{where}.{key}", f"unknown variable {var!r}")
                parts.append(f"({var} {op} {_list_literal(vals, path, f'{where}.{key}.{var}')})")
    if not parts:
        raise _err(path, where, "a sample needs at least one of where/exclude/include")
    missing = obj.get("missing", default_missing)
    if missing not in MISSING_RULES:
        raise _err(path, f"{where}.missing", f"must be one of {list(MISSING_RULES)}, not {missing!r}")
    text = " and ".join(parts)
    _compile_checked(text, variables, path, where)
    src = "; ".join(f"{k}: {obj[k]}" for k in ("where", "exclude", "include") if k in obj)
    return SampleFilter(where=text, missing=missing, source=src)


def _parse_recode(obj: Any, variables: Mapping[str, Variable], default_missing: str, path: Path,
                  where: str) -> Recode:
    _check_keys(obj, _RECODE_KEYS, path, where, required=("variable", "value", "where"))
    var = obj["variable"]
    if var not in variables:
        raise _err(path, f"{where}.variable", f"unknown variable {var!r}")
    val = obj["value"]
    if not isinstance(val, (int, float)) or isinstance(val, bool):
        raise _err(path, f"{where}.value", f"must be a number, not {val!r}")
    text = _compile_checked(obj["where"], variables, path, f"{where}.where")
    missing = obj.get("missing", default_missing)
    if missing not in MISSING_RULES:
        raise _err(path, f"{where}.missing", f"must be one of {list(MISSING_RULES)}")
    return Recode(variable=var, value=float(val), where=text, note=str(obj.get("note", "")), missing=missing)


def _parse_model(m: Any, defaults: dict, variables: Mapping[str, Variable], sets: dict[str, list[str]],
                 path: Path, where: str, sweep: tuple[str, Any] | None = None) -> ModelSpec:
    if not isinstance(m, dict):
        raise _err(path, where, "each model must be a mapping")
    mid = m.get("id")
    if not isinstance(mid, str) or not mid.replace("_", "").isalnum() or not mid[:1].isalpha():
        raise _err(path, where, f"model id must be a word of letters, digits and '_', got {mid!r}")
    where = f"model '{mid}'"
    _check_keys(m, _MODEL_KEYS, path, where, required=("id", "table", "column", "outcome", "covariates", "key"))
    estimator = m.get("estimator", defaults.get("estimator", "cox"))
    if estimator not in ESTIMATORS:
        raise _err(path, f"{where}.estimator", f"must be one of {list(ESTIMATORS)}, not {estimator!r}")
    ties = m.get("ties", defaults.get("ties", "breslow"))
    if ties not in TIES:
        raise _err(path, f"{where}.ties", f"must be one of {list(TIES)}, not {ties!r}")
    covs = _resolve_covariates(m["covariates"], sets, path, where)
    outcome = m["outcome"]
    cluster = m.get("cluster", defaults.get("cluster"))
    subject = defaults.get("subject", "idvar")
    time = defaults.get("time", "warday")
    used = [outcome, *covs] + ([cluster] if cluster else []) + [subject, time]
    unknown = [v for v in used if v not in variables]
    if unknown:
        raise _err(path, where, f"unknown variable(s) {unknown}; declare them under `variables`")
    if outcome in covs:
        raise _err(path, where, f"the outcome {outcome!r} is also a covariate")
    key = m["key"]
    if not isinstance(key, list) or not all(isinstance(k, str) for k in key):
        raise _err(path, f"{where}.key", "must be a list of covariate names (may be empty)")
    stray = [k for k in key if k not in covs]
    if stray:
        raise _err(path, f"{where}.key", f"key term(s) {stray} are not covariates of the model ({covs})")
    default_missing = defaults.get("missing", "stata")
    sample = _parse_sample(m["sample"], variables, default_missing, path, f"{where}.sample") if "sample" in m else None
    recode = _parse_recode(m["recode"], variables, default_missing, path, f"{where}.recode") if "recode" in m else None
    col_no = m.get("column_number", 0)
    if not isinstance(col_no, int) or isinstance(col_no, bool):
        raise _err(path, f"{where}.column_number", "must be an integer")
    label_vars = dict.fromkeys([outcome, *covs])
    return ModelSpec(
        id=mid,
        table=str(m["table"]),
        column=str(m["column"]),
        column_number=col_no,
        estimator=estimator,
        outcome=outcome,
        covariates=tuple(covs),
        key_terms=tuple(key),
        cluster=cluster,
        subject=subject,
        time=time,
        ties=ties,
        stata_adjust=bool(defaults.get("stata_adjust", True)),
        sample=sample,
        recode=recode,
        group=str(m.get("group", "")),
        do_file_name=str(m.get("do_file_name", "")),
        note=str(m.get("note", "")),
        sweep=sweep[0] if sweep else None,
        sweep_value=sweep[1] if sweep else None,
        labels=tuple((v, variables[v].label) for v in label_vars),
        source=str(path),
    )


@functools.lru_cache(maxsize=16)
def _load_cached(path_str: str, mtime_ns: int) -> ModelConfig:
    path = Path(path_str)
    data = read_yaml(path)
    _check_keys(data, _TOP_KEYS, path, "(top level)", required=("study", "variables", "models"))
    defaults = _check_keys(data.get("defaults") or {}, _DEFAULT_KEYS, path, "defaults")
    if defaults.get("missing", "stata") not in MISSING_RULES:
        raise _err(path, "defaults.missing", f"must be one of {list(MISSING_RULES)}")
    variables = _load_variables(data, path)
    sets_raw = data.get("covariate_sets") or {}
    if not isinstance(sets_raw, dict):
        raise _err(path, "covariate_sets", "must be a mapping NAME -> list of variables")
    sets: dict[str, list[str]] = {}
    for name, lst in sets_raw.items():
        if not isinstance(lst, list) or not lst:
            raise _err(path, f"covariate_sets.{name}", "must be a non-empty list")
        unknown = [v for v in lst if v not in variables]
        if unknown:
            raise _err(path, f"covariate_sets.{name}", f"unknown variable(s) {unknown}")
        sets[name] = list(lst)
    for k in ("subject", "time", "cluster"):
        if defaults.get(k) is not None and defaults[k] not in variables:
            raise _err(path, f"defaults.{k}", f"unknown variable {defaults[k]!r}")

    models = data["models"]
    if not isinstance(models, list) or not models:
        raise _err(path, "models", "must be a non-empty list")
    specs = [_parse_model(m, defaults, variables, sets, path, f"models[{i}]") for i, m in enumerate(models)]

    for j, sw in enumerate(data.get("sweeps") or []):
        where = f"sweeps[{j}]"
        _check_keys(sw, _SWEEP_KEYS, path, where, required=("name", "parameter", "values", "model"))
        param = sw["parameter"]
        if not isinstance(param, str) or not param.isidentifier():
            raise _err(path, f"{where}.parameter", "must be a name such as K")
        template = sw["model"]
        if not isinstance(template, dict) or "{" + param + "}" not in str(template.get("id", "")):
            raise _err(path, f"{where}.model.id", f"must contain {{{param}}} so that every model has its own id")
        for n, v in enumerate(_values(sw["values"], path, where), start=1):
            m = _substitute(template, param, v)
            m.setdefault("column_number", n)
            specs.append(_parse_model(m, defaults, variables, sets, path, f"{where} ({param}={v})",
                                      sweep=(str(sw["name"]), v)))

    seen: dict[str, int] = {}
    for s in specs:
        if s.id in seen:
            raise _err(path, f"model '{s.id}'", "duplicate model id")
        seen[s.id] = 1
    return ModelConfig(path=str(path), study=str(data["study"]), source=str(data.get("source", "")),
                       specs=tuple(specs), variables=MappingProxyType(variables))


def load_model_config(path: str | Path) -> ModelConfig:
    """Load and validate the model file (cached per path and modification time)."""
    p = Path(path)
    if not p.is_file():
        raise CoalitionsError(f"{p}: model specification file not found")
    return _load_cached(str(p.resolve()), p.stat().st_mtime_ns)


def load_specs(path: str | Path) -> list[ModelSpec]:
    """The models of the file, in file order (tables first, then the sweeps)."""
    return list(load_model_config(path).specs)


def select_specs(specs: Sequence[ModelSpec], *, ids: Iterable[str] | None = None,
                 tables: Iterable[str] | None = None, sweeps: bool = True) -> list[ModelSpec]:
    """A subset of ``specs`` (by id, by table, with or without the sweep models); order is kept."""
    out = list(specs)
    if ids is not None:
        wanted = list(ids)
        known = {s.id for s in out}
        bad = [i for i in wanted if i not in known]
        if bad:
            raise CoalitionsError(f"unknown model id(s) {bad}; known ids include {sorted(known)[:10]}...")
        out = [s for s in out if s.id in set(wanted)]
    if tables is not None:
        t = {str(x) for x in tables}
        out = [s for s in out if s.table in t]
    if not sweeps:
        out = [s for s in out if s.sweep is None]
    return out


def required_columns(specs: Iterable[ModelSpec]) -> dict[str, list[str]]:
    """Column -> ids of the models that need it (outcome, covariates, design and filter variables)."""
    out: dict[str, list[str]] = {}
    for s in specs:
        for v in s.variables:
            out.setdefault(v, []).append(s.id)
    return out


# --------------------------------------------------------------------------- #
# applying samples and recodes
# --------------------------------------------------------------------------- #
def sample_mask(df: pd.DataFrame, spec: ModelSpec) -> np.ndarray:
    """Rows of ``df`` inside the model's estimation sample (before listwise deletion)."""
    if spec.sample is None:
        return np.ones(len(df), dtype=bool)
    try:
        return where_mask(df, spec.sample.where, missing=spec.sample.missing)
    except CoalitionsError as exc:
        raise CoalitionsError(f"model '{spec.id}' ({spec.source}): sample: {exc}") from None


def apply_sample(df: pd.DataFrame, spec: ModelSpec) -> pd.DataFrame:
    """The rows of ``df`` that the model's sample restriction keeps (``if ...`` in the do-file)."""
    if spec.sample is None:
        return df
    return df.loc[sample_mask(df, spec)]


def apply_recode(df: pd.DataFrame, spec: ModelSpec) -> pd.DataFrame:
    """A copy of ``df`` with the model's outcome recode applied (``df`` itself is not changed).

    Table A1's "No WD. if War Ends": every exit in wars 22, 28 and 155 becomes a non-exit, because
    in these wars the withdrawal ended the war itself.
    """
    rc = spec.recode
    if rc is None:
        return df
    if rc.variable not in df.columns:
        raise CoalitionsError(f"model '{spec.id}' ({spec.source}): recode: column {rc.variable!r} not in the data")
    try:
        mask = where_mask(df, rc.where, missing=rc.missing)
    except CoalitionsError as exc:
        raise CoalitionsError(f"model '{spec.id}' ({spec.source}): recode: {exc}") from None
    out = df.copy()
    col = out[rc.variable]
    if pd.api.types.is_integer_dtype(col.dtype) and float(rc.value).is_integer():
        out.loc[mask, rc.variable] = int(rc.value)
    else:
        out[rc.variable] = col.astype(float)
        out.loc[mask, rc.variable] = rc.value
    return out


# --------------------------------------------------------------------------- #
# published values
# --------------------------------------------------------------------------- #
PUBLISHED_COLUMNS = ("model_id", "term", "estimate", "std_error", "n_subjects", "n_failures", "table", "page",
                     "source_note")
_PUBLISHED_NUMERIC = ("estimate", "std_error", "n_subjects", "n_failures")


def published_template(specs: Iterable[ModelSpec], note: str = "") -> pd.DataFrame:
    """One row per model and term with every numeric cell empty (the shape of the published file)."""
    rows = []
    for s in specs:
        for t in s.terms:
            rows.append({"model_id": s.id, "term": t, "estimate": np.nan, "std_error": np.nan,
                         "n_subjects": np.nan, "n_failures": np.nan, "table": s.table, "page": "",
                         "source_note": note})
    return pd.DataFrame(rows, columns=list(PUBLISHED_COLUMNS))


def load_published(path: str | Path, specs: Iterable[ModelSpec] | None = None) -> pd.DataFrame:
    """Read the file of published coefficients; an empty numeric cell is NaN = "not available".

    With ``specs``, every row must name a known model and one of its terms, and the table must
    match the model's. A cell that is neither empty nor a number is an error naming the line.
    """
    path = Path(path)
    try:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    except FileNotFoundError:
        raise CoalitionsError(f"{path}: file of published values not found") from None
    if list(raw.columns) != list(PUBLISHED_COLUMNS):
        raise CoalitionsError(f"{path}: columns must be {list(PUBLISHED_COLUMNS)}, found {list(raw.columns)}")
    out = raw.copy()
    for c in _PUBLISHED_NUMERIC:
        s = raw[c].str.strip()
        num = pd.to_numeric(s.where(s != ""), errors="coerce")
        bad = (s != "") & num.isna()
        if bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            raise CoalitionsError(f"{path}: line {i + 2}, column {c!r}: {raw[c].iloc[i]!r} is not a number "
                                  "(leave the cell empty when the value is not available)")
        out[c] = num.astype(float)
    dup = out.duplicated(["model_id", "term"], keep=False)
    if dup.any():
        i = int(np.flatnonzero(dup.to_numpy())[0])
        raise CoalitionsError(f"{path}: line {i + 2}: model {out['model_id'].iloc[i]!r} term "
                              f"{out['term'].iloc[i]!r} appears more than once")
    if specs is not None:
        by_id = {s.id: s for s in specs}
        for i, r in enumerate(out.itertuples(index=False)):
            s = by_id.get(r.model_id)
            if s is None:
                raise CoalitionsError(f"{path}: line {i + 2}: unknown model_id {r.model_id!r}")
            if r.term not in s.terms:
                raise CoalitionsError(f"{path}: line {i + 2}: {r.term!r} is not a term of model {r.model_id!r} "
                                      f"({list(s.terms)})")
            if str(r.table) != s.table:
                raise CoalitionsError(f"{path}: line {i + 2}: table {r.table!r} but model {r.model_id!r} is in "
                                      f"table {s.table!r}")
    return out
